using CnnInterpret.Core;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Onnx;

/// <summary>
/// Real photos: the three in models/samples/photos, plus the rest of Debian's darknet package photos that
/// scripts/test-deps.sh unpacks into the cache folder.
/// </summary>
internal static class Photos
{
    public static string Samples => Path.Combine(Repo.Samples, "photos");

    public static string Darknet => Path.Combine(
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
        "cnn-interpret", "darknet", "usr", "share", "darknet", "data");

    public static IReadOnlyList<string> All()
    {
        var files = Directory.GetFiles(Samples, "*.jpg").ToList();
        if (Directory.Exists(Darknet))
            files.AddRange(Directory.GetFiles(Darknet, "*.jpg").Where(f => files.All(s => Path.GetFileName(s) != Path.GetFileName(f))));
        return files.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The photo as the model sees it: [3, 224, 224] planar values.</summary>
    public static float[] Prepare(string path, Preprocessing spec)
    {
        using var decoded = ImageLoader.Load(path, ImageLimits.Default, spec.Background);
        using var input = ImagePreprocessor.Prepare(decoded.Pixels, spec);
        return input.Data;
    }
}

/// <summary>
/// A registry of its own for the ONNX tests, never disposed: other tests dispose engines made on the shared
/// <see cref="Repo.Registry"/>, and with it every model it holds, while these tests still use theirs.
/// </summary>
internal static class OnnxModels
{
    private static readonly Lazy<ModelRegistry> Shared = new(() => new ModelRegistry(Repo.Models));

    public static ModelRegistry Registry => Shared.Value;

    /// <summary>An engine on <see cref="Registry"/>; do not dispose it (that would dispose the registry's models).</summary>
    public static Engine NewEngine() => new(Registry);
}
