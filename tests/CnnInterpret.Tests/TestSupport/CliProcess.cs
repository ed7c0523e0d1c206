using System.Diagnostics;

namespace CnnInterpret.Tests.TestSupport;

/// <summary>The cnn-interpret command as a user runs it: a real process, its exit code, stdout and stderr.</summary>
public static class CliProcess
{
    /// <param name="modelsDir">The models folder (default: the repository's).</param>
    /// <param name="cacheDir">The cache folder (default: a fresh one, never the user's).</param>
    public static (int Code, string Stdout, string Stderr) Run(string[] args, string? modelsDir = null, string? cacheDir = null, int minutes = 5)
    {
        var start = new ProcessStartInfo("dotnet", [Repo.CliDll, .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Repo.Root,
        };
        start.Environment["CNN_INTERPRET_MODELS_DIR"] = modelsDir ?? Repo.Models;
        start.Environment["CNN_INTERPRET_CACHE"] = cacheDir ?? Repo.TempDir();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(minutes)), $"'cnn-interpret {string.Join(' ', args)}' did not finish in {minutes} minutes");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
