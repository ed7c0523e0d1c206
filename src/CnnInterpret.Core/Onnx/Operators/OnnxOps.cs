using static TorchSharp.torch;

namespace CnnInterpret.Core.Onnx;

/// <summary>A node's computation: its inputs (null where the node leaves an optional one out) → its outputs.</summary>
public delegate Tensor[] OnnxKernel(Tensor?[] inputs, OnnxRunContext context);

/// <summary>
/// What a kernel may need to know about the run: the batch size the graph declares (often 1) and the one it
/// is run with, so that a Reshape to a fixed <c>[1, ...]</c> keeps a larger batch.
/// </summary>
public sealed record OnnxRunContext(long? DeclaredBatch, long? Batch)
{
    public static readonly OnnxRunContext None = new(null, null);
}

/// <summary>
/// The operators this importer runs, one factory per operator type. A factory reads and checks the node's
/// attributes once, when the graph is loaded, and returns the kernel that runs it; anything it cannot
/// honour is refused then, with the node named, rather than computed wrongly.
/// </summary>
public static class OnnxOps
{
    private static readonly Dictionary<string, Func<OnnxNodeContext, OnnxKernel>> Factories = new()
    {
        ["Conv"] = ConvOps.Conv,
        ["MaxPool"] = PoolOps.MaxPool,
        ["AveragePool"] = PoolOps.AveragePool,
        ["GlobalAveragePool"] = PoolOps.GlobalAveragePool,
        ["GlobalMaxPool"] = PoolOps.GlobalMaxPool,
        ["BatchNormalization"] = NormalizationOps.BatchNormalization,
        ["LayerNormalization"] = NormalizationOps.LayerNormalization,
        ["ReduceMean"] = ReduceOps.Mean,
        ["ReduceSum"] = ReduceOps.Sum,
        ["ReduceMax"] = ReduceOps.Max,
        ["ReduceMin"] = ReduceOps.Min,
        ["Relu"] = ElementwiseOps.Relu,
        ["LeakyRelu"] = ElementwiseOps.LeakyRelu,
        ["Sigmoid"] = ElementwiseOps.Sigmoid,
        ["Clip"] = ElementwiseOps.Clip,
        ["HardSigmoid"] = ElementwiseOps.HardSigmoid,
        ["HardSwish"] = ElementwiseOps.HardSwish,
        ["Sqrt"] = c => ElementwiseOps.Unary(c, x => x.sqrt()),
        ["Exp"] = c => ElementwiseOps.Unary(c, x => x.exp()),
        ["Erf"] = c => ElementwiseOps.Unary(c, x => x.erf()),
        ["Tanh"] = c => ElementwiseOps.Unary(c, x => x.tanh()),
        ["Neg"] = c => ElementwiseOps.Unary(c, x => x.neg()),
        ["Abs"] = c => ElementwiseOps.Unary(c, x => x.abs()),
        ["Reciprocal"] = c => ElementwiseOps.Unary(c, x => x.reciprocal()),
        ["Add"] = c => ElementwiseOps.Binary(c, (a, b) => a + b),
        ["Sub"] = c => ElementwiseOps.Binary(c, (a, b) => a - b),
        ["Mul"] = c => ElementwiseOps.Binary(c, (a, b) => a * b),
        ["Div"] = c => ElementwiseOps.Binary(c, ElementwiseOps.Divide),
        ["Pow"] = c => ElementwiseOps.Binary(c, ElementwiseOps.Power),
        ["Gemm"] = LinearOps.Gemm,
        ["MatMul"] = LinearOps.MatMul,
        ["Softmax"] = LinearOps.Softmax,
        ["Concat"] = ShapeOps.Concat,
        ["Split"] = ShapeOps.Split,
        ["Flatten"] = ShapeOps.Flatten,
        ["Reshape"] = ShapeOps.Reshape,
        ["Squeeze"] = ShapeOps.Squeeze,
        ["Unsqueeze"] = ShapeOps.Unsqueeze,
        ["Transpose"] = ShapeOps.Transpose,
        ["Slice"] = ShapeOps.Slice,
        ["Shape"] = ShapeOps.Shape,
        ["Gather"] = ShapeOps.Gather,
        ["Cast"] = ShapeOps.Cast,
        ["Identity"] = MiscOps.Identity,
        ["Dropout"] = MiscOps.Dropout,
        ["Pad"] = MiscOps.Pad,
        ["Constant"] = MiscOps.Constant,
        ["ConstantOfShape"] = MiscOps.ConstantOfShape,
    };

    /// <summary>The operator types of the default ONNX domain that can be imported.</summary>
    public static IReadOnlyCollection<string> Supported => Factories.Keys;

    public static OnnxKernel Create(OnnxNodeProto node, long opset)
    {
        if (node.Domain is not ("" or "ai.onnx"))
            throw Refused(node, $"operator '{node.OpType}' of domain '{node.Domain}', which is not supported (only the standard ONNX operators are)");
        if (!Factories.TryGetValue(node.OpType, out var factory))
            throw Refused(node, $"operator '{node.OpType}', which is not supported");
        return factory(new OnnxNodeContext(node, opset));
    }

