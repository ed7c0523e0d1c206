using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using StreamJsonRpc;

namespace CnnInterpret.Daemon;

/// <summary>explain/filterPatterns.</summary>
public sealed partial class ExplainHandler
{
    [JsonRpcMethod(Methods.ExplainFilterPatterns, UseSingleObjectParameterDeserialization = true)]
    public Task<FilterPatternsResultDto> FilterPatternsAsync(FilterPatternsParams request, CancellationToken cancellation) => runner.Run(() =>
    {
        RequestRunner.RequireParams(request, "layer");
        if (string.IsNullOrWhiteSpace(request.Layer))
            throw new CnnInterpretException(ErrorKind.InvalidArgument, "explain/filterPatterns needs 'layer': a layer name such as features.12 (see models/load).");
        var model = engine.GetModel(request.Model);
        var layer = model.GetLayer(request.Layer);
        var page = request.Page ?? 0;
        var channels = request.Channels ?? FilterPatterns.Page(layer, page);
        var options = new FilterPatternOptions(request.Preset, request.Steps, request.Seed ?? 0, request.Size);
        var result = engine.FilterPatterns(model, layer.Name, channels, options, Progress.For(request.WorkDoneToken), cancellation);
        var pageCount = (layer.OutputShape[0] + FilterPatterns.PageSize - 1) / FilterPatterns.PageSize;
        return new FilterPatternsResultDto(model.Id, result.Layer, result.Preset, result.Steps, result.Seed, result.PatternShape, page, pageCount,
            result.Patterns, Convert.ToBase64String(result.GridPng),
            request.Raw == true ? RawArray.From(result.Pixels, [result.Patterns.Count, .. result.PatternShape]) : null,
            result.ForwardPasses,
            PatternGrid.Layout(result.Patterns.Count, result.PatternShape[1], result.PatternShape[2]));
    }, cancellation, Lane.Heavy);
}
