using CnnInterpret.Core.Models;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// Guided backpropagation: Springenberg, Dosovitskiy, Brox and Riedmiller, "Striving for Simplicity: The All
/// Convolutional Net", ICLR workshop 2015 (arXiv:1412.6806); Captum's <c>GuidedBackprop</c>. The gradient of the
/// target's score with respect to the input, except that every ReLU passes back only positive gradients at
/// positive inputs: relu(g · 1[x &gt; 0]). The ReLUs are switched for this request only (<see cref="GuidedRelu"/>:
/// other requests on the same model, before, during and after, get plain gradients). Like Captum, only ReLUs are
/// changed (not LeakyRelu, Clip or other activations); a model that runs none is refused, since the answer would
/// be the plain gradient. Deviation: none.
/// </summary>
public sealed class GuidedBackprop : IExplainer
{
    public ExplainerInfo Info { get; } = InputGradients.Info("guided-backprop", "Guided backprop", signed: true, sampling: false,
        "Springenberg et al., Striving for Simplicity: The All Convolutional Net, 2015 (arXiv:1412.6806); as Captum's GuidedBackprop");

    public Attribution Explain(ExplainContext context) => InputGradients.Pixel(context, Gradient(context));

    /// <summary>The guided gradient at the context's input, [C·H·W].</summary>
    public static float[] Gradient(ExplainContext context)
    {
        context.Cancellation.ThrowIfCancellationRequested();
        float[] gradient;
        int guidedRelus;
        using (var guided = GuidedRelu.Guide())
        {
            gradient = InputGradients.Of(context).Gradient;
            guidedRelus = guided.Applied;
        }
        if (guidedRelus == 0)
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"Guided backprop changes how ReLU activations pass gradients back, and model '{context.Model.Id}' runs no ReLU, " +
                "so it would give the plain gradient. Use saliency or gradient-x-input.");
        return gradient;
    }
}
