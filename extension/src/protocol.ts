// The daemon's JSON-RPC protocol, mirrored from src/CnnInterpret.Daemon/Protocol.cs (the one definition;
// change it there first). Names are a contract: the daemon only adds optional members, never renames.
// Records are serialised by System.Text.Json's web defaults: camelCase, nulls omitted (so `?:` here).

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

/** JSON-RPC error codes: the daemon's ErrorKind values (README "The daemon"), plus JSON-RPC's own. */
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
    requestCancelled: -32800,
    parseError: -32700,
    methodNotFound: -32601,
    invalidParams: -32602,
} as const;

/** `data` of an application error: `{kind, details}` (details: e.g. `{models: [...]}` or `{layers: [...]}`). */
export interface ErrorData {
    kind: string;
    details?: unknown;
}

/** LSP-style work-done progress, sent as `$/progress` `{token, value}` for requests that carry a `workDoneToken`. */
export interface WorkDoneProgress {
    kind: "begin" | "report" | "end";
    title?: string;
    message?: string;
    percentage?: number;
    /** An intermediate result (sampling methods), so a view can converge on screen. */
    partial?: unknown;
}

// ---- daemon/*, models/*, image/* -------------------------------------------------------------------

export interface ModelSummary {
    id: string;
    displayName: string;
    description: string;
    inputShape: number[];
    classCount: number;
    loaded: boolean;
    /** "built in" (weights ship with the tool), "ready" (fetched) or "weights missing" (models/fetch or models/add first). */
    state?: "built in" | "ready" | "weights missing" | string;
    weightsUrl?: string;
    weightsFile?: string;
}

export interface DaemonInfoResult {
    version: string;
    torchSharpVersion: string;
    libTorchVersion: string;
    device: string;
    processId: number;
    models: ModelSummary[];
}

export interface ModelsListResult {
    models: ModelSummary[];
    defaultModel: string;
}

export interface ModelParams {
    /** A built-in id, or the path of a model file (.pth/.pt/.safetensors/.onnx). */
    model?: string;
    /** Other weights for a built-in architecture (a checkpoint or safetensors file). */
    weights?: string;
    /** The torchvision architecture of a checkpoint file, when it cannot be inferred. */
    arch?: string;
}

