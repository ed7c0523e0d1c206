using System.Text.Json;
using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Tests.Daemon;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Registry;

/// <summary>The explainer registry as the CLI and the daemon use it: one option parser, one list of methods.</summary>
public sealed class ExplainerRegistryTests
{
    private static readonly string Image = Path.Combine(Repo.Samples, "ankle-boot-0.png");

    private static readonly ExplainerInfo Info = new("demo", "Demo", "gradients", MapKind.Pixel, Signed: true, Sampling: false, "none",
    [
        new ExplainerOption("steps", OptionType.Integer, 64, "path points", Minimum: 1, Maximum: 1024),
        new ExplainerOption("noise", OptionType.Number, 0.15, "σ", Minimum: 0, Maximum: 1),
        new ExplainerOption("baseline", OptionType.Choice, "black", "reference", Choices: ["black", "blur", "mean"]),
    ]);

    [Fact]
    public void Options_take_defaults_parse_text_and_match_choices_in_any_case()
    {
        var defaults = ExplainerOptions.Defaults(Info);
        Assert.Equal(64, defaults.Int("steps"));
        Assert.Equal(0.15, defaults.Number("noise"));
        Assert.Equal("black", defaults.Choice("baseline"));
        var given = ExplainerOptions.Parse(Info, new Dictionary<string, string?> { ["steps"] = "8", ["noise"] = "0.5", ["baseline"] = "BLUR" });
        Assert.Equal(8, given.Int("steps"));
        Assert.Equal(0.5, given.Number("noise"));
        Assert.Equal("blur", given.Choice("baseline"));
    }

    [Theory]
    [InlineData("steps", "0", "'steps' must be a whole number from 1 to 1024; got 0")]
    [InlineData("steps", "2.5", "'steps' must be a whole number from 1 to 1024; got '2.5'")]
    [InlineData("noise", "NaN", "'noise' must be a number from 0 to 1")]
    [InlineData("baseline", "white", "'baseline' must be one of black, blur, mean; got 'white'")]
    [InlineData("step", "3", "Demo has no option 'step'. Its options: steps (a whole number from 1 to 1024, default 64), noise")]
    public void Bad_options_are_refused_saying_what_is_allowed(string name, string value, string message)
    {
        var e = Assert.Throws<CnnInterpretException>(() => ExplainerOptions.Parse(Info, new Dictionary<string, string?> { [name] = value }));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Names_are_found_without_regard_to_case_or_dashes_and_unknown_ones_list_the_methods()
    {
        Assert.Equal("grad-cam", ExplainerRegistry.Default.Get("GradCAM").Info.Name);
        Assert.Equal("grad-cam++", ExplainerRegistry.Default.Get("grad-cam-plus-plus").Info.Name);
        var e = Assert.Throws<CnnInterpretException>(() => ExplainerRegistry.Default.Get("cam"));
        Assert.Contains("Methods: grad-cam, grad-cam++", e.Message);
        Assert.Throws<ArgumentException>(() => new ExplainerRegistry([new Core.Explainers.GradCam(), new Core.Explainers.GradCam()]));
    }

    [Fact]
    public void The_registry_path_gives_the_same_map_as_the_grad_cam_view()
    {
        using var engine = new Engine(new Core.Models.ModelRegistry(), ownsModels: true);
        foreach (var method in new[] { "grad-cam", "grad-cam++" })
        {
            var view = engine.GradCam((string?)null, Image, "features.13", method: method);
            var registry = engine.Attribute(null, Image, new AttributionRequest(method, "features.13"), render: false);
            Assert.Equal(view.Target, registry.Target);
            Assert.Equal(view.Score, registry.Score, 4);
            Assert.Equal(view.LowRes.Length, registry.Attribution.LowRes!.Length);
            for (var i = 0; i < view.Heatmap.Length; i++) Assert.Equal(view.Heatmap[i], registry.Attribution.Map[i], 5);
            Assert.Equal(view.Weights, registry.Attribution.ChannelWeights!);
        }
    }

    [Fact]
    public void Lime_kernel_shap_and_gradient_shap_are_registry_methods_that_give_their_views_numbers()
    {
        using var engine = new Engine(new Core.Models.ModelRegistry(), ownsModels: true);
        var lime = engine.Lime(null, Image, new SamplingRequest(Samples: "200", Seed: 3));
        var limeOptions = new Dictionary<string, string?> { ["samples"] = "200", ["seed"] = "3" };
        var registry = engine.Attribute(null, Image, new AttributionRequest("lime", Target: lime.Target, Options: limeOptions), render: false);
        Assert.Equal(MapKind.Superpixel, registry.Method.Kind);
        Assert.Equal("lime", registry.Method.View);
        Assert.Equal(lime.Segments.Labels, registry.Segments!.Labels);
        Assert.Equal(lime.Result.Fit.Weights, registry.Attribution.SegmentValues!);
        Assert.Equal(lime.Map, registry.Attribution.Map);
        Assert.Equal(lime.Result.Fit.R2, registry.Attribution.Figures["r2"]);
        Assert.Equal("auto", registry.Options["baseline"]);
        Assert.Equal("black", lime.Baseline); // auto: fashion-vgg is drawn on black

        var boot = new Target.Class(9);
        var shap = engine.KernelShap(null, Image, new SamplingRequest(boot, "300", Seed: 1));
        var viaRegistry = engine.Attribute(null, Image, new AttributionRequest("kernel-shap", Target: boot,
            Options: new Dictionary<string, string?> { ["samples"] = "300", ["seed"] = "1" }), render: false).Attribution;
        Assert.Equal(shap.Targets[0].SegmentValues!, viaRegistry.SegmentValues!);
        // KernelSHAP's efficiency holds exactly: Σφ = f(x) − f(nothing shown).
        Assert.Equal(viaRegistry.Figures["fx"] - viaRegistry.Figures["fbaseline"], viaRegistry.SegmentValues!.Sum(), 9);

        // GradientSHAP of the pixels: the SHAP view's numbers too (batches differ: the sum is in a fixed order, in double).
        var gradient = engine.GradientShap(null, Image, new SamplingRequest(boot, "64", Seed: 2, Baseline: "blur"));
        var gradientRegistry = engine.Attribute(null, Image, new AttributionRequest("gradient-shap", Target: boot,
            Options: new Dictionary<string, string?> { ["samples"] = "64", ["seed"] = "2", ["baseline"] = "blur" }), render: false).Attribution;
        var scale = gradient.Targets[0].Values.Max(Math.Abs);
        Assert.All(gradient.Targets[0].Values.Zip(gradientRegistry.Attributions!), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-5 * scale));
        Assert.Equal(gradient.Targets[0].Fx, gradientRegistry.Figures["fx"], 4);

        var e = Assert.Throws<CnnInterpretException>(() => engine.Attribute(null, Image, new AttributionRequest("lime", "features.0")));
        Assert.Contains("LIME attributes the input pixels; it takes no layer", e.Message);
        e = Assert.Throws<CnnInterpretException>(() => engine.Attribute(null, Image,
            new AttributionRequest("lime", Options: new Dictionary<string, string?> { ["baseline"] = "purple" })));
        Assert.Contains("'baseline' must be one of auto, gray, mean, blur, black", e.Message);
    }

