// The daemon's JSON-RPC protocol: every method's parameters and result, defined once here and mirrored
// once in TypeScript (extension/src/protocol.ts). Names are a contract: add optional members, never rename.
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Models;

namespace CnnInterpret.Daemon;

public static class Methods
{
    public const string DaemonInfo = "daemon/info";
    public const string ModelsList = "models/list";
    public const string ModelsLoad = "models/load";
    public const string ModelsFetch = "models/fetch";
    public const string ModelsAdd = "models/add";
    public const string ImagePredict = "image/predict";
    public const string ExplainFeatureMaps = "explain/featureMaps";
}

/// <summary>JSON-RPC error codes: the numeric values of <see cref="CnnInterpret.Core.ErrorKind"/>, plus cancellation.</summary>
public static class ErrorCodes
{
    /// <summary>The request was cancelled ($/cancelRequest), as in LSP.</summary>
    public const int RequestCancelled = -32800;
}

public sealed record DaemonInfoResult(string Version, string TorchSharpVersion, string LibTorchVersion, string Device, int ProcessId, IReadOnlyList<ModelSummary> Models);

/// <param name="State">"built in" (weights ship with the tool), "ready" (fetched) or "weights missing" (models/fetch or models/add first).</param>
public sealed record ModelSummary(string Id, string DisplayName, string Description, int[] InputShape, int ClassCount, bool Loaded,
    string State = "built in", string? WeightsUrl = null, string? WeightsFile = null);

public sealed record ModelsListResult(IReadOnlyList<ModelSummary> Models, string DefaultModel);

/// <param name="Model">A built-in id, or the path of a model file (.pth/.pt/.safetensors/.onnx).</param>
/// <param name="Weights">Other weights for a built-in architecture (a checkpoint or safetensors file).</param>
/// <param name="Arch">The torchvision architecture of a checkpoint file, when it cannot be inferred.</param>
public sealed record ModelParams(string? Model, string? Weights = null, string? Arch = null);

/// <param name="Url">A mirror to download from instead of the published address.</param>
/// <param name="Sha256">The full sha256 to check (the file name's prefix is always checked).</param>
public sealed record ModelsFetchParams(string Model, string? Url = null, string? Sha256 = null, System.Text.Json.JsonElement? WorkDoneToken = null);

public sealed record ModelsFetchResult(string Model, string Path, long Bytes);

/// <param name="File">Weights downloaded elsewhere, verified and copied into the cache.</param>
public sealed record ModelsAddParams(string Model, string File, string? Sha256 = null);

public sealed record ModelsAddResult(string Model, string Path);

public sealed record ModelDetails(
    string Id,
    string DisplayName,
    int[] InputShape,
    IReadOnlyList<string> Classes,
    IReadOnlyList<LayerInfo> Layers,
    long ParameterCount,
    string WeightsSha256);

public sealed record PredictParams(string? Model, string Image, int? TopK);

public sealed record PredictResult(string Model, string Image, IReadOnlyList<ClassScore> Top, float[] Logits);

/// <param name="Channels">Channels to show; when absent, page <paramref name="Page"/> of 64 channels.</param>
/// <param name="Raw">Also return the numbers (base64 little-endian float32).</param>
/// <param name="Scaling">"perChannel" (default) or "shared".</param>
/// <param name="Colormap">"viridis" (default) or "gray".</param>
public sealed record FeatureMapsParams(
    string? Model,
    string Image,
    string Layer,
    int[]? Channels,
    bool? Raw,
    int? Page,
    string? Scaling,
    string? Colormap);

/// <summary>Numbers as base64 of little-endian float32, with their shape.</summary>
public sealed record RawArray(int[] Shape, string Data)
{
    public static RawArray From(float[] values, int[] shape) =>
        new(shape, Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())));
}

public sealed record FeatureMapsResultDto(
    string Model,
    LayerInfo Layer,
    int[] Shape,
    int[] Channels,
    int Page,
    int PageCount,
    IReadOnlyList<ChannelStats> Stats,
    string Png,
    RawArray? Raw);
