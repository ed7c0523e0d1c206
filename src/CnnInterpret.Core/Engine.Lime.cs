using System.Diagnostics;
using CnnInterpret.Core.Caching;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;

namespace CnnInterpret.Core;

/// <summary>
/// What a LIME or SHAP request asks for; null fields take the method's defaults.
/// </summary>
/// <param name="Target">What to explain; null: the top class (SHAP: the two most probable classes).</param>
/// <param name="Samples">A count, or "auto" (stop when the top segments are stable).</param>
/// <param name="Baseline">LIME/KernelSHAP: gray | black | mean | blur; GradientSHAP: dataset | blur | black | noise.</param>
/// <param name="Score">"probability" or "logit".</param>
/// <param name="BatchSize">Forward batch size; null: from the memory budget.</param>
/// <param name="MemoryBudgetBytes">Activations one batch may hold; null: <see cref="Engine.SamplingMemoryBudget"/>.</param>
/// <param name="Layer">GradientSHAP only: attribute this layer's activation instead of the pixels.</param>
/// <param name="Paired">KernelSHAP only: antithetic (coalition + complement) sampling.</param>
public sealed record SamplingRequest(
    Target? Target = null,
    string? Samples = null,
    int? Segments = null,
    double? Compactness = null,
    int? Seed = null,
    string? Baseline = null,
    string? Score = null,
    int? BatchSize = null,
    long? MemoryBudgetBytes = null,
    string? Layer = null,
    bool Paired = true);

/// <summary>An explanation so far, rendered: sent to clients about every second.</summary>
/// <param name="Values">Per target: weights per segment (LIME, KernelSHAP) or the channel-summed map (GradientSHAP).</param>
public sealed record RenderedPartial(int Samples, int Total, double[][] Values, byte[] Png);

/// <summary>A LIME explanation with its pictures.</summary>
/// <param name="Map">The weight of each pixel's segment, [H,W].</param>
/// <param name="Png">The picture and the weight map side by side (signed scale).</param>
/// <param name="SegmentsPng">The superpixel boundaries over the picture.</param>
/// <param name="TopPng">The top positive segments, the rest dimmed (lime's view).</param>
public sealed record LimeExplanation(
    string Model,
    Target Target,
    string TargetLabel,
    Segmentation Segments,
    LimeResult Result,
    float[] Map,
    string Baseline,
    string Score,
    int BatchSize,
    byte[] Png,
    byte[] SegmentsPng,
    byte[] TopPng,
    double Seconds);

public sealed partial class Engine
{
    /// <summary>
    /// The activations one batch of perturbed images may hold: <see cref="Memory.MemoryBudget.BatchBytes"/> (an eighth of the
    /// one memory budget) unless set. Sets the batch size of LIME, KernelSHAP and GradientSHAP; peak memory does not grow with samples.
    /// </summary>
    public long SamplingMemoryBudget
    {
        get => _samplingMemoryBudget ?? Memory.MemoryBudget.BatchBytes;
        set => _samplingMemoryBudget = value;
    }

    private long? _samplingMemoryBudget;

    public LimeExplanation Lime(string? modelId, string imagePath, SamplingRequest request, IProgress<ExplainProgress>? progress = null,
        CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var setup = PrepareSampling(modelId, imagePath, request, cancellation);
        using var input = setup.Input;
        var target = Target.Resolve(request.Target, setup.Model, setup.Logits);
        var key = KeyOf(setup, "lime", [target], request);
        if (TryRecent<LimeExplanation>(key, progress, "LIME", r => (r.Result.Samples, [r.Result.Fit.Weights], r.Png), out var recent)) return recent;
        var segments = setup.Segments;
        var (context, batch) = SuperpixelContext(setup, request, Explainers.Lime.DefaultSamples, LimeExplainer.Definition, target,
            RenderPartials(progress, values => RenderSegmentMaps(input, segments, values)), cancellation);
        var result = LimeExplainer.Run(context);
        var (fill, kind) = (Superpixels.Fill(context.Options, setup.Model.Input), Superpixels.Score(context.Options));
        var map = segments.Paint(result.Fit.Weights);
        using var top = SegmentBoundaries.Render(input.Display, segments.Labels, result.TopPositive.ToHashSet());
        var png = RenderSegmentMaps(input, segments, [result.Fit.Weights]);
        ReportFinal(progress, "LIME", result.Samples, [result.Fit.Weights], png);
        var explanation = new LimeExplanation(setup.Model.Id, target, target.Describe(setup.Model), segments, result, map,
            SegmentFill.Name(fill), ScoreName(kind, [target]), batch, png, setup.SegmentsPng, ChannelGrid.ToPng(top), clock.Elapsed.TotalSeconds);
        if (!result.Cancelled) _recentSamplings.Add(key, explanation);
        return explanation;
    }

