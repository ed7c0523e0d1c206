// The messages between the panel's webview (src/webview/, bundled to dist/panel.js) and the extension, and their validation.
// A webview is untrusted input: every message is checked here before anything reaches the daemon.
// No `vscode` import, so the unit tests cover it in plain Node.
import type {
    AttributionParams,
    ClassScore,
    DaemonInfoResult,
    FeatureMapsParams,
    FilterPatternsParams,
    Fit,
    GradCamParams,
    LayerInfo,
    LimeParams,
    MethodInfo,
    MethodOptionValues,
    ModelDetails,
    ShapParams,
    WorkDoneProgress,
} from "./protocol";
import type { CheckView } from "./checks";
import type { GridCells, ViewImage } from "./explainRequests";
import { OptionError, requestOptions, type PanelMethod, type PanelTab } from "./methods";
import type { FitOffers } from "./models";

import { TABS, tabById, type Tab, type TabId } from "./tabs";

export { TABS, tabById, type Tab, type TabId };

export const COLORMAPS = ["viridis", "gray", "jet", "turbo"] as const;
/** The colormap of a map over the picture unless the user picks another: turbo reads best over a photo's own colours. */
export const OVERLAY_COLORMAP = "turbo" satisfies (typeof COLORMAPS)[number];
export const SCALINGS = ["perChannel", "shared"] as const;
export const METHODS = ["grad-cam", "grad-cam++", "kernel", "gradient"] as const;
export const PRESETS = ["readable", "classic", "fast"] as const;
export const EXPORT_FORMATS = ["png", "json", "npy"] as const;
export const PANEL_COMMANDS = ["selectModel", "showLogs", "restartDaemon"] as const;
/** Checks of a view (issue 8): faithfulness scores, the sanity check, the layer sweep. */
export const CHECKS = ["metrics", "sanity", "layerSweep"] as const;
/** The fixed views a check applies to: metrics and sanity for every attribution, the layer sweep for Grad-CAM (a registry method's view: see PanelMethod's trust and sweep). */
export const CHECK_TABS = { metrics: ["gradCam", "lime", "shap"], sanity: ["gradCam", "lime", "shap"], layerSweep: ["gradCam"] } as const;

/** `T`, checked to fit each request field it is sent as: a change to the generated protocol types breaks the build here. */
type Fits<T extends A & B & C, A, B = unknown, C = unknown> = T;

/**
 * Method options the panel lets the user set; which apply depends on the tab (see explainRequest). Each is the
 * same-named field of its tab's request (the generated protocol types), narrowed to the values the panel offers.
 */
export interface ExplainOptions {
    colormap?: Fits<(typeof COLORMAPS)[number], FeatureMapsParams["colormap"], GradCamParams["colormap"]>;
    scaling?: Fits<(typeof SCALINGS)[number], FeatureMapsParams["scaling"]>;
    /** Grad-CAM: grad-cam or grad-cam++; SHAP: kernel or gradient (both fields take any name the daemon knows). */
    method?: Fits<(typeof METHODS)[number], GradCamParams["method"], ShapParams["method"]>;
    preset?: Fits<(typeof PRESETS)[number], FilterPatternsParams["preset"]>;
    samples?: Fits<number, LimeParams["samples"], ShapParams["samples"]>;
    segments?: Fits<number, LimeParams["segments"], ShapParams["segments"]>;
    seed?: Fits<number, LimeParams["seed"], ShapParams["seed"], FilterPatternsParams["seed"]>;
    opacity?: Fits<number, GradCamParams["opacity"]>;
}

// ---- webview → extension ---------------------------------------------------------------------------

export type WebviewMessage =
    | { type: "ready" }
    | { type: "explain"; id: number; tab: TabId; layer?: string; page?: number; target?: number; options: ExplainOptions }
    | { type: "cancel"; id: number }
    | { type: "layerSelected"; layer: string }
    /** `picture`: which of the view's pictures is on screen (Grad-CAM's heatmap, LIME's top superpixels…); PNG exports it. */
    | { type: "export"; tab: string; format: (typeof EXPORT_FORMATS)[number]; picture?: string }
    | { type: "command"; command: (typeof PANEL_COMMANDS)[number] }
    /** From the "does not suit the model" banner: switch to a suggested model, or fetch one's weights first. */
    | { type: "useModel"; model: string }
    | { type: "fetchWeights"; model: string }
    | { type: "check"; id: number; check: (typeof CHECKS)[number]; tab: "gradCam" | "lime" | "shap"; layer?: string; target?: number; options: ExplainOptions }
    /** A registry method's map (explain/attribution) in its group's tab: `options` are complete and typed (requestOptions). */
    | AttributeMessage
    /** A check of a registry method's view: the same method, layer, target and options. */
    | { type: "check"; id: number; check: (typeof CHECKS)[number]; tab: string; method: string; layer?: string; target?: number; options: MethodOptionValues };

