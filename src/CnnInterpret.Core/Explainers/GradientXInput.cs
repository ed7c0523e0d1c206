namespace CnnInterpret.Core.Explainers;

/// <summary>
/// Gradient × input: Shrikumar, Greenside, Shcherbina and Kundaje, "Not Just a Black Box: Learning Important Features
/// Through Propagating Activation Differences", 2016 (arXiv:1605.01713); Captum's <c>InputXGradient</c>. The
/// attribution of each input value is x · ∂y/∂x, signed, with x the normalised pixel the model sees (so "zero" is
/// the dataset's mean colour, not black). For a linear model it is exactly integrated gradients from a zero baseline.
/// </summary>
public sealed class GradientXInput : IExplainer
{
    public ExplainerInfo Info { get; } = InputGradients.Info("gradient-x-input", "Gradient × input", signed: true, sampling: false,
        "Shrikumar et al., Not Just a Black Box, 2016 (arXiv:1605.01713); as Captum's InputXGradient");

    public Attribution Explain(ExplainContext context)
    {
        context.Cancellation.ThrowIfCancellationRequested();
        var (gradient, _) = InputGradients.Of(context);
        var x = context.Input;
        return InputGradients.Pixel(context, gradient.Select((g, i) => g * x[i]).ToArray());
    }
}
