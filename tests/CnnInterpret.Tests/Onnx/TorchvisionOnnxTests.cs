using System.Text.Json;
using CnnInterpret.Core;
using CnnInterpret.Core.Models;
using CnnInterpret.Core.Onnx;
using CnnInterpret.Tests.TestSupport;
using CnnInterpret.Tests.Torchvision;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.Onnx;

/// <summary>
/// One or two of every CNN family in torchvision 0.14, random weights, exported by Debian's PyTorch 1.13 at
/// opsets 13 and 17 (tests/fixtures/make_onnx_fixtures.py, made by scripts/test-deps.sh into the fixtures cache)
/// and opened as a user opens their own file: each loads, gives PyTorch's logits (within 1e-4 of the largest
/// logit) and its top-1 for the same input, passes gradients from the top logit back to the pixels through every
/// operator, and Grad-CAM (at the last conv layer and the last spatial layer), feature maps and LIME run on a photo.
/// One model at a time, disposed before the next.
/// </summary>
[Collection(SerialTorch.Name)] // full-size networks (VGG16's file is 528 MB): nothing else loads beside them
public sealed class TorchvisionOnnxTests(ITestOutputHelper output)
{
    public static readonly string[] Architectures =
    [
        "alexnet", "vgg11_bn", "vgg16", "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "squeezenet1_1",
        "densenet121", "inception_v3", "googlenet", "shufflenet_v2_x1_0", "mobilenet_v2", "mobilenet_v3_small",
        "mobilenet_v3_large", "mnasnet1_0", "efficientnet_b0", "efficientnet_v2_s", "regnet_x_400mf", "regnet_y_400mf",
        "convnext_tiny",
    ];

    public static IEnumerable<object[]> Cases() => Architectures.SelectMany(a => new object[][] { [a, 13], [a, 17] });

    private const double Tolerance = 1e-4;
    private static string Photo => Path.Combine(Photos.Samples, "dog.jpg");

    private sealed record Export(int Size, string File, int Top1, float[] Logits);

    private static Export Fixture(string arch, int opset)
    {
        var json = Path.Combine(TorchvisionFixtures.Directory, "onnx", $"{arch}.json");
        Assert.True(File.Exists(json), $"{json} is missing: scripts/test-deps.sh makes it with Debian's PyTorch (tests/fixtures/make_onnx_fixtures.py)");
        var e = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        return new Export(e.GetProperty("size").GetInt32(),
            Path.Combine(TorchvisionFixtures.Directory, "onnx", e.GetProperty("files").GetProperty(opset.ToString(System.Globalization.CultureInfo.InvariantCulture)).GetString()!),
            e.GetProperty("top1").GetInt32(), e.GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()).ToArray());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Export_loads_matches_PyTorch_and_every_view_runs(string arch, int opset)
    {
        var export = Fixture(arch, opset);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var registry = new ModelRegistry(Repo.Models);
        using var engine = new Engine(registry);
        var model = registry.Register(export.File);
        var graph = Assert.IsType<OnnxGraph>(model.Network);

        // PyTorch's input: torch.linspace(-2, 2, 3*H*W) as [1, 3, H, W].
        using (var scope = NewDisposeScope())
        {
            var x = linspace(-2, 2, 3 * export.Size * export.Size).reshape(1, 3, export.Size, export.Size).requires_grad_();
            var logits = graph.forward(x)[0];
            var ours = logits.detach().data<float>().ToArray();
            var scale = export.Logits.Max(Math.Abs);
            var worst = ours.Zip(export.Logits, (a, b) => Math.Abs(a - b)).Max() / scale;
            output.WriteLine($"{arch} opset {opset}: {model.Layers.Count} layers, largest |logit| {scale:G4}, worst difference {worst:G3} of it");
            Assert.True(worst <= Tolerance, $"{arch} opset {opset}: logits differ from PyTorch's by {worst:G3} of the largest");
            Assert.Equal(export.Top1, Array.IndexOf(ours, ours.Max()));

            // Gradients reach the pixels through every operator of the graph (batch norm included).
            logits[export.Top1].backward();
            var grad = x.grad!;
            Assert.True(grad.isfinite().all().item<bool>(), "the input gradient has NaN or infinity");
            Assert.True(grad.abs().sum().item<float>() > 0, "no gradient reached the input");
        }

        var parity = clock.Elapsed.TotalSeconds;
        var lastConv = Engine.DefaultCamLayer(model);
        var lastSpatial = model.Layers.Last(l => l.IsSpatial && l.OutputShape[1] * l.OutputShape[2] > 1).Name; // not a global pool's 1x1
        foreach (var layer in new[] { lastConv, lastSpatial }.Distinct())
        {
            var cam = engine.GradCam(model, Photo, layer);
            Assert.All(cam.Heatmap, v => Assert.True(float.IsFinite(v) && v >= 0));
            Assert.Contains(cam.Weights, w => w != 0);
            Assert.All(cam.Weights, w => Assert.True(float.IsFinite(w)));
            output.WriteLine($"  Grad-CAM at {layer} ({model.GetLayer(layer).DisplayName}) [{string.Join(", ", model.GetLayer(layer).OutputShape)}]: score {cam.Score:G4}");
        }
        var maps = engine.FeatureMaps(model.Id, Photo, lastSpatial);
        Assert.Equal(model.GetLayer(lastSpatial).OutputShape, maps.Shape);
        Assert.All(maps.Values, v => Assert.True(float.IsFinite(v)));
        var lime = engine.Lime(model.Id, Photo, new SamplingRequest(Samples: "10", Segments: 6, Seed: 1)); // the fewest LIME takes
        Assert.Equal(10, lime.Result.Samples);
        Assert.All(lime.Map, v => Assert.True(float.IsFinite(v)));
        Assert.Contains(lime.Map, v => v != 0);
        output.WriteLine($"  {parity:F1} s to load and compare, {clock.Elapsed.TotalSeconds - parity:F1} s for the views");
    }