export interface AttributeMessage {
    type: "attribute";
    id: number;
    tab: string;
    method: string;
    layer?: string;
    target?: number;
    options: MethodOptionValues;
    colormap?: Fits<(typeof COLORMAPS)[number], AttributionParams["colormap"]>;
    opacity?: Fits<number, AttributionParams["opacity"]>;
}

/** A registry method as the messages check it: what the daemon declared, and how the panel shows it. */
export interface RegistryMethod {
    info: MethodInfo;
    view: PanelMethod;
}

/** What a message may refer to: the layers and scores of the model the panel shows. */
export interface ValidationContext {
    layers: ReadonlySet<string>;
    /** Valid targets: the classes, or for a model without a classifier (resnet18-imagenet) its last layer's channels. */
    scoreCount: number;
    /** The models the panel offered (in the banner of an image that does not suit the model). */
    offered?: ReadonlySet<string>;
    /** The daemon's registry methods by name (none: an older daemon, whose panel has only the fixed views). */
    methods?: ReadonlyMap<string, RegistryMethod>;
}

/** How many scores a model's last layer gives: what a target may index. */
export function scoreCount(model: { classes: readonly string[]; layers: readonly { outputShape: readonly number[] }[] }): number {
    return model.classes.length || (model.layers.at(-1)?.outputShape[0] ?? 0);
}

export class InvalidMessageError extends Error {
    override name = "InvalidMessageError";
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function int(v: unknown, what: string, min: number, max: number): number {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
        throw new InvalidMessageError(`${what} must be an integer from ${min} to ${max}, not ${JSON.stringify(v)}.`);
    }
    return v;
}

function oneOf<T extends string>(v: unknown, what: string, allowed: readonly T[]): T {
    if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
        throw new InvalidMessageError(`${what} must be one of ${allowed.join(", ")}, not ${JSON.stringify(v)}.`);
    }
    return v as T;
}

function layerName(v: unknown, context: ValidationContext): string {
    if (typeof v !== "string" || !context.layers.has(v)) throw new InvalidMessageError(`Unknown layer ${JSON.stringify(v)}.`);
    return v;
}

function opacity(x: unknown): number {
    if (typeof x !== "number" || !(x >= 0 && x <= 1)) throw new InvalidMessageError(`options.opacity must be a number from 0 to 1, not ${JSON.stringify(x)}.`);
    return x;
}

/** A registry method's options, complete and typed (absent ones take their defaults). */
function methodOptions(method: MethodInfo, v: unknown): MethodOptionValues {
    if (v !== undefined && !isObject(v)) throw new InvalidMessageError("options must be an object.");
    try {
        return requestOptions(method, v);
    } catch (e) {
        if (e instanceof OptionError) throw new InvalidMessageError(`${method.displayName}: ${e.message}`);
        throw e;
    }
}

function registryMethod(v: unknown, context: ValidationContext): RegistryMethod {
    const m = typeof v === "string" ? context.methods?.get(v) : undefined;
    if (!m) throw new InvalidMessageError(`Unknown method ${JSON.stringify(v)}${context.methods?.size ? `: this daemon has ${[...context.methods.keys()].join(", ")}` : ": this daemon has no registry methods"}.`);
    return m;
}

/** The tabs a message may name: the fixed views and the registry's group tabs. */
function tabIds(context: ValidationContext): string[] {
    return [...TABS.map((t) => t.id as string), ...new Set([...(context.methods?.values() ?? [])].map((m) => m.view.tab))];
}

