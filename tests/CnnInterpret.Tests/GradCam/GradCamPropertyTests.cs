using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Tests.TestSupport;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;

namespace CnnInterpret.Tests.GradCam;

/// <summary>Properties of Grad-CAM on fashion-vgg, bad input, and memory.</summary>
public sealed class GradCamPropertyTests
{
    private static string Sample(string name) => Path.Combine(Repo.Samples, name);

    /// <summary>The low-resolution map is ReLU(Σ_k α_k A_k) of the layer's activations, which the activations cache holds.</summary>
    [Theory]
    [InlineData("grad-cam", "features.12", "sneaker-0.png")]
    [InlineData("grad-cam++", "features.7", "bag-0.png")]
    [InlineData("grad-cam", "block2", "trouser-0.png")]
    public void The_map_is_the_weighted_sum_of_the_activation_maps(string method, string layer, string image)
    {
        var engine = new Engine(Repo.Registry);
        var result = engine.GradCam("fashion-vgg", Sample(image), layer, method: method);
        var activation = engine.Activations(Repo.FashionVgg, Sample(image)).Layers[result.Layer.Name];
        int k = activation.Shape[0], plane = activation.Shape[1] * activation.Shape[2];
        Assert.Equal(k, result.Weights.Length);
        var expected = new float[plane];
        for (var i = 0; i < plane; i++)
        {
            double sum = 0;
            for (var c = 0; c < k; c++) sum += result.Weights[c] * activation.Data[c * plane + i];
            expected[i] = (float)Math.Max(0, sum);
        }
        var scale = Math.Max(1e-6, expected.Max());
        Assert.All(expected.Zip(result.LowRes), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-4 * scale, $"{p.First} vs {p.Second}"));
        // Normalised to [0,1]: a map that is positive somewhere peaks at 1 before upsampling (a bilinear upsample
        // keeps at least half of a single-pixel peak); one that is zero everywhere stays zero.
        Assert.InRange(result.Heatmap.Min(), 0f, 1f);
        if (expected.Max() > 0) Assert.InRange(result.Heatmap.Max(), 0.5f, 1f);
        else Assert.All(result.Heatmap, v => Assert.Equal(0f, v));
        Assert.Equal([28, 28], result.HeatmapShape);
    }

    [Fact]
    public void Default_target_is_the_top_class_and_a_chosen_class_changes_the_map()
    {
        var engine = new Engine(Repo.Registry);
        var top = engine.GradCam("fashion-vgg", Sample("ankle-boot-0.png"), "features.12");
        Assert.Equal(new Target.Class(9), top.Target);
        Assert.Equal("Ankle boot", top.TargetLabel);
        Assert.Equal(engine.Predict(null, Sample("ankle-boot-0.png")).Logits[9], top.Score, 5);
        var other = engine.GradCam("fashion-vgg", Sample("ankle-boot-0.png"), "features.12", new Target.Class(1));
        Assert.Equal(new Target.Class(1), other.Target);
        Assert.NotEqual(top.Weights, other.Weights);
    }

    /// <summary>A conv's raw output can leave nothing after the ReLU: the result says so, and what to try.</summary>
    [Fact]
    public void An_empty_map_is_flagged_with_a_hint_and_the_relu_after_it_is_not_empty()
    {
        var engine = new Engine(Repo.Registry);
        var conv = engine.GradCam("fashion-vgg", Sample("coat-0.png"), "features.12");
        Assert.All(conv.LowRes, v => Assert.Equal(0f, v)); // every position's weighted sum is negative here
        Assert.True(conv.Empty);
        Assert.Contains("zero everywhere at block3_conv2", conv.Hint);
        Assert.Contains("Grad-CAM++", conv.Hint);

        var relu = engine.GradCam("fashion-vgg", Sample("coat-0.png"), "features.13");
        Assert.Contains(relu.LowRes, v => v > 0);
        Assert.False(relu.Empty);
        Assert.Null(relu.Hint);
    }

    /// <summary>A channel target at the layer itself: score = mean of A_c, so α is 1/(h·w) on channel c and 0 elsewhere.</summary>
    [Fact]
    public void A_channel_target_at_the_layer_weights_only_that_channel()
    {
        var engine = new Engine(Repo.Registry);
        var result = engine.GradCam("fashion-vgg", Sample("coat-0.png"), "features.8", Target.Parse("features.8:5"));
        Assert.Equal(new Target.Channel("features.8", 5), result.Target);
        Assert.Equal(1f / (14 * 14), result.Weights[5], 6);
        Assert.All(result.Weights.Where((_, i) => i != 5), w => Assert.Equal(0f, w));
        var activation = engine.Activations(Repo.FashionVgg, Sample("coat-0.png")).Layers["features.8"];
        Assert.Equal(activation.Data.Skip(5 * 196).Take(196).Average(), result.Score, 4);
    }

    [Fact]
    public void Overlay_and_heatmap_are_pngs_of_the_enlarged_input()
    {
        var result = new Engine(Repo.Registry).GradCam("fashion-vgg", Sample("dress-0.png"), "features.12");
        using var overlay = Image.Load<Rgb24>(result.OverlayPng);
        using var heatmap = Image.Load<Rgb24>(result.HeatmapPng);
        Assert.Equal((224, 224), (overlay.Width, overlay.Height)); // 28 × 8
        Assert.Equal((224, 224), (heatmap.Width, heatmap.Height));
    }

    [Fact]
    public void Bad_input_names_the_valid_choices()
    {
        var engine = new Engine(Repo.Registry);
        var image = Sample("shirt-0.png");
        var flat = Assert.Throws<CnnInterpretException>(() => engine.GradCam("fashion-vgg", image, "classifier.0"));
        Assert.Equal(ErrorKind.InvalidArgument, flat.Kind);
        Assert.Contains("features.12 (block3_conv2)", flat.Message);
        Assert.DoesNotContain("classifier.0 (", flat.Message);

        var unknown = Assert.Throws<CnnInterpretException>(() => engine.GradCam("fashion-vgg", image, "block9"));
        Assert.Equal(ErrorKind.UnknownLayer, unknown.Kind);

        var klass = Assert.Throws<CnnInterpretException>(() => engine.GradCam("fashion-vgg", image, "features.12", new Target.Class(10)));
        Assert.Contains("0–9", klass.Message);

        var channel = Assert.Throws<CnnInterpretException>(() => engine.GradCam("fashion-vgg", image, "features.12", Target.Parse("features.12:64")));
        Assert.Contains("channels 0–63", channel.Message);

        var earlier = Assert.Throws<CnnInterpretException>(() => engine.GradCam("fashion-vgg", image, "features.12", Target.Parse("features.2:0")));
        Assert.Contains("comes before", earlier.Message);

        var method = Assert.Throws<CnnInterpretException>(() => engine.GradCam("fashion-vgg", image, "features.12", method: "grad-cam-xx"));
        Assert.Contains("grad-cam, grad-cam++", method.Message);
    }
}

[Collection(SerialTorch.Name)]
public sealed class GradCamMemoryTests
{
    [Fact]
    public void Requests_leave_no_live_tensors_behind()
    {
        var model = Repo.FashionVgg;
        var samples = Directory.GetFiles(Repo.Samples, "*.png").Order().Take(6).ToList();
        var engine = new Engine(Repo.Registry);
        engine.GradCam(model.Id, samples[0], "features.12"); // warm-up
        var before = LiveTensors.Count();
        foreach (var sample in samples)
        {
            engine.GradCam(model.Id, sample, "features.7", method: "grad-cam++"); // miss for all but the first
            engine.GradCam(model.Id, sample, "features.12", new Target.Class(3)); // hit
            Assert.Throws<CnnInterpretException>(() => engine.GradCam(model.Id, sample, "features.12", new Target.Class(11)));
        }
        Assert.Equal(before, LiveTensors.Count());
    }
}