    /// <summary>An operator this importer lacks: nothing is loaded, and the error says how to export the model without it.</summary>
    private static CnnInterpretException Refused(OnnxNodeProto node, string what) =>
        new(ErrorKind.BadModelFile,
            $"{node.Describe()} uses {what}, so the model was not loaded. " +
            $"Re-export the model without '{node.OpType}': replace the layer that makes it with one built from supported operators, " +
            "or export at another opset (torch.onnx.export's opset_version; 13 to 17 are tested with torchvision's CNNs), " +
            $"which may express it with others. Supported operators: {string.Join(", ", Factories.Keys.Order(StringComparer.Ordinal))}.",
            new { op = node.OpType, node = node.Name });
}

/// <summary>A node being compiled: its attributes, its operator set, and errors that name it.</summary>
public sealed class OnnxNodeContext(OnnxNodeProto node, long opset)
{
    public OnnxNodeProto Node { get; } = node;
    public long Opset { get; } = opset;

    public bool Has(string name) => Node.Attributes.ContainsKey(name);

    public long Int(string name, long fallback) => Node.Attributes.TryGetValue(name, out var a) ? a.Int : fallback;

    public float Float(string name, float fallback) => Node.Attributes.TryGetValue(name, out var a) ? a.Float : fallback;

    public string String(string name, string fallback) => Node.Attributes.TryGetValue(name, out var a) ? a.String : fallback;

    public long[]? Ints(string name) => Node.Attributes.TryGetValue(name, out var a) ? a.Ints.ToArray() : null;

    public float[]? Floats(string name) => Node.Attributes.TryGetValue(name, out var a) ? a.Floats.ToArray() : null;

    public OnnxTensorProto? TensorAttribute(string name) => Node.Attributes.TryGetValue(name, out var a) ? a.Tensor : null;

    /// <summary>Whether the node asks for output <paramref name="index"/> (listed and not empty).</summary>
    public bool UsesOutput(int index) => index < Node.Outputs.Count && Node.Outputs[index].Length > 0;

    public CnnInterpretException Unsupported(string what) =>
        new(ErrorKind.BadModelFile, $"{Node.Describe()}: {what} is not supported.", new { op = Node.OpType, node = Node.Name });

    public CnnInterpretException Invalid(string what) =>
        new(ErrorKind.BadModelFile, $"{Node.Describe()} is not valid: {what}.", new { op = Node.OpType, node = Node.Name });

    /// <summary>Input <paramref name="index"/>, which the operator requires.</summary>
    public Tensor Required(Tensor?[] inputs, int index) =>
        index < inputs.Length && inputs[index] is { } t ? t : throw Invalid($"input {index} is missing");

    public static Tensor? Optional(Tensor?[] inputs, int index) => index < inputs.Length ? inputs[index] : null;
}

/// <summary>Padding as ONNX states it ([begin per axis..., end per axis...]) and as torch wants it.</summary>
internal static class Padding
{
    /// <summary>
    /// The pads of a windowed op (Conv, pools) over <paramref name="spatial"/> input sizes: explicit, or
    /// computed for auto_pad SAME_UPPER/SAME_LOWER (output = ceil(input / stride)) and VALID.
    /// </summary>
    public static long[] Resolve(OnnxNodeContext node, string autoPad, long[]? pads, long[] spatial, long[] kernel, long[] strides, long[] dilations)
    {
        var n = spatial.Length;
        switch (autoPad)
        {
            case "" or "NOTSET":
                if (pads is null) return new long[2 * n];
                return pads.Length == 2 * n ? pads : throw node.Invalid($"pads has {pads.Length} values for {n} spatial axes");
            case "VALID":
                return new long[2 * n];
            case "SAME_UPPER" or "SAME_LOWER":
                var result = new long[2 * n];
                for (var i = 0; i < n; i++)
                {
                    var output = (spatial[i] + strides[i] - 1) / strides[i];
                    var total = Math.Max(0, (output - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - spatial[i]);
                    var small = total / 2;
                    (result[i], result[n + i]) = autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small);
                }
                return result;
            default:
                throw node.Invalid($"auto_pad '{autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        }
    }

    public static bool IsSymmetric(long[] pads)
    {
        var n = pads.Length / 2;
        for (var i = 0; i < n; i++) if (pads[i] != pads[n + i]) return false;
        return true;
    }

    /// <summary>ONNX pads for the last axes → torch.nn.functional.pad's order (last axis first: begin, end).</summary>
    public static long[] ToTorch(long[] pads)
    {
        var n = pads.Length / 2;
        var result = new long[2 * n];
        for (var i = 0; i < n; i++)
        {
            result[2 * i] = pads[n - 1 - i];
            result[2 * i + 1] = pads[2 * n - 1 - i];
        }
        return result;
    }

    public static long[] Ones(int n) => Enumerable.Repeat(1L, n).ToArray();
}
