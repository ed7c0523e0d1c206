using CnnInterpret.Core;
using CnnInterpret.Core.Onnx;
using CnnInterpret.Tests.TestSupport;
using static CnnInterpret.Tests.Onnx.OnnxBuilder;
using TorchSharp;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.Onnx;

/// <summary>Hand-made graphs with hand-computed outputs: pads, layers, skip paths, gradients, weights, errors.</summary>
public sealed class OnnxGraphTests
{
    private static OnnxGraph Graph(byte[] model) => new(OnnxParser.ReadModel(model, "test.onnx"));

    private static float[] Values(Tensor t) => t.detach().contiguous().data<float>().ToArray();

    [Fact]
    public void Asymmetric_pads_are_applied_before_conv_and_pools()
    {
        // x = [[1,2],[3,4]], pads [top=1, left=1, bottom=0, right=0], 2x2 windows, stride 1.
        var model = Model(13,
            [
                Node("Conv", ["x", "ones"], ["conv"], "conv", Ints("pads", 1, 1, 0, 0)),
                Node("MaxPool", ["x"], ["max"], "max", Ints("kernel_shape", 2, 2), Ints("pads", 1, 1, 0, 0)),
                Node("AveragePool", ["x"], ["avg"], "avg", Ints("kernel_shape", 2, 2), Ints("pads", 1, 1, 0, 0)),
                Node("AveragePool", ["x"], ["avgpad"], "avgpad", Ints("kernel_shape", 2, 2), Ints("pads", 1, 1, 0, 0), Int("count_include_pad", 1)),
            ],
            [Tensor("ones", [1, 1, 2, 2], [1, 1, 1, 1])],
            [ValueInfo("x", 1, 1, 2, 2)],
            [ValueInfo("conv"), ValueInfo("max"), ValueInfo("avg"), ValueInfo("avgpad")]);
        using var graph = Graph(model);
        using var scope = NewDisposeScope();
        var outputs = graph.Evaluate(new Dictionary<string, Tensor> { ["x"] = tensor(new float[] { 1, 2, 3, 4 }).reshape(1, 1, 2, 2) });
        Assert.Equal([1f, 3, 4, 10], Values(outputs["conv"]));
        Assert.Equal([1f, 2, 3, 4], Values(outputs["max"]));
        Assert.Equal([1f, 1.5f, 2, 2.5f], Values(outputs["avg"]));
        Assert.Equal([0.25f, 0.75f, 1, 2.5f], Values(outputs["avgpad"]));
    }

    /// <summary>y = relu(2·x) + x, with the Relu left unnamed (its layer is named after its output).</summary>
    private static byte[] Residual() => Model(13,
        [
            Node("Conv", ["x", "block.conv.weight"], ["a"], "block/conv"),
            Node("Relu", ["a"], ["relu_out"]),
            Node("Add", ["relu_out", "x"], ["y"], "add"),
        ],
        [Tensor("block.conv.weight", [1, 1, 1, 1], [2])],
        [ValueInfo("x", 1, 1, 2, 2)],
        [ValueInfo("y")]);

    [Fact]
    public void Layers_are_the_nodes_named_by_node_or_first_output()
    {
        using var graph = Graph(Residual());
        Assert.Equal(["block/conv", "relu_out", "add"], graph.Nodes.Select(n => n.Name));
        Assert.Equal(["Conv", "Relu", "Add"], graph.Nodes.Select(n => n.Kind));
        Assert.Equal([1L, 0, 0], graph.Nodes.Select(n => n.ParameterCount));
        Assert.Equal([1, 2, 2], graph.InputShape!);
        Assert.Equal(["block.conv.weight"], graph.state_dict().Keys);
    }

