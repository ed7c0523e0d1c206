using System.Diagnostics;
using System.Text.Json;
using CnnInterpret.Core;
using CnnInterpret.Tests.Daemon;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Hardening;

/// <summary>
/// Every file of the bad-image corpus (tests/corpus/make_bad_images.py) through the real daemon, for every view:
/// an "ok-" file gives a result, a "bad-" file a clear bad-image error; never an internal error, never a crash,
/// and the daemon's memory stays within its budget.
/// </summary>
public sealed class BadImageCorpusTests
{
    private static readonly string Corpus = Path.Combine(Repo.Root, "tests", "corpus", "images");

    /// <summary>The views, each as (method, parameters for an image).</summary>
    public static readonly (string Method, Func<string, object> Params)[] Views =
    [
        ("image/predict", image => new { image, topK = 3 }),
        ("explain/featureMaps", image => new { image, layer = "block2_conv1" }),
        ("explain/gradCam", image => new { image, layer = "block3_conv2_relu" }),
        ("explain/lime", image => new { image, samples = 100 }),
        ("explain/shap", image => new { image, method = "kernel", samples = 100 }),
        ("explain/metrics", image => new { image, method = "grad-cam", steps = 4 }),
        ("explain/gradCam", image => new { image, layer = "block2_conv2_relu", method = "grad-cam++" }),
        ("explain/shap", image => new { image, method = "gradient", samples = 16 }),
        ("explain/sanity", image => new { image, method = "grad-cam", stages = 1 }),
        ("explain/layerSweep", image => new { image }),
    ];

    [Fact]
    public void The_corpus_has_what_the_issue_lists()
    {
        var files = Directory.GetFiles(Corpus).Select(Path.GetFileName).ToList();
        Assert.True(files.Count >= 50, $"{files.Count} files");
        foreach (var kind in new[] { "truncated-png", "truncated-jpeg", "truncated-gif", "truncated-webp", "bomb-60000x60000", "huge-dimensions", "16bit", "palette-transparent", "cmyk", "animated", "1x1", "exif-orientation", "jpeg-named.png", ".svg", ".txt", "empty", "random-bytes" })
            Assert.Contains(files, f => f!.Contains(kind));
    }

    [Fact]
    public async Task Every_file_gets_a_result_or_a_clear_error_from_every_view()
    {
        await using var daemon = new DaemonProcess();
        var failures = new List<string>();
        foreach (var file in Directory.GetFiles(Corpus).Order())
        {
            var name = Path.GetFileName(file);
            foreach (var (method, parameters) in Views)
            {
                var response = await daemon.CallAsync(method, parameters(file));
                var ok = !response.TryGetProperty("error", out var error);
                if (name.StartsWith("ok-", StringComparison.Ordinal) && !ok)
                    failures.Add($"{name} {method}: {error}");
                else if (name.StartsWith("bad-", StringComparison.Ordinal))
                {
                    if (ok) failures.Add($"{name} {method}: explained, but it should have been refused");
                    else if (error.GetProperty("code").GetInt32() != (int)ErrorKind.BadImage) failures.Add($"{name} {method}: code {error.GetProperty("code")}: {error.GetProperty("message")}");
                    else if (!error.GetProperty("message").GetString()!.Contains(name)) failures.Add($"{name} {method}: the message does not name the file");
                    else if (error.GetProperty("message").GetString() is { } text && (text.Contains("Object reference") || text.Contains("Exception")))
                        failures.Add($"{name} {method}: the message shows .NET internals: {text}");
                }
            }
        }
        Assert.Empty(failures);
        Assert.False(daemon.Process.HasExited);
        daemon.Process.Refresh();
        Assert.True(daemon.Process.PeakWorkingSet64 < 2L << 30, $"peak memory {daemon.Process.PeakWorkingSet64 >> 20} MiB");
        Assert.Equal(0, await daemon.CloseAndWaitAsync());
    }
}
