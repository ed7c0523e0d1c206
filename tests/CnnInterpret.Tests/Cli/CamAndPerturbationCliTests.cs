using System.Text.Json;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Cli;

/// <summary>The CAM family, occlusion and RISE as a user runs them: explain --method NAME writes NAME.npy and result.json; bad requests get one clear line.</summary>
public sealed class CamAndPerturbationCliTests
{
    private static readonly string Image = Path.Combine(Repo.Samples, "ankle-boot-0.png");

    [Theory]
    [InlineData("hires-cam")]
    [InlineData("xgrad-cam")]
    [InlineData("layer-cam")]
    [InlineData("eigen-cam")]
    [InlineData("score-cam", "--layer", "block2_conv2_relu")]
    [InlineData("occlusion", "--window", "6", "--stride", "3", "--fill", "blur")]
    [InlineData("rise", "--masks", "300", "--seed", "4")]
    public void Explain_writes_the_map_and_its_description(string method, params string[] options)
    {
        var outDir = Repo.TempDir();
        var (code, stdout, stderr) = CliProcess.Run(["explain", Image, "--method", method, "--out", outDir, .. options]);
        Assert.True(code == 0, stderr);
        Assert.Contains("Ankle boot", stdout);
        var (map, shape) = NpyReader.ReadFloats(Path.Combine(outDir, $"{method}.npy"));
        Assert.Equal([28, 28], shape);
        Assert.True(map.Max() > map.Min(), "the map is flat");
        var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "result.json"))).RootElement;
        Assert.Equal(method, result.GetProperty("method").GetString());
        var hasLayer = result.TryGetProperty("layer", out var camLayer);
        if (method.EndsWith("-cam", StringComparison.Ordinal))
        {
            Assert.Equal(0, map.Min(), 6);
            Assert.Equal(1, map.Max(), 5); // min-max normalised at the input's resolution
            Assert.Equal(options.Length > 0 ? "features.8" : "features.13", camLayer.GetProperty("name").GetString()); // default: the last conv layer
        }
        else
            Assert.False(hasLayer && camLayer.ValueKind != JsonValueKind.Null, "a pixel method reports no layer");
        Assert.True(File.Exists(Path.Combine(outDir, $"{method}.png")));
    }

    [Fact]
    public void A_cam_at_a_dense_layer_or_after_a_global_pool_or_an_option_out_of_range_is_one_clear_line()
    {
        var (code, stdout, stderr) = CliProcess.Run(["explain", Image, "--method", "score-cam", "--layer", "fc1", "--out", Repo.TempDir()]);
        Assert.NotEqual(0, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error: Layer 'classifier.0' (fc1, Linear) outputs [256], not a [channels, height, width] map", stderr);
        Assert.Contains("features.13 (block3_conv2_relu)", stderr); // what is allowed
        Assert.DoesNotContain("   at ", stderr);

        (code, _, stderr) = CliProcess.Run(["explain", Path.Combine(Repo.Samples, "photos", "dog.jpg"), "--model", "resnet18-imagenet",
            "--target", "stage5_relu6:90", "--method", "eigen-cam", "--layer", "stage6_avgpool1", "--out", Repo.TempDir()]);
        Assert.NotEqual(0, code);
        Assert.Contains("outputs [512, 1, 1], a single position (after a global pool), so it has no spatial map to show", stderr);
        Assert.Contains("stage5_relu6", stderr);

        (code, _, stderr) = CliProcess.Run(["explain", Image, "--method", "rise", "--probability", "1.5", "--out", Repo.TempDir()]);
        Assert.NotEqual(0, code);
        Assert.StartsWith("error: RISE's option 'probability' must be a number from 0.01 to 0.99; got 1.5.", stderr);

        (code, _, stderr) = CliProcess.Run(["explain", Image, "--method", "occlusion", "--window", "40", "--out", Repo.TempDir()]);
        Assert.NotEqual(0, code);
        Assert.StartsWith("error: Occlusion's window (40 pixels) is larger than the image (28×28); use a window from 1 to 28, or 0 for the default.", stderr);
    }
}
