using static TorchSharp.torch;

namespace CnnInterpret.Core.Onnx;

/// <summary>Gemm (α·A'·B' + β·C), MatMul (numpy semantics) and Softmax (both its pre-13 and 13+ meanings).</summary>
internal static class LinearOps
{
    public static OnnxKernel Gemm(OnnxNodeContext node)
    {
        var alpha = node.Float("alpha", 1f);
        var beta = node.Float("beta", 1f);
        var transA = node.Int("transA", 0) != 0;
        var transB = node.Int("transB", 0) != 0;
        return (inputs, _) =>
        {
            var a = node.Required(inputs, 0);
            var b = node.Required(inputs, 1);
            if (a.dim() != 2 || b.dim() != 2) throw node.Invalid("Gemm takes two matrices");
            var y = SafeMatMul(node, transA ? a.t() : a, transB ? b.t() : b);
            if (alpha != 1f) y = y * alpha;
            if (OnnxNodeContext.Optional(inputs, 2) is { } c) y = y + (beta != 1f ? c * beta : c);
            return [y];
        };
    }

    public static OnnxKernel MatMul(OnnxNodeContext node) => (inputs, _) => [SafeMatMul(node, node.Required(inputs, 0), node.Required(inputs, 1))];

    /// <summary>
    /// matmul with its shapes checked first: TorchSharp 0.107 does not catch libtorch's error in THSTensor_matmul,
    /// so a model whose shapes do not fit would abort the whole process instead of failing this request.
    /// </summary>
    private static Tensor SafeMatMul(OnnxNodeContext node, Tensor a, Tensor b)
    {
        long[] sa = a.shape, sb = b.shape;
        if (sa.Length == 0 || sb.Length == 0) throw node.Invalid("MatMul does not take scalars");
        var inner = sb.Length == 1 ? sb[0] : sb[^2];
        if (sa[^1] != inner)
            throw node.Invalid($"its inputs cannot be multiplied: [{string.Join(", ", sa)}] × [{string.Join(", ", sb)}]");
        var batchA = sa.Length > 2 ? sa[..^2] : [];
        var batchB = sb.Length > 2 ? sb[..^2] : [];
        for (int i = 1; i <= Math.Min(batchA.Length, batchB.Length); i++)
        {
            long x = batchA[^i], y = batchB[^i];
            if (x != y && x != 1 && y != 1)
                throw node.Invalid($"its inputs' batch dimensions do not broadcast: [{string.Join(", ", sa)}] × [{string.Join(", ", sb)}]");
        }
        return a.matmul(b);
    }

    public static OnnxKernel Softmax(OnnxNodeContext node)
    {
        var modern = node.Opset >= 13;
        var axis = node.Int("axis", modern ? -1 : 1);
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            var rank = x.dim();
            var a = axis < 0 ? axis + rank : axis;
            if (a < 0 || a >= Math.Max(rank, 1)) throw node.Invalid($"axis {axis} is out of range for {rank} axes");
            if (modern) return [x.softmax(a)];
            // Before opset 13: the input is seen as a matrix [prod(dims before axis), prod(dims from axis)].
            var outer = x.shape[..(int)a].Aggregate(1L, (p, d) => p * d);
            return [x.reshape(outer, -1).softmax(1).reshape(x.shape)];
        };
    }
}
