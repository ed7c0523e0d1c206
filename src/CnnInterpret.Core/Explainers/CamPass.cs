using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// The one forward and backward behind every gradient CAM: the registry's CAMs (<see cref="BaseCam.Explain"/>), the
/// Grad-CAM view (<c>Engine.GradCam</c>) and the layer sweep (<see cref="LayerSweep"/>). The network runs to the first
/// of the layers without gradients (or starts from that layer's output when the caller has it cached), then on from
/// there with gradients, capturing the later layers and what the target needs; one backward gives the target score's
/// gradient at every layer. Nothing before the first layer keeps a graph. A connection around the first layer (a
/// residual block's inside) makes the rest run from the input with that layer's output replaced.
/// </summary>
public static class CamPass
{
    /// <param name="Target">The target, resolved (none asked: the top class, or the top channel of a model without classes).</param>
    /// <param name="Score">The target's score on the image.</param>
    /// <param name="Activations">Each layer's output [1,K,h,w], detached, in the order the layers were given.</param>
    /// <param name="Gradients">d score / d activation, the same shapes; zeros at a layer the score does not depend on
    /// (one after a channel target's layer).</param>
    public sealed record Result(Target Target, float Score, Tensor[] Activations, Tensor[] Gradients);

    /// <summary>
    /// Runs the pass in the caller's dispose scope (the returned tensors live there, as does the graph).
    /// </summary>
    /// <param name="layers">Spatial layers of <paramref name="model"/>, in any order.</param>
    /// <param name="input">The input batch [1,C,H,W]; asked for only when needed (no <paramref name="firstOutput"/>, or a
    /// connection around the first layer).</param>
    /// <param name="firstOutput">The first layer's output for this input, when the caller already has it (the activations cache).</param>
    /// <param name="logits">The image's logits when the caller knows them (the activations cache): the target is resolved
    /// from them, else from this pass's.</param>
    public static Result Run(CnnModel model, IReadOnlyList<LayerInfo> layers, Target? target, Func<Tensor> input,
        Tensor? firstOutput = null, float[]? logits = null)
    {
        if (layers.Count == 0) throw new ArgumentException("A CAM pass needs at least one layer.", nameof(layers));
        var order = model.Layers.Select(l => l.Name).ToList();
        var forward = layers.OrderBy(l => order.IndexOf(l.Name)).ToList();
        var first = forward[0];
        // The target's layer: a channel's own, or for no target on a model without classes the last layer (Target.Top
        // picks a channel of it). A score computed before the first layer does not depend on any of the layers.
        var targetLayer = target switch
        {
            Target.Channel ch => model.GetLayer(ch.Layer).Name,
            null when model.Classes.Count == 0 && model.Layers.Count > 0 => model.Layers[^1].Name,
            _ => null,
        };
        if (targetLayer is not null && order.IndexOf(targetLayer) < order.IndexOf(first.Name))
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"The target channel's layer '{targetLayer}' comes before '{first.Name}', so its score does not depend on that layer. Pick a target at '{first.Name}' or a later layer.");

        Tensor start;
        if (firstOutput is not null) start = firstOutput;
        else using (no_grad()) start = model.ForwardTo(input(), first.Name);
        // The first layer's output becomes a leaf: only what comes after it runs with gradients.
        var leaf = start.detach().requires_grad_(true);
        var captures = forward.Skip(1).Select(l => l.Name).ToHashSet();
        if (targetLayer is not null && targetLayer != first.Name) captures.Add(targetLayer);
        var (outputLogits, captured) = model.TryForwardFrom(first.Name, leaf, captures) ?? model.ForwardFrom(first.Name, leaf, captures, input());
        captured[first.Name] = leaf;

        var resolved = Target.Resolve(target, model, logits ?? outputLogits.detach()[0].contiguous().data<float>().ToArray());
        var score = resolved.Score(outputLogits, captured);
        var outputs = layers.Select(l => captured[l.Name]).ToArray();
        // allow_unused: layers after a channel target's layer do not influence it.
        var gradients = autograd.grad([score.sum()], outputs, allow_unused: true);
        return new Result(resolved, score.item<float>(), outputs.Select(o => o.detach()).ToArray(),
            gradients.Select((g, i) => g is { IsInvalid: false } ? g : zeros_like(outputs[i])).ToArray());
    }
}
