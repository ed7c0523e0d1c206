using static TorchSharp.torch;

namespace CnnInterpret.Core.Onnx;

/// <summary>
/// ReduceMean, ReduceSum, ReduceMax, ReduceMin over the given axes (all when none), keeping them as size 1
/// unless keepdims=0. The axes are an attribute, or an input from ReduceSum-13 and the others' opset 18;
/// with noop_with_empty_axes=1 an empty axes list leaves the input as it is. The result keeps the input's type.
/// </summary>
internal static class ReduceOps
{
    public static OnnxKernel Mean(OnnxNodeContext node) =>
        Reduce(node, 18, (x, axes, keep) => x.is_floating_point() ? x.mean(axes, keep) : x.to_type(ScalarType.Float64).mean(axes, keep));

    public static OnnxKernel Sum(OnnxNodeContext node) => Reduce(node, 13, (x, axes, keep) => x.sum(axes, keep));

    public static OnnxKernel Max(OnnxNodeContext node) => Reduce(node, 18, (x, axes, keep) => x.amax(axes, keep));

    public static OnnxKernel Min(OnnxNodeContext node) => Reduce(node, 18, (x, axes, keep) => x.amin(axes, keep));

    /// <param name="axesInputFrom">The opset from which the axes are the second input instead of an attribute.</param>
    private static OnnxKernel Reduce(OnnxNodeContext node, long axesInputFrom, Func<Tensor, long[], bool, Tensor> reduce)
    {
        var keep = node.Int("keepdims", 1) != 0;
        var noopWhenEmpty = node.Int("noop_with_empty_axes", 0) != 0;
        var axesAttribute = node.Opset < axesInputFrom ? node.Ints("axes") : null;
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            var axes = node.Opset < axesInputFrom ? axesAttribute
                : OnnxNodeContext.Optional(inputs, 1) is { } t ? OnnxTensors.ToLongs(t) : null;
            if (axes is null or { Length: 0 })
            {
                if (noopWhenEmpty) return [x.alias()];
                axes = Enumerable.Range(0, (int)x.dim()).Select(i => (long)i).ToArray();
            }
            var dims = axes.Select(a => ShapeOps.Axis(node, a, x.dim())).Distinct().ToArray();
            if (dims.Length == 0) return [x.alias()]; // a scalar: nothing to reduce
            var y = reduce(x, dims, keep);
            return [y.dtype == x.dtype ? y : y.to_type(x.dtype)];
        };
    }
}
