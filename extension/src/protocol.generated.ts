// GENERATED from the daemon's protocol (src/CnnInterpret.Daemon/Protocol.cs: its records, the handlers' methods,
// ErrorKind and the Core records they carry) by build/ProtocolTypeScript. Do not edit: change the C#, then run
// `npm run protocol` at the repository root (a .NET test fails while this file differs from what it writes).
// Members are those System.Text.Json writes with the daemon's options: camelCase, nulls left out, so a member
// that is nullable in C#, or has a default, is optional here.

/** A class index (number or "7"), or "LAYER:CHANNEL" (e.g. "features.12:5"). */
export type Target = number | string;

/** A sample count, or "auto": sample until the result is stable. */
export type Samples = number | "auto";

/** A work-done progress token, as in LSP. */
export type ProgressToken = string | number;

/** A value of a method's option: "integer" and "number" options take numbers, "choice" strings, "boolean" booleans. */
export type MethodOptionValue = number | string | boolean;

/** Every method the daemon serves, `area/verb`. */
export const Methods = {
    daemonInfo: "daemon/info",
    modelsList: "models/list",
    modelsLoad: "models/load",
    modelsFetch: "models/fetch",
    modelsAdd: "models/add",
    imagePredict: "image/predict",
    explainFeatureMaps: "explain/featureMaps",
    explainGradCam: "explain/gradCam",
    explainFilterPatterns: "explain/filterPatterns",
    explainLime: "explain/lime",
    explainShap: "explain/shap",
    explainMetrics: "explain/metrics",
    explainSanity: "explain/sanity",
    explainLayerSweep: "explain/layerSweep",
    daemonMethods: "daemon/methods",
    explainAttribution: "explain/attribution",
} as const;

export type MethodName = (typeof Methods)[keyof typeof Methods];

/** The kinds of failure a client can branch on. The numeric values are part of the daemon's protocol (they become JSON-RPC error codes) and must never change. Then the daemon's other JSON-RPC codes. */
export const ErrorCodes = {
    badImage: 1001,
    unknownModel: 1002,
    unknownLayer: 1003,
    invalidArgument: 1004,
    outOfMemory: 1005,
    badModelFile: 1006,
    network: 1007,
    weightsMissing: 1008,
    internal: 1099,
    /** The request was cancelled ($/cancelRequest), as in LSP. */
    requestCancelled: -32800,
    /** A message that is not JSON-RPC (a malformed header, a body that is not JSON, one over the size limit). */
    parseError: -32700,
    /** No such method: an older daemon, or a misspelt name. */
    methodNotFound: -32601,
    /** The parameters do not bind to the method's record (a field of the wrong type). */
    invalidParams: -32602,
} as const;

export interface DaemonInfoResult {
    version: string;
    torchSharpVersion: string;
    libTorchVersion: string;
    device: string;
    processId: number;
    models: ModelSummary[];
    /** The daemon's resident memory now (what the OS counts). */
    residentBytes?: number;
    /** The one memory budget (--memory-budget, cnnInterpret.memoryBudgetMiB). */
    memoryBudgetBytes?: number;
    /** The ids of the models in memory now. */
    loadedModels?: string[];
}

export interface ModelSummary {
    id: string;
    displayName: string;
    description: string;
    inputShape: number[];
    classCount: number;
    loaded: boolean;
    /** "built in" (weights ship with the tool), "ready" (fetched) or "weights missing" (models/fetch or models/add first). */
    state?: string;
    weightsUrl?: string;
    weightsFile?: string;
}

export interface ModelsListResult {
    models: ModelSummary[];
    defaultModel: string;
}

