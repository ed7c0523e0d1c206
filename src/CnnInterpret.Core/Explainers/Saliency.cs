namespace CnnInterpret.Core.Explainers;

/// <summary>
/// Saliency: Simonyan, Vedaldi and Zisserman, "Deep Inside Convolutional Networks: Visualising Image Classification
/// Models and Saliency Maps", ICLR workshop 2014 (arXiv:1312.6034). The attribution of each input value is
/// |∂y/∂x| for the target's score y (the class logit before the softmax, as in the paper, or a channel's mean
/// activation), as Captum's <c>Saliency</c> with its default <c>abs=True</c>. Deviation: the paper takes the largest
/// |gradient| over the colour channels for its map; like Captum's attributions we keep every channel and the map
/// is their sum.
/// </summary>
public sealed class Saliency : IExplainer
{
    public ExplainerInfo Info { get; } = InputGradients.Info("saliency", "Saliency", signed: false, sampling: false,
        "Simonyan et al., Deep Inside Convolutional Networks, 2014 (arXiv:1312.6034); as Captum's Saliency (abs=True)");

    public Attribution Explain(ExplainContext context)
    {
        context.Cancellation.ThrowIfCancellationRequested();
        var (gradient, _) = InputGradients.Of(context);
        return InputGradients.Pixel(context, gradient.Select(Math.Abs).ToArray());
    }
}
