namespace CnnInterpret.Core.Onnx;

/// <summary>
/// Finds a built-in model's .onnx file. Files that come in a NuGet package are restored with the build and
/// copied beside the binaries into <c>models/onnx/</c> (see CnnInterpret.Core.csproj), so they never live in git.
/// </summary>
public static class OnnxFiles
{
    /// <summary>The folder under the binaries (and under a models folder) that holds packaged .onnx files.</summary>
    public const string Folder = "onnx";

    /// <summary>
    /// Looks, in order, beside models.json (<paramref name="modelsDirectory"/> and its onnx/ folder), beside
    /// the binaries (models/onnx/), then in the NuGet packages folder for <paramref name="package"/>.
    /// </summary>
    public static string Resolve(string fileName, string? package, string modelsDirectory, string modelId)
    {
        if (fileName.Contains('/') || fileName.Contains('\\') || fileName is "." or "..")
            throw new CnnInterpretException(ErrorKind.BadModelFile, $"models.json names ONNX file '{fileName}' for '{modelId}'; give a plain file name.");
        var candidates = Candidates(fileName, package, modelsDirectory).ToList();
        return candidates.FirstOrDefault(File.Exists)
               ?? throw new CnnInterpretException(ErrorKind.BadModelFile,
                   $"The ONNX file '{fileName}' of model '{modelId}' is missing (looked in {string.Join(", ", candidates.Select(Path.GetDirectoryName).Distinct())}). " +
                   (package is null
                       ? "Restore the models/ folder from the repository."
                       : $"It comes from the NuGet package {package}: run 'dotnet restore' (or 'dotnet build') in the repository, which copies it beside the binaries."),
                   new { file = fileName, package });
    }

    private static IEnumerable<string> Candidates(string fileName, string? package, string modelsDirectory)
    {
        yield return Path.Combine(modelsDirectory, fileName);
        yield return Path.Combine(modelsDirectory, Folder, fileName);
        yield return Path.Combine(AppContext.BaseDirectory, "models", Folder, fileName);
        if (package is null) yield break;
        var root = Path.Combine(NuGetPackagesFolder(), package.ToLowerInvariant());
        if (!Directory.Exists(root)) yield break;
        var versions = Directory.GetDirectories(root).OrderByDescending(d => Version.TryParse(Path.GetFileName(d).Split('-')[0], out var v) ? v : new Version());
        foreach (var version in versions)
        {
            var found = Directory.EnumerateFiles(version, fileName, SearchOption.AllDirectories).FirstOrDefault();
            yield return found ?? Path.Combine(version, fileName);
        }
    }

    /// <summary>NuGet's global packages folder: NUGET_PACKAGES, else ~/.nuget/packages.</summary>
    public static string NuGetPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
}