/** A model to load. The preprocessing and labels fields override the model file's sidecar (FILE.json beside it, with the same fields), which overrides its ONNX metadata_props, which override the model's defaults. */
export interface ModelParams {
    /** A built-in id, or the path of a model file (.pth/.pt/.safetensors/.onnx). */
    model?: string;
    /** Other weights for a built-in architecture (a checkpoint or safetensors file; for vgg16 also Keras's .h5). */
    weights?: string;
    /** The torchvision architecture of a checkpoint file, when it cannot be inferred. */
    arch?: string;
    /** "imagenet", "unit", "minus-one-to-one" or "caffe": a mean and std by name. */
    preset?: string;
    /** R,G,B on the 0–1 scale (or one value). */
    mean?: number[];
    /** R,G,B on the 0–1 scale (or one value). */
    std?: number[];
    /** The shorter side after resizing, in pixels. */
    resize?: number;
    /** The center crop: [size] or [height, width]. */
    crop?: number[];
    /** "rgb", "bgr" or "gray". */
    channels?: string;
    /** The class names, in output order. */
    labels?: string[];
    /** A file of class names: one per line, or a JSON list. */
    labelsFile?: string;
}

export interface ModelDetails {
    id: string;
    displayName: string;
    inputShape: number[];
    classes: string[];
    layers: LayerInfo[];
    parameterCount: number;
    weightsSha256: string;
    /** The preprocessing in use and where each part came from. */
    preprocessing?: Preprocessing;
}

/** One layer of a model, as the tree, the CLI and the protocol show it. */
export interface LayerInfo {
    /** Stable torchvision-style module path, e.g. `features.0`. */
    name: string;
    /** Keras-style friendly name, e.g. `block1_conv1`. */
    displayName: string;
    /** Module kind, e.g. `Conv2d`, `ReLU`, `MaxPool2d`, `Linear`. */
    kind: string;
    /** The block the layer belongs to (e.g. `block1`, `classifier`), for the layer tree. */
    group: string;
    /** Shape of one image's output, without the batch dimension. */
    outputShape: number[];
    /** Number of trainable scalars in this layer. */
    parameterCount: number;
    /** True when the output is a [C,H,W] map (what feature maps and Grad-CAM need). */
    isSpatial: boolean;
}

/** What a model does to an image before the network sees it. */
export interface Preprocessing {
    /** The preset whose mean and std are in use, or null. */
    preset?: string;
    /** R,G,B (gray: one value), on the 0–1 scale. */
    mean: number[];
    /** R,G,B (gray: one value), on the 0–1 scale. */
    std: number[];
    /** The shorter side after resizing, in pixels. */
    resize: number;
    /** [height, width] of the center crop. */
    crop: number[];
    /** "rgb", "bgr" or "gray". */
    channels: string;
    /** Where the fields not in `sources` come from (e.g. "torchvision's ImageNet transform"). */
    defaults: string;
    /** For each field set by the user ("mean", "labels"…), where: a sidecar's path, "request" (this request's parameters), "flags" (the command line), or an ONNX file's metadata_props. */
    sources: Record<string, string>;
    /** The sidecar file this model reads (it may not exist yet), for model files. */
    sidecar?: string;
}

export interface ModelsFetchParams {
    model: string;
    /** A mirror to download from instead of the published address. */
    url?: string;
    /** The full sha256 to check (the file name's prefix is always checked). */
    sha256?: string;
    workDoneToken?: ProgressToken;
}

export interface ModelsFetchResult {
    model: string;
    path: string;
    bytes: number;
}

export interface ModelsAddParams {
    model: string;
    /** Weights downloaded elsewhere, verified and copied into the cache. */
    file: string;
    sha256?: string;
}

export interface ModelsAddResult {
    model: string;
    path: string;
}

export interface PredictParams {
    model?: string;
    image: string;
    topK?: number;
}

export interface PredictResult {
    model: string;
    image: string;
    top: ClassScore[];
    logits: number[];
    /** Whether the image suits the model; when not, why, and which built-in models suit it better. */
    fit?: Fit;
}

export interface ClassScore {
    index: number;
    label: string;
    probability: number;
    logit: number;
}

export interface Fit {
    suitable: boolean;
    reason?: string;
    suggestions: string[];
}

export interface FeatureMapsParams {
    model?: string;
    image: string;
    layer: string;
    /** Channels to show; when absent, page `page` of 64 channels. */
    channels?: number[];
    /** Also return the numbers (base64 little-endian float32). */
    raw?: boolean;
    page?: number;
    /** "perChannel" (default) or "shared". */
    scaling?: string;
    /** "viridis" (default), "gray", "jet" or "turbo". */
    colormap?: string;
}

