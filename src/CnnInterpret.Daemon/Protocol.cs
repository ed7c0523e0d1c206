// The daemon's JSON-RPC protocol: every method's parameters and result, defined once here. The extension's
// TypeScript types (extension/src/protocol.generated.ts) are generated from these records, the handlers' methods,
// ErrorKind and the $/progress records below: after a change here, run `npm run protocol` (a .NET test fails
// until the generated file matches). Names are a contract: add optional members, never rename.
using System.Text.Json;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
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
    public const string ExplainGradCam = "explain/gradCam";
    public const string ExplainFilterPatterns = "explain/filterPatterns";
    public const string ExplainLime = "explain/lime";
    public const string ExplainShap = "explain/shap";
    public const string ExplainMetrics = "explain/metrics";
    public const string ExplainSanity = "explain/sanity";
    public const string ExplainLayerSweep = "explain/layerSweep";
    public const string DaemonMethods = "daemon/methods";
    public const string ExplainAttribution = "explain/attribution";
}

/// <summary>JSON-RPC error codes: the numeric values of <see cref="CnnInterpret.Core.ErrorKind"/>, plus these.</summary>
public static class ErrorCodes
{
    /// <summary>The request was cancelled ($/cancelRequest), as in LSP.</summary>
    public const int RequestCancelled = -32800;

    /// <summary>A message that is not JSON-RPC (a malformed header, a body that is not JSON, one over the size limit).</summary>
    public const int ParseError = (int)StreamJsonRpc.Protocol.JsonRpcErrorCode.ParseError;

    /// <summary>No such method: an older daemon, or a misspelt name.</summary>
    public const int MethodNotFound = (int)StreamJsonRpc.Protocol.JsonRpcErrorCode.MethodNotFound;

    /// <summary>The parameters do not bind to the method's record (a field of the wrong type).</summary>
    public const int InvalidParams = (int)StreamJsonRpc.Protocol.JsonRpcErrorCode.InvalidParams;
}

/// <summary>The <c>data</c> of an application error.</summary>
/// <param name="Kind">The <see cref="CnnInterpret.Core.ErrorKind"/>'s name, e.g. "UnknownLayer".</param>
/// <param name="Details">Structured extras, e.g. <c>{layers: [...]}</c> (the valid layer names) or <c>{models: [...]}</c>.</param>
public sealed record ErrorData(string Kind, object? Details);

/// <summary>
/// The JSON a member typed <see cref="JsonElement"/> or <see cref="object"/> holds, by name: what C#'s types cannot
/// say ("a number or a string"). The generated TypeScript declares each of these as a type and uses it where a
/// member carries <see cref="JsonValueAttribute"/>.
/// </summary>
public static class JsonValues
{
    /// <summary>A class index (number or "7"), or "LAYER:CHANNEL" (e.g. "features.12:5").</summary>
    public const string Target = "number | string";

    /// <summary>A sample count, or "auto": sample until the result is stable.</summary>
    public const string Samples = "number | \"auto\"";

    /// <summary>A work-done progress token, as in LSP.</summary>
    public const string ProgressToken = "string | number";

    /// <summary>A value of a method's option: "integer" and "number" options take numbers, "choice" strings, "boolean" booleans.</summary>
    public const string MethodOptionValue = "number | string | boolean";
}

/// <summary>Names the <see cref="JsonValues"/> entry the <see cref="JsonElement"/> or <see cref="object"/> in this member holds (in a list or dictionary: each value).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class JsonValueAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>The params of a <c>$/progress</c> notification, sent for a request whose params carry a <c>workDoneToken</c>.</summary>
/// <param name="Token">The request's workDoneToken.</param>
public sealed record ProgressParams([property: JsonValue(nameof(JsonValues.ProgressToken))] JsonElement Token, WorkDoneProgress Value);

/// <summary>LSP's work-done progress: one "begin", "report"s at most every 100 ms, one "end" sent before the request's answer.</summary>
/// <param name="Kind">"begin", "report" or "end".</param>
/// <param name="Title">The first message (with "begin" only).</param>
/// <param name="Percentage">0–100.</param>
/// <param name="Partial">LIME and SHAP: the result so far, so a view can converge on screen.</param>
/// <param name="Patterns">Filter patterns: the channels finished so far (sent as each batch finishes, never dropped by the 100 ms limit).</param>
public sealed record WorkDoneProgress(string Kind, string? Title, string? Message, int Percentage, SamplingPartialDto? Partial,
    FilterPatternsPartialDto? Patterns = null);

