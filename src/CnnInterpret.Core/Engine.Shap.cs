using System.Diagnostics;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;

namespace CnnInterpret.Core;

/// <summary>One target's SHAP values.</summary>
/// <param name="SegmentValues">KernelSHAP: the value of each segment, [S]; null for GradientSHAP.</param>
/// <param name="Values">KernelSHAP: <see cref="SegmentValues"/> painted on the pixels, [H,W]; GradientSHAP: the attributions, shaped as the input or the layer ([C,H,W]).</param>
/// <param name="Map">What is drawn: [MapHeight, MapWidth] (GradientSHAP sums the channels).</param>
/// <param name="Sum">Σ values; KernelSHAP: exactly Fx − FBaseline.</param>
public sealed record ShapTarget(Target Target, string Label, double[]? SegmentValues, float[] Values, float[] Map, double Fx, double FBaseline, double Sum);

/// <param name="Method">"kernel" or "gradient".</param>
/// <param name="Shape">Shape of each target's <see cref="ShapTarget.Values"/>.</param>
/// <param name="Exact">KernelSHAP evaluated every coalition (Shapley's formula).</param>
/// <param name="Limit">The shared colour scale: [−Limit, +Limit].</param>
/// <param name="Png">The picture, then each target's map, on one signed scale.</param>
/// <param name="Confidence">KernelSHAP "auto": its estimated chance that the values have converged; NaN otherwise.</param>
/// <param name="AutoNote">KernelSHAP "auto": where it stopped and how sure it is, or that it did not converge within its cap and what to try.</param>
public sealed record ShapExplanation(
    string Model,
    string Method,
    IReadOnlyList<ShapTarget> Targets,
    Segmentation Segments,
    int[] Shape,
    int MapHeight,
    int MapWidth,
    int Samples,
    int Seed,
    bool Exact,
    bool Paired,
    double Stability,
    bool Cancelled,
    string Baseline,
    string Score,
    string? Layer,
    int BatchSize,
    double Limit,
    byte[] Png,
    byte[] SegmentsPng,
    double Seconds,
    double Confidence = double.NaN,
    string? AutoNote = null);

public sealed partial class Engine
{
    public static IReadOnlyList<string> ShapMethods => ["kernel", "gradient"];