export interface FeatureMapsResult {
    model: string;
    layer: LayerInfo;
    shape: number[];
    channels: number[];
    page: number;
    pageCount: number;
    /** Per channel shown, in grid order: its range, mean, spread and top position (row, column at the layer's resolution). */
    stats: ChannelStats[];
    png: string;
    raw?: RawArray;
    /** Where each channel's cell lies in `png`. */
    grid?: GridLayout;
}

export interface ChannelStats {
    channel: number;
    min: number;
    max: number;
    mean: number;
    std: number;
    /** The row of the channel's largest value (its first, in row-major order), in the layer's own resolution. */
    topY?: number;
    /** Its column. */
    topX?: number;
}

/** Numbers as base64 of little-endian float32, with their shape. */
export interface RawArray {
    shape: number[];
    data: string;
}

/** Where a grid's cells lie in its picture, in picture pixels: cell i's top-left corner is (Left + (i mod Columns)·StepX, Top + ⌊i ÷ Columns⌋·StepY), and each map pixel is Scale×Scale picture pixels. What the panel needs to tell which channel was clicked and to show one cell large. */
export interface GridLayout {
    columns: number;
    rows: number;
    left: number;
    top: number;
    cellWidth: number;
    cellHeight: number;
    stepX: number;
    stepY: number;
    scale: number;
}

export interface GradCamParams {
    model?: string;
    image: string;
    /** A layer with a spatial output (conv, ReLU, pool), or a block name such as "block3" (its last one). */
    layer: string;
    /** A class index (number or "7"), or "LAYER:CHANNEL" (e.g. "features.12:5"); absent: the top class. */
    target?: Target;
    /** "grad-cam" (default) or "grad-cam++". */
    method?: string;
    /** Also return the numbers: the map [H,W] and the low-resolution map [h,w]. */
    raw?: boolean;
    /** "viridis" (default), "gray", "jet" or "turbo". */
    colormap?: string;
    /** Of the heatmap over the picture, 0–1 (default 0.5). */
    opacity?: number;
}

export interface GradCamResult {
    model: string;
    method: string;
    layer: LayerInfo;
    /** The resolved target: "7" (class) or "features.12:5" (channel). */
    target: string;
    targetLabel: string;
    /** The target's logit (pre-softmax) or the channel's mean activation. */
    score: number;
    /** The map's shape at the input resolution [H,W]. */
    shape: number[];
    /** The layer's resolution [h,w]. */
    lowResShape: number[];
    /** The heatmap over the image. */
    png: string;
    /** The heatmap alone. */
    heatmapPng: string;
    /** The map [H,W], min-max normalised (with raw: true). */
    raw?: RawArray;
    /** The map [h,w] after the ReLU, before normalisation (with raw: true). */
    rawLowRes?: RawArray;
    /** Each channel's weight α_k (with raw: true). */
    weights?: number[];
    /** The map is zero everywhere (every position's weighted sum was negative); `Hint` says what to try. */
    empty?: boolean;
    hint?: string;
    /** The colormap from 0 (left) to 1 (right), 256×1 pixels: the legend of the heatmap. */
    legendPng?: string;
}

export interface FilterPatternsParams {
    model?: string;
    layer: string;
    /** Channels to optimise; when absent, page `page` of 64 channels. */
    channels?: number[];
    /** "readable" (default), "classic" or "fast" (coarse to fine: a fraction of the time, a lower activation reached). */
    preset?: string;
    /** Ascent steps (default: the preset's, 128 readable, 48 fast, 30 classic). */
    steps?: number;
    /** Same seed, same pattern (default 0). */
    seed?: number;
    /** Also return the pixels [K,C,H,W] in [0,1]. */
    raw?: boolean;
    page?: number;
    /** Side of the square pattern in pixels (default: the model's input size). */
    size?: number;
    /** When set, progress (per step) goes out as $/progress, with the finished channels in value.patterns after each batch. */
    workDoneToken?: ProgressToken;
}