/// <summary>The filter patterns finished so far, in the order asked for.</summary>
/// <param name="Patterns">Per finished channel: its activation before and after, whether it came from the cache, and a note if any.</param>
/// <param name="Png">The grid of the finished patterns, labelled with channel numbers.</param>
public sealed record FilterPatternsPartialDto(IReadOnlyList<FilterPattern> Patterns, string Png);

/// <param name="ResidentBytes">The daemon's resident memory now (what the OS counts).</param>
/// <param name="MemoryBudgetBytes">The one memory budget (--memory-budget, cnnInterpret.memoryBudgetMiB).</param>
/// <param name="LoadedModels">The ids of the models in memory now.</param>
public sealed record DaemonInfoResult(string Version, string TorchSharpVersion, string LibTorchVersion, string Device, int ProcessId, IReadOnlyList<ModelSummary> Models,
    long? ResidentBytes = null, long? MemoryBudgetBytes = null, IReadOnlyList<string>? LoadedModels = null);

/// <param name="State">"built in" (weights ship with the tool), "ready" (fetched) or "weights missing" (models/fetch or models/add first).</param>
public sealed record ModelSummary(string Id, string DisplayName, string Description, int[] InputShape, int ClassCount, bool Loaded,
    string State = "built in", string? WeightsUrl = null, string? WeightsFile = null);

public sealed record ModelsListResult(IReadOnlyList<ModelSummary> Models, string DefaultModel);

/// <summary>
/// A model to load. The preprocessing and labels fields override the model file's sidecar (FILE.json beside it,
/// with the same fields), which overrides its ONNX metadata_props, which override the model's defaults.
/// </summary>
/// <param name="Model">A built-in id, or the path of a model file (.pth/.pt/.safetensors/.onnx).</param>
/// <param name="Weights">Other weights for a built-in architecture (a checkpoint or safetensors file; for vgg16 also Keras's .h5).</param>
/// <param name="Arch">The torchvision architecture of a checkpoint file, when it cannot be inferred.</param>
/// <param name="Preset">"imagenet", "unit", "minus-one-to-one" or "caffe": a mean and std by name.</param>
/// <param name="Mean">R,G,B on the 0–1 scale (or one value).</param>
/// <param name="Std">R,G,B on the 0–1 scale (or one value).</param>
/// <param name="Resize">The shorter side after resizing, in pixels.</param>
/// <param name="Crop">The center crop: [size] or [height, width].</param>
/// <param name="Channels">"rgb", "bgr" or "gray".</param>
/// <param name="Labels">The class names, in output order.</param>
/// <param name="LabelsFile">A file of class names: one per line, or a JSON list.</param>
public sealed record ModelParams(string? Model, string? Weights = null, string? Arch = null,
    string? Preset = null, float[]? Mean = null, float[]? Std = null, int? Resize = null, int[]? Crop = null, string? Channels = null,
    IReadOnlyList<string>? Labels = null, string? LabelsFile = null);

/// <param name="Url">A mirror to download from instead of the published address.</param>
/// <param name="Sha256">The full sha256 to check (the file name's prefix is always checked).</param>
public sealed record ModelsFetchParams(string Model, string? Url = null, string? Sha256 = null, [property: JsonValue(nameof(JsonValues.ProgressToken))] JsonElement? WorkDoneToken = null);

public sealed record ModelsFetchResult(string Model, string Path, long Bytes);

/// <param name="File">Weights downloaded elsewhere, verified and copied into the cache.</param>
public sealed record ModelsAddParams(string Model, string File, string? Sha256 = null);

public sealed record ModelsAddResult(string Model, string Path);

/// <param name="Preprocessing">The preprocessing in use and where each part came from.</param>
public sealed record ModelDetails(
    string Id,
    string DisplayName,
    int[] InputShape,
    IReadOnlyList<string> Classes,
    IReadOnlyList<LayerInfo> Layers,
    long ParameterCount,
    string WeightsSha256,
    PreprocessingDto? Preprocessing = null);