    /// <summary>KernelSHAP over superpixels (<paramref name="method"/> "kernel") or GradientSHAP ("gradient").</summary>
    public ShapExplanation Shap(string? modelId, string imagePath, string method, SamplingRequest request, IProgress<ExplainProgress>? progress = null,
        CancellationToken cancellation = default) => method switch
    {
        "kernel" => KernelShap(modelId, imagePath, request, progress, cancellation),
        "gradient" => GradientShap(modelId, imagePath, request, progress, cancellation),
        _ => throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Unknown SHAP method '{method}'; use \"kernel\" (KernelSHAP over superpixels) or \"gradient\" (GradientSHAP, expected gradients)."),
    };

    public ShapExplanation KernelShap(string? modelId, string imagePath, SamplingRequest request, IProgress<ExplainProgress>? progress = null,
        CancellationToken cancellation = default)
    {
        if (request.Layer is not null)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, "KernelSHAP explains superpixels of the image; 'layer' is for GradientSHAP (method \"gradient\").");
        var clock = Stopwatch.StartNew();
        var setup = PrepareSampling(modelId, imagePath, request, cancellation);
        using var input = setup.Input;
        var targets = ShapTargets(request.Target, setup.Model, setup.Logits);
        var key = KeyOf(setup, "kernel-shap", targets, request);
        if (TryRecent<ShapExplanation>(key, progress, "KernelSHAP", r => (r.Samples, r.Targets.Select(t => t.SegmentValues!).ToArray(), r.Png), out var recent)) return recent;
        var segments = setup.Segments;
        // The registry's KernelSHAP, for every target from one set of samples (its context's own target is the first).
        var (context, batch) = SuperpixelContext(setup, request, Explainers.KernelShap.DefaultSamples, KernelShapExplainer.Definition, targets[0],
            RenderPartials(progress, values => RenderSegmentMaps(input, segments, values)), cancellation);
        var result = KernelShapExplainer.Run(context, targets);
        var (fill, kind) = (Superpixels.Fill(context.Options, setup.Model.Input), Superpixels.Score(context.Options));

        var explained = targets.Select((t, i) =>
        {
            var painted = segments.Paint(result.Values[i]);
            return new ShapTarget(t, t.Describe(setup.Model), result.Values[i], painted, painted, result.Fx[i], result.FBaseline[i], result.Values[i].Sum());
        }).ToList();
        var limit = AttributionMap.Limit(explained.Select(e => e.Map));
        using var image = AttributionMap.Render(input.Display, explained.Select(e => e.Map).ToList(), segments.Height, segments.Width, limit, segments.Labels);
        var png = ChannelGrid.ToPng(image);
        ReportFinal(progress, "KernelSHAP", result.Samples, result.Values, png);
        var explanation = new ShapExplanation(setup.Model.Id, "kernel", explained, segments, [segments.Height, segments.Width], segments.Height, segments.Width,
            result.Samples, result.Seed, result.Exact, result.Paired, result.Stability, result.Cancelled, SegmentFill.Name(fill), ScoreName(kind, targets),
            null, batch, limit, png, setup.SegmentsPng, clock.Elapsed.TotalSeconds, result.Confidence, result.Note);
        if (!result.Cancelled) _recentSamplings.Add(key, explanation);
        return explanation;
    }

    public ShapExplanation GradientShap(string? modelId, string imagePath, SamplingRequest request, IProgress<ExplainProgress>? progress = null,
        CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var setup = PrepareSampling(modelId, imagePath, request, cancellation);
        using var input = setup.Input;
        var model = setup.Model;
        var targets = ShapTargets(request.Target, model, setup.Logits);
        var layer = request.Layer is null ? null : RequireGradientLayer(model, request.Layer, targets);
        var key = KeyOf(setup, "gradient-shap", targets, request);
        if (TryRecent<ShapExplanation>(key, progress, "GradientSHAP", r => (r.Samples, r.Targets.Select(t => t.Values.Select(v => (double)v).ToArray()).ToArray(), r.Png), out var recent)) return recent;
        var samples = request.Samples?.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase) == true
            ? new SampleCount(Explainers.GradientShap.AutoMax, true)
            : SampleCount.Parse(request.Samples, Explainers.GradientShap.DefaultSamples);
        var kind = ParseScore(request.Score, ScoreKind.Logit);
        var baselineName = request.Baseline?.ToLowerInvariant() ?? ShapBaselines.Default(Models.ModelsDirectory, model.Id);
        var baselines = ShapBaselines.Build(baselineName, model, input.Data, Models.ModelsDirectory, request.Seed ?? 0);
        var batch = BatchSize(model, request, gradients: true);

        var segments = setup.Segments;
        var (mapH, mapW) = layer is null ? (segments.Height, segments.Width) : (layer.OutputShape[1], layer.OutputShape[2]);
        var regions = new int[mapH * mapW];
        for (var y = 0; y < mapH; y++)
            for (var x = 0; x < mapW; x++)
                regions[y * mapW + x] = segments.Labels[(int)((y + 0.5) * segments.Height / mapH) * segments.Width + (int)((x + 0.5) * segments.Width / mapW)];

        byte[] Render(IReadOnlyList<float[]> maps, double? limit = null)
        {
            using var image = AttributionMap.Render(input.Display, maps, mapH, mapW, limit); // per pixel: no segment lines
            return ChannelGrid.ToPng(image);
        }
        var options = new GradientShapOptions(samples, request.Seed ?? 0, layer?.Name, kind, batch, (regions, segments.Count));
        var result = Explainers.GradientShap.Explain(model, input.Data, baselines, targets, options,
            p =>
            {
                if (progress is null) return;
                var maps = p.Values.Select(v => GradientShapResult.SumChannels(v.Select(x => (float)x).ToArray(), [.. layer?.OutputShape ?? model.Input.InputShape])).ToList();
                progress.Report(new ExplainProgress(p.Samples, p.Total, $"GradientSHAP: {p.Samples} of {p.Total} samples",
                    new RenderedPartial(p.Samples, p.Total, maps.Select(m => m.Select(v => (double)v).ToArray()).ToArray(), Render(maps))));
            },
            cancellation);

        var explained = targets.Select((t, i) => new ShapTarget(t, t.Describe(model), null, result.Values[i], result.Maps[i],
            result.Fx[i], result.FBaseline[i], result.Values[i].Sum(v => (double)v))).ToList();
        var limit = AttributionMap.Limit(explained.Select(e => e.Map));
        var png = Render(explained.Select(e => e.Map).ToList(), limit);
        ReportFinal(progress, "GradientSHAP", result.Samples, result.Maps.Select(m => m.Select(v => (double)v).ToArray()).ToArray(), png);
        var explanation = new ShapExplanation(model.Id, "gradient", explained, segments, result.Shape, mapH, mapW, result.Samples, result.Seed, false, false,
            result.Stability, result.Cancelled, baselineName, ScoreName(kind, targets), layer?.Name, batch, limit, png, setup.SegmentsPng, clock.Elapsed.TotalSeconds);
        if (!result.Cancelled) _recentSamplings.Add(key, explanation);
        return explanation;
    }

    /// <summary>The target asked for, else the two highest-scoring classes (the original tool's side-by-side figure), or channels for a model without classes.</summary>
    private static List<Target> ShapTargets(Target? target, CnnModel model, float[] logits)
    {
        if (target is not null) return [Target.Resolve(target, model, logits)];
        return [.. Target.Top(model, logits, 2)];
    }

    /// <summary>A layer GradientSHAP can attribute: a [C,H,W] output that the target's score depends on.</summary>
    private static LayerInfo RequireGradientLayer(CnnModel model, string name, IReadOnlyList<Target> targets)
    {
        var layer = model.GetLayer(name);
        var spatial = model.Layers.Where(l => l.IsSpatial).Select(l => l.Name).ToList();
        if (!layer.IsSpatial)
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"GradientSHAP at a layer needs a [channels, height, width] output (a conv, ReLU or pooling layer); '{layer.Name}' ({layer.DisplayName}, {layer.Kind}) outputs [{string.Join(", ", layer.OutputShape)}]. " +
                $"Layers that work: {string.Join(", ", spatial)}.", new { layers = spatial });
        var index = model.Layers.ToList().FindIndex(l => l.Name == layer.Name);
        foreach (var target in targets.OfType<Target.Channel>())
        {
            var targetIndex = model.Layers.ToList().FindIndex(l => l.Name == target.Layer);
            if (targetIndex <= index)
                throw new CnnInterpretException(ErrorKind.InvalidArgument,
                    $"The target (channel {target.Index} of {target.Layer}) is computed {(targetIndex == index ? "at" : "before")} layer '{layer.Name}', so it has no gradient there. " +
                    $"Choose a layer before {target.Layer}.");
        }
        return layer;
    }
}
