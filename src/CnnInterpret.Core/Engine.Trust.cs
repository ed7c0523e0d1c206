using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;

namespace CnnInterpret.Core;

/// <summary>What to explain for the trust views: a method and the options it needs.</summary>
/// <param name="Method">"grad-cam", "grad-cam++", "lime", "kernel-shap" or "gradient-shap".</param>
/// <param name="Layer">Grad-CAM's layer; default the last conv layer.</param>
/// <param name="Samples">LIME/KernelSHAP/GradientSHAP samples (default: each method's own).</param>
/// <param name="Options">A registry method's options (as <see cref="AttributionRequest.Options"/>).</param>
public sealed record TrustRequest(string Method, string? Layer = null, Target? Target = null, string? Samples = null, int? Segments = null, int Seed = 0,
    IReadOnlyDictionary<string, string?>? Options = null);

/// <param name="Road">The map's ROAD curves (<see cref="Explainers.Road"/>): removal by noisy linear imputation, most and least relevant first.</param>
public sealed record MetricsResult(string Method, Target Target, string TargetLabel, string Score, FaithfulnessCurves Map, FaithfulnessCurves Random,
    float[] Heatmap, byte[] PlotPng, RoadCurves? Road = null);

public sealed record SanityExplanation(string Method, Target Target, string TargetLabel, SanityResult Result, byte[] StripPng);

public sealed record LayerSweepResult(Target Target, string TargetLabel, float Score, IReadOnlyList<LayerMap> Maps, byte[] StripPng);

public sealed partial class Engine
{
    /// <summary>Every method whose map metrics and the sanity check can score: the registry's (LIME, KernelSHAP and GradientSHAP among them).</summary>
    public static IReadOnlyList<string> TrustMethods => [.. ExplainerRegistry.Default.Names];

    /// <summary>A method scored from its view's answer (LIME, KernelSHAP, GradientSHAP), which reports its own progress.</summary>
    private bool ScoredFromView(string method) => Methods.Find(method)?.Info.View is not null;

    /// <summary>
    /// Deletion and insertion curves of <paramref name="request"/>'s map, and of random maps as the reference a
    /// faithful map must beat (<see cref="Faithfulness"/>); and its ROAD curves (<see cref="Road"/>).
    /// </summary>
    public MetricsResult Metrics(string? modelId, string imagePath, TrustRequest request, int steps = Faithfulness.DefaultSteps,
        IProgress<ExplainProgress>? progress = null, CancellationToken cancellation = default)
    {
        var model = GetModel(modelId);
        var target = Target.Resolve(request.Target, model, Activations(model, imagePath, cancellation).Logits);
        // A sampling method's own progress fills the first quarter: its counts, or that the view's result is reused.
        if (!ScoredFromView(request.Method)) progress?.Report(new ExplainProgress(0, 4, $"computing the {request.Method} map"));
        var map = ExplanationMap(model.Id, imagePath, request, target, progress is null ? null : new FirstQuarter(progress), cancellation);
        Memory.ProcessMemory.GiveBack();
        return ScoreMap(model, imagePath, request.Method, map, target, null, steps, request.Seed, progress, cancellation);
    }