/// <summary>What a model does to an image before the network sees it.</summary>
/// <param name="Preset">The preset whose mean and std are in use, or null.</param>
/// <param name="Mean">R,G,B (gray: one value), on the 0–1 scale.</param>
/// <param name="Std">R,G,B (gray: one value), on the 0–1 scale.</param>
/// <param name="Resize">The shorter side after resizing, in pixels.</param>
/// <param name="Crop">[height, width] of the center crop.</param>
/// <param name="Channels">"rgb", "bgr" or "gray".</param>
/// <param name="Defaults">Where the fields not in <paramref name="Sources"/> come from (e.g. "torchvision's ImageNet transform").</param>
/// <param name="Sources">For each field set by the user ("mean", "labels"…), where: a sidecar's path, "request" (this request's parameters), "flags" (the command line), or an ONNX file's metadata_props.</param>
/// <param name="Sidecar">The sidecar file this model reads (it may not exist yet), for model files.</param>
public sealed record PreprocessingDto(string? Preset, float[] Mean, float[] Std, int Resize, int[] Crop, string Channels,
    string Defaults, IReadOnlyDictionary<string, string> Sources, string? Sidecar);

public sealed record PredictParams(string? Model, string Image, int? TopK);

/// <param name="Fit">Whether the image suits the model; when not, why, and which built-in models suit it better.</param>
public sealed record PredictResult(string Model, string Image, IReadOnlyList<ClassScore> Top, float[] Logits, FitDto? Fit = null);

public sealed record FitDto(bool Suitable, string? Reason, IReadOnlyList<string> Suggestions);

/// <param name="Channels">Channels to show; when absent, page <paramref name="Page"/> of 64 channels.</param>
/// <param name="Raw">Also return the numbers (base64 little-endian float32).</param>
/// <param name="Scaling">"perChannel" (default) or "shared".</param>
/// <param name="Colormap">"viridis" (default), "gray", "jet" or "turbo".</param>
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

/// <param name="Stats">Per channel shown, in grid order: its range, mean, spread and top position (row, column at the layer's resolution).</param>
/// <param name="Grid">Where each channel's cell lies in <paramref name="Png"/>.</param>
public sealed record FeatureMapsResultDto(
    string Model,
    LayerInfo Layer,
    int[] Shape,
    int[] Channels,
    int Page,
    int PageCount,
    IReadOnlyList<ChannelStats> Stats,
    string Png,
    RawArray? Raw,
    GridLayout? Grid = null);

// ---- Grad-CAM and filter patterns (issue 4) ----

/// <param name="Target">A class index (number or "7"), or "LAYER:CHANNEL" (e.g. "features.12:5"); absent: the top class.</param>
/// <param name="Method">"grad-cam" (default) or "grad-cam++".</param>
/// <param name="Layer">A layer with a spatial output (conv, ReLU, pool), or a block name such as "block3" (its last one).</param>
/// <param name="Raw">Also return the numbers: the map [H,W] and the low-resolution map [h,w].</param>
/// <param name="Colormap">"viridis" (default), "gray", "jet" or "turbo".</param>
/// <param name="Opacity">Of the heatmap over the picture, 0–1 (default 0.5).</param>
public sealed record GradCamParams(
    string? Model,
    string Image,
    string Layer,
    [property: JsonValue(nameof(JsonValues.Target))] JsonElement? Target,
    string? Method,
    bool? Raw,
    string? Colormap,
    double? Opacity);