export interface FilterPatternsResult {
    model: string;
    layer: LayerInfo;
    preset: string;
    steps: number;
    seed: number;
    /** One pattern's shape [C,H,W]. */
    patternShape: number[];
    page: number;
    pageCount: number;
    /** Per channel, in grid order: its mean activation before and after, and whether it came from the disk cache. */
    patterns: FilterPattern[];
    /** The grid of patterns, labelled with channel numbers. */
    png: string;
    raw?: RawArray;
    /** Passes through the truncated network this request ran (0: all from the cache). */
    forwardPasses: number;
    /** Where each pattern's cell lies in `png` (its label is below the cell). */
    grid?: GridLayout;
}

/** One channel's pattern: its mean activation on the starting image and on the pattern as returned (the pixels shown). */
export interface FilterPattern {
    channel: number;
    activationBefore: number;
    activationAfter: number;
    fromCache: boolean;
    /** Set when the pattern needs a word of explanation, e.g. a channel that never responded to its input. */
    note?: string;
}

export interface LimeParams {
    model?: string;
    image: string;
    /** A class index (number or "7"), or "LAYER:CHANNEL"; absent: the top class. */
    target?: Target;
    /** A number (10–100000, default 1000) or "auto": stop when the top segments are stable. */
    samples?: Samples;
    /** Superpixels to aim for (default by input size: 18 at 28×28, 74 at 224×224). */
    segments?: number;
    /** Same seed, same numbers, whatever the batch size (default 0). */
    seed?: number;
    /** Also return the per-pixel weight map [H,W] and the segment ids [H,W]. */
    raw?: boolean;
    /** SLIC's colour/space balance (default 10). */
    compactness?: number;
    /** What hidden segments show: "black" (the default for models drawn on black, such as fashion-vgg), "gray" (the model's mean colour; the default otherwise), "mean" (each segment's mean, lime's default) or "blur". */
    baseline?: string;
    /** "probability" (default, as lime) or "logit". */
    score?: string;
    /** Activations one batch may hold (sets the batch size; default 1024 or CNN_INTERPRET_MEMORY_BUDGET_MIB). */
    memoryBudgetMiB?: number;
    /** When set, partial results (about every second) go out as $/progress with `SamplingPartial` in value.partial. */
    workDoneToken?: ProgressToken;
}

export interface LimeResult {
    model: string;
    target: string;
    targetLabel: string;
    /** Number of superpixels S; segment i is weights[i]. */
    segments: number;
    /** The surrogate's coefficient per segment [S]. */
    weights: number[];
    intercept: number;
    /** Weighted R² of the surrogate on its samples. */
    r2: number;
    localPrediction: number;
    /** The model's score of the image (see `score`). */
    fx: number;
    /** "probability", "logit" or "activation" (a channel target). */
    score: string;
    samples: number;
    seed: number;
    baseline: string;
    /** Top-segment agreement between surrogates fitted on two halves of the samples (0–1). */
    stability: number;
    /** The request was cancelled: the result uses the samples scored until then. */
    cancelled: boolean;
    /** Up to 8 segments with the largest positive weights, strongest first. */
    topPositive: number[];
    topNegative: number[];
    batchSize: number;
    seconds: number;
    /** The picture and the weight map (red raises the score, blue lowers it). */
    png: string;
    /** Segment boundaries over the picture. */
    segmentsPng: string;
    /** The top positive segments, the rest dimmed. */
    topPng: string;
    /** The weight map [H,W] (with raw: true). */
    raw?: RawArray;
    /** Segment ids [H,W] (with raw: true). */
    rawSegments?: RawIntArray;
    /** samples "auto" only: its estimated chance (0–1) that the weights have converged (Spearman ≥ 0.9 with the limit, the same top 8 but one). */
    confidence?: number;
    /** samples "auto" only: where it stopped and how sure it is, or that it did not converge within its cap and what to try. */
    autoNote?: string;
}

/** Whole numbers as base64 of little-endian int32, with their shape (segment ids). */
export interface RawIntArray {
    shape: number[];
    data: string;
    dtype?: string;
}