    /// <summary>
    /// The deletion, insertion and ROAD curves of a map already computed (a report scores the maps it drew), for its
    /// resolved <paramref name="target"/>. <paramref name="random"/>: the random reference of an earlier result for the
    /// same image, target, steps and seed (it does not depend on the map), or null to compute it.
    /// </summary>
    public MetricsResult ScoreMap(CnnModel model, string imagePath, string method, float[] map, Target target, FaithfulnessCurves? random = null,
        int steps = Faithfulness.DefaultSteps, int seed = 0, IProgress<ExplainProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (map.Length != model.Input.Height * model.Input.Width)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"A {method} map of {map.Length} values cannot be scored: faithfulness needs one value per input pixel ({model.Input.Height}×{model.Input.Width}).");
        if (random is not null && random.Fractions.Length != steps + 1)
            throw new ArgumentException($"The random reference has {random.Fractions.Length - 1} steps, not {steps}.", nameof(random));
        using var input = PrepareInput(model, imagePath);
        var spec = model.Input;
        var black = new float[input.Data.Length];
        ImagePreprocessor.NormaliseInPlace(black, spec); // a removed pixel is black, as in RISE
        var blurred = GaussianBlur.Apply(input.Data, spec.ChannelCount, spec.Height, spec.Width, GaussianBlur.DefaultSigma(spec.Height, spec.Width));
        progress?.Report(new ExplainProgress(1, 4, "deletion and insertion curves"));
        // Batches sized by the memory budget (forward passes without gradients), not a fixed 16: on VGG16 that peaked at +2.2 GB.
        var batch = PerturbationScorer.BatchSizeFor(model, Memory.MemoryBudget.BatchBytes);
        var curves = Faithfulness.Curves(model, input.Data, black, blurred, target, Faithfulness.Order(map), steps, batchSize: batch, cancellation: cancellation);
        Memory.ProcessMemory.GiveBack(); // each part's working memory goes back before the next, as between requests
        progress?.Report(new ExplainProgress(2, 4, "random reference"));
        random ??= Faithfulness.RandomReference(model, input.Data, black, blurred, target, steps, seed, batchSize: batch, cancellation: cancellation);
        Memory.ProcessMemory.GiveBack();
        progress?.Report(new ExplainProgress(3, 4, "ROAD curves (noisy linear imputation)"));
        var road = Road.Curves(model, input.Data, spec.InputShape, target, map, seed, batchSize: batch, cancellation: cancellation);
        progress?.Report(new ExplainProgress(4, 4, "done"));
        return new MetricsResult(method, target, target.Describe(model), target is Target.Class ? "probability" : "activation",
            curves, random, map, CurvePlot.Render(curves, random), road);
    }

    /// <summary>
    /// The model-parameter randomisation test (<see cref="SanityCheck"/>), on the loaded model itself: its weights are
    /// randomised in place and restored before this returns, so the caller must keep every other request off the model
    /// meanwhile (the daemon runs it alone). The randomised stages' activations are not cached (<see cref="CnnModel.IsModified"/>);
    /// a model whose weights could not be restored is unloaded, to load again from its file.
    /// </summary>
    public SanityExplanation Sanity(string? modelId, string imagePath, TrustRequest request, int? maxStages = null,
        IProgress<ExplainProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (maxStages < 1)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"stages must be at least 1 (layers to randomise, from the top), not {maxStages}. Leave it out to randomise every layer.");
        var model = GetModel(modelId);
        var target = Target.Resolve(request.Target, model, Activations(model, imagePath, cancellation).Logits);
        var hash = model.WeightsHash;
        SanityResult result;
        try
        {
            // Every stage explains the original's target: a randomised model's top classes are not the image's.
            // Each stage's working memory goes back before the next: on VGG16 the managed copies of a forward's activations
            // (60 MB a stage) otherwise piled up until a full collection, +100 MB a stage.
            result = SanityCheck.Run(model, m =>
            {
                var map = ExplanationMap(m.Id, imagePath, request with { Target = target }, target, null, cancellation);
                Memory.ProcessMemory.GiveBack();
                return map;
            }, request.Seed, maxStages, progress, cancellation);
        }
        finally
        {
            if (model.WeightsHash != hash) Models.Unload(model.Id, "its weights could not be restored after the sanity check");
        }
        using var display = PrepareInput(model, imagePath);
        var strip = MapStrip.Render(display.Display, result.Stages.Select(s =>
            (s.Map, s.Randomized is null ? "original" : model.GetLayer(s.Randomized).DisplayName, (string?)MapStrip.Correlation(s.RankCorrelation))).ToList());
        return new SanityExplanation(request.Method, target, target.Describe(model), result, strip);
    }

    /// <summary>Grad-CAM (or Grad-CAM++) at every conv layer from one forward and one backward (<see cref="LayerSweep"/>).</summary>
    public LayerSweepResult LayerSweep(string? modelId, string imagePath, Target? target = null, string? method = null, CancellationToken cancellation = default)
    {
        var model = GetModel(modelId);
        using var input = PrepareInput(model, imagePath);
        var (resolved, score, maps) = Explainers.LayerSweep.Run(model, input.Data, target, BaseCam.Create(method), cancellation: cancellation);
        var strip = MapStrip.Render(input.Display, maps.Select(m => (m.Heatmap, m.Layer.DisplayName.Replace("_relu", ""))).ToList());
        return new LayerSweepResult(resolved, resolved.Describe(model), score, maps, strip);
    }

    /// <summary>
    /// The [H,W] map a method gives for <paramref name="target"/> (the request's target, resolved). A registry method
    /// with a view of its own (LIME, KernelSHAP, GradientSHAP) runs through that view, asked as the view asked, so that scoring the
    /// map a view shows finds that view's result among the recent ones (the same explainer computes it either way): a
    /// SHAP view with no target explains the two top classes, and its map of the top one is the map scored.
    /// </summary>
    private float[] ExplanationMap(string modelId, string imagePath, TrustRequest request, Target target, IProgress<ExplainProgress>? progress,
        CancellationToken cancellation)
    {
        var sampling = new SamplingRequest(request.Target, request.Samples, request.Segments, Seed: request.Seed);
        var info = Methods.Find(request.Method)?.Info
                   ?? throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Unknown method '{request.Method}'. Use one of: {string.Join(", ", TrustMethods)}.");
        return (info.View, info.Kind) switch
        {
            ("lime", _) => Lime(modelId, imagePath, sampling, progress, cancellation).Map,
            ("shap", MapKind.Superpixel) => ShapMap(KernelShap(modelId, imagePath, sampling, progress, cancellation), target),
            ("shap", _) => ShapMap(GradientShap(modelId, imagePath, sampling with { Layer = request.Layer }, progress, cancellation), target),
            _ => Attribute(modelId, imagePath, new AttributionRequest(info.Name, request.Layer, target, request.Options), cancellation: cancellation, render: false).Attribution.Map,
        };
    }

    /// <summary><paramref name="target"/>'s map of a SHAP explanation at the input's resolution (GradientSHAP at a layer: upsampled bilinearly, as its picture draws it).</summary>
    private float[] ShapMap(ShapExplanation explanation, Target target)
    {
        var map = explanation.Targets.First(t => t.Target.Equals(target)).Map;
        var input = GetModel(explanation.Model).Input;
        return explanation.MapHeight == input.Height && explanation.MapWidth == input.Width ? map
            : AttributionMap.Upsample(map, explanation.MapHeight, explanation.MapWidth, input.Height, input.Width);
    }

    /// <summary>A map's progress (its partial pictures left out) as the first quarter of a metrics request's.</summary>
    private sealed class FirstQuarter(IProgress<ExplainProgress> outer) : IProgress<ExplainProgress>
    {
        public void Report(ExplainProgress p) => outer.Report(new ExplainProgress(Math.Min(p.Done, p.Total), 4 * Math.Max(p.Total, 1), p.Message));
    }

    /// <summary>The last conv layer: where Grad-CAM is usually taken (the most class-specific spatial map).</summary>
    public static string DefaultCamLayer(CnnModel model) =>
        (Explainers.LayerSweep.ConvLayers(model) is [.., var lastConv] ? lastConv.Name : null)
        ?? model.Layers.LastOrDefault(l => l.IsSpatial)?.Name
        ?? throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Model '{model.Id}' has no layer with a spatial output.");
}