    [Fact]
    public async Task The_daemon_lists_the_methods_and_runs_any_of_them_by_name()
    {
        await using var daemon = new DaemonProcess(new Dictionary<string, string> { ["CNN_INTERPRET_CACHE"] = Repo.TempDir() });
        var methods = await daemon.ResultAsync("daemon/methods");
        var list = methods.GetProperty("methods").EnumerateArray().ToList();
        Assert.Equal(ExplainerRegistry.Default.Names, list.Select(m => m.GetProperty("name").GetString()));
        var gradCam = list.Single(m => m.GetProperty("name").GetString() == "grad-cam");
        Assert.Equal("layer", gradCam.GetProperty("kind").GetString());
        Assert.True(gradCam.GetProperty("needsLayer").GetBoolean());
        Assert.Contains("kernel-shap", methods.GetProperty("trustMethods").EnumerateArray().Select(m => m.GetString()));
        // LIME is a registry method shown in the panel's own LIME view, with its options and defaults.
        var lime = list.Single(m => m.GetProperty("name").GetString() == "lime");
        Assert.Equal(("superpixel", "lime", "superpixels"), (lime.GetProperty("kind").GetString(), lime.GetProperty("view").GetString(), lime.GetProperty("group").GetString()));
        var samples = lime.GetProperty("options").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "samples");
        Assert.Equal((1000, 10, 100000), (samples.GetProperty("default").GetInt32(), samples.GetProperty("minimum").GetInt32(), samples.GetProperty("maximum").GetInt32()));
        Assert.False(gradCam.TryGetProperty("view", out _)); // null: left out
        var limeResult = await daemon.ResultAsync("explain/attribution", new { image = Image, method = "lime", options = new { samples = 100, segments = 12 }, raw = true });
        Assert.Equal("superpixel", limeResult.GetProperty("kind").GetString());
        var segmentValues = limeResult.GetProperty("segmentValues").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var labels = Convert.FromBase64String(limeResult.GetProperty("rawSegments").GetProperty("data").GetString()!);
        Assert.Equal(28 * 28 * sizeof(int), labels.Length);
        Assert.Equal(segmentValues.Length, Enumerable.Range(0, 28 * 28).Max(i => BitConverter.ToInt32(labels, 4 * i)) + 1);
        Assert.Equal(100, limeResult.GetProperty("figures").GetProperty("samples").GetDouble());