export interface ShapParams {
    model?: string;
    image: string;
    /** As for LIME; absent: the two most probable classes, side by side on one scale. */
    target?: Target;
    /** "kernel" (KernelSHAP over superpixels, the default) or "gradient" (GradientSHAP / expected gradients). */
    method?: string;
    /** GradientSHAP only: attribute this layer's activation (a conv, ReLU or pooling layer). */
    layer?: string;
    /** KernelSHAP: 10–100000 (default 1000; exact Shapley values when 2^S fits); GradientSHAP: default 128; or "auto". */
    samples?: Samples;
    segments?: number;
    seed?: number;
    raw?: boolean;
    compactness?: number;
    /** KernelSHAP: as LIME's ("black" for models drawn on black, else "gray"; "mean", "blur"); GradientSHAP: "dataset" (default where the model has a background set), "blur" (default otherwise), "black", "noise". */
    baseline?: string;
    /** KernelSHAP: "probability" (default) or "logit"; GradientSHAP: "logit" (default) or "probability". */
    score?: string;
    memoryBudgetMiB?: number;
    workDoneToken?: ProgressToken;
}

export interface ShapResult {
    model: string;
    method: string;
    /** One entry per explained target (two by default), in the order of the png's panels. */
    targets: ShapTarget[];
    segments: number;
    /** The shape of each target's raw values. */
    shape: number[];
    /** The shape of the drawn maps [h,w]. */
    mapShape: number[];
    samples: number;
    seed: number;
    /** KernelSHAP evaluated every coalition (Shapley's formula). */
    exact: boolean;
    paired: boolean;
    stability: number;
    cancelled: boolean;
    baseline: string;
    score: string;
    layer?: string;
    batchSize: number;
    /** The shared colour scale of png: [−limit, +limit]. */
    limit: number;
    seconds: number;
    /** The picture, then each target's map, on one signed scale. */
    png: string;
    segmentsPng: string;
    rawSegments?: RawIntArray;
    /** KernelSHAP with samples "auto" only: its estimated chance (0–1) that the first target's values have converged. */
    confidence?: number;
    /** KernelSHAP with samples "auto" only: where it stopped and how sure it is, or that it did not converge within its cap and what to try. */
    autoNote?: string;
}

export interface ShapTarget {
    target: string;
    label: string;
    /** KernelSHAP: the value of each segment [S]; GradientSHAP: null (see raw). */
    values?: number[];
    /** f(image). */
    fx: number;
    /** KernelSHAP: f(all segments hidden); GradientSHAP: the mean score of the baselines. */
    fbaseline: number;
    /** Σ values: KernelSHAP exactly fx − fbaseline; GradientSHAP approximately. */
    sum: number;
    /** Sum − (fx − fbaseline). */
    efficiencyGap: number;
    /** KernelSHAP: the map [H,W]; GradientSHAP: the attributions [C,H,W] of the input or layer (with raw: true). */
    raw?: RawArray;
}

export interface MetricsParams {
    model?: string;
    image: string;
    /** Any method of daemon/methods' trustMethods (the registry's, "lime", "kernel-shap" and "gradient-shap" among them). */
    method: string;
    /** A layer method's layer (default: the last conv layer). */
    layer?: string;
    /** As for explain/gradCam: a class index, "LAYER:CHANNEL", or absent for the top class. */
    target?: Target;
    /** Points on each curve after the start (default 32). */
    steps?: number;
    /** For LIME and SHAP: their sample count (default: the method's own). */
    samples?: Samples;
    segments?: number;
    seed?: number;
    workDoneToken?: ProgressToken;
    /** A registry method's options, as for explain/attribution. */
    options?: Record<string, MethodOptionValue>;
}

export interface MetricsResult {
    model: string;
    method: string;
    target: string;
    targetLabel: string;
    /** "probability" (class targets) or "activation" (channel targets). */
    score: string;
    /** The fraction of pixels removed (deletion) or revealed (insertion) at each point. */
    fractions: number[];
    deletion: Curve;
    insertion: Curve;
    randomDeletion: Curve;
    randomInsertion: Curve;
    /** The two plots: this map's curves over the random reference's, with their AUCs. */
    png: string;
    /** ROAD (remove and debias, pytorch-grad-cam's ROADMostRelevantFirst/LeastRelevantFirst): the percentage of pixels removed at each point (10 … 90), by noisy linear imputation. */
    roadPercentages?: number[];
    /** The score as the most relevant pixels go; its auc is the curve's mean (low is good). */
    roadMostRelevantFirst?: Curve;
    /** The score as the least relevant pixels go (high is good). */
    roadLeastRelevantFirst?: Curve;
    /** pytorch-grad-cam's ROADCombined: (least − most relevant first) ÷ 2, averaged; higher is better. */
    roadCombined?: number;
}