/// <param name="Target">The resolved target: "7" (class) or "features.12:5" (channel).</param>
/// <param name="Score">The target's logit (pre-softmax) or the channel's mean activation.</param>
/// <param name="Shape">The map's shape at the input resolution [H,W].</param>
/// <param name="LowResShape">The layer's resolution [h,w].</param>
/// <param name="Png">The heatmap over the image.</param>
/// <param name="HeatmapPng">The heatmap alone.</param>
/// <param name="Raw">The map [H,W], min-max normalised (with raw: true).</param>
/// <param name="RawLowRes">The map [h,w] after the ReLU, before normalisation (with raw: true).</param>
/// <param name="Weights">Each channel's weight α_k (with raw: true).</param>
/// <param name="Empty">The map is zero everywhere (every position's weighted sum was negative); <c>Hint</c> says what to try.</param>
/// <param name="LegendPng">The colormap from 0 (left) to 1 (right), 256×1 pixels: the legend of the heatmap.</param>
public sealed record GradCamResultDto(
    string Model,
    string Method,
    LayerInfo Layer,
    string Target,
    string TargetLabel,
    float Score,
    int[] Shape,
    int[] LowResShape,
    string Png,
    string HeatmapPng,
    RawArray? Raw,
    RawArray? RawLowRes,
    float[]? Weights,
    bool Empty = false,
    string? Hint = null,
    string? LegendPng = null);

/// <param name="Channels">Channels to optimise; when absent, page <paramref name="Page"/> of 64 channels.</param>
/// <param name="Preset">"readable" (default), "classic" or "fast" (coarse to fine: a fraction of the time, a lower activation reached).</param>
/// <param name="Steps">Ascent steps (default: the preset's, 128 readable, 48 fast, 30 classic).</param>
/// <param name="Seed">Same seed, same pattern (default 0).</param>
/// <param name="Size">Side of the square pattern in pixels (default: the model's input size).</param>
/// <param name="Raw">Also return the pixels [K,C,H,W] in [0,1].</param>
/// <param name="WorkDoneToken">When set, progress (per step) goes out as $/progress, with the finished channels in value.patterns after each batch.</param>
public sealed record FilterPatternsParams(
    string? Model,
    string Layer,
    int[]? Channels,
    string? Preset,
    int? Steps,
    int? Seed,
    bool? Raw,
    int? Page,
    int? Size,
    [property: JsonValue(nameof(JsonValues.ProgressToken))] JsonElement? WorkDoneToken);

/// <param name="PatternShape">One pattern's shape [C,H,W].</param>
/// <param name="Patterns">Per channel, in grid order: its mean activation before and after, and whether it came from the disk cache.</param>
/// <param name="Png">The grid of patterns, labelled with channel numbers.</param>
/// <param name="ForwardPasses">Passes through the truncated network this request ran (0: all from the cache).</param>
/// <param name="Grid">Where each pattern's cell lies in <paramref name="Png"/> (its label is below the cell).</param>
public sealed record FilterPatternsResultDto(
    string Model,
    LayerInfo Layer,
    string Preset,
    int Steps,
    int Seed,
    int[] PatternShape,
    int Page,
    int PageCount,
    IReadOnlyList<FilterPattern> Patterns,
    string Png,
    RawArray? Raw,
    int ForwardPasses,
    GridLayout? Grid = null);

// ---- LIME and SHAP (issue 5) ----

/// <summary>Whole numbers as base64 of little-endian int32, with their shape (segment ids).</summary>
public sealed record RawIntArray(int[] Shape, string Data, string Dtype = "int32")
{
    public static RawIntArray From(int[] values, int[] shape) =>
        new(shape, Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())));
}

/// <summary>The sampling options explain/lime and explain/shap share (their JSON names are the contract; this names them once).</summary>
public interface ISamplingParams
{
    JsonElement? Target { get; }
    JsonElement? Samples { get; }
    int? Segments { get; }
    int? Seed { get; }
    double? Compactness { get; }
    string? Baseline { get; }
    string? Score { get; }
    int? MemoryBudgetMiB { get; }
}

