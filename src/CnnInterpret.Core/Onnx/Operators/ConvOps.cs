using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CnnInterpret.Core.Onnx;

/// <summary>Conv over 1, 2 or 3 spatial axes: groups, dilations, strides, explicit, asymmetric or automatic pads.</summary>
internal static class ConvOps
{
    public static OnnxKernel Conv(OnnxNodeContext node)
    {
        var autoPad = node.String("auto_pad", "NOTSET");
        var group = node.Int("group", 1);
        var kernelShape = node.Ints("kernel_shape");
        var padsAttribute = node.Ints("pads");
        var stridesAttribute = node.Ints("strides");
        var dilationsAttribute = node.Ints("dilations");
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            var w = node.Required(inputs, 1);
            var b = OnnxNodeContext.Optional(inputs, 2);
            var n = (int)w.dim() - 2;
            if (n is < 1 or > 3) throw node.Unsupported($"a convolution over {n} spatial axes");
            if (x.dim() != n + 2) throw node.Invalid($"the input has {x.dim()} axes but the weights are for {n} spatial axes");
            var kernel = w.shape[2..];
            if (kernelShape is not null && !kernelShape.SequenceEqual(kernel)) throw node.Invalid("kernel_shape does not match the weights");
            var strides = Check(node, "strides", stridesAttribute, n);
            var dilations = Check(node, "dilations", dilationsAttribute, n);
            var pads = Padding.Resolve(node, autoPad, padsAttribute, x.shape[2..], kernel, strides, dilations);
            if (!Padding.IsSymmetric(pads))
            {
                // torch pads both sides alike; uneven pads (e.g. [3,3,2,2]) are applied explicitly first.
                x = F.pad(x, Padding.ToTorch(pads));
                pads = new long[2 * n];
            }
            var padding = pads[..n];
            return n switch
            {
                // 1-D as 2-D over a height of one.
                1 => [F.conv2d(x.unsqueeze(2), w.unsqueeze(2), b, [1, strides[0]], [0, padding[0]], [1, dilations[0]], group).squeeze(2)],
                2 => [F.conv2d(x, w, b, strides, padding, dilations, group)],
                _ => [F.conv3d(x, w, b, strides, padding, dilations, group)],
            };
        };
    }

    /// <summary>A per-axis attribute (strides, dilations): ones when absent, else one value per spatial axis.</summary>
    internal static long[] Check(OnnxNodeContext node, string name, long[]? values, int n) =>
        values is null ? Padding.Ones(n)
        : values.Length == n ? values
        : throw node.Invalid($"{name} has {values.Length} values for {n} spatial axes");
}