    /// <summary>The model, the image as it sees it, its logits and its superpixels: what every sampling explainer starts from.</summary>
    private sealed record SamplingSetup(CnnModel Model, ModelInput Input, float[] Logits, Segmentation Segments, byte[] SegmentsPng, string ImageHash);

    /// <summary>What identifies a sampling explanation: the model's weights, the image's bytes, the method, the resolved targets and the request.</summary>
    private sealed record SampledKey(string Model, string Weights, string Image, string Method, string Targets, SamplingRequest Request);

    /// <summary>
    /// The last few LIME and SHAP explanations. The panel scores the map it has just shown (explain/metrics after
    /// explain/lime, same options): sampling is seeded, so the same request gives the same numbers, and on VGG16 the
    /// second LIME would cost minutes for nothing. Cancelled results are not kept.
    /// </summary>
    private readonly RecentResults<SampledKey, object> _recentSamplings = new(8);

    private static SampledKey KeyOf(SamplingSetup setup, string method, IEnumerable<Target> targets, SamplingRequest request) =>
        new(setup.Model.Id, setup.Model.WeightsHash, setup.ImageHash, method, string.Join(",", targets), request with { Target = null, Seed = request.Seed ?? 0 });

    /// <summary>A result from <see cref="_recentSamplings"/>, with the progress a fresh one would have ended with.</summary>
    private bool TryRecent<T>(SampledKey key, IProgress<ExplainProgress>? progress, string method, Func<T, (int Samples, double[][] Values, byte[] Png)> final, out T result)
    {
        if (_recentSamplings.TryGet(key, out var cached) && cached is T hit)
        {
            var (samples, values, png) = final(hit);
            progress?.Report(new ExplainProgress(0, samples, $"{method}: the same request as before, from memory"));
            ReportFinal(progress, method, samples, values, png);
            result = hit;
            return true;
        }
        result = default!;
        return false;
    }