/// <param name="Target">A class index (number or "7"), or "LAYER:CHANNEL"; absent: the top class.</param>
/// <param name="Samples">A number (10–100000, default 1000) or "auto": stop when the top segments are stable.</param>
/// <param name="Segments">Superpixels to aim for (default by input size: 18 at 28×28, 74 at 224×224).</param>
/// <param name="Seed">Same seed, same numbers, whatever the batch size (default 0).</param>
/// <param name="Raw">Also return the per-pixel weight map [H,W] and the segment ids [H,W].</param>
/// <param name="Compactness">SLIC's colour/space balance (default 10).</param>
/// <param name="Baseline">What hidden segments show: "black" (the default for models drawn on black, such as fashion-vgg), "gray" (the model's mean colour; the default otherwise), "mean" (each segment's mean, lime's default) or "blur".</param>
/// <param name="Score">"probability" (default, as lime) or "logit".</param>
/// <param name="MemoryBudgetMiB">Activations one batch may hold (sets the batch size; default 1024 or CNN_INTERPRET_MEMORY_BUDGET_MIB).</param>
/// <param name="WorkDoneToken">When set, partial results (about every second) go out as $/progress with <see cref="SamplingPartialDto"/> in value.partial.</param>
public sealed record LimeParams(
    string? Model,
    string Image,
    [property: JsonValue(nameof(JsonValues.Target))] JsonElement? Target,
    [property: JsonValue(nameof(JsonValues.Samples))] JsonElement? Samples,
    int? Segments,
    int? Seed,
    bool? Raw,
    double? Compactness,
    string? Baseline,
    string? Score,
    int? MemoryBudgetMiB,
    [property: JsonValue(nameof(JsonValues.ProgressToken))] JsonElement? WorkDoneToken) : ISamplingParams;

/// <summary>A partial LIME/SHAP result: the numbers so far and the map rendered from them.</summary>
/// <param name="Values">Per target: the weight of each segment so far (null for GradientSHAP, whose maps are large).</param>
/// <param name="Png">The picture and the map(s) so far.</param>
public sealed record SamplingPartialDto(int Samples, int Total, float[][]? Values, string Png);

/// <param name="Segments">Number of superpixels S; segment i is weights[i].</param>
/// <param name="Weights">The surrogate's coefficient per segment [S].</param>
/// <param name="R2">Weighted R² of the surrogate on its samples.</param>
/// <param name="Fx">The model's score of the image (see <paramref name="Score"/>).</param>
/// <param name="Score">"probability", "logit" or "activation" (a channel target).</param>
/// <param name="Stability">Top-segment agreement between surrogates fitted on two halves of the samples (0–1).</param>
/// <param name="Cancelled">The request was cancelled: the result uses the samples scored until then.</param>
/// <param name="TopPositive">Up to 8 segments with the largest positive weights, strongest first.</param>
/// <param name="Png">The picture and the weight map (red raises the score, blue lowers it).</param>
/// <param name="SegmentsPng">Segment boundaries over the picture.</param>
/// <param name="TopPng">The top positive segments, the rest dimmed.</param>
/// <param name="Raw">The weight map [H,W] (with raw: true).</param>
/// <param name="RawSegments">Segment ids [H,W] (with raw: true).</param>
/// <param name="Confidence">samples "auto" only: its estimated chance (0–1) that the weights have converged (Spearman ≥ 0.9 with the limit, the same top 8 but one).</param>
/// <param name="AutoNote">samples "auto" only: where it stopped and how sure it is, or that it did not converge within its cap and what to try.</param>
public sealed record LimeResultDto(
    string Model,
    string Target,
    string TargetLabel,
    int Segments,
    float[] Weights,
    double Intercept,
    double R2,
    double LocalPrediction,
    double Fx,
    string Score,
    int Samples,
    int Seed,
    string Baseline,
    double Stability,
    bool Cancelled,
    int[] TopPositive,
    int[] TopNegative,
    int BatchSize,
    double Seconds,
    string Png,
    string SegmentsPng,
    string TopPng,
    RawArray? Raw,
    RawIntArray? RawSegments,
    double? Confidence = null,
    string? AutoNote = null);

/// <param name="Method">"kernel" (KernelSHAP over superpixels, the default) or "gradient" (GradientSHAP / expected gradients).</param>
/// <param name="Target">As for LIME; absent: the two most probable classes, side by side on one scale.</param>
/// <param name="Layer">GradientSHAP only: attribute this layer's activation (a conv, ReLU or pooling layer).</param>
/// <param name="Samples">KernelSHAP: 10–100000 (default 1000; exact Shapley values when 2^S fits); GradientSHAP: default 128; or "auto".</param>
/// <param name="Baseline">KernelSHAP: as LIME's ("black" for models drawn on black, else "gray"; "mean", "blur"); GradientSHAP: "dataset" (default where the model has a background set), "blur" (default otherwise), "black", "noise".</param>
/// <param name="Score">KernelSHAP: "probability" (default) or "logit"; GradientSHAP: "logit" (default) or "probability".</param>
public sealed record ShapParams(
    string? Model,
    string Image,
    [property: JsonValue(nameof(JsonValues.Target))] JsonElement? Target,
    string? Method,
    string? Layer,
    [property: JsonValue(nameof(JsonValues.Samples))] JsonElement? Samples,
    int? Segments,
    int? Seed,
    bool? Raw,
    double? Compactness,
    string? Baseline,
    string? Score,
    int? MemoryBudgetMiB,
    [property: JsonValue(nameof(JsonValues.ProgressToken))] JsonElement? WorkDoneToken) : ISamplingParams;