export interface Curve {
    values: number[];
    auc: number;
}

export interface SanityParams {
    model?: string;
    image: string;
    method: string;
    layer?: string;
    target?: Target;
    /** How many layers to randomise, from the top (default: all with parameters). */
    stages?: number;
    samples?: Samples;
    seed?: number;
    workDoneToken?: ProgressToken;
    options?: Record<string, MethodOptionValue>;
    /** For LIME and KernelSHAP: their superpixel count, as for explain/lime (default: the method's own). */
    segments?: number;
}

export interface SanityResult {
    model: string;
    method: string;
    target: string;
    targetLabel: string;
    stages: SanityStage[];
    /** The map hardly changed as the model was destroyed: it does not explain the model. */
    flagged: boolean;
    verdict: string;
    /** The strip of maps, original first. */
    png: string;
}

export interface SanityStage {
    /** The layer randomised last in this stage (null: the original model). */
    layer?: string;
    label: string;
    /** Spearman's ρ with the original map (null when the map went flat). */
    rankCorrelation?: number;
}

export interface LayerSweepParams {
    model?: string;
    image: string;
    target?: Target;
    method?: string;
    raw?: boolean;
}

export interface LayerSweepResult {
    model: string;
    target: string;
    targetLabel: string;
    score: number;
    layers: LayerSweepMap[];
    /** The strip: one Grad-CAM per conv layer, shallow to deep. */
    png: string;
}

export interface LayerSweepMap {
    layer: LayerInfo;
    lowResShape: number[];
    raw?: RawArray;
}

export interface DaemonMethodsResult {
    /** Every method explain/attribution runs, in the order the panel lists them. */
    methods: MethodInfo[];
    /** Every method explain/metrics and explain/sanity score: the registry's (LIME, KernelSHAP and GradientSHAP among them). */
    trustMethods: string[];
}

export interface MethodInfo {
    /** What explain/attribution's `method` takes (and the CLI's `explain --method`). */
    name: string;
    displayName: string;
    /** "gradients", "cam", "perturbation" or "superpixels": how the panel groups the methods. */
    group: string;
    /** "pixel" (attributions of the input), "layer" (a map at a spatial layer: takes `layer`) or "superpixel" (each segment's value painted over its pixels). */
    kind: string;
    /** The map has a sign: positive raises the target's score, negative lowers it. */
    signed: boolean;
    /** Many forward passes: queued behind other long requests, with progress and cancellation. */
    sampling: boolean;
    needsLayer: boolean;
    paper: string;
    options: MethodOption[];
    /** The panel's own view of the method ("lime", "shap"), where it is shown instead of in its group's tab; absent for most. */
    view?: string;
}

export interface MethodOption {
    name: string;
    /** "integer", "number", "choice" or "boolean". */
    type: string;
    /** The value used when the option is left out. */
    default: MethodOptionValue;
    description: string;
    /** For "choice": the allowed values. */
    choices?: string[];
    minimum?: number;
    maximum?: number;
}

export interface AttributionParams {
    model?: string;
    image: string;
    /** A name from daemon/methods. */
    method: string;
    /** For layer methods: a layer with a spatial output, or a block (default: the last conv layer). Pixel methods take none. */
    layer?: string;
    /** A class index (number or "7"), or "LAYER:CHANNEL"; absent: the top class. */
    target?: Target;
    /** The method's options by name (numbers, strings or booleans); absent ones take their defaults. */
    options?: Record<string, MethodOptionValue>;
    /** Also return the numbers: the map [H,W], per-channel attributions [C,H,W] (pixel methods), the low-resolution map and channel weights (layer methods). */
    raw?: boolean;
    /** Of unsigned maps: "viridis" (default), "gray", "jet" (pytorch-grad-cam's) or "turbo". */
    colormap?: string;
    /** Of an unsigned map over the picture, 0–1 (default 0.5). */
    opacity?: number;
    /** When set, a sampling method's progress goes out as $/progress. */
    workDoneToken?: ProgressToken;
}

