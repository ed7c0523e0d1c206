using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CnnInterpret.Core.Onnx;

/// <summary>
/// BatchNormalization in inference mode: (x − mean) / √(var + ε) · scale + B, per channel (axis 1); and
/// LayerNormalization (opset 17): (x − mean) / √(var + ε) · scale + B over the axes from <c>axis</c> on.
/// </summary>
internal static class NormalizationOps
{
    public static OnnxKernel BatchNormalization(OnnxNodeContext node)
    {
        if (node.Int("training_mode", 0) != 0) throw node.Unsupported("BatchNormalization in training mode (training_mode=1)");
        if (node.Opset < 9 && node.Int("spatial", 1) == 0) throw node.Unsupported("BatchNormalization with spatial=0");
        if (Enumerable.Range(1, 4).Any(node.UsesOutput)) throw node.Unsupported("BatchNormalization's running mean/variance outputs (training)");
        var epsilon = node.Float("epsilon", 1e-5f);
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            if (x.dim() < 2) throw node.Invalid("the input needs a channel axis");
            // The running statistics are constants here, detached: libtorch has no gradient for them, and
            // PyTorch's exporter shares identical initializers between nodes, so a fresh network's running
            // variance (all ones) can be the very tensor that is another node's scale, a parameter.
            using var mean = node.Required(inputs, 3).detach();
            using var variance = node.Required(inputs, 4).detach();
            return [F.batch_norm(x, mean, variance, node.Required(inputs, 1), node.Required(inputs, 2), training: false, eps: epsilon)];
        };
    }

    public static OnnxKernel LayerNormalization(OnnxNodeContext node)
    {
        var axis = node.Int("axis", -1);
        var epsilon = node.Float("epsilon", 1e-5f);
        var stash = (OnnxDataType)node.Int("stash_type", 1);
        var stashType = stash switch { OnnxDataType.Float => ScalarType.Float32, OnnxDataType.Double => ScalarType.Float64, _ => throw node.Unsupported($"stash_type {stash}") };
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            var a = axis < 0 ? axis + x.dim() : axis;
            if (a < 0 || a >= x.dim()) throw node.Invalid($"axis {axis} is out of range for {x.dim()} axes");
            var axes = Enumerable.Range((int)a, (int)(x.dim() - a)).Select(i => (long)i).ToArray();
            var xs = x.dtype == stashType ? x : x.to_type(stashType);
            var mean = xs.mean(axes, keepdim: true);
            var centred = xs - mean;
            var inverseStd = (centred.square().mean(axes, keepdim: true) + epsilon).rsqrt();
            var y = (centred * inverseStd).to_type(x.dtype) * node.Required(inputs, 1);
            if (OnnxNodeContext.Optional(inputs, 2) is { } b) y = y + b;
            return [y, mean, inverseStd];
        };
    }
}