/// <param name="Values">KernelSHAP: the value of each segment [S]; GradientSHAP: null (see raw).</param>
/// <param name="Fx">f(image).</param>
/// <param name="FBaseline">KernelSHAP: f(all segments hidden); GradientSHAP: the mean score of the baselines.</param>
/// <param name="Sum">Σ values: KernelSHAP exactly fx − fbaseline; GradientSHAP approximately.</param>
/// <param name="EfficiencyGap">Sum − (fx − fbaseline).</param>
/// <param name="Raw">KernelSHAP: the map [H,W]; GradientSHAP: the attributions [C,H,W] of the input or layer (with raw: true).</param>
public sealed record ShapTargetDto(
    string Target,
    string Label,
    float[]? Values,
    double Fx,
    [property: System.Text.Json.Serialization.JsonPropertyName("fbaseline")] double FBaseline,
    double Sum,
    double EfficiencyGap,
    RawArray? Raw);

/// <param name="Targets">One entry per explained target (two by default), in the order of the png's panels.</param>
/// <param name="Shape">The shape of each target's raw values.</param>
/// <param name="MapShape">The shape of the drawn maps [h,w].</param>
/// <param name="Exact">KernelSHAP evaluated every coalition (Shapley's formula).</param>
/// <param name="Limit">The shared colour scale of png: [−limit, +limit].</param>
/// <param name="Confidence">KernelSHAP with samples "auto" only: its estimated chance (0–1) that the first target's values have converged.</param>
/// <param name="AutoNote">KernelSHAP with samples "auto" only: where it stopped and how sure it is, or that it did not converge within its cap and what to try.</param>
/// <param name="Png">The picture, then each target's map, on one signed scale.</param>
public sealed record ShapResultDto(
    string Model,
    string Method,
    IReadOnlyList<ShapTargetDto> Targets,
    int Segments,
    int[] Shape,
    int[] MapShape,
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
    double Seconds,
    string Png,
    string SegmentsPng,
    RawIntArray? RawSegments,
    double? Confidence = null,
    string? AutoNote = null);

// ---- Trust: faithfulness metrics, the sanity check, layer sweeps (issue 8) ----

/// <param name="Method">Any method of daemon/methods' trustMethods (the registry's, "lime", "kernel-shap" and "gradient-shap" among them).</param>
/// <param name="Layer">A layer method's layer (default: the last conv layer).</param>
/// <param name="Options">A registry method's options, as for explain/attribution.</param>
/// <param name="Target">As for explain/gradCam: a class index, "LAYER:CHANNEL", or absent for the top class.</param>
/// <param name="Steps">Points on each curve after the start (default 32).</param>
/// <param name="Samples">For LIME and SHAP: their sample count (default: the method's own).</param>
public sealed record MetricsParams(
    string? Model,
    string Image,
    string Method,
    string? Layer,
    [property: JsonValue(nameof(JsonValues.Target))] JsonElement? Target,
    int? Steps,
    [property: JsonValue(nameof(JsonValues.Samples))] JsonElement? Samples,
    int? Segments,
    int? Seed,
    [property: JsonValue(nameof(JsonValues.ProgressToken))] JsonElement? WorkDoneToken,
    [property: JsonValue(nameof(JsonValues.MethodOptionValue))] IReadOnlyDictionary<string, JsonElement>? Options = null);

