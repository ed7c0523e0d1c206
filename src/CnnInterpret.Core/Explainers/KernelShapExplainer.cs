namespace CnnInterpret.Core.Explainers;

/// <summary>
/// KernelSHAP over superpixels as a registry method (<c>explain --method kernel-shap</c>,
/// <c>explain/attribution {method: "kernel-shap"}</c>): <see cref="KernelShap"/>'s Shapley values painted over their
/// segments. The SHAP view (<c>explain/shap</c>) runs <see cref="Run"/> too, for two targets from one set of samples.
/// </summary>
public sealed class KernelShapExplainer : IExplainer
{
    /// <summary>What the registry lists; the views read their options from it too.</summary>
    public static ExplainerInfo Definition { get; } = new("kernel-shap", "KernelSHAP", "superpixels", MapKind.Superpixel, Signed: true, Sampling: true,
        "Lundberg and Lee, \"A Unified Approach to Interpreting Model Predictions\", NeurIPS 2017 (paired: Covert and Lee, AISTATS 2021)",
        [.. Superpixels.Options(KernelShap.DefaultSamples),
         new ExplainerOption("paired", OptionType.Boolean, true, "Draw each coalition with its complement (antithetic sampling: less variance).")]) { View = "shap" };

    public ExplainerInfo Info => Definition;

    public Attribution Explain(ExplainContext context)
    {
        var result = Run(context, [context.Target]);
        var values = result.Values[0];
        return Superpixels.Answer(context, values, new Dictionary<string, double>
        {
            ["samples"] = result.Samples, ["fx"] = result.Fx[0], ["fbaseline"] = result.FBaseline[0], ["sum"] = values.Sum(),
            ["exact"] = result.Exact ? 1 : 0, ["stability"] = result.Stability,
        }, result.Cancelled);
    }

    /// <summary>
    /// KernelSHAP of each of <paramref name="targets"/> over <see cref="ExplainContext.Segments"/>, all from the same
    /// samples; a cancelled run keeps the samples scored so far.
    /// </summary>
    public static KernelShapResult Run(ExplainContext context, IReadOnlyList<Target> targets) =>
        KernelShap.Explain(Superpixels.Scorer(context, targets),
            new KernelShapOptions(Superpixels.Samples(context.Options), context.Options.Int("seed"), context.Options.Flag("paired")),
            Superpixels.Progress(context, "KernelSHAP"), context.Cancellation);
}