    private SamplingSetup PrepareSampling(string? modelId, string imagePath, SamplingRequest request, CancellationToken cancellation)
    {
        var model = GetModel(modelId);
        var activations = Activations(model, imagePath, cancellation);
        var logits = activations.Logits;
        if (request.Seed is < 0) throw new CnnInterpretException(ErrorKind.InvalidArgument, $"seed must be 0 or more; got {request.Seed}.");
        var slic = new SlicOptions(request.Segments, request.Compactness);
        Slic.Validate(slic, model.Input.Height, model.Input.Width); // before decoding: a bad count fails fast
        using var decoded = ImageLoader.Decode(ImageLoader.ReadFile(imagePath, ImageLimits), imagePath, ImageLimits, model.Input.Background);
        var input = ImagePreprocessor.Prepare(decoded.Pixels, model.Input);
        try
        {
            var segments = Slic.Segment(input.Display, slic);
            using var boundaries = SegmentBoundaries.Render(input.Display, segments.Labels);
            return new SamplingSetup(model, input, logits, segments, ChannelGrid.ToPng(boundaries), activations.ImageHash);
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    /// <summary>
    /// What the LIME and SHAP views' requests become for the registry's superpixel methods (<see cref="LimeExplainer"/>,
    /// <see cref="KernelShapExplainer"/>): their fields as the method's options (checked first with the views' own
    /// messages), the superpixels already made, and batches sized from the memory budget unless the request sets them.
    /// </summary>
    private (ExplainContext Context, int Batch) SuperpixelContext(SamplingSetup setup, SamplingRequest request, int defaultSamples, ExplainerInfo info,
        Target target, IProgress<ExplainProgress>? progress, CancellationToken cancellation)
    {
        var model = setup.Model;
        var samples = SampleCount.Parse(request.Samples, defaultSamples);
        var baseline = request.Baseline is null ? null : SegmentFill.Name(SegmentFill.Parse(request.Baseline, model.Input));
        var score = request.Score is null ? null : ParseScore(request.Score, ScoreKind.Probability) == ScoreKind.Logit ? "logit" : "probability";
        var texts = Superpixels.OptionTexts(samples, new SlicOptions(request.Segments, request.Compactness), baseline, score, request.Seed);
        if (info.Options.Any(o => o.Name == "paired")) texts["paired"] = request.Paired ? "true" : "false";
        var batch = BatchSize(model, request, gradients: false);
        var context = new ExplainContext(model, setup.Input.Data, target, null, ExplainerOptions.Parse(info, texts), progress, cancellation: cancellation)
        {
            Segments = setup.Segments,
            BatchSize = batch,
        };
        return (context, batch);
    }

    /// <summary>A method's partial answers (<see cref="AttributionPartial"/>) drawn for a view, as <see cref="RenderedPartial"/>.</summary>
    private static RenderingProgress? RenderPartials(IProgress<ExplainProgress>? progress, Func<double[][], byte[]> render) =>
        progress is null ? null : new RenderingProgress(progress, render);

    private sealed class RenderingProgress(IProgress<ExplainProgress> outer, Func<double[][], byte[]> render) : IProgress<ExplainProgress>
    {
        public void Report(ExplainProgress value) => outer.Report(value.Partial is AttributionPartial p
            ? value with { Partial = new RenderedPartial(p.Samples, p.Total, p.Values, render(p.Values)) }
            : value);
    }

    private int BatchSize(CnnModel model, SamplingRequest request, bool gradients)
    {
        if (request.BatchSize is { } size)
            return size is >= 1 and <= 4096 ? size
                : throw new CnnInterpretException(ErrorKind.InvalidArgument, $"batchSize must be between 1 and 4096; got {size}. Leave it out to size batches from the memory budget.");
        return PerturbationScorer.BatchSizeFor(model, request.MemoryBudgetBytes ?? SamplingMemoryBudget, gradients);
    }

    private static ScoreKind ParseScore(string? text, ScoreKind fallback) => text?.ToLowerInvariant() switch
    {
        null or "" => fallback,
        "probability" => ScoreKind.Probability,
        "logit" => ScoreKind.Logit,
        _ => throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Unknown score '{text}'; use \"probability\" (softmax) or \"logit\"."),
    };

    /// <summary>What result.json calls the score: probability, logit, or activation (a channel target).</summary>
    private static string ScoreName(ScoreKind kind, IReadOnlyList<Target> targets) =>
        targets.All(t => t is Target.Channel) ? "activation" : kind == ScoreKind.Probability ? "probability" : "logit";

    /// <summary>The last report: the final numbers and picture, done = total (it ends a client's progress).</summary>
    private static void ReportFinal(IProgress<ExplainProgress>? progress, string method, int samples, double[][] values, byte[] png) =>
        progress?.Report(new ExplainProgress(samples, samples, $"{method}: done, {samples} samples", new RenderedPartial(samples, samples, values, png)));

    /// <summary>The picture and one map per target of per-segment values, on one signed scale.</summary>
    private static byte[] RenderSegmentMaps(ModelInput input, Segmentation segments, IReadOnlyList<double[]> values)
    {
        var maps = values.Select(v => segments.Paint(v)).ToList();
        using var image = AttributionMap.Render(input.Display, maps, segments.Height, segments.Width, labels: segments.Labels);
        return ChannelGrid.ToPng(image);
    }
}