    [Fact]
    public void Runs_capture_stop_and_replace_layers_and_refuse_to_skip_a_connection()
    {
        using var graph = Graph(Residual());
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1, -1, 2, -3 }).reshape(1, 1, 2, 2);
        var captured = new Dictionary<string, Tensor>();
        var y = graph.Run(x, new HashSet<string> { "relu_out" }, captured);
        Assert.Equal([3f, -1, 6, -3], Values(y));
        Assert.Equal([2f, 0, 4, 0], Values(captured["relu_out"]));

        Assert.Equal([2f, -2, 4, -6], Values(graph.Run(x, new HashSet<string>(), [], stopAfter: "block/conv")));
        Assert.Equal([11f, 9, 12, 7], Values(graph.Run(x, new HashSet<string>(), [], replace: ("relu_out", full(1, 1, 2, 2, 10f)))));

        // The Add also reads x around the Relu: from the Relu's output alone the graph cannot go on.
        Assert.Null(graph.RunFrom("relu_out", zeros(1, 1, 2, 2), new HashSet<string>(), []));
        Assert.Equal([5f, 5, 5, 5], Values(graph.RunFrom("add", full(1, 1, 2, 2, 5f), new HashSet<string>(), [])!));
    }

    [Fact]
    public void Gradients_flow_to_the_input_and_the_weights()
    {
        using var graph = Graph(Residual());
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1, -1, 2, -3 }).reshape(1, 1, 2, 2).requires_grad_(true);
        graph.forward(x).sum().backward();
        Assert.Equal([3f, 1, 3, 1], Values(x.grad!)); // d/dx (relu(2x) + x) = 2·[x>0] + 1
        var weight = graph.parameters().Single();
        Assert.Equal([3f], Values(weight.grad!)); // d/dw of relu(w·x) summed = sum of positive x
    }

    [Fact]
    public void A_batch_larger_than_declared_survives_a_fixed_reshape()
    {
        var model = Model(13,
            [Node("Reshape", ["x", "shape"], ["flat"], "flat")],
            [Int64Tensor("shape", [2], [1, -1])],
            [ValueInfo("x", 1, 2, 3)],
            [ValueInfo("flat")]);
        using var graph = Graph(model);
        using var scope = NewDisposeScope();
        Assert.Equal([3L, 6], graph.forward(zeros(3, 2, 3)).shape);
    }

    [Fact]
    public void Batch_norm_passes_gradients_when_its_scale_and_running_variance_are_one_initializer()
    {
        // PyTorch's exporter shares identical initializers: in a fresh network the scale and the running variance
        // (both ones) become one tensor, a parameter. y = x / √(1 + ε) · 1 + 0, so dy/dx = 1/√(1 + ε), dy/dscale = x/√(1 + ε).
        var model = Model(13, [Node("BatchNormalization", ["x", "ones", "zeros", "zeros", "ones"], ["y"], "bn")],
            [Tensor("ones", [2], [1, 1]), Tensor("zeros", [2], [0, 0])], [ValueInfo("x", 1, 2, 1, 1)], [ValueInfo("y")]);
        using var graph = Graph(model);
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 3, -2 }).reshape(1, 2, 1, 1).requires_grad_();
        graph.forward(x).sum().backward();
        var k = 1 / Math.Sqrt(1 + 1e-5);
        Assert.All(Values(x.grad!), g => Assert.Equal(k, g, 1e-6));
        var scale = graph.named_parameters().Single(p => p.name == "ones").parameter;
        var grad = Values(scale.grad!);
        Assert.Equal(3 * k, grad[0], 1e-5);
        Assert.Equal(-2 * k, grad[1], 1e-5);
    }

    [Fact]
    public void An_unsupported_operator_is_named_with_its_node()
    {
        var model = Model(13, [Node("Relu", ["x"], ["r"], "ok"), Node("Hardmax", ["r"], ["y"], "head/hardmax")], [], [ValueInfo("x", 1, 3)], [ValueInfo("y")]);
        var e = Assert.Throws<CnnInterpretException>(() => Graph(model));
        Assert.Equal(ErrorKind.BadModelFile, e.Kind);
        Assert.Contains("'Hardmax'", e.Message);
        Assert.Contains("head/hardmax", e.Message);
    }

    [Fact]
    public void Broken_files_fail_with_a_clear_error()
    {
        var model = Residual();
        var truncated = Assert.Throws<CnnInterpretException>(() => OnnxParser.ReadModel(model.AsMemory(..(model.Length - 20)), "cut.onnx"));
        Assert.Equal(ErrorKind.BadModelFile, truncated.Kind);
        Assert.Contains("not a valid ONNX model", truncated.Message);

        var png = File.ReadAllBytes(Path.Combine(Repo.Samples, "bag-0.png"));
        Assert.Equal(ErrorKind.BadModelFile, Assert.Throws<CnnInterpretException>(() => OnnxParser.ReadModel(png, "bag-0.png")).Kind);

        // A tensor whose data lives in an external file (data_location = EXTERNAL).
        var external = new ProtoWriter().Varint(1, 1).Varint(2, 1).String(8, "w").Varint(14, 1);
        var withExternal = Model(13, [Node("Relu", ["x"], ["y"])], [external], [ValueInfo("x", 1)], [ValueInfo("y")]);
        var e = Assert.Throws<CnnInterpretException>(() => Graph(withExternal));
        Assert.Contains("external file", e.Message);

        // Raw data that does not fit the shape.
        var wrong = new ProtoWriter().Varint(1, 1000).Varint(1, 1000).Varint(2, 1).String(8, "w").Bytes(9, new byte[12]);
        var withWrong = Model(13, [Node("Relu", ["x"], ["y"])], [wrong], [ValueInfo("x", 1)], [ValueInfo("y")]);
        Assert.Contains("needs 4000000", Assert.Throws<CnnInterpretException>(() => Graph(withWrong)).Message);
    }

    [Fact]
    public void A_user_file_imports_as_a_model_with_its_hash()
    {
        var path = Path.Combine(Repo.TempDir(), "residual.onnx");
        File.WriteAllBytes(path, Residual());
        using var model = OnnxModelFactory.Import(path);
        Assert.Equal("gray", model.Input.Channels);
        Assert.Equal([1, 2, 2], model.Input.InputShape);
        Assert.Equal(Core.Models.ModelRegistry.Sha256File(path), model.WeightsHash);
        Assert.Equal([1, 2, 2], model.GetLayer("relu_out").OutputShape);
    }

    [Fact]
    public void An_image_size_left_open_must_be_given()
    {
        var shape = new ProtoWriter();
        shape.Message(1, new ProtoWriter().String(2, "N")).Message(1, new ProtoWriter().Varint(1, 3))
            .Message(1, new ProtoWriter().String(2, "H")).Message(1, new ProtoWriter().String(2, "W"));
        var input = new ProtoWriter().String(1, "x").Message(2, new ProtoWriter().Message(1, new ProtoWriter().Varint(1, 1).Message(2, shape)));
        var path = Path.Combine(Repo.TempDir(), "open.onnx");
        File.WriteAllBytes(path, Model(13, [Node("Relu", ["x"], ["y"], "relu")], [], [input], [ValueInfo("y")]));

        var e = Assert.Throws<CnnInterpretException>(() => OnnxModelFactory.Import(path));
        Assert.Contains("give the input size", e.Message);
        using var model = OnnxModelFactory.Import(path, new Core.Models.Preprocessing("rgb", 40, [32, 48], [0, 0, 0], [1, 1, 1]));
        Assert.Equal([3, 32, 48], model.GetLayer("relu").OutputShape);
    }
}

