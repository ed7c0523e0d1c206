using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Tests.TestSupport;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.Onnx;

/// <summary>The built-in resnet18-imagenet end to end: its layers, feature maps of a real photo, channel targets, Grad-CAM.</summary>
public sealed class ResNet18ImageNetTests(ITestOutputHelper output)
{
    private const string Id = "resnet18-imagenet";
    private static string Dog => Path.Combine(Photos.Samples, "dog.jpg");

    [Fact]
    public void Layers_run_from_the_preprocessing_graph_to_the_pooled_features()
    {
        var model = OnnxModels.Registry.Get(Id);
        foreach (var l in model.Layers) output.WriteLine($"{l.Name,-24} {l.DisplayName,-22} {l.Kind,-20} {l.Group,-22} [{string.Join(", ", l.OutputShape)}] {l.ParameterCount}");
        Assert.Empty(model.Classes);
        Assert.Equal(["RInp", "BGRInput", "PreprocessedInput"], model.Layers.Take(3).Select(l => l.Name));
        Assert.All(model.Layers.Take(3), l => Assert.Equal("preprocess", l.Group));
        // Split, Concat, Sub, then every node of this (CNTK-made) ResNet: 22 convs, 9 residual adds.
        Assert.Equal(3 + 74, model.Layers.Count);
        Assert.Equal(22, model.Layers.Count(l => l.Kind == "Conv"));
        Assert.Equal(9, model.Layers.Count(l => l.Kind == "Add"));
        var last = model.Layers[^1];
        Assert.Equal(("Pooling395", "AveragePool"), (last.Name, last.Kind));
        Assert.Equal([512, 1, 1], last.OutputShape);
        Assert.Equal([64, 112, 112], model.GetLayer("Convolution249").OutputShape);
        Assert.Equal(model.Layers.Select(l => l.DisplayName).Distinct().Count(), model.Layers.Count);
        // Parameters are the conv weights and the batch norms' scales and shifts; running statistics are buffers.
        var network = Core.Onnx.OnnxParser.ReadModelFile(Core.Onnx.OnnxFiles.Resolve("ResNet18.onnx", "Microsoft.ML.DnnImageFeaturizer.ResNet18", Repo.Models, Id)).Graph;
        var sizes = network.Initializers.ToDictionary(i => i.Name, i => i.ElementCount);
        var expected = network.Nodes.Sum(n => n.OpType switch
        {
            "Conv" => n.Inputs.Skip(1).Sum(i => sizes[i]),
            "BatchNormalization" => sizes[n.Inputs[1]] + sizes[n.Inputs[2]],
            _ => 0,
        });
        Assert.Equal(expected, model.ParameterCount);
        Assert.Equal(expected, model.Network.parameters().Sum(p => p.numel()));
        output.WriteLine($"{expected} parameters");
        Assert.Equal(64, model.WeightsHash.Split('+')[0].Length);
    }

    [Fact]
    public void Feature_maps_of_a_photo_average_into_the_final_features()
    {
        var engine = OnnxModels.NewEngine();
        var model = engine.GetModel(Id);
        var maps = engine.FeatureMaps(Id, Dog, "ReLU393");
        Assert.Equal([512, 7, 7], maps.Shape);
        var activations = engine.Activations(model, Dog);
        var relu = activations.Layers["ReLU393"].Data;
        Assert.All(relu, v => Assert.True(v >= 0));
        // The final layer is a 7x7 average pool of the last ReLU: each feature is its channel's mean.
        for (var c = 0; c < 512; c++)
            Assert.Equal(relu.Skip(c * 49).Take(49).Average(), activations.Logits[c], 4);
        Assert.True(activations.Logits.Max() > 1, "a real photo lights some ImageNet features up");
        // The network sees the photo, not noise: two photos give clearly different features.
        var eagle = engine.Activations(model, Path.Combine(Photos.Samples, "eagle.jpg")).Logits;
        Assert.True(Cosine(activations.Logits, eagle) < 0.9, $"cosine {Cosine(activations.Logits, eagle)}");
    }

    [Fact]
    public void With_no_classes_the_default_target_is_the_strongest_final_channel()
    {
        var engine = OnnxModels.NewEngine();
        var model = engine.GetModel(Id);
        var logits = engine.Activations(model, Dog).Logits;
        var top = Array.IndexOf(logits, logits.Max());
        Assert.Equal(new Target.Channel("Pooling395", top), Target.Resolve(null, model, logits));
        Assert.Equal(new Target.Channel("ReLU393", 5), Target.Resolve(Target.Parse("ReLU393:5"), model, logits));
        Assert.Throws<CnnInterpretException>(() => Target.Resolve(Target.Parse("ReLU393:512"), model, logits));
    }

    [Fact]
    public void Grad_cam_explains_a_channel_and_its_score_is_the_feature()
    {
        var engine = OnnxModels.NewEngine();
        var model = engine.GetModel(Id);
        var logits = engine.Activations(model, Dog).Logits;
        var top = Array.IndexOf(logits, logits.Max());
        var cam = engine.GradCam(Id, Dog, "ReLU379", new Target.Channel("Pooling395", top));
        Assert.Equal(logits[top], cam.Score, 3);
        Assert.Equal([224, 224], cam.HeatmapShape);
        Assert.True(cam.Heatmap.Max() > 0);
    }

    [Fact]
    public void Gradients_reach_the_rgb_pixels_through_both_graphs()
    {
        var model = OnnxModels.Registry.Get(Id);
        using var scope = NewDisposeScope();
        var x = tensor(Photos.Prepare(Dog, model.Input), [1, 3, 224, 224]).requires_grad_(true);
        var (logits, captured) = model.Forward(x, new HashSet<string> { "ReLU393" });
        var top = (int)logits.flatten().argmax().item<long>();
        new Target.Channel("ReLU393", top).Score(logits, captured).sum().backward();
        var grad = x.grad!;
        // The preprocessing swaps RGB to BGR and subtracts a constant: every colour plane gets gradient.
        for (var c = 0; c < 3; c++) Assert.True(grad[0, c].abs().sum().item<float>() > 0, $"no gradient in plane {c}");
    }

    private static double Cosine(float[] a, float[] b) =>
        a.Zip(b, (x, y) => (double)x * y).Sum() / Math.Sqrt(a.Sum(x => (double)x * x) * b.Sum(y => (double)y * y));
}
