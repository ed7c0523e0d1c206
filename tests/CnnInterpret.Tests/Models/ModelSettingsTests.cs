using System.Text;
using CnnInterpret.Core;
using CnnInterpret.Core.Models;
using CnnInterpret.Tests.Daemon;
using CnnInterpret.Tests.Onnx;
using CnnInterpret.Tests.TestSupport;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.Models;

/// <summary>
/// A user's preprocessing and labels (flags, request parameters, a sidecar FILE.json, ONNX metadata_props) on a tiny
/// hand-made ONNX network whose outputs are the per-channel means of its input, so every number is computed by hand.
/// </summary>
public sealed class ModelSettingsTests
{
    /// <summary>[1,3,2,2] → GlobalAveragePool → Flatten → [1,3]: each output is one input channel's mean.</summary>
    private static byte[] ChannelMeans(params (string Key, string Value)[] metadata)
    {
        var model = OnnxBuilder.Model(13,
            [OnnxBuilder.Node("GlobalAveragePool", ["x"], ["p"]), OnnxBuilder.Node("Flatten", ["p"], ["y"])], [],
            [OnnxBuilder.ValueInfo("x", 1, 3, 2, 2)], [OnnxBuilder.ValueInfo("y", 1, 3)]);
        // metadata_props (field 14) appended: protobuf fields may come in any order.
        return [.. model, .. metadata.SelectMany(m => new ProtoWriter().Message(14, new ProtoWriter().String(1, m.Key).String(2, m.Value)).ToArray())];
    }