/// <param name="Score">"probability" (class targets) or "activation" (channel targets).</param>
/// <param name="Fractions">The fraction of pixels removed (deletion) or revealed (insertion) at each point.</param>
/// <param name="Png">The two plots: this map's curves over the random reference's, with their AUCs.</param>
/// <param name="RoadPercentages">ROAD (remove and debias, pytorch-grad-cam's ROADMostRelevantFirst/LeastRelevantFirst): the
/// percentage of pixels removed at each point (10 … 90), by noisy linear imputation.</param>
/// <param name="RoadMostRelevantFirst">The score as the most relevant pixels go; its auc is the curve's mean (low is good).</param>
/// <param name="RoadLeastRelevantFirst">The score as the least relevant pixels go (high is good).</param>
/// <param name="RoadCombined">pytorch-grad-cam's ROADCombined: (least − most relevant first) ÷ 2, averaged; higher is better.</param>
public sealed record MetricsResultDto(
    string Model,
    string Method,
    string Target,
    string TargetLabel,
    string Score,
    double[] Fractions,
    CurveDto Deletion,
    CurveDto Insertion,
    CurveDto RandomDeletion,
    CurveDto RandomInsertion,
    string Png,
    double[]? RoadPercentages = null,
    CurveDto? RoadMostRelevantFirst = null,
    CurveDto? RoadLeastRelevantFirst = null,
    double? RoadCombined = null);

public sealed record CurveDto(double[] Values, double Auc);

/// <param name="Stages">How many layers to randomise, from the top (default: all with parameters).</param>
/// <param name="Segments">For LIME and KernelSHAP: their superpixel count, as for explain/lime (default: the method's own).</param>
public sealed record SanityParams(
    string? Model,
    string Image,
    string Method,
    string? Layer,
    [property: JsonValue(nameof(JsonValues.Target))] JsonElement? Target,
    int? Stages,
    [property: JsonValue(nameof(JsonValues.Samples))] JsonElement? Samples,
    int? Seed,
    [property: JsonValue(nameof(JsonValues.ProgressToken))] JsonElement? WorkDoneToken,
    [property: JsonValue(nameof(JsonValues.MethodOptionValue))] IReadOnlyDictionary<string, JsonElement>? Options = null,
    int? Segments = null);

/// <param name="Layer">The layer randomised last in this stage (null: the original model).</param>
/// <param name="RankCorrelation">Spearman's ρ with the original map (null when the map went flat).</param>
public sealed record SanityStageDto(string? Layer, string Label, double? RankCorrelation);

/// <param name="Flagged">The map hardly changed as the model was destroyed: it does not explain the model.</param>
/// <param name="Png">The strip of maps, original first.</param>
public sealed record SanityResultDto(string Model, string Method, string Target, string TargetLabel, IReadOnlyList<SanityStageDto> Stages,
    bool Flagged, string Verdict, string Png);

public sealed record LayerSweepParams(string? Model, string Image, [property: JsonValue(nameof(JsonValues.Target))] JsonElement? Target, string? Method, bool? Raw);

public sealed record LayerSweepMapDto(LayerInfo Layer, int[] LowResShape, RawArray? Raw);

/// <param name="Png">The strip: one Grad-CAM per conv layer, shallow to deep.</param>
public sealed record LayerSweepResultDto(string Model, string Target, string TargetLabel, float Score, IReadOnlyList<LayerSweepMapDto> Layers, string Png);

// ---- The explainer registry (issue 16) ----

/// <param name="Type">"integer", "number", "choice" or "boolean".</param>
/// <param name="Default">The value used when the option is left out.</param>
/// <param name="Choices">For "choice": the allowed values.</param>
public sealed record MethodOptionDto(string Name, string Type, [property: JsonValue(nameof(JsonValues.MethodOptionValue))] object Default, string Description, IReadOnlyList<string>? Choices,
    double? Minimum, double? Maximum);

