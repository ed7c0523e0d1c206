using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CnnInterpret.Core.Onnx;

/// <summary>BatchNormalization in inference mode: (x − mean) / √(var + ε) · scale + B, per channel (axis 1).</summary>
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
            return [F.batch_norm(x, node.Required(inputs, 3), node.Required(inputs, 4), node.Required(inputs, 1), node.Required(inputs, 2),
                training: false, eps: epsilon)];
        };
    }
}
