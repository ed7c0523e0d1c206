using CnnInterpret.Core.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CnnInterpret.Core.Onnx;

/// <summary>
/// Add/Sub/Mul/Div/Pow with numpy broadcasting, the pointwise activations Relu, LeakyRelu, Sigmoid, HardSigmoid,
/// HardSwish, Clip, and the pointwise functions Sqrt, Exp, Erf, Tanh, Neg, Abs, Reciprocal.
/// </summary>
internal static class ElementwiseOps
{
    public static OnnxKernel Binary(OnnxNodeContext node, Func<Tensor, Tensor, Tensor> op)
    {
        // Before opset 7, broadcasting was opt-in (broadcast=1) and B's axes lined up from `axis` on.
        var legacyAxis = node.Opset < 7 && node.Int("broadcast", 0) != 0 && node.Has("axis") ? node.Int("axis", 0) : (long?)null;
        return (inputs, _) =>
        {
            var a = node.Required(inputs, 0);
            var b = node.Required(inputs, 1);
            if (legacyAxis is { } axis && b.dim() > 0)
            {
                var start = axis < 0 ? axis + a.dim() : axis;
                var shape = Enumerable.Repeat(1L, (int)(a.dim() - start)).ToArray();
                for (var i = 0; i < b.dim(); i++) shape[i] = b.shape[i];
                b = b.reshape(shape);
            }
            return [op(a, b)];
        };
    }

    /// <summary>ONNX divides integers with truncation; torch's "/" would give floats.</summary>
    public static Tensor Divide(Tensor a, Tensor b) =>
        a.is_floating_point() ? a / b : a.div(b, RoundingMode.trunc);

    /// <summary>Through <see cref="GuidedRelu"/>, so guided backpropagation reaches an imported network's ReLUs.</summary>
    public static OnnxKernel Relu(OnnxNodeContext node) => (inputs, _) => [GuidedRelu.Relu(node.Required(inputs, 0))];

    public static OnnxKernel Sigmoid(OnnxNodeContext node) => (inputs, _) => [node.Required(inputs, 0).sigmoid()];

    public static OnnxKernel LeakyRelu(OnnxNodeContext node)
    {
        var alpha = node.Float("alpha", 0.01f);
        return (inputs, _) => [F.leaky_relu(node.Required(inputs, 0), alpha)];
    }

    public static OnnxKernel Clip(OnnxNodeContext node)
    {
        if (node.Opset < 11)
        {
            // Bounds were attributes; absent ones are ±float.MaxValue.
            var min = node.Float("min", float.MinValue);
            var max = node.Float("max", float.MaxValue);
            return (inputs, _) => [node.Required(inputs, 0).clamp(min, max)];
        }
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            Tensor? min = OnnxNodeContext.Optional(inputs, 1), max = OnnxNodeContext.Optional(inputs, 2);
            if (min is null && max is null) return [x.alias()];
            return [x.clamp(min, max)];
        };
    }

    /// <summary>max(0, min(1, α·x + β)); PyTorch exports hardsigmoid with α = 1/6.</summary>
    public static OnnxKernel HardSigmoid(OnnxNodeContext node)
    {
        var alpha = node.Float("alpha", 0.2f);
        var beta = node.Float("beta", 0.5f);
        return (inputs, _) => [(node.Required(inputs, 0) * alpha + beta).clamp(0, 1)];
    }

    /// <summary>x · max(0, min(1, x/6 + 1/2)) (opset 14; PyTorch exports hardswish with it from opset 14).</summary>
    public static OnnxKernel HardSwish(OnnxNodeContext node) => (inputs, _) =>
    {
        var x = node.Required(inputs, 0);
        return [x * (x / 6 + 0.5).clamp(0, 1)];
    };

    /// <summary>A function of one tensor (Sqrt, Exp, Erf, ...).</summary>
    public static OnnxKernel Unary(OnnxNodeContext node, Func<Tensor, Tensor> op) => (inputs, _) => [op(node.Required(inputs, 0))];

    /// <summary>X^Y with numpy broadcasting; the result has X's type, whatever Y's (ONNX allows mixing them).</summary>
    public static Tensor Power(Tensor x, Tensor y)
    {
        if (x.is_floating_point()) return x.pow(y.dtype == x.dtype ? y : y.to_type(x.dtype));
        using var z = x.to_type(ScalarType.Float64).pow(y.to_type(ScalarType.Float64));
        return z.to_type(x.dtype);
    }
}