export interface ModelsFetchParams {
    model: string;
    /** A mirror to download from instead of the published address. */
    url?: string;
    sha256?: string;
    workDoneToken?: string | number;
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

/** Core's LayerInfo. */
export interface LayerInfo {
    /** Stable module path, e.g. `features.0`. */
    name: string;
    /** Keras-style name, e.g. `block1_conv1`. */
    displayName: string;
    /** `Conv2d`, `ReLU`, `MaxPool2d`, `Linear`, … */
    kind: string;
    /** The block, e.g. `block1`, `classifier`. */
    group: string;
    /** One image's output shape, without the batch dimension. */
    outputShape: number[];
    parameterCount: number;
    /** The output is a [C,H,W] map (what feature maps and the CAMs need). */
    isSpatial: boolean;
}

export interface ModelDetails {
    id: string;
    displayName: string;
    inputShape: number[];
    classes: string[];
    layers: LayerInfo[];
    parameterCount: number;
    weightsSha256: string;
}

export interface PredictParams {
    model?: string;
    image: string;
    topK?: number;
}

/** Core's ClassScore. */
export interface ClassScore {
    index: number;
    label: string;
    probability: number;
    logit: number;
}

export interface PredictResult {
    model: string;
    image: string;
    top: ClassScore[];
    logits: number[];
    /** Whether the image suits the model; when not, why, and the built-in models that suit it better. */
    fit?: FitDto;
}

export interface FitDto {
    suitable: boolean;
    reason?: string;
    suggestions: string[];
}

// ---- explain/featureMaps ---------------------------------------------------------------------------

export interface FeatureMapsParams {
    model?: string;
    image: string;
    layer: string;
    /** Channels to show; when absent, page `page` of 64 channels. */
    channels?: number[];
    /** Also return the numbers. */
    raw?: boolean;
    page?: number;
    scaling?: "perChannel" | "shared";
    colormap?: "viridis" | "gray";
}

/** Numbers as base64 of little-endian float32, with their shape. */
export interface RawArray {
    shape: number[];
    data: string;
}

/** Core's ChannelStats. */
export interface ChannelStats {
    channel: number;
    min: number;
    max: number;
    mean: number;
    std: number;
}

export interface FeatureMapsResult {
    model: string;
    layer: LayerInfo;
    shape: number[];
    channels: number[];
    page: number;
    pageCount: number;
    stats: ChannelStats[];
    /** base64 PNG. */
    png: string;
    raw?: RawArray;
}

// ---- explain/gradCam, explain/filterPatterns (issue 4) ----------------------------------------------

/** A class index (number or "7"), or "LAYER:CHANNEL" (e.g. "features.12:5"); absent: the top class. */
export type Target = number | string;

export interface GradCamParams {
    model?: string;
    image: string;
    /** A layer with a spatial output (conv, ReLU, pool), or a block name such as "block3" (its last one). */
    layer: string;
    target?: Target;
    method?: "grad-cam" | "grad-cam++";
    /** Also return the map [H,W], the low-resolution map [h,w] and the channel weights. */
    raw?: boolean;
    colormap?: "viridis" | "gray";
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
    /** The target's logit, or the channel's mean activation. */
    score: number;
    shape: number[];
    lowResShape: number[];
    /** The heatmap over the image. */
    png: string;
    /** The heatmap alone. */
    heatmapPng: string;
    raw?: RawArray;
    rawLowRes?: RawArray;
    weights?: number[];
    /** The map is zero everywhere (every position's weighted sum was negative). */
    empty?: boolean;
    /** What to try when the map is empty. */
    hint?: string;
}

export interface FilterPatternsParams {
    model?: string;
    layer: string;
    channels?: number[];
    /** "readable" (default) or "classic". */
    preset?: "readable" | "classic";
    steps?: number;
    seed?: number;
    raw?: boolean;
    page?: number;
    size?: number;
    workDoneToken?: string | number;
}

/** Core's FilterPattern. */
export interface FilterPattern {
    channel: number;
    activationBefore: number;
    activationAfter: number;
    fromCache: boolean;
}

export interface FilterPatternsResult {
    model: string;
    layer: LayerInfo;
    preset: string;
    steps: number;
    seed: number;
    patternShape: number[];
    page: number;
    pageCount: number;
    patterns: FilterPattern[];
    png: string;
    raw?: RawArray;
    forwardPasses: number;
}

// ---- explain/lime, explain/shap (issue 5) ----------------------------------------------------------

/** Whole numbers as base64 of little-endian int32, with their shape (segment ids). */
export interface RawIntArray {
    shape: number[];
    data: string;
    dtype: string;
}

/** `$/progress` `value.partial` of LIME and SHAP: the numbers so far and the map drawn from them. */
export interface SamplingPartial {
    samples: number;
    total: number;
    values?: number[][];
    png: string;
}

export interface LimeParams {
    model?: string;
    image: string;
    target?: Target;
    /** 10–100000 (default 1000) or "auto": stop when the top segments are stable. */
    samples?: number | "auto";
    /** Superpixels to aim for. */
    segments?: number;
    seed?: number;
    raw?: boolean;
    compactness?: number;
    baseline?: "black" | "gray" | "mean" | "blur";
    score?: "probability" | "logit";
    memoryBudgetMiB?: number;
    workDoneToken?: string | number;
}

export interface LimeResult {
    model: string;
    target: string;
    targetLabel: string;
    segments: number;
    weights: number[];
    intercept: number;
    r2: number;
    localPrediction: number;
    fx: number;
    score: string;
    samples: number;
    seed: number;
    baseline: string;
    stability: number;
    /** Cancelled: the result uses the samples scored until then. */
    cancelled: boolean;
    topPositive: number[];
    topNegative: number[];
    batchSize: number;
    seconds: number;
    png: string;
    segmentsPng: string;
    topPng: string;
    raw?: RawArray;
    rawSegments?: RawIntArray;
}

export interface ShapParams {
    model?: string;
    image: string;
    /** Absent: the two most probable classes, side by side on one scale. */
    target?: Target;
    /** "kernel" (KernelSHAP over superpixels, the default) or "gradient" (GradientSHAP). */
    method?: "kernel" | "gradient";
    /** GradientSHAP only: attribute this layer's activation. */
    layer?: string;
    samples?: number | "auto";
    segments?: number;
    seed?: number;
    raw?: boolean;
    compactness?: number;
    baseline?: string;
    score?: "probability" | "logit";
    memoryBudgetMiB?: number;
    workDoneToken?: string | number;
}

export interface ShapTarget {
    target: string;
    label: string;
    values?: number[];
    fx: number;
    fbaseline: number;
    sum: number;
    efficiencyGap: number;
    raw?: RawArray;
}

export interface ShapResult {
    model: string;
    method: string;
    targets: ShapTarget[];
    segments: number;
    shape: number[];
    mapShape: number[];
    samples: number;
    seed: number;
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
    png: string;
    segmentsPng: string;
    rawSegments?: RawIntArray;
}

// ---- explain/metrics, explain/sanity, explain/layerSweep (issue 8: can the map be trusted?) ----------

export interface MetricsParams {
    model?: string;
    image: string;
    /** Any of daemon/methods' trustMethods: a registry method, "lime", "kernel-shap" or "gradient-shap". */
    method: string;
    /** A layer method's layer (default: the last conv layer). */
    layer?: string;
    target?: Target;
    /** Points on each curve after the start (default 32). */
    steps?: number;
    samples?: number | "auto";
    segments?: number;
    seed?: number;
    workDoneToken?: string | number;
    /** A registry method's options, as for explain/attribution. */
    options?: MethodOptionValues;
}

export interface Curve {
    values: number[];
    auc: number;
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
    png: string;
}

export interface SanityParams {
    model?: string;
    image: string;
    method: string;
    layer?: string;
    target?: Target;
    /** How many layers to randomise, from the top (default: all with parameters). */
    stages?: number;
    samples?: number | "auto";
    seed?: number;
    workDoneToken?: string | number;
    /** A registry method's options, as for explain/attribution. */
    options?: MethodOptionValues;
    /** For LIME and KernelSHAP: their superpixel count, as for explain/lime (default: the method's own). */
    segments?: number;
}

export interface SanityStage {
    /** The layer randomised last in this stage (absent: the original model). */
    layer?: string;
    label: string;
    /** Spearman's ρ with the original map (absent when the map went flat). */
    rankCorrelation?: number;
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
    png: string;
}

export interface LayerSweepParams {
    model?: string;
    image: string;
    target?: Target;
    method?: string;
    raw?: boolean;
}

export interface LayerSweepMap {
    layer: LayerInfo;
    lowResShape: number[];
    raw?: RawArray;
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

// ---- daemon/methods, explain/attribution: the explainer registry (issue 16) -------------------------

/** A value of a method's option: "integer" and "number" options take numbers, "choice" strings, "boolean" booleans. */
export type MethodOptionValue = number | string | boolean;

export type MethodOptionValues = Record<string, MethodOptionValue>;

/** MethodOptionDto. */
export interface MethodOption {
    name: string;
    /** "integer", "number", "choice" or "boolean". */
    type: "integer" | "number" | "choice" | "boolean" | string;
    /** The value used when the option is left out. */
    default: MethodOptionValue;
    description: string;
    /** For "choice": the allowed values. */
    choices?: string[];
    minimum?: number;
    maximum?: number;
}

/** MethodDto. */
export interface MethodInfo {
    /** What explain/attribution's `method` takes (and the CLI's `explain --method`). */
    name: string;
    displayName: string;
    /** "gradients", "cam", "perturbation" or "superpixels": how the panel groups the methods. */
    group: string;
    /** "pixel" (attributions of the input), "layer" (a map at a spatial layer: takes `layer`) or "superpixel". */
    kind: "pixel" | "layer" | "superpixel" | string;
    /** The map has a sign: positive raises the target's score, negative lowers it. */
    signed: boolean;
    /** Many forward passes: queued behind other long requests, with progress and cancellation. */
    sampling: boolean;
    needsLayer: boolean;
    paper: string;
    options: MethodOption[];
}

export interface DaemonMethodsResult {
    /** Every method explain/attribution runs, in the order the panel lists them. */
    methods: MethodInfo[];
    /** Every method explain/metrics and explain/sanity score (the registry's, LIME and SHAP). */
    trustMethods: string[];
}

export interface AttributionParams {
    model?: string;
    image: string;
    /** A name from daemon/methods. */
    method: string;
    /** For layer methods: a layer with a spatial output, or a block (default: the last conv layer). Pixel methods take none. */
    layer?: string;
    target?: Target;
    /** The method's options by name; absent ones take their defaults. */
    options?: MethodOptionValues;
    /** Also return the numbers: the map [H,W], per-channel attributions, the low-resolution map and channel weights. */
    raw?: boolean;
    /** Of unsigned maps: "viridis" (default) or "gray". */
    colormap?: "viridis" | "gray";
    /** Of an unsigned map over the picture, 0–1 (default 0.5). */
    opacity?: number;
    /** When set, a sampling method's progress goes out as $/progress. */
    workDoneToken?: string | number;
}

export interface AttributionResult {
    model: string;
    method: string;
    displayName: string;
    kind: string;
    signed: boolean;
    /** The layer of a layer method; absent for pixel methods. */
    layer?: LayerInfo;
    target: string;
    targetLabel: string;
    score: number;
    shape: number[];
    /** The options in use, defaults included. */
    options: MethodOptionValues;
    /** What the method reports about its answer, e.g. integrated gradients' completenessError. */
    figures: Record<string, number>;
    /** Something the user should know about this answer. */
    note?: string;
    /** The map over the picture. */
    png: string;
    /** The map alone (signed maps: beside the picture, with the scale). */
    heatmapPng: string;
    raw?: RawArray;
    rawAttributions?: RawArray;
    rawLowRes?: RawArray;
    weights?: number[];
}

/** Parameters and result by method, for the typed `request` of the client. */
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
