using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using StreamJsonRpc;

namespace CnnInterpret.Daemon;

/// <summary>explain/* methods.</summary>
public sealed partial class ExplainHandler(Engine engine, RequestRunner runner, ProgressNotifier progress)
{
    /// <summary>Sends $/progress for requests that carry a workDoneToken (see <see cref="ProgressNotifier"/>).</summary>
    private ProgressNotifier Progress { get; } = progress;

    [JsonRpcMethod(Methods.ExplainFeatureMaps, UseSingleObjectParameterDeserialization = true)]
    public Task<FeatureMapsResultDto> FeatureMapsAsync(FeatureMapsParams request, CancellationToken cancellation) => runner.Run(() =>
    {
        RequestRunner.RequireParams(request, "image, layer");
        if (string.IsNullOrWhiteSpace(request.Layer))
            throw new CnnInterpretException(ErrorKind.InvalidArgument, "explain/featureMaps needs 'layer': a layer name such as features.0 (see models/load).");
        var model = engine.GetModel(request.Model);
        var layer = model.GetLayer(request.Layer);
        var page = Math.Max(0, request.Page ?? 0);
        var pageCount = layer.IsSpatial ? (layer.OutputShape[0] + FeatureMaps.PageSize - 1) / FeatureMaps.PageSize : 0;
        var channels = request.Channels ?? (layer.IsSpatial
            ? Enumerable.Range(page * FeatureMaps.PageSize, Math.Max(0, Math.Min(FeatureMaps.PageSize, layer.OutputShape[0] - page * FeatureMaps.PageSize))).ToArray()
            : null);
        if (channels is { Length: 0 } && request.Channels is null)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Layer '{layer.Name}' has {pageCount} page(s) of channels; page {page} does not exist.");
        var scaling = request.Scaling switch
        {
            null or "perChannel" => ChannelScaling.PerChannel,
            "shared" => ChannelScaling.Shared,
            _ => throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Unknown scaling '{request.Scaling}'; use \"perChannel\" or \"shared\"."),
        };
        var grid = new GridOptions(Scaling: scaling, Colormap: request.Colormap ?? "viridis");
        var result = engine.FeatureMaps(model.Id, request.Image, layer.Name, channels, grid, cancellation);
        int[] rawShape = [result.Channels.Length, result.Shape[1], result.Shape[2]];
        return new FeatureMapsResultDto(model.Id, result.Layer, result.Shape, result.Channels, page, pageCount, result.Stats,
            Convert.ToBase64String(result.Png), request.Raw == true ? RawArray.From(result.Values, rawShape) : null,
            ChannelGrid.Layout(result.Channels.Length, result.Shape[1], result.Shape[2], grid));
    }, cancellation);
}
