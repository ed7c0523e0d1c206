namespace CnnInterpret.Core.Explainers;

/// <summary>
/// LIME over superpixels as a registry method (<c>explain --method lime</c>, <c>explain/attribution {method: "lime"}</c>):
/// <see cref="Lime"/>'s surrogate, its weights painted over their segments. The LIME view (<c>explain/lime</c>) runs
/// <see cref="Run"/> too, for the fit and the top segments it shows.
/// </summary>
public sealed class LimeExplainer : IExplainer
{
    /// <summary>What the registry lists; the views read their options from it too.</summary>
    public static ExplainerInfo Definition { get; } = new("lime", "LIME", "superpixels", MapKind.Superpixel, Signed: true, Sampling: true,
        "Ribeiro, Singh and Guestrin, \"'Why Should I Trust You?'\", KDD 2016 (lime's LimeImageExplainer)",
        Superpixels.Options(Lime.DefaultSamples)) { View = "lime" };

    public ExplainerInfo Info => Definition;

    public Attribution Explain(ExplainContext context)
    {
        var result = Run(context);
        return Superpixels.Answer(context, result.Fit.Weights, new Dictionary<string, double>
        {
            ["samples"] = result.Samples, ["r2"] = result.Fit.R2, ["intercept"] = result.Fit.Intercept,
            ["localPrediction"] = result.Fit.LocalPrediction, ["fx"] = result.Score, ["stability"] = result.Stability,
        }, result.Cancelled);
    }

    /// <summary>LIME of the context's target over <see cref="ExplainContext.Segments"/>; a cancelled run keeps the samples scored so far.</summary>
    public static LimeResult Run(ExplainContext context) =>
        Lime.Explain(Superpixels.Scorer(context, [context.Target]), new LimeOptions(Superpixels.Samples(context.Options), context.Options.Int("seed")),
            Superpixels.Progress(context, "LIME"), context.Cancellation);
}
