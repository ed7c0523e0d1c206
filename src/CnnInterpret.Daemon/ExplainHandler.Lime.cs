using System.Text.Json;
using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using StreamJsonRpc;

namespace CnnInterpret.Daemon;

/// <summary>explain/lime, and what explain/shap shares with it.</summary>
public sealed partial class ExplainHandler
{
    [JsonRpcMethod(Methods.ExplainLime, UseSingleObjectParameterDeserialization = true)]
    public Task<LimeResultDto> LimeAsync(LimeParams request, CancellationToken cancellation) => runner.Run(() =>
    {
        RequireImage(request?.Image, Methods.ExplainLime);
        var result = engine.Lime(request!.Model, request.Image, Sampling(request), PartialProgress(request.WorkDoneToken, withValues: true), cancellation);
        var lime = result.Result;
        var raw = request.Raw == true;
        int[] shape = [result.Segments.Height, result.Segments.Width];
        return new LimeResultDto(result.Model, result.Target.ToString()!, result.TargetLabel, result.Segments.Count,
            lime.Fit.Weights.Select(w => (float)w).ToArray(), lime.Fit.Intercept, lime.Fit.R2, lime.Fit.LocalPrediction, lime.Score, result.Score,
            lime.Samples, lime.Seed, result.Baseline, lime.Stability, lime.Cancelled, lime.TopPositive, lime.TopNegative, result.BatchSize,
            Math.Round(result.Seconds, 3), Convert.ToBase64String(result.Png), Convert.ToBase64String(result.SegmentsPng), Convert.ToBase64String(result.TopPng),
            raw ? RawArray.From(result.Map, shape) : null, raw ? RawIntArray.From(result.Segments.Labels, shape) : null,
            double.IsNaN(lime.Confidence) ? null : lime.Confidence, lime.Note);
    }, cancellation, Lane.Heavy);

    private static void RequireImage(string? image, string method)
    {
        if (string.IsNullOrWhiteSpace(image))
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"{method} needs 'image': the path of a PNG, JPEG, BMP, GIF or WebP file.");
    }

    /// <summary>samples: a number, a numeric string, or "auto"; absent: the method's default.</summary>
    private static SamplingRequest Sampling(ISamplingParams p, string? layer = null) =>
        new(ParseTarget(p.Target), ParseSamples(p.Samples), p.Segments, p.Compactness, p.Seed, p.Baseline, p.Score,
            MemoryBudgetBytes: MemoryBudget(p.MemoryBudgetMiB), Layer: layer);

    private static string? ParseSamples(JsonElement? samples) => samples switch
    {
        null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
        { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { } other => throw new CnnInterpretException(ErrorKind.InvalidArgument,
            $"Cannot read samples {other.GetRawText()}: use a number between {SampleCount.Min} and {SampleCount.Max}, or \"auto\"."),
    };

    private static long? MemoryBudget(int? mib) => mib switch
    {
        null => null,
        >= 1 and <= 1 << 20 => (long)mib << 20,
        _ => throw new CnnInterpretException(ErrorKind.InvalidArgument, $"memoryBudgetMiB must be between 1 and {1 << 20}; got {mib}."),
    };

    /// <summary>Progress whose partial results go out as <see cref="SamplingPartialDto"/> (PNG as base64).</summary>
    private PartialReporter? PartialProgress(JsonElement? token, bool withValues) =>
        Progress.For(token) is { } inner ? new PartialReporter(inner, withValues) : null;

    private sealed class PartialReporter(IProgress<ExplainProgress> inner, bool withValues) : IProgress<ExplainProgress>
    {
        public void Report(ExplainProgress value) => inner.Report(value.Partial is RenderedPartial p
            ? value with
            {
                Partial = new SamplingPartialDto(p.Samples, p.Total,
                    withValues ? p.Values.Select(v => v.Select(x => (float)x).ToArray()).ToArray() : null, Convert.ToBase64String(p.Png)),
            }
            : value);
    }
}