[Collection(SerialTorch.Name)]
public sealed class OnnxGraphMemoryTests
{
    [Fact]
    public void Repeated_runs_leave_no_tensors_behind()
    {
        var model = Model(13,
            [Node("Conv", ["x", "w"], ["a"], "conv", Ints("pads", 1, 1, 0, 0)), Node("Relu", ["a"], ["b"], "relu"), Node("Add", ["b", "a"], ["y"], "add")],
            [Tensor("w", [1, 1, 2, 2], [1, 1, 1, 1])],
            [ValueInfo("x", 1, 1, 4, 4)],
            [ValueInfo("y")]);
        using var graph = new OnnxGraph(OnnxParser.ReadModel(model, "test.onnx"));
        void Once()
        {
            using var scope = NewDisposeScope();
            var captured = new Dictionary<string, Tensor>();
            graph.Run(ones(2, 1, 4, 4), new HashSet<string> { "relu" }, captured).sum().item<float>();
            graph.Run(ones(2, 1, 4, 4), new HashSet<string>(), captured, replace: ("relu", zeros(2, 1, 4, 4)));
        }
        Once();
        var before = torch.Tensor.TotalCount;
        for (var i = 0; i < 20; i++) Once();
        Assert.Equal(before, torch.Tensor.TotalCount);
    }
}