/// <param name="Name">What explain/attribution's <c>method</c> takes (and the CLI's <c>explain --method</c>).</param>
/// <param name="Group">"gradients", "cam", "perturbation" or "superpixels": how the panel groups the methods.</param>
/// <param name="Kind">"pixel" (attributions of the input), "layer" (a map at a spatial layer: takes <c>layer</c>) or "superpixel" (each segment's value painted over its pixels).</param>
/// <param name="Signed">The map has a sign: positive raises the target's score, negative lowers it.</param>
/// <param name="Sampling">Many forward passes: queued behind other long requests, with progress and cancellation.</param>
/// <param name="View">The panel's own view of the method ("lime", "shap"), where it is shown instead of in its group's tab; absent for most.</param>
public sealed record MethodInfoDto(string Name, string DisplayName, string Group, string Kind, bool Signed, bool Sampling, bool NeedsLayer,
    string Paper, IReadOnlyList<MethodOptionDto> Options, string? View = null)
{
    public static MethodInfoDto From(ExplainerInfo info) => new(info.Name, info.DisplayName, info.Group, info.Kind.ToString().ToLowerInvariant(),
        info.Signed, info.Sampling, info.NeedsLayer, info.Paper,
        info.Options.Select(o => new MethodOptionDto(o.Name, o.Type.ToString().ToLowerInvariant(), o.Default, o.Description, o.Choices, o.Minimum, o.Maximum)).ToList(),
        info.View);
}

/// <param name="Methods">Every method explain/attribution runs, in the order the panel lists them.</param>
/// <param name="TrustMethods">Every method explain/metrics and explain/sanity score: the registry's (LIME, KernelSHAP and GradientSHAP among them).</param>
public sealed record DaemonMethodsResult(IReadOnlyList<MethodInfoDto> Methods, IReadOnlyList<string> TrustMethods);

/// <param name="Method">A name from daemon/methods.</param>
/// <param name="Layer">For layer methods: a layer with a spatial output, or a block (default: the last conv layer). Pixel methods take none.</param>
/// <param name="Target">A class index (number or "7"), or "LAYER:CHANNEL"; absent: the top class.</param>
/// <param name="Options">The method's options by name (numbers, strings or booleans); absent ones take their defaults.</param>
/// <param name="Raw">Also return the numbers: the map [H,W], per-channel attributions [C,H,W] (pixel methods), the low-resolution map and channel weights (layer methods).</param>
/// <param name="Colormap">Of unsigned maps: "viridis" (default), "gray", "jet" (pytorch-grad-cam's) or "turbo".</param>
/// <param name="Opacity">Of an unsigned map over the picture, 0–1 (default 0.5).</param>
/// <param name="WorkDoneToken">When set, a sampling method's progress goes out as $/progress.</param>
public sealed record AttributionParams(
    string? Model,
    string Image,
    string Method,
    string? Layer,
    [property: JsonValue(nameof(JsonValues.Target))] JsonElement? Target,
    [property: JsonValue(nameof(JsonValues.MethodOptionValue))] IReadOnlyDictionary<string, JsonElement>? Options,
    bool? Raw,
    string? Colormap,
    double? Opacity,
    [property: JsonValue(nameof(JsonValues.ProgressToken))] JsonElement? WorkDoneToken);

/// <param name="Options">The options in use, defaults included.</param>
/// <param name="Figures">What the method reports about its answer, e.g. integrated gradients' completenessError.</param>
/// <param name="Note">Something the user should know about this answer, or null.</param>
/// <param name="Png">The map over the picture.</param>
/// <param name="LegendPng">Of an unsigned map: its colormap from 0 (left) to 1 (right), 256×1 pixels (a signed map's legend is drawn in its heatmap).</param>
/// <param name="HeatmapPng">The map alone (signed maps: beside the picture, with the scale).</param>
/// <param name="SegmentValues">Superpixel methods (LIME, KernelSHAP): the value of each segment, [S].</param>
/// <param name="RawSegments">Superpixel methods, with <c>raw</c>: the segment of each pixel, int32 [H,W], ids 0…S−1.</param>
public sealed record AttributionResultDto(
    string Model,
    string Method,
    string DisplayName,
    string Kind,
    bool Signed,
    LayerInfo? Layer,
    string Target,
    string TargetLabel,
    float Score,
    int[] Shape,
    [property: JsonValue(nameof(JsonValues.MethodOptionValue))] IReadOnlyDictionary<string, object> Options,
    IReadOnlyDictionary<string, double> Figures,
    string? Note,
    string Png,
    string HeatmapPng,
    RawArray? Raw,
    RawArray? RawAttributions,
    RawArray? RawLowRes,
    float[]? Weights,
    string? LegendPng = null,
    float[]? SegmentValues = null,
    RawIntArray? RawSegments = null);