export interface AttributionResult {
    model: string;
    method: string;
    displayName: string;
    kind: string;
    signed: boolean;
    layer?: LayerInfo;
    target: string;
    targetLabel: string;
    score: number;
    shape: number[];
    /** The options in use, defaults included. */
    options: Record<string, MethodOptionValue>;
    /** What the method reports about its answer, e.g. integrated gradients' completenessError. */
    figures: Record<string, number>;
    /** Something the user should know about this answer, or null. */
    note?: string;
    /** The map over the picture. */
    png: string;
    /** The map alone (signed maps: beside the picture, with the scale). */
    heatmapPng: string;
    raw?: RawArray;
    rawAttributions?: RawArray;
    rawLowRes?: RawArray;
    weights?: number[];
    /** Of an unsigned map: its colormap from 0 (left) to 1 (right), 256×1 pixels (a signed map's legend is drawn in its heatmap). */
    legendPng?: string;
    /** Superpixel methods (LIME, KernelSHAP): the value of each segment, [S]. */
    segmentValues?: number[];
    /** Superpixel methods, with `raw`: the segment of each pixel, int32 [H,W], ids 0…S−1. */
    rawSegments?: RawIntArray;
}

/** The params of a `$/progress` notification, sent for a request whose params carry a `workDoneToken`. */
export interface ProgressParams {
    /** The request's workDoneToken. */
    token: ProgressToken;
    value: WorkDoneProgress;
}

/** LSP's work-done progress: one "begin", "report"s at most every 100 ms, one "end" sent before the request's answer. */
export interface WorkDoneProgress {
    /** "begin", "report" or "end". */
    kind: string;
    /** The first message (with "begin" only). */
    title?: string;
    message?: string;
    /** 0–100. */
    percentage: number;
    /** LIME and SHAP: the result so far, so a view can converge on screen. */
    partial?: SamplingPartial;
    /** Filter patterns: the channels finished so far (sent as each batch finishes, never dropped by the 100 ms limit). */
    patterns?: FilterPatternsPartial;
}

/** A partial LIME/SHAP result: the numbers so far and the map rendered from them. */
export interface SamplingPartial {
    samples: number;
    total: number;
    /** Per target: the weight of each segment so far (null for GradientSHAP, whose maps are large). */
    values?: number[][];
    /** The picture and the map(s) so far. */
    png: string;
}

/** The filter patterns finished so far, in the order asked for. */
export interface FilterPatternsPartial {
    /** Per finished channel: its activation before and after, whether it came from the cache, and a note if any. */
    patterns: FilterPattern[];
    /** The grid of the finished patterns, labelled with channel numbers. */
    png: string;
}

/** The `data` of an application error. */
export interface ErrorData {
    /** The `ErrorKind`'s name, e.g. "UnknownLayer". */
    kind: string;
    /** Structured extras, e.g. `{layers: [...]}` (the valid layer names) or `{models: [...]}`. */
    details?: unknown;
}

/** Each method's params and result, for the client's typed `request`. */
export interface RequestTypes {
    "daemon/info": [undefined, DaemonInfoResult];
    "models/list": [undefined, ModelsListResult];
    "models/load": [ModelParams, ModelDetails];
    "models/fetch": [ModelsFetchParams, ModelsFetchResult];
    "models/add": [ModelsAddParams, ModelsAddResult];
    "image/predict": [PredictParams, PredictResult];
    "explain/featureMaps": [FeatureMapsParams, FeatureMapsResult];
    "explain/gradCam": [GradCamParams, GradCamResult];
    "explain/filterPatterns": [FilterPatternsParams, FilterPatternsResult];
    "explain/lime": [LimeParams, LimeResult];
    "explain/shap": [ShapParams, ShapResult];
    "explain/metrics": [MetricsParams, MetricsResult];
    "explain/sanity": [SanityParams, SanityResult];
    "explain/layerSweep": [LayerSweepParams, LayerSweepResult];
    "daemon/methods": [undefined, DaemonMethodsResult];
    "explain/attribution": [AttributionParams, AttributionResult];
}
