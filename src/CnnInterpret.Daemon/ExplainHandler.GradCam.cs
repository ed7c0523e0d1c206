using System.Text.Json;
using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using StreamJsonRpc;

namespace CnnInterpret.Daemon;

/// <summary>explain/gradCam.</summary>
public sealed partial class ExplainHandler
{
    [JsonRpcMethod(Methods.ExplainGradCam, UseSingleObjectParameterDeserialization = true)]
    public Task<GradCamResultDto> GradCamAsync(GradCamParams request, CancellationToken cancellation) => runner.Run(() =>
    {
        RequestRunner.RequireParams(request, "image, layer");
        if (string.IsNullOrWhiteSpace(request.Layer))
            throw new CnnInterpretException(ErrorKind.InvalidArgument, "explain/gradCam needs 'layer': a layer with a spatial output such as features.12 (see models/load).");
        var target = ParseTarget(request.Target);
        var overlay = new OverlayOptions(request.Colormap ?? "viridis", request.Opacity ?? 0.5);
        var model = engine.GetModel(request.Model);
        var result = engine.GradCam(model, request.Image, request.Layer, target, request.Method, overlay, cancellation: cancellation);
        var raw = request.Raw == true;
        return new GradCamResultDto(model.Id, result.Method, result.Layer, result.Target.ToString()!, result.TargetLabel, result.Score,
            result.HeatmapShape, result.LowResShape, Convert.ToBase64String(result.OverlayPng), Convert.ToBase64String(result.HeatmapPng),
            raw ? RawArray.From(result.Heatmap, result.HeatmapShape) : null,
            raw ? RawArray.From(result.LowRes, result.LowResShape) : null,
            raw ? result.Weights : null,
            result.Empty,
            result.Hint,
            Convert.ToBase64String(Colormap.Get(overlay.Colormap).LegendPng()));
    }, cancellation);

    /// <summary>A target given as a number (class) or a string ("7", "features.12:5"); null or absent: the top class.</summary>
    private static Target? ParseTarget(JsonElement? target) => target switch
    {
        null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
        { ValueKind: JsonValueKind.Number } n when n.TryGetInt32(out var k) => new Target.Class(k),
        { ValueKind: JsonValueKind.String } s => Target.Parse(s.GetString()),
        { } other => throw new CnnInterpretException(ErrorKind.InvalidArgument,
            $"Cannot read target {other.GetRawText()}: use a class index like 3, or \"LAYER:CHANNEL\" like \"features.12:5\"."),
    };
}