/** The id, layer and target every view message carries, checked; a layer only for a method that takes one. */
function methodView(raw: Json, context: ValidationContext, m: RegistryMethod, what: string): { id: number; tab: string; method: string; layer?: string; target?: number } {
    if (raw["tab"] !== m.view.tab) throw new InvalidMessageError(`${what}: ${m.info.name} is in the ${m.view.tab} tab, not ${JSON.stringify(raw["tab"])}.`);
    const out: { id: number; tab: string; method: string; layer?: string; target?: number } = { id: int(raw["id"], "id", 0, Number.MAX_SAFE_INTEGER), tab: m.view.tab, method: m.info.name };
    if (raw["layer"] !== undefined) {
        if (!m.info.needsLayer) throw new InvalidMessageError(`${m.info.displayName} attributes the input pixels; it takes no layer.`);
        out.layer = layerName(raw["layer"], context);
    }
    if (raw["target"] !== undefined) out.target = int(raw["target"], "target", 0, Math.max(0, context.scoreCount - 1));
    return out;
}

function options(v: unknown): ExplainOptions {
    if (v === undefined) return {};
    if (!isObject(v)) throw new InvalidMessageError("options must be an object.");
    const o: ExplainOptions = {};
    if (v["colormap"] !== undefined) o.colormap = oneOf(v["colormap"], "options.colormap", COLORMAPS);
    if (v["scaling"] !== undefined) o.scaling = oneOf(v["scaling"], "options.scaling", SCALINGS);
    if (v["method"] !== undefined) o.method = oneOf(v["method"], "options.method", METHODS);
    if (v["preset"] !== undefined) o.preset = oneOf(v["preset"], "options.preset", PRESETS);
    if (v["samples"] !== undefined) o.samples = int(v["samples"], "options.samples", 10, 100_000);
    if (v["segments"] !== undefined) o.segments = int(v["segments"], "options.segments", 2, 10_000);
    if (v["seed"] !== undefined) o.seed = int(v["seed"], "options.seed", 0, 2 ** 31 - 1);
    if (v["opacity"] !== undefined) o.opacity = opacity(v["opacity"]);
    return o;
}

/** Checks a message from the webview; throws InvalidMessageError saying what is wrong. Unknown fields are dropped. */
export function parseWebviewMessage(raw: unknown, context: ValidationContext): WebviewMessage {
    if (!isObject(raw) || typeof raw["type"] !== "string") throw new InvalidMessageError("A message must be an object with a string 'type'.");
    switch (raw["type"]) {
        case "ready":
            return { type: "ready" };
        case "explain": {
            const tab = oneOf(raw["tab"], "tab", TABS.map((t) => t.id));
            const message: WebviewMessage = { type: "explain", id: int(raw["id"], "id", 0, Number.MAX_SAFE_INTEGER), tab, options: options(raw["options"]) };
            if (raw["layer"] !== undefined) message.layer = layerName(raw["layer"], context);
            if (raw["page"] !== undefined) message.page = int(raw["page"], "page", 0, 100_000);
            if (raw["target"] !== undefined) message.target = int(raw["target"], "target", 0, Math.max(0, context.scoreCount - 1));
            // GradientSHAP takes a layer or none (the input image's pixels).
            if (tabById(tab)?.layer === "spatial" && message.layer === undefined) throw new InvalidMessageError(`The ${tab} view needs a layer.`);
            return message;
        }
        case "attribute": {
            const m = registryMethod(raw["method"], context);
            const message: AttributeMessage = { type: "attribute", ...methodView(raw, context, m, "attribute"), options: methodOptions(m.info, raw["options"]) };
            // The colour map and opacity of an unsigned map; a signed map is drawn red and blue on the daemon's own scale.
            if (raw["colormap"] !== undefined && !m.info.signed) message.colormap = oneOf(raw["colormap"], "colormap", COLORMAPS);
            if (raw["opacity"] !== undefined && !m.info.signed) message.opacity = opacity(raw["opacity"]);
            return message;
        }
        case "cancel":
            return { type: "cancel", id: int(raw["id"], "id", 0, Number.MAX_SAFE_INTEGER) };
        case "layerSelected":
            return { type: "layerSelected", layer: layerName(raw["layer"], context) };
        case "export": {
            const message: WebviewMessage = {
                type: "export",
                tab: oneOf(raw["tab"], "tab", tabIds(context)),
                format: oneOf(raw["format"], "format", EXPORT_FORMATS),
            };
            // An id among the result's pictures; an unknown one exports the view's default picture.
            if (raw["picture"] !== undefined) {
                if (typeof raw["picture"] !== "string" || !/^[a-z]{1,20}$/.test(raw["picture"])) throw new InvalidMessageError("picture must be a picture's id.");
                message.picture = raw["picture"];
            }
            return message;
        }
        case "command":
            return { type: "command", command: oneOf(raw["command"], "command", PANEL_COMMANDS) };
        case "useModel":
        case "fetchWeights": {
            const model = raw["model"];
            if (typeof model !== "string" || !context.offered?.has(model)) throw new InvalidMessageError(`The panel did not offer the model ${JSON.stringify(model)}.`);
            return { type: raw["type"], model };
        }
        case "check": {
            const check = oneOf(raw["check"], "check", CHECKS);
            if (raw["method"] !== undefined) {
                const m = registryMethod(raw["method"], context);
                const offered = check === "layerSweep" ? m.view.sweep : m.view.trust;
                if (!offered) throw new InvalidMessageError(`The ${check} is not offered for ${m.info.displayName}.`);
                return { type: "check", check, ...methodView(raw, context, m, check), options: methodOptions(m.info, raw["options"]) };
            }
            const tab = oneOf(raw["tab"], `the tab of ${check}`, CHECK_TABS[check] as readonly ("gradCam" | "lime" | "shap")[]);
            const message: WebviewMessage = { type: "check", id: int(raw["id"], "id", 0, Number.MAX_SAFE_INTEGER), check, tab, options: options(raw["options"]) };
            if (raw["layer"] !== undefined) message.layer = layerName(raw["layer"], context);
            if (raw["target"] !== undefined) message.target = int(raw["target"], "target", 0, Math.max(0, context.scoreCount - 1));
            const needsLayer = check !== "layerSweep" && tab === "gradCam";
            if (needsLayer && message.layer === undefined) throw new InvalidMessageError(`The ${check} of the ${tab} view needs a layer.`);
            return message;
        }
        default:
            throw new InvalidMessageError(`Unknown message type ${JSON.stringify(raw["type"])}.`);
    }
}

