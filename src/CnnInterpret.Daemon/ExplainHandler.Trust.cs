using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using StreamJsonRpc;

namespace CnnInterpret.Daemon;

/// <summary>explain/metrics, explain/sanity, explain/layerSweep: how far an explanation can be trusted.</summary>
public sealed partial class ExplainHandler
{
    [JsonRpcMethod(Methods.ExplainMetrics, UseSingleObjectParameterDeserialization = true)]
    public Task<MetricsResultDto> MetricsAsync(MetricsParams request, CancellationToken cancellation) => runner.Run(() =>
    {
        RequestRunner.RequireParams(request, "image, method");
        var trust = new TrustRequest(request.Method, request.Layer, ParseTarget(request.Target), ParseSamples(request.Samples), request.Segments, request.Seed ?? 0,
            OptionTexts(request.Options));
        var model = engine.GetModel(request.Model);
        var result = engine.Metrics(model.Id, request.Image, trust, request.Steps ?? Faithfulness.DefaultSteps, Progress.For(request.WorkDoneToken), cancellation);
        return new MetricsResultDto(model.Id, result.Method, result.Target.ToString()!, result.TargetLabel, result.Score, result.Map.Fractions,
            new CurveDto(result.Map.Deletion, result.Map.DeletionAuc), new CurveDto(result.Map.Insertion, result.Map.InsertionAuc),
            new CurveDto(result.Random.Deletion, result.Random.DeletionAuc), new CurveDto(result.Random.Insertion, result.Random.InsertionAuc),
            Convert.ToBase64String(result.PlotPng), result.Road?.Percentages,
            result.Road is { } road ? new CurveDto(road.MostRelevantFirst, road.MostRelevantFirstAuc) : null,
            result.Road is { } least ? new CurveDto(least.LeastRelevantFirst, least.LeastRelevantFirstAuc) : null,
            result.Road?.Combined);
    }, cancellation, Lane.Heavy);

    [JsonRpcMethod(Methods.ExplainSanity, UseSingleObjectParameterDeserialization = true)]
    public Task<SanityResultDto> SanityAsync(SanityParams request, CancellationToken cancellation) => runner.Run(() =>
    {
        RequestRunner.RequireParams(request, "image, method");
        var trust = new TrustRequest(request.Method, request.Layer, ParseTarget(request.Target), ParseSamples(request.Samples), request.Segments, request.Seed ?? 0,
            OptionTexts(request.Options));
        var model = engine.GetModel(request.Model);
        var result = engine.Sanity(model.Id, request.Image, trust, request.Stages, Progress.For(request.WorkDoneToken), cancellation);
        return new SanityResultDto(model.Id, result.Method, result.Target.ToString()!, result.TargetLabel,
            result.Result.Stages.Select(s => new SanityStageDto(s.Randomized, s.Label, double.IsNaN(s.RankCorrelation) ? null : s.RankCorrelation)).ToList(),
            result.Result.Flagged, result.Result.Verdict, Convert.ToBase64String(result.StripPng));
    }, cancellation, Lane.Exclusive); // the model is randomised in place: nothing else may use it meanwhile

    [JsonRpcMethod(Methods.ExplainLayerSweep, UseSingleObjectParameterDeserialization = true)]
    public Task<LayerSweepResultDto> LayerSweepAsync(LayerSweepParams request, CancellationToken cancellation) => runner.Run(() =>
    {
        RequestRunner.RequireParams(request, "image");
        var model = engine.GetModel(request.Model);
        var result = engine.LayerSweep(model.Id, request.Image, ParseTarget(request.Target), request.Method, cancellation);
        return new LayerSweepResultDto(model.Id, result.Target.ToString()!, result.TargetLabel, result.Score,
            result.Maps.Select(m => new LayerSweepMapDto(m.Layer, m.LowResShape,
                request.Raw == true ? RawArray.From(m.Heatmap, [model.Input.Height, model.Input.Width]) : null)).ToList(),
            Convert.ToBase64String(result.StripPng));
    }, cancellation);
}
