using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CnnInterpret.Core.Onnx;

/// <summary>
/// MaxPool, AveragePool (1–3 spatial axes; asymmetric pads, ceil_mode, count_include_pad) and the global pools.
/// Pads torch cannot take (uneven, or more than half the kernel) are applied explicitly: −∞ for max,
/// zeros for average, which then divides by the count of real elements unless count_include_pad.
/// </summary>
internal static class PoolOps
{
    public static OnnxKernel MaxPool(OnnxNodeContext node)
    {
        if (node.UsesOutput(1)) throw node.Unsupported("MaxPool's Indices output");
        var w = Window.Read(node);
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            var (pads, dilations) = w.Pads(x);
            var dtype = x.dtype;
            if (!x.is_floating_point()) x = x.to_type(ScalarType.Float64); // exact for the integer types ONNX pools
            if (!Padding.IsSymmetric(pads) || Enumerable.Range(0, w.N).Any(i => 2 * pads[i] > w.Kernel[i]))
            {
                x = F.pad(x, Padding.ToTorch(pads), PaddingModes.Constant, double.NegativeInfinity);
                pads = new long[2 * w.N];
            }
            var padding = pads[..w.N];
            var y = w.N switch
            {
                1 => F.max_pool2d(x.unsqueeze(2), [1, w.Kernel[0]], [1, w.Strides[0]], [0, padding[0]], [1, dilations[0]], w.CeilMode).squeeze(2),
                2 => F.max_pool2d(x, w.Kernel, w.Strides, padding, dilations, w.CeilMode),
                _ => F.max_pool3d(x, w.Kernel, w.Strides, padding, dilations, w.CeilMode),
            };
            return [y.dtype == dtype ? y : y.to_type(dtype)];
        };
    }

    public static OnnxKernel AveragePool(OnnxNodeContext node)
    {
        var w = Window.Read(node);
        if (node.Ints("dilations") is { } d && d.Any(v => v != 1)) throw node.Unsupported("AveragePool with dilations");
        var countIncludePad = node.Int("count_include_pad", 0) != 0;
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            var (pads, _) = w.Pads(x);
            if (Padding.IsSymmetric(pads) && Enumerable.Range(0, w.N).All(i => 2 * pads[i] <= w.Kernel[i]))
                return [Average(x, w, pads[..w.N], countIncludePad)];
            var none = new long[w.N];
            var sum = Average(F.pad(x, Padding.ToTorch(pads)), w, none, countIncludePad: true);
            if (countIncludePad) return [sum];
            // Averages of the padded input divided by averages of a padded mask of ones: the window sizes
            // cancel, leaving sum / count of real elements.
            using var ones = torch.ones([1, 1, .. x.shape[2..]], x.dtype, x.device);
            using var mask = F.pad(ones, Padding.ToTorch(pads));
            using var count = Average(mask, w, none, countIncludePad: true);
            return [sum / count];
        };
    }

    public static OnnxKernel GlobalAveragePool(OnnxNodeContext node) => (inputs, _) =>
    {
        var x = node.Required(inputs, 0);
        return [x.mean(Enumerable.Range(2, (int)x.dim() - 2).Select(i => (long)i).ToArray(), keepdim: true)];
    };

    public static OnnxKernel GlobalMaxPool(OnnxNodeContext node) => (inputs, _) =>
    {
        var x = node.Required(inputs, 0);
        return [x.amax(Enumerable.Range(2, (int)x.dim() - 2).Select(i => (long)i).ToArray(), keepdim: true)];
    };

    private static Tensor Average(Tensor x, Window w, long[] padding, bool countIncludePad) => w.N switch
    {
        1 => F.avg_pool2d(x.unsqueeze(2), [1, w.Kernel[0]], [1, w.Strides[0]], [0, padding[0]], w.CeilMode, countIncludePad).squeeze(2),
        2 => F.avg_pool2d(x, w.Kernel, w.Strides, padding, w.CeilMode, countIncludePad),
        _ => F.avg_pool3d(x, w.Kernel, w.Strides, padding, w.CeilMode, countIncludePad),
    };

    /// <summary>A pooling window as the node's attributes describe it.</summary>
    private sealed record Window(OnnxNodeContext Node, long[] Kernel, long[] Strides, long[] Dilations, string AutoPad, long[]? PadsAttribute, bool CeilMode)
    {
        public int N => Kernel.Length;

        public static Window Read(OnnxNodeContext node)
        {
            var kernel = node.Ints("kernel_shape") ?? throw node.Invalid("kernel_shape is missing");
            if (kernel.Length is < 1 or > 3) throw node.Unsupported($"pooling over {kernel.Length} spatial axes");
            return new Window(node, kernel,
                ConvOps.Check(node, "strides", node.Ints("strides"), kernel.Length),
                ConvOps.Check(node, "dilations", node.Ints("dilations"), kernel.Length),
                node.String("auto_pad", "NOTSET"), node.Ints("pads"), node.Int("ceil_mode", 0) != 0);
        }

        public (long[] Pads, long[] Dilations) Pads(Tensor x)
        {
            if (x.dim() != N + 2) throw Node.Invalid($"the input has {x.dim()} axes but the kernel has {N}");
            return (Padding.Resolve(Node, AutoPad, PadsAttribute, x.shape[2..], Kernel, Strides, Dilations), Dilations);
        }
    }
}
