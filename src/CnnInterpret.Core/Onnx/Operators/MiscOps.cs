using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CnnInterpret.Core.Onnx;

/// <summary>Identity, Dropout (inference: identity), Pad (constant, reflect, edge), Constant, ConstantOfShape.</summary>
internal static class MiscOps
{
    public static OnnxKernel Identity(OnnxNodeContext node) => (inputs, _) => [node.Required(inputs, 0).alias()];

    public static OnnxKernel Dropout(OnnxNodeContext node)
    {
        if (node.Opset < 7 && node.Int("is_test", 0) == 0) throw node.Unsupported("Dropout in training mode (is_test=0)");
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            if (node.Opset >= 12 && OnnxNodeContext.Optional(inputs, 2) is { } training && OnnxTensors.ToDouble(training) != 0)
                throw node.Unsupported("Dropout in training mode (training_mode=true)");
            if (!node.UsesOutput(1)) return [x.alias()];
            // The mask of kept elements: all of them at inference (bool from opset 10, x's type before).
            return [x.alias(), torch.ones_like(x, node.Opset >= 10 ? ScalarType.Bool : x.dtype)];
        };
    }

    public static OnnxKernel Pad(OnnxNodeContext node)
    {
        var mode = node.String("mode", "constant");
        var padding = mode switch
        {
            "constant" => PaddingModes.Constant,
            "reflect" => PaddingModes.Reflect,
            "edge" => PaddingModes.Replicate,
            _ => throw node.Unsupported($"Pad mode '{mode}'"),
        };
        var padsAttribute = node.Opset < 11 ? node.Ints(node.Opset < 2 ? "paddings" : "pads") ?? throw node.Invalid("pads is missing") : null;
        var valueAttribute = node.Float("value", 0f);
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            var pads = padsAttribute ?? OnnxTensors.ToLongs(node.Required(inputs, 1));
            var value = padsAttribute is not null ? valueAttribute
                : OnnxNodeContext.Optional(inputs, 2) is { } v ? OnnxTensors.ToDouble(v) : 0.0;
            var rank = (int)x.dim();
            if (pads.Length != 2 * rank) throw node.Invalid($"pads has {pads.Length} values for {rank} axes");
            // torch pads the last k axes; leave out the leading axes that are not padded.
            var first = Enumerable.Range(0, rank).FirstOrDefault(i => pads[i] != 0 || pads[rank + i] != 0, rank);
            if (first == rank) return [x.alias()];
            var k = rank - first;
            var trailing = pads[first..rank].Concat(pads[(rank + first)..]).ToArray();
            if (padding == PaddingModes.Constant) return [F.pad(x, Padding.ToTorch(trailing), padding, value)];
            if (k > 3) throw node.Unsupported($"Pad mode '{mode}' over {k} axes");
            if (trailing.Any(p => p < 0)) throw node.Unsupported($"Pad mode '{mode}' with negative pads");
            // reflect/replicate want a batch and a channel axis in front of the padded ones.
            var y = x;
            while (y.dim() < k + 2) y = y.unsqueeze(0);
            y = F.pad(y, Padding.ToTorch(trailing), padding);
            return [y.reshape(y.shape[^rank..])];
        };
    }

    public static OnnxKernel Constant(OnnxNodeContext node)
    {
        var what = $"{node.Node.Describe()}'s value";
        Tensor Make()
        {
            if (node.TensorAttribute("value") is { } t) return OnnxTensors.ToTorch(t, what);
            if (node.Has("value_float")) return torch.tensor(node.Float("value_float", 0));
            if (node.Floats("value_floats") is { } fs) return torch.tensor(fs);
            if (node.Has("value_int")) return torch.tensor(node.Int("value_int", 0));
            if (node.Ints("value_ints") is { } ls) return torch.tensor(ls);
            throw node.Unsupported(node.Has("sparse_value") ? "a sparse Constant" : node.Has("value_string") || node.Has("value_strings") ? "a string Constant" : "a Constant without a value");
        }
        var value = Make().DetachFromDisposeScope();
        return (_, _) => [value];
    }

    public static OnnxKernel ConstantOfShape(OnnxNodeContext node)
    {
        var proto = node.TensorAttribute("value");
        var (type, fill) = proto is null ? (ScalarType.Float32, 0.0) : ReadFill(node, proto);
        return (inputs, _) =>
        {
            var shape = OnnxTensors.ToLongs(node.Required(inputs, 0));
            return [torch.full(shape, fill, type)];
        };
    }

    private static (ScalarType, double) ReadFill(OnnxNodeContext node, OnnxTensorProto proto)
    {
        using var scope = NewDisposeScope();
        var t = OnnxTensors.ToTorch(proto, $"{node.Node.Describe()}'s value");
        if (t.numel() != 1) throw node.Invalid("value must hold one element");
        return (t.dtype, OnnxTensors.ToDouble(t));
    }
}