        var result = await daemon.ResultAsync("explain/attribution", new { image = Image, method = "grad-cam++", layer = "block3", target = 7, raw = true });
        Assert.Equal("grad-cam++", result.GetProperty("method").GetString());
        Assert.Equal("features.14", result.GetProperty("layer").GetProperty("name").GetString());
        Assert.Equal("Sneaker", result.GetProperty("targetLabel").GetString());
        Assert.Equal([28, 28], result.GetProperty("raw").GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(64, result.GetProperty("weights").GetArrayLength());

        foreach (var (parameters, mentions) in new (object, string)[]
        {
            (new { image = Image, method = "cam" }, "Methods: grad-cam"),
            (new { image = Image, method = "grad-cam", layer = "fc1" }, "not a [channels, height, width] map"),
            (new { image = Image, method = "grad-cam", options = new { steps = 3 } }, "Grad-CAM has no option 'steps'. It takes none."),
            (new { image = Image, method = "grad-cam", target = "features.3:0", layer = "features.13" }, "comes before"),
        })
        {
            var (code, message, _) = await daemon.ErrorAsync("explain/attribution", parameters);
            Assert.Equal(1004, code);
            Assert.Contains(mentions, message);
        }
        // Metrics go through the registry too, with the method's layer.
        var metrics = await daemon.ResultAsync("explain/metrics", new { image = Image, method = "grad-cam++", layer = "features.13", steps = 8 });
        Assert.Equal("grad-cam++", metrics.GetProperty("method").GetString());
        Assert.True(metrics.GetProperty("deletion").GetProperty("auc").GetDouble() < metrics.GetProperty("randomDeletion").GetProperty("auc").GetDouble());
    }

    [Fact]
    public void Cli_explains_with_any_registry_method_and_writes_the_map_under_its_name()
    {
        var outDir = Repo.TempDir();
        var (code, stdout, stderr) = CliProcess.Run(["explain", Image, "--method", "GradCAM", "--layer", "block3", "--out", outDir], cacheDir: Repo.TempDir());
        Assert.True(code == 0, stderr);
        Assert.Contains("Grad-CAM of Ankle boot", stdout);
        var (map, shape) = NpyReader.ReadFloats(Path.Combine(outDir, "grad-cam.npy"));
        Assert.Equal([28, 28], shape);
        Assert.InRange(map.Max(), 0.5f, 1f); // normalised at the layer, then upsampled (bilinear need not reach the peak)
        var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "result.json"))).RootElement;
        Assert.Equal("layer", result.GetProperty("kind").GetString());
        // A superpixel method by its registry name writes its map, each segment's value and the segments; the map paints the values.
        var limeDir = Repo.TempDir();
        (code, _, stderr) = CliProcess.Run(["explain", Image, "--method", "LIME", "--samples", "50", "--segments", "8", "--out", limeDir], cacheDir: Repo.TempDir());
        Assert.True(code == 0, stderr);
        var (limeMap, _) = NpyReader.ReadFloats(Path.Combine(limeDir, "lime.npy"));
        var (values, _) = NpyReader.ReadFloats(Path.Combine(limeDir, "lime-segment-values.npy"));
        var labels = NpyReader.Read(Path.Combine(limeDir, "lime-segments.npy")).Ints();
        Assert.Equal(limeMap, labels.Select(l => values[l]));
        (code, _, stderr) = CliProcess.Run(["explain", Image, "--method", "nope", "--out", Repo.TempDir()], cacheDir: Repo.TempDir());
        Assert.Equal(64, code);
        Assert.Contains("feature-maps, filter-patterns, layer-sweep, lime, kernel-shap, gradient-shap, grad-cam, grad-cam++", stderr);
    }
}