    [Fact]
    public void Layers_are_named_by_the_module_paths_of_the_PyTorch_model()
    {
        using var registry = new ModelRegistry(Repo.Models);
        var resnet = registry.Register(Fixture("resnet50", 17).File);
        foreach (var l in resnet.Layers.TakeLast(12)) output.WriteLine($"{l.Name,-36} {l.DisplayName,-24} {l.Group}");
        // Node names stay the stable names; the display name is the module path, the group the top-level module.
        var block = resnet.Layers.Where(l => l.Name.StartsWith("/layer4/layer4.2/", StringComparison.Ordinal)).ToDictionary(l => l.Name, l => l.DisplayName);
        Assert.Equal(new Dictionary<string, string>
        {
            ["/layer4/layer4.2/conv1/Conv"] = "layer4.2.conv1",
            ["/layer4/layer4.2/relu/Relu"] = "layer4.2.relu#1", // the block's one ReLU module, called three times
            ["/layer4/layer4.2/conv2/Conv"] = "layer4.2.conv2",
            ["/layer4/layer4.2/relu_1/Relu"] = "layer4.2.relu#2",
            ["/layer4/layer4.2/conv3/Conv"] = "layer4.2.conv3",
            ["/layer4/layer4.2/Add"] = "layer4.2/Add", // in the block's own forward, not its output
            ["/layer4/layer4.2/relu_2/Relu"] = "layer4.2.relu",
        }, block);
        Assert.Equal("layer4.0.downsample.0", resnet.GetLayer("/layer4/layer4.0/downsample/downsample.0/Conv").DisplayName);
        Assert.All(resnet.Layers.Where(l => l.Name.StartsWith("/layer4/", StringComparison.Ordinal)), l => Assert.Equal("layer4", l.Group));
        Assert.Equal(("avgpool", "avgpool"), (resnet.GetLayer("/avgpool/GlobalAveragePool").DisplayName, resnet.GetLayer("/avgpool/GlobalAveragePool").Group));
        Assert.Equal("fc", resnet.GetLayer("/fc/Gemm").DisplayName);
        Assert.Equal("/layer4/layer4.2/relu_2/Relu", resnet.GetLayer("layer4.2.relu").Name);
        Assert.Equal(resnet.Layers.Count, resnet.Layers.Select(l => l.DisplayName).Distinct().Count());

        // Nested lists (features[1][0].block[2]) and a module made of several nodes (LayerNorm2d at opset 13).
        var convnext = registry.Register(Fixture("convnext_tiny", 13).File);
        foreach (var l in convnext.Layers.Where(l => l.Name.StartsWith("/features/features.1/features.1.0/", StringComparison.Ordinal)))
            output.WriteLine($"{l.Name,-60} {l.DisplayName,-36} {l.Group}");
        Assert.Equal("features.1.0.block.0", convnext.GetLayer("/features/features.1/features.1.0/block/block.0/Conv").DisplayName);
        Assert.All(convnext.Layers.Where(l => l.Name.StartsWith("/features/", StringComparison.Ordinal)), l => Assert.Equal("features", l.Group));
        Assert.Equal(convnext.Layers.Count, convnext.Layers.Select(l => l.DisplayName).Distinct().Count());
    }
}
