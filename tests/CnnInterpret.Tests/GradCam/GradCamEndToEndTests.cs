using System.Diagnostics;
using System.Text.Json;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Tests.Daemon;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.GradCam;

/// <summary>Grad-CAM as a user gets it: the CLI's files and the daemon's explain/gradCam.</summary>
public sealed class GradCamEndToEndTests
{
    private static readonly string Image = Path.Combine(Repo.Samples, "ankle-boot-0.png");

    internal static (int Code, string Stdout, string Stderr) RunCli(string cacheDir, params string[] args) => CliProcess.Run(args, cacheDir: cacheDir);

    [Theory]
    [InlineData("grad-cam")]
    [InlineData("grad-cam++")]
    public void Cli_writes_the_maps_the_overlay_and_a_description(string method)
    {
        var outDir = Repo.TempDir();
        var (code, stdout, stderr) = RunCli(Repo.TempDir(), "explain", Image, "--method", method, "--layer", "block3_conv2", "--out", outDir);
        Assert.True(code == 0, stderr);
        Assert.Contains("Ankle boot", stdout);
        var (heatmap, shape) = NpyReader.ReadFloats(Path.Combine(outDir, "grad-cam.npy"));
        var (lowRes, lowShape) = NpyReader.ReadFloats(Path.Combine(outDir, "grad-cam-lowres.npy"));
        Assert.Equal([28, 28], shape);
        Assert.Equal([7, 7], lowShape);
        Assert.InRange(heatmap.Min(), 0f, 1f);
        Assert.InRange(heatmap.Max(), 0f, 1f);
        Assert.All(lowRes, v => Assert.True(v >= 0));
        var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "result.json"))).RootElement;
        Assert.Equal(method, result.GetProperty("method").GetString());
        Assert.Equal("9", result.GetProperty("target").GetString());
        Assert.Equal("features.12", result.GetProperty("layer").GetProperty("name").GetString());
        Assert.True(result.GetProperty("score").GetSingle() > 5);
        string[] ownName = method == "grad-cam" ? [] : [$"{method}.npy"]; // every method's map also under its own name
        Assert.Equal(["grad-cam-overlay.png", "grad-cam.png", "grad-cam.npy", .. ownName, "grad-cam-lowres.npy"],
            result.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("file").GetString()));
        Assert.True(File.Exists(Path.Combine(outDir, "grad-cam-overlay.png")));
    }

    [Fact]
    public void Cli_refuses_bad_input_with_one_line()
    {
        var (code, stdout, stderr) = RunCli(Repo.TempDir(), "explain", Image, "--method", "grad-cam", "--layer", "fc1", "--out", Repo.TempDir());
        Assert.Equal(64, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error: Layer 'classifier.0' (fc1, Linear) outputs [256]", stderr);
        Assert.Contains("features.13 (block3_conv2_relu)", stderr);
        (code, _, stderr) = RunCli(Repo.TempDir(), "explain", Image, "--method", "grad-cam", "--layer", "features.12", "--target", "12", "--out", Repo.TempDir());
        Assert.Equal(64, code);
        Assert.Contains("classes 0–9", stderr);
    }

    [Fact]
    public async Task Daemon_answers_explain_grad_cam_with_pngs_and_raw_numbers()
    {
        await using var daemon = new DaemonProcess(new Dictionary<string, string> { ["CNN_INTERPRET_CACHE"] = Repo.TempDir() });
        var result = await daemon.ResultAsync("explain/gradCam", new { image = Image, layer = "features.13", target = 7, method = "grad-cam++", raw = true });
        Assert.Equal("fashion-vgg", result.GetProperty("model").GetString());
        Assert.Equal("grad-cam++", result.GetProperty("method").GetString());
        Assert.Equal("7", result.GetProperty("target").GetString());
        Assert.Equal("Sneaker", result.GetProperty("targetLabel").GetString());
        Assert.Equal([28, 28], result.GetProperty("raw").GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(28 * 28 * 4, Convert.FromBase64String(result.GetProperty("raw").GetProperty("data").GetString()!).Length);
        Assert.Equal([7, 7], result.GetProperty("rawLowRes").GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(64, result.GetProperty("weights").GetArrayLength());
        Assert.Equal([0x89, (byte)'P'], Convert.FromBase64String(result.GetProperty("png").GetString()!).Take(2));

        var plain = await daemon.ResultAsync("explain/gradCam", new { image = Image, layer = "block3", target = "features.14:4" });
        Assert.Equal("features.14", plain.GetProperty("layer").GetProperty("name").GetString());
        Assert.False(plain.TryGetProperty("raw", out _));

        foreach (var (parameters, mentions) in new (object, string)[]
        {
            (new { image = Image, layer = "flatten" }, "not a [channels, height, width] map"),
            (new { image = Image, layer = "features.12", target = 10 }, "classes 0–9"),
            (new { image = Image, layer = "features.12", target = "features.12:99" }, "channels 0–63"),
            (new { image = Image, layer = "features.12", method = "cam" }, "grad-cam, grad-cam++"),
            (new { image = Image, layer = "features.12", target = true }, "class index"),
        })
        {
            var (code, message, _) = await daemon.ErrorAsync("explain/gradCam", parameters);
            Assert.Equal((int)Core.ErrorKind.InvalidArgument, code);
            Assert.Contains(mentions, message);
        }
    }
}
