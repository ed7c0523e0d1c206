using CnnInterpret.Core.Models;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// What LIME and KernelSHAP share as registry methods (<see cref="MapKind.Superpixel"/>): their options, the scorer
/// of images with segments hidden, the progress they report and their answer (each segment's value painted over its
/// pixels). The algorithms themselves stay in <see cref="Lime"/> and <see cref="KernelShap"/>; the LIME and SHAP
/// views (<c>explain/lime</c>, <c>explain/shap</c>) run them through the same explainers.
/// </summary>
public static class Superpixels
{
    /// <summary>
    /// The options of a superpixel method. Defaults that depend on the model are named: <c>segments</c> 0 is about
    /// 2·∛(H·W) and <c>baseline</c> "auto" is black for models drawn on black, else gray (what the views use when left out).
    /// </summary>
    public static ExplainerOption[] Options(int defaultSamples) =>
    [
        new("samples", OptionType.Integer, defaultSamples, "Images with segments hidden, one forward pass each; with auto, the most.",
            Minimum: SampleCount.Min, Maximum: SampleCount.Max),
        new("auto", OptionType.Boolean, false, $"Stop early once the top segments are stable (checked every {Sampling.AutoStep} samples)."),
        new("segments", OptionType.Integer, 0, "SLIC superpixels; 0: about 2·∛(height·width), 74 at 224×224.", Minimum: 0, Maximum: Slic.MaxSegments),
        new("compactness", OptionType.Number, Slic.DefaultCompactness, "SLIC's weight of space against colour: higher gives squarer segments.",
            Minimum: 0, Maximum: 1000),
        new("baseline", OptionType.Choice, AutoFill, "What a hidden segment shows: auto is black for models drawn on black, else gray.",
            Choices: [AutoFill, .. SegmentFill.Names]),
        new("score", OptionType.Choice, "probability", "What is explained of a class: its softmax probability or its logit (a channel: its mean activation).",
            Choices: ["probability", "logit"]),
        new("seed", OptionType.Integer, 0, "Seed of the random masks: the same seed gives the same answer.", Minimum: 0, Maximum: int.MaxValue),
    ];

    private const string AutoFill = "auto";

    /// <summary>The superpixels the options ask for (segments 0: the default for the image's size).</summary>
    public static SlicOptions SegmentsOf(ExplainerOptions options) =>
        new(options.Int("segments") is > 0 and var n ? n : null, options.Number("compactness"));

    public static SampleCount Samples(ExplainerOptions options) => new(options.Int("samples"), options.Flag("auto"));

    public static ScoreKind Score(ExplainerOptions options) => options.Choice("score") == "logit" ? ScoreKind.Logit : ScoreKind.Probability;

    public static FillKind Fill(ExplainerOptions options, Preprocessing spec) =>
        SegmentFill.Parse(options.Choice("baseline") is AutoFill ? null : options.Choice("baseline"), spec);

    /// <summary>The options the views' requests (<c>explain/lime</c>, <c>explain/shap</c>) name, as registry option text; absent ones take the defaults.</summary>
    public static Dictionary<string, string?> OptionTexts(SampleCount samples, SlicOptions slic, string? baseline, string? score, int? seed)
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        return new()
        {
            ["samples"] = samples.Count.ToString(culture),
            ["auto"] = samples.Auto ? "true" : "false",
            ["segments"] = slic.Segments?.ToString(culture),
            ["compactness"] = slic.Compactness?.ToString("R", culture),
            ["baseline"] = string.IsNullOrEmpty(baseline) ? null : baseline,
            ["score"] = string.IsNullOrEmpty(score) ? null : score,
            ["seed"] = seed?.ToString(culture),
        };
    }

    /// <summary>What scores the context's image with segments hidden, for each of <paramref name="targets"/>, in batches of <see cref="ExplainContext.BatchSize"/>.</summary>
    public static PerturbationScorer Scorer(ExplainContext context, IReadOnlyList<Target> targets)
    {
        var segments = context.RequireSegments();
        var spec = context.Model.Input;
        var fill = SegmentFill.Build(Fill(context.Options, spec), context.Input, spec, segments);
        return PerturbationScorer.ForModel(context.Model, context.Input, fill, segments, targets, Score(context.Options), context.BatchSize);
    }

    /// <summary>Each partial answer (about every second) as progress, the partial carried along for views that draw it.</summary>
    public static Action<AttributionPartial> Progress(ExplainContext context, string method) =>
        p => context.Progress?.Report(new ExplainProgress(p.Samples, p.Total, $"{method}: {p.Samples} of {p.Total} samples", p));

    /// <summary>A registry answer: the segments' values painted over their pixels.</summary>
    public static Attribution Answer(ExplainContext context, double[] values, Dictionary<string, double> figures, bool cancelled)
    {
        // A view keeps a cancelled run's answer (it is marked); a registry request that is cancelled has no answer.
        if (cancelled) throw new OperationCanceledException(context.Cancellation);
        return new Attribution(context.RequireSegments().Paint(values)) { SegmentValues = values, Figures = figures };
    }
}