    /// <summary>A folder with the network as net.onnx, a 2×2 picture of one colour, and whatever files are given.</summary>
    private static (string Model, string Image) Folder(byte[] onnx, params (string Name, string Text)[] files)
    {
        var dir = Repo.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "net.onnx"), onnx);
        foreach (var (name, text) in files) File.WriteAllText(Path.Combine(dir, name), text);
        var image = Path.Combine(dir, "pixel.png");
        using (var picture = new Image<Rgb24>(2, 2, new Rgb24(255, 0, 51))) picture.SaveAsPng(image);
        return (Path.Combine(dir, "net.onnx"), image);
    }

    private static float[] Logits(ModelRegistry registry, CnnModel model, string image)
    {
        using var engine = new Engine(registry);
        return engine.Predict(model.Id, image).Logits;
    }

    // (255, 0, 51) on the 0–1 scale is (1, 0, 0.2).
    private static readonly float[] ImageNetNormalised = [(1 - 0.485f) / 0.229f, (0 - 0.456f) / 0.224f, (0.2f - 0.406f) / 0.225f];

    [Fact]
    public void Without_settings_an_onnx_input_is_scaled_to_0_1_and_the_model_has_no_classes()
    {
        var (net, image) = Folder(ChannelMeans());
        using var registry = new ModelRegistry(Repo.Models, Repo.TempDir());
        var model = registry.Register(net);
        Assert.Equal([1f, 0f, 0.2f], Logits(registry, model, image), new Tolerance(1e-6));
        Assert.Empty(model.Classes);
        Assert.Empty(model.Origin.Sources);
    }

    [Fact]
    public void The_imagenet_preset_and_labels_from_flags_normalise_and_name_the_outputs()
    {
        var (net, image) = Folder(ChannelMeans(), ("labels.txt", "red\ngreen\nblue\n"));
        using var registry = new ModelRegistry(Repo.Models, Repo.TempDir());
        var model = registry.Register(net, settings: new ModelSettings(Preset: "imagenet", LabelsFile: Path.Combine(Path.GetDirectoryName(net)!, "labels.txt")));
        Assert.Equal(ImageNetNormalised, Logits(registry, model, image), new Tolerance(1e-5));
        Assert.Equal(["red", "green", "blue"], model.Classes);
        Assert.Equal("imagenet", model.Origin.Preset);
        Assert.Equal("flags", model.Origin.Sources["mean"]);
        using var engine = new Engine(registry);
        Assert.Equal("red", engine.Predict(model.Id, image).Top[0].Label);
    }

    [Fact]
    public void Bgr_takes_blue_first_and_the_rgb_mean_follows_its_colour()
    {
        var (net, image) = Folder(ChannelMeans());
        using var registry = new ModelRegistry(Repo.Models, Repo.TempDir());
        // Mean and std are given R,G,B: red's mean 0.5 must still apply to red, now the third channel.
        var model = registry.Register(net, settings: new ModelSettings(Mean: [0.5f, 0.25f, 0.125f], Std: [0.5f, 0.5f, 0.25f], Channels: "bgr"));
        Assert.Equal([(0.2f - 0.125f) / 0.25f, (0 - 0.25f) / 0.5f, (1 - 0.5f) / 0.5f], Logits(registry, model, image), new Tolerance(1e-6));
        Assert.Equal([0.5f, 0.25f, 0.125f], model.Input.MeanRgb);
        Assert.Equal([0.125f, 0.25f, 0.5f], model.Input.Mean); // the network's order
    }

    [Fact]
    public void Caffe_subtracts_the_mean_in_0_255_units_from_bgr_pixels()
    {
        var (net, image) = Folder(ChannelMeans());
        using var registry = new ModelRegistry(Repo.Models, Repo.TempDir());
        var model = registry.Register(net, settings: new ModelSettings(Preset: "caffe"));
        Assert.Equal([51 - 103.939f, 0 - 116.779f, 255 - 123.68f], Logits(registry, model, image), new Tolerance(1e-3));
        Assert.Equal("bgr", model.Input.Channels);
    }

    [Fact]
    public void Flags_override_the_sidecar_which_overrides_the_onnx_metadata()
    {
        var onnx = ChannelMeans(("preset", "minus-one-to-one"), ("labels", "m1\nm2\nm3"), ("author", "someone"));
        var (net, image) = Folder(onnx, ("net.onnx.json", """{ "preset": "imagenet", "labels": ["s1", "s2", "s3"] }"""));
        using var registry = new ModelRegistry(Repo.Models, Repo.TempDir());

        File.Move(net + ".json", net + ".json.off");
        var fromMetadata = registry.Register(net);
        Assert.Equal([(1 - 0.5f) / 0.5f, (0 - 0.5f) / 0.5f, (0.2f - 0.5f) / 0.5f], Logits(registry, fromMetadata, image), new Tolerance(1e-6));
        Assert.Equal(["m1", "m2", "m3"], fromMetadata.Classes);
        Assert.Equal("net.onnx metadata_props", fromMetadata.Origin.Sources["mean"]);

        File.Move(net + ".json.off", net + ".json");
        var fromSidecar = registry.Register(net);
        Assert.NotEqual(fromMetadata.Id, fromSidecar.Id); // other settings, another model
        Assert.Equal(ImageNetNormalised, Logits(registry, fromSidecar, image), new Tolerance(1e-5));
        Assert.Equal(["s1", "s2", "s3"], fromSidecar.Classes);
        Assert.Equal(net + ".json", fromSidecar.Origin.Sources["labels"]);

        var fromFlags = registry.Register(net, settings: new ModelSettings(Mean: [0f], Std: [1f], Labels: ["f1", "f2", "f3"]));
        Assert.Equal([1f, 0f, 0.2f], Logits(registry, fromFlags, image), new Tolerance(1e-6));
        Assert.Equal(["f1", "f2", "f3"], fromFlags.Classes);
        Assert.Null(fromFlags.Origin.Preset); // the sidecar's preset no longer decides the mean
        Assert.Same(fromFlags, registry.Register(net, settings: new ModelSettings(Mean: [0f], Std: [1f], Labels: ["f1", "f2", "f3"])));
    }

    [Fact]
    public void A_labels_file_may_be_a_json_list_and_is_found_beside_the_sidecar()
    {
        var (net, image) = Folder(ChannelMeans(), ("classes.json", """["a", "b", "c"]"""), ("net.onnx.json", """{ "labelsFile": "classes.json", "crop": "2x2" }"""));
        using var registry = new ModelRegistry(Repo.Models, Repo.TempDir());
        var model = registry.Register(net);
        Assert.Equal(["a", "b", "c"], model.Classes);
        Assert.Equal([1f, 0f, 0.2f], Logits(registry, model, image), new Tolerance(1e-6));
    }

    [Theory]
    [InlineData("{ \"preset\": \"imagenet\",", "not valid JSON")]
    [InlineData("[1, 2]", "one JSON object")]
    [InlineData("{ \"mean\": \"red\" }", "is not a number")]
    [InlineData("{ \"mean\": [0.5, 0.5] }", "has 2 values")]
    [InlineData("{ \"mean\": [124, 117, 104] }", "0–255 units")]
    [InlineData("{ \"std\": [0, 1, 1] }", "positive")]
    [InlineData("{ \"resize\": true }", "whole number")]
    [InlineData("{ \"crop\": {} }", "field 'crop'")]
    [InlineData("{ \"channels\": 3 }", "must be a string")]
    [InlineData("{ \"channels\": \"cmyk\" }", "rgb, bgr, gray")]
    [InlineData("{ \"channels\": \"gray\" }", "three channels")]
    [InlineData("{ \"labels\": \"cat\" }", "list of strings")]
    [InlineData("{ \"labels\": [\"a\", \"b\"] }", "has 2 labels, but model 'net' has 3 outputs")]
    [InlineData("{ \"labelsFile\": \"missing.txt\" }", "does not exist")]
    [InlineData("{ \"preset\": \"imagenette\" }", "no preset 'imagenette'")]
    [InlineData("{ \"normalise\": true }", "unknown field 'normalise'")]
    public void A_bad_sidecar_is_refused_naming_the_file_and_nothing_is_loaded(string sidecar, string expected)
    {
        var (net, _) = Folder(ChannelMeans(), ("net.onnx.json", sidecar));
        using var registry = new ModelRegistry(Repo.Models, Repo.TempDir());
        var e = Assert.Throws<CnnInterpretException>(() => registry.Register(net));
        Assert.Contains(expected, e.Message);
        Assert.Contains(expected.Contains("missing.txt", StringComparison.Ordinal) ? "missing.txt" : "net.onnx", e.Message);
        Assert.Empty(registry.LoadedIds);
    }

    [Fact]
    public void A_model_whose_input_is_not_an_image_is_refused_naming_the_file()
    {
        var dir = Repo.TempDir();
        var path = Path.Combine(dir, "table.onnx");
        File.WriteAllBytes(path, OnnxBuilder.Model(13, [OnnxBuilder.Node("Relu", ["x"], ["y"])], [],
            [OnnxBuilder.ValueInfo("x", 1, 10)], [OnnxBuilder.ValueInfo("y", 1, 10)]));
        using var registry = new ModelRegistry(Repo.Models, Repo.TempDir());
        var e = Assert.Throws<CnnInterpretException>(() => registry.Register(path, settings: new ModelSettings(Preset: "imagenet")));
        Assert.Equal(ErrorKind.BadModelFile, e.Kind);
        Assert.Contains(path, e.Message);
        Assert.Contains("an image model takes one input [N, 1 or 3, H, W]", e.Message);
        Assert.Empty(registry.LoadedIds);
    }

    [Fact]
    public void A_labels_file_with_the_wrong_number_of_lines_says_both_counts()
    {
        var (net, _) = Folder(ChannelMeans(), ("labels.txt", "one\ntwo\nthree\nfour\n"));
        using var registry = new ModelRegistry(Repo.Models, Repo.TempDir());
        var labels = Path.Combine(Path.GetDirectoryName(net)!, "labels.txt");
        var e = Assert.Throws<CnnInterpretException>(() => registry.Register(net, settings: new ModelSettings(LabelsFile: labels)));
        Assert.Contains($"'{labels} (from flags)' has 4 labels, but model 'net' has 3 outputs", e.Message);
    }

    [Fact]
    public async Task The_daemon_loads_with_parameters_reports_the_preprocessing_and_survives_a_bad_sidecar()
    {
        var (net, image) = Folder(ChannelMeans(), ("net.onnx.json", """{ "preset": "unit", "labels": ["r", "g", "b"] }"""));
        var bad = Folder(ChannelMeans(), ("net.onnx.json", """{ "mean": [0.5, "x", 0.5] }""")).Model;
        {
            await using var daemon = new DaemonProcess();
            var (code, message, _) = await daemon.ErrorAsync("models/load", new { model = bad });
            Assert.Equal((int)ErrorKind.InvalidArgument, code);
            Assert.Contains(bad + ".json", message);

            var loaded = await daemon.ResultAsync("models/load", new { model = net, preset = "imagenet", channels = "bgr" });
            var pre = loaded.GetProperty("preprocessing");
            Assert.Equal("imagenet", pre.GetProperty("preset").GetString());
            Assert.Equal("bgr", pre.GetProperty("channels").GetString());
            Assert.Equal([0.485f, 0.456f, 0.406f], pre.GetProperty("mean").EnumerateArray().Select(v => v.GetSingle()));
            Assert.Equal("request", pre.GetProperty("sources").GetProperty("mean").GetString());
            Assert.Equal(net + ".json", pre.GetProperty("sources").GetProperty("labels").GetString());
            Assert.Equal(net + ".json", pre.GetProperty("sidecar").GetString());
            Assert.Equal(["r", "g", "b"], loaded.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));

            var prediction = await daemon.ResultAsync("image/predict", new { model = loaded.GetProperty("id").GetString(), image, topK = 3 });
            Assert.Equal("b", prediction.GetProperty("top")[0].GetProperty("label").GetString()); // output 2: red, last in BGR
            var logits = prediction.GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            Assert.Equal([ImageNetNormalised[2], ImageNetNormalised[1], ImageNetNormalised[0]], logits, new Tolerance(1e-5));
            Assert.Equal(0, await daemon.CloseAndWaitAsync());
        }
    }

    private sealed class Tolerance(double epsilon) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= epsilon;
        public int GetHashCode(float obj) => 0;
    }
}
