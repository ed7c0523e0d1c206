namespace CnnInterpret.Core.Explainers;

/// <summary>
/// GradientSHAP (expected gradients) of the input pixels as a registry method (<c>explain/attribution {method:
/// "gradient-shap"}</c>): <see cref="GradientShap"/>'s attributions [C,H,W], summed over the colour channels for the
/// map. The SHAP view (<c>explain/shap</c>, method "gradient") runs the same algorithm, with two targets, at a layer
/// if asked, and a stability score over superpixels.
/// </summary>
public sealed class GradientShapExplainer : IExplainer
{
    private const string AutoBaseline = "auto";

    /// <summary>What the registry lists.</summary>
    public static ExplainerInfo Definition { get; } = new("gradient-shap", "GradientSHAP", "gradients", MapKind.Pixel, Signed: true, Sampling: true,
        "Erion et al., \"Improving performance of deep learning models with axiomatic attribution priors and expected gradients\", Nature Machine Intelligence 2021",
        [
            new ExplainerOption("samples", OptionType.Integer, GradientShap.DefaultSamples, "Gradients taken between a baseline and the image, each at a random point.",
                Minimum: SampleCount.Min, Maximum: SampleCount.Max),
            new ExplainerOption("baseline", OptionType.Choice, AutoBaseline,
                "What the image is compared with: auto is the model's background set where it has one (dataset), else a blur of the image.",
                Choices: [AutoBaseline, .. ShapBaselines.Names]),
            new ExplainerOption("score", OptionType.Choice, "logit", "What is explained of a class: its logit or its softmax probability (a channel: its mean activation).",
                Choices: ["logit", "probability"]),
            new ExplainerOption("seed", OptionType.Integer, 0, "Seed of the baselines' order and the points: the same seed gives the same answer.", Minimum: 0, Maximum: int.MaxValue),
        ]) { View = "shap" };

    public ExplainerInfo Info => Definition;

    public Attribution Explain(ExplainContext context)
    {
        var (model, options) = (context.Model, context.Options);
        var directory = context.ModelsDirectory ?? throw new InvalidOperationException("GradientSHAP was run without the models folder (its background sets).");
        var seed = options.Int("seed");
        var baseline = options.Choice("baseline") is AutoBaseline ? ShapBaselines.Default(directory, model.Id) : options.Choice("baseline");
        var baselines = ShapBaselines.Build(baseline, model, context.Input, directory, seed);
        var score = options.Choice("score") == "probability" ? ScoreKind.Probability : ScoreKind.Logit;
        var result = GradientShap.Explain(model, context.Input, baselines, [context.Target],
            new GradientShapOptions(SampleCount.Of(options.Int("samples")), seed, null, score, context.BatchSize),
            p => context.Report(p.Samples, p.Total, $"GradientSHAP: {p.Samples} of {p.Total} samples"), context.Cancellation);
        if (result.Cancelled) throw new OperationCanceledException(context.Cancellation);
        var sum = result.Values[0].Sum(v => (double)v);
        return new Attribution(result.Maps[0], Attributions: result.Values[0])
        {
            Figures = new Dictionary<string, double>
            {
                ["samples"] = result.Samples, ["fx"] = result.Fx[0], ["fbaseline"] = result.FBaseline[0], ["sum"] = sum,
                ["efficiencyGap"] = result.EfficiencyGap[0],
            },
            Note = options.Choice("baseline") is AutoBaseline ? $"The baseline is {baseline} (auto: the model's background set where it has one, else a blur of the image)." : null,
        };
    }
}
