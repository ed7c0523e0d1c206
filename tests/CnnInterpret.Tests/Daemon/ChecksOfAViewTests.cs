using System.Text.Json;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Daemon;

/// <summary>
/// The panel's checks of a view (explain/metrics, explain/sanity) score the map the view shows, asked as the view
/// asked for it, through the real daemon: its layer, its segment count, its targets, and the samples it already drew.
/// </summary>
public sealed class ChecksOfAViewTests
{
    private static readonly string Image = Path.Combine(Repo.Samples, "trouser-0.png");

    private static string FirstMessage(List<JsonElement> progress)
    {
        Assert.NotEmpty(progress);
        return progress[0].GetProperty("message").GetString()!;
    }

    private static double[] Curves(JsonElement metrics) =>
        [.. metrics.GetProperty("deletion").GetProperty("values").EnumerateArray().Select(v => v.GetDouble()),
         .. metrics.GetProperty("insertion").GetProperty("values").EnumerateArray().Select(v => v.GetDouble())];

    [Fact]
    public async Task Scoring_a_default_SHAP_view_samples_nothing_again()
    {
        await using var daemon = new DaemonProcess();
        var view = await daemon.ResultAsync("explain/shap", new { image = Image, samples = 200, seed = 0 });
        Assert.Equal(2, view.GetProperty("targets").GetArrayLength()); // no target: the two top classes

        var (metrics, progress) = await daemon.ResultWithProgressAsync("explain/metrics", new { image = Image, method = "kernel-shap", samples = 200, seed = 0, steps = 4 });
        Assert.Contains("from memory", FirstMessage(progress));
        Assert.Equal(view.GetProperty("targets")[0].GetProperty("target").GetString(), metrics.GetProperty("target").GetString());
    }

    [Fact]
    public async Task A_GradientSHAP_view_at_a_layer_is_scored_and_checked_at_that_layer()
    {
        await using var daemon = new DaemonProcess();
        await daemon.ResultAsync("explain/shap", new { image = Image, method = "gradient", layer = "features.8", samples = 16, seed = 0 });

        var (atLayer, progress) = await daemon.ResultWithProgressAsync("explain/metrics",
            new { image = Image, method = "gradient-shap", layer = "features.8", samples = 16, seed = 0, steps = 4 });
        Assert.Contains("from memory", FirstMessage(progress)); // the view's own map, not the pixels'
        var onPixels = await daemon.ResultAsync("explain/metrics", new { image = Image, method = "gradient-shap", samples = 16, seed = 0, steps = 4 });
        Assert.NotEqual(Curves(onPixels), Curves(atLayer));

        // The sanity check explains the layer too: its 14×14 maps, upsampled, are drawn over the 28×28 picture.
        var sanityAtLayer = await daemon.ResultAsync("explain/sanity", new { image = Image, method = "gradient-shap", layer = "features.8", samples = 10, stages = 1 });
        var sanityOnPixels = await daemon.ResultAsync("explain/sanity", new { image = Image, method = "gradient-shap", samples = 10, stages = 1 });
        Assert.NotEqual(sanityOnPixels.GetProperty("png").GetString(), sanityAtLayer.GetProperty("png").GetString());
    }

    [Fact]
    public async Task A_LIME_sanity_check_uses_the_views_segment_count()
    {
        await using var daemon = new DaemonProcess();
        var eight = await daemon.ResultAsync("explain/sanity", new { image = Image, method = "lime", samples = 60, segments = 8, stages = 1 });
        var byDefault = await daemon.ResultAsync("explain/sanity", new { image = Image, method = "lime", samples = 60, stages = 1 });
        Assert.NotEqual(byDefault.GetProperty("png").GetString(), eight.GetProperty("png").GetString());

        var kernelShap = await daemon.ResultAsync("explain/sanity", new { image = Image, method = "kernel-shap", samples = 60, segments = 8, stages = 1 });
        var kernelShapByDefault = await daemon.ResultAsync("explain/sanity", new { image = Image, method = "kernel-shap", samples = 60, stages = 1 });
        Assert.NotEqual(kernelShapByDefault.GetProperty("png").GetString(), kernelShap.GetProperty("png").GetString());
    }
}
