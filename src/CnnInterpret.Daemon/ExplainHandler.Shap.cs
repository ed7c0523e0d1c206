using CnnInterpret.Core;
using StreamJsonRpc;

namespace CnnInterpret.Daemon;

/// <summary>explain/shap: KernelSHAP over superpixels (method "kernel") or GradientSHAP (method "gradient").</summary>
public sealed partial class ExplainHandler
{
    [JsonRpcMethod(Methods.ExplainShap, UseSingleObjectParameterDeserialization = true)]
    public Task<ShapResultDto> ShapAsync(ShapParams request, CancellationToken cancellation) => runner.Run(() =>
    {
        RequireImage(request?.Image, Methods.ExplainShap);
        var method = request!.Method ?? "kernel";
        var result = engine.Shap(request.Model, request.Image, method, Sampling(request, request.Layer), PartialProgress(request.WorkDoneToken, withValues: method == "kernel"), cancellation);
        var raw = request.Raw == true;
        int[] mapShape = [result.MapHeight, result.MapWidth];
        var targets = result.Targets.Select(t => new ShapTargetDto(t.Target.ToString()!, t.Label, t.SegmentValues?.Select(v => (float)v).ToArray(),
            t.Fx, t.FBaseline, t.Sum, t.Sum - (t.Fx - t.FBaseline), raw ? RawArray.From(t.Values, result.Shape) : null)).ToList();
        int[] segmentShape = [result.Segments.Height, result.Segments.Width];
        return new ShapResultDto(result.Model, result.Method, targets, result.Segments.Count, result.Shape, mapShape, result.Samples, result.Seed,
            result.Exact, result.Paired, double.IsFinite(result.Stability) ? result.Stability : 0, result.Cancelled, result.Baseline, result.Score,
            result.Layer, result.BatchSize, result.Limit, Math.Round(result.Seconds, 3), Convert.ToBase64String(result.Png),
            Convert.ToBase64String(result.SegmentsPng), raw ? RawIntArray.From(result.Segments.Labels, segmentShape) : null,
            double.IsNaN(result.Confidence) ? null : result.Confidence, result.AutoNote);
    }, cancellation, Lane.Heavy);
}
