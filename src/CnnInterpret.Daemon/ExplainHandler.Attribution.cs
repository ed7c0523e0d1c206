using System.Globalization;
using System.Text.Json;
using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using StreamJsonRpc;

namespace CnnInterpret.Daemon;

/// <summary>explain/attribution: any method of the explainer registry.</summary>
public sealed partial class ExplainHandler
{
    [JsonRpcMethod(Methods.ExplainAttribution, UseSingleObjectParameterDeserialization = true)]
    public Task<AttributionResultDto> AttributionAsync(AttributionParams request, CancellationToken cancellation) =>
        // A sampling method waits for the heavy lane; anything else (an unknown method too: refused at once) runs now.
        runner.Run(() =>
        {
            RequestRunner.RequireParams(request, "image, method");
            if (string.IsNullOrWhiteSpace(request.Method))
                throw new CnnInterpretException(ErrorKind.InvalidArgument, $"explain/attribution needs 'method': one of {string.Join(", ", engine.Methods.Names)} (see daemon/methods).");
            var info = engine.Methods.Get(request.Method).Info;
            var model = engine.GetModel(request.Model);
            var overlay = new OverlayOptions(request.Colormap ?? "viridis", request.Opacity ?? 0.5);
            var result = engine.Attribute(model.Id, request.Image,
                new AttributionRequest(info.Name, request.Layer, ParseTarget(request.Target), OptionTexts(request.Options)),
                overlay, Progress.For(request.WorkDoneToken), cancellation: cancellation);
            var a = result.Attribution;
            var raw = request.Raw == true;
            return new AttributionResultDto(model.Id, info.Name, info.DisplayName, info.Kind.ToString().ToLowerInvariant(), info.Signed,
                result.Layer, result.Target.ToString()!, result.TargetLabel, result.Score, result.Shape, result.Options, a.Figures, a.Note,
                Convert.ToBase64String(result.OverlayPng), Convert.ToBase64String(result.HeatmapPng),
                raw ? RawArray.From(a.Map, result.Shape) : null,
                raw && a.Attributions is { } perChannel ? RawArray.From(perChannel, [model.Input.ChannelCount, .. result.Shape]) : null,
                raw && a.LowRes is { } lowRes ? RawArray.From(lowRes, a.LowResShape!) : null,
                raw ? a.ChannelWeights : null,
                info.Signed ? null : Convert.ToBase64String(Colormap.Get(overlay.Colormap).LegendPng()),
                a.SegmentValues?.Select(v => (float)v).ToArray(),
                raw && result.Segments is { } segments ? RawIntArray.From(segments.Labels, [segments.Height, segments.Width]) : null);
        }, cancellation, engine.Methods.Find(request?.Method ?? "")?.Info.Sampling == true ? Lane.Heavy : Lane.Interactive);

    /// <summary>JSON option values as the text the registry's parser reads (numbers as written, booleans as true/false).</summary>
    private static Dictionary<string, string?>? OptionTexts(IReadOnlyDictionary<string, JsonElement>? options) =>
        options?.ToDictionary(o => o.Key, o => o.Value.ValueKind switch
        {
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            JsonValueKind.String => o.Value.GetString(),
            JsonValueKind.Number => o.Value.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"Option '{o.Key}' must be a number, a string or a boolean, not {o.Value.ValueKind.ToString().ToLowerInvariant()}."),
        });
}
