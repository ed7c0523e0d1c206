using CnnInterpret.Core;
using CnnInterpret.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.Models;

/// <summary>A network small enough to compute by hand: conv(1→1, 3×3, all ones, bias −20) → ReLU → max-pool → avg-pool → linear.</summary>
public sealed class TinyNetworkTests
{
    private static readonly Preprocessing Input = new("gray", 4, [4, 4], [0f], [1f]);

    private static CnnModel Build()
    {
        var architecture = VggArchitecture.FromWidths(1, [1, 0], avgPool: [1, 1], classifier: [], numClasses: 2);
        var model = new CnnModel("tiny", "Tiny", Input, ["up", "down"], architecture.BuildLayers());
        using var scope = NewDisposeScope();
        model.LoadWeights(new Dictionary<string, Tensor>
        {
            ["features.0.weight"] = ones(1, 1, 3, 3),
            ["features.0.bias"] = tensor(new[] { -20f }),
            ["classifier.0.weight"] = tensor(new[] { 1f, -1f }, [2, 1]),
            ["classifier.0.bias"] = tensor(new[] { 0f, 1f }),
        }, "test", "hand-made weights");
        return model;
    }

    [Fact]
    public void Layer_table_names_kinds_shapes_and_parameters()
    {
        using var model = Build();
        Assert.Equal(["features.0", "features.1", "features.2", "avgpool", "flatten", "classifier.0"], model.Layers.Select(l => l.Name));
        Assert.Equal(["block1_conv1", "block1_conv1_relu", "block1_pool", "avgpool", "flatten", "predictions"], model.Layers.Select(l => l.DisplayName));
        Assert.Equal(["Conv2d", "ReLU", "MaxPool2d", "AdaptiveAvgPool2d", "Flatten", "Linear"], model.Layers.Select(l => l.Kind));
        Assert.Equal([1, 4, 4], model.Layers[0].OutputShape);
        Assert.Equal([1, 2, 2], model.Layers[2].OutputShape);
        Assert.Equal([1], model.Layers[4].OutputShape);
        Assert.Equal([10L, 0, 0, 0, 0, 4], model.Layers.Select(l => l.ParameterCount));
    }

    [Fact]
    public void Forward_matches_values_computed_by_hand()
    {
        using var model = Build();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // x[i,j] = 4i + j. Each conv output is the sum of the 3×3 neighbourhood (zero padded) minus 20.
        var x = arange(16, dtype: ScalarType.Float32).reshape(1, 1, 4, 4);
        var (logits, captured) = model.Forward(x, new HashSet<string> { "features.0", "features.1", "features.2", "avgpool" });

        float[] conv = [-10, -2, 4, -2, 7, 25, 34, 19, 31, 61, 70, 43, 22, 46, 52, 30];
        float[] relu = [0, 0, 4, 0, 7, 25, 34, 19, 31, 61, 70, 43, 22, 46, 52, 30];
        float[] pool = [25, 34, 61, 70];
        Assert.Equal(conv, captured["features.0"].data<float>().ToArray());
        Assert.Equal(relu, captured["features.1"].data<float>().ToArray());
        Assert.Equal(pool, captured["features.2"].data<float>().ToArray());
        Assert.Equal([47.5f], captured["avgpool"].data<float>().ToArray());
        Assert.Equal([47.5f, -46.5f], logits.data<float>().ToArray());
    }

    [Fact]
    public void Weights_for_another_architecture_are_refused_with_the_reason()
    {
        using var model = Build();
        using var scope = NewDisposeScope();
        var wrongShape = new Dictionary<string, Tensor>
        {
            ["features.0.weight"] = ones(2, 1, 3, 3), ["features.0.bias"] = zeros(1),
            ["classifier.0.weight"] = zeros(2, 1), ["classifier.0.bias"] = zeros(2),
        };
        var e = Assert.Throws<CnnInterpretException>(() => model.LoadWeights(wrongShape, "x", "wrong.safetensors"));
        Assert.Equal(ErrorKind.BadModelFile, e.Kind);
        Assert.Contains("features.0.weight", e.Message);
        Assert.Contains("[2, 1, 3, 3]", e.Message);

        var missing = new Dictionary<string, Tensor> { ["features.0.weight"] = ones(1, 1, 3, 3) };
        e = Assert.Throws<CnnInterpretException>(() => model.LoadWeights(missing, "x", "partial.safetensors"));
        Assert.Contains("Missing: ", e.Message);
        Assert.Contains("classifier.0.bias", e.Message);
    }

    [Fact]
    public void Unknown_layer_lists_the_valid_ones()
    {
        using var model = Build();
        var e = Assert.Throws<CnnInterpretException>(() => model.GetLayer("block9_conv1"));
        Assert.Equal(ErrorKind.UnknownLayer, e.Kind);
        Assert.Contains("features.0 (block1_conv1)", e.Message);
        Assert.Same(model.Layers[0], model.GetLayer("block1_conv1"));
        Assert.Same(model.Layers[0], model.GetLayer("features.0"));
    }

    [Fact]
    public void Safetensors_round_trip_and_corruption()
    {
        using var model = Build();
        var dir = TestSupport.Repo.TempDir();
        var path = Path.Combine(dir, "tiny.safetensors");
        SafeTensors.Save(path, model.StateDict(), new Dictionary<string, string> { ["model"] = "tiny" });

        // The layout is the published one: u64 header length, JSON header, data; offsets within the data.
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BitConverter.ToUInt64(bytes);
        Assert.Equal(0, (8 + headerLength) % 8);
        var header = System.Text.Json.JsonDocument.Parse(bytes.AsSpan(8, headerLength).ToArray()).RootElement;
        Assert.Equal("F32", header.GetProperty("features.0.weight").GetProperty("dtype").GetString());
        Assert.Equal(4 * (9 + 1 + 2 + 2), bytes.Length - 8 - headerLength);
        Assert.Equal("tiny", header.GetProperty("__metadata__").GetProperty("model").GetString());

        using (var scope = NewDisposeScope())
        {
            var loaded = SafeTensors.Load(path);
            Assert.Equal(new[] { -20f }, loaded["features.0.bias"].data<float>().ToArray());
            Assert.Equal(new[] { 1f, -1f }, loaded["classifier.0.weight"].data<float>().ToArray());
            Assert.Equal(new long[] { 2, 1 }, loaded["classifier.0.weight"].shape);
        }

        File.WriteAllBytes(path, bytes[..(bytes.Length - 4)]);
        var e = Assert.Throws<CnnInterpretException>(() => SafeTensors.Load(path));
        Assert.Equal(ErrorKind.BadModelFile, e.Kind);
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Equal(ErrorKind.BadModelFile, Assert.Throws<CnnInterpretException>(() => SafeTensors.Load(path)).Kind);
    }
}
