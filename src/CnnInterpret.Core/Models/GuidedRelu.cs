using static TorchSharp.torch;

namespace CnnInterpret.Core.Models;

/// <summary>
/// The network's ReLUs, with a backward pass that guided backpropagation (Springenberg et al. 2015) can change for
/// one request. Every ReLU our graphs run goes through <see cref="Relu"/>: the ReLU modules of a
/// <see cref="LayerSequence"/>, the ReLUs inside ResNet blocks and the ONNX importer's <c>Relu</c>. Outside a
/// <see cref="Guide"/> scope it is plain <c>relu</c>; inside one, the ReLUs run in the forward pass of the calling
/// flow become a custom autograd node whose backward passes only positive gradients at positive inputs,
/// relu(g · 1[x &gt; 0]), as Captum's <c>GuidedBackprop</c> makes each <c>nn.ReLU</c>'s.
/// <para>
/// Why a scoped switch rather than hooks: Captum registers backward hooks on the model's ReLU modules for the
/// duration of a call and removes them in <c>finally</c>. Our models are shared by requests running in parallel
/// (the daemon serves read-only requests on a snapshot), so a hook on a module would change the gradients of
/// every other request on that model while it is registered, and ReLUs called as functions (ResNet blocks, ONNX
/// nodes) have no module to hook. TorchSharp 0.107 has custom autograd functions
/// (<c>autograd.SingleTensorFunction</c>), which suit the guided rule (it is not linear in the incoming gradient,
/// so no detach trick can express it); it has no tensor gradient hooks. The switch lives in an
/// <see cref="AsyncLocal{T}"/> that <see cref="Guide"/> sets and its <see cref="Scope.Dispose"/> restores, so it
/// reaches only the forward passes of this request, and nothing is left behind by a normal run, a refused target or
/// an exception. The guided rule is part of the graph that forward built, so the backward needs no switch.
/// </para>
/// </summary>
public static class GuidedRelu
{
    private static readonly AsyncLocal<Scope?> Current = new();

    /// <summary>relu(<paramref name="x"/>); guided in its backward when a <see cref="Guide"/> scope is open on this flow.</summary>
    public static Tensor Relu(Tensor x)
    {
        if (Current.Value is not { } scope) return nn.functional.relu(x);
        scope.Applied++;
        return GuidedReluFunction.apply(x);
    }

    /// <summary>True while a <see cref="Guide"/> scope is open on this flow (graph runners ask before replacing a ReLU module).</summary>
    public static bool Active => Current.Value is not null;

    /// <summary>Makes the ReLUs of the forward passes run on this flow guided until the scope is disposed.</summary>
    public static Scope Guide()
    {
        var scope = new Scope(Current.Value);
        Current.Value = scope;
        return scope;
    }

    /// <summary>An open guided scope; <see cref="Applied"/> counts the ReLUs it made guided.</summary>
    public sealed class Scope : IDisposable
    {
        private readonly Scope? _outer;
        private bool _disposed;

        internal Scope(Scope? outer) => _outer = outer;

        /// <summary>How many ReLU calls ran guided in this scope (0: the model has no ReLU that we run).</summary>
        public int Applied { get; internal set; }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Current.Value = _outer;
        }
    }

    /// <summary>Forward: relu(x). Backward: the incoming gradient where both it and the output are positive, else 0.</summary>
    private sealed class GuidedReluFunction : autograd.SingleTensorFunction<GuidedReluFunction>
    {
        public override string Name => "GuidedRelu";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var output = nn.functional.relu((Tensor)vars[0]);
            ctx.save_for_backward([output]);
            return output;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            // PyTorch's ReLU backward masks with the output (threshold_backward(g, relu(x), 0)); Captum's hook then applies relu.
            var output = ctx.get_saved_variables()[0];
            return [gradOutput.clamp_min(0).mul(output.gt(0))];
        }
    }
}