// ---- extension → webview ---------------------------------------------------------------------------

/** A layer as the webview lists it: the daemon's LayerInfo, its shape in words. */
export interface PanelLayer extends Pick<LayerInfo, "name" | "displayName" | "kind" | "group"> {
    /** `16×28×28` */
    shape: string;
    spatial: LayerInfo["isSpatial"];
}

export type ExtensionMessage =
    | {
          type: "session";
          image: { name: string; path: string; src?: string };
          model: Pick<ModelDetails, "id" | "displayName" | "classes"> & { layers: PanelLayer[] };
          tabs: PanelTab[];
          /** The registry's methods, each with its form (none from an older daemon). */
          methods: PanelMethod[];
          /** Why there are no registry methods, when there are none. */
          methodsNote?: string;
          /** The layer each layer-taking view starts with. */
          layers: Record<string, string>;
          defaults: Record<string, ExplainOptions>;
          daemon: Pick<DaemonInfoResult, "version" | "device">;
      }
    | { type: "prediction"; top: ClassScore[]; fit?: Fit | undefined; offers?: FitOffers }
    | { type: "predictionError"; message: string }
    /** A `$/progress` of the view's request; `partialPng`: its partial result's picture (LIME, SHAP; filter patterns: the grid of the channels finished so far). */
    | ({ type: "progress"; id: number; partialPng?: string } & Partial<Pick<WorkDoneProgress, "message" | "percentage">>)
    | {
          type: "result";
          id: number;
          tab: string;
          png: string;
          caption: string;
          page?: number;
          pageCount?: number;
          images?: ViewImage[];
          /** What a registry method reports about its answer (integrated gradients' completeness error…), in words. */
          figures?: { label: string; value: string }[];
          note?: string;
          /** A grid's cells (feature maps, filter patterns): where each channel is, and what to say when it is opened large. */
          cells?: GridCells;
          /** The colormap of an unsigned map from 0 to 1 (a 256×1 PNG): the overlay's legend. */
          legendPng?: string;
      }
    | { type: "error"; id: number; tab: string; message: string; unavailable: boolean; cancelled: boolean }
    | { type: "showLayer"; layer: string; tab?: TabId }
    | { type: "daemonState"; state: string; message?: string }
    | { type: "checkResult"; id: number; view: CheckView }
    | { type: "checkError"; id: number; check: (typeof CHECKS)[number]; message: string; unavailable: boolean; cancelled: boolean };

export function panelLayer(l: LayerInfo): PanelLayer {
    return { name: l.name, displayName: l.displayName, kind: l.kind, group: l.group, shape: l.outputShape.join("×"), spatial: l.isSpatial };
}
