// From a validated "explain" message of the panel to the daemon request of its tab, and from the daemon's
// answer to the line the panel shows under it. No `vscode` import (unit-tested).
import { isConv, isSpatial } from "./layerModel";
import { optionLabel } from "./methods";
import { tabById, type AttributeMessage, type ExplainOptions, type ExtensionMessage, type TabId, type WebviewMessage } from "./messages";
import type {
    AttributionParams,
    AttributionResult,
    FeatureMapsParams,
    FeatureMapsResult,
    FilterPatternsParams,
    FilterPatternsResult,
    GradCamParams,
    GradCamResult,
    GridLayout,
    LimeParams,
    LimeResult,
    ModelDetails,
    ShapParams,
    ShapResult,
    WorkDoneProgress,
} from "./protocol";

export type ExplainMessage = Extract<WebviewMessage, { type: "explain" }>;

export interface ExplainRequest {
    method: string;
    params: Record<string, unknown>;
}

/** A field the validated message has for this tab (messages.ts checks it); a missing one is a bug, said plainly. */
function required<T>(value: T | undefined, what: string): T {
    if (value === undefined) throw new Error(`An explain message without ${what}: the panel and messages.ts disagree.`);
    return value;
}

/** The request a tab sends for `image` with `model`; only the options that tab's method takes are passed. */
export function explainRequest(message: ExplainMessage, image: string, model: string): ExplainRequest {
    const tab = required(tabById(message.tab), "a known tab");
    const o = message.options;
    const target = message.target;
    let params: FeatureMapsParams | FilterPatternsParams | GradCamParams | LimeParams | ShapParams;
    switch (tab.id) {
        case "featureMaps":
            params = { model, image, layer: required(message.layer, "a layer"), page: message.page ?? 0, ...pick(o, "colormap", "scaling") };
            break;
        case "filterPatterns": // patterns belong to the layer, not to the image
            params = { model, layer: required(message.layer, "a layer"), page: message.page ?? 0, ...pick(o, "preset", "seed") };
            break;
        case "gradCam": {
            const method = o.method === "grad-cam" || o.method === "grad-cam++" ? o.method : undefined;
            params = { model, image, layer: required(message.layer, "a layer"), ...defined({ target, method }), ...pick(o, "colormap", "opacity") };
            break;
        }
        case "lime":
            params = { model, image, ...defined({ target }), ...pick(o, "samples", "seed", "segments") };
            break;
        case "shap": {
            const gradient = o.method === "gradient";
            params = {
                model,
                image,
                ...defined({ target, method: gradient ? "gradient" : o.method === "kernel" ? "kernel" : undefined, layer: gradient ? message.layer : undefined }),
                ...pick(o, "samples", "seed"),
                ...(gradient ? {} : pick(o, "segments")),
            };
            break;
        }
    }
    return { method: tab.method, params: params as unknown as Record<string, unknown> };
}

/** explain/attribution for a registry method's view: its layer only when it takes one, its options complete and typed. */
export function attributionRequest(message: AttributeMessage, image: string, model: string): ExplainRequest {
    const { method, layer, target, options, colormap, opacity } = message;
    const params: AttributionParams = { model, image, method, ...defined({ layer, target }), options, ...defined({ colormap, opacity }) };
    return { method: "explain/attribution", params: params as unknown as Record<string, unknown> };
}

function defined<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
    return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

function pick<K extends keyof ExplainOptions>(o: ExplainOptions, ...keys: K[]): Pick<ExplainOptions, K> {
    return defined(Object.fromEntries(keys.map((k) => [k, o[k]]))) as Pick<ExplainOptions, K>;
}

/**
 * The layer each layer-taking view starts with: the first convolution for maps and patterns; for Grad-CAM
 * and GradientSHAP the last convolution's activation (ReLU) when it has one, as Grad-CAM's authors use it:
 * a conv's raw output can be negative everywhere the class matters, which gives an empty map.
 */
export function defaultLayers(model: ModelDetails): Partial<Record<TabId, string>> {
    const layers = model.layers;
    const convs = layers.filter(isConv);
    const spatial = layers.filter(isSpatial);
    const first = (convs[0] ?? spatial[0])?.name;
    const lastConv = convs.at(-1);
    const next = lastConv ? layers[layers.indexOf(lastConv) + 1] : undefined;
    const activated = next && isSpatial(next) && /ReLU|GELU|SiLU|Tanh|Sigmoid/i.test(next.kind) ? next : lastConv;
    const last = (activated ?? spatial.at(-1))?.name;
    return defined({ featureMaps: first, filterPatterns: first, gradCam: last, shap: last });
}

/** Any explain result: the daemon renders every view as a base64 PNG in `png`. */
export interface RenderedResult {
    png?: string;
    page?: number;
    pageCount?: number;
    [key: string]: unknown;
}

const fixed = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

/** The line under the image: what is shown, in words. */
export function caption(tab: TabId, result: RenderedResult): string {
    switch (tab) {
        case "featureMaps": {
            const r = result as unknown as FeatureMapsResult;
            return [
                `${r.layer.displayName} (${r.layer.name})`,
                r.channels.length ? `channels ${r.channels[0]}–${r.channels.at(-1)} of ${r.layer.outputShape[0]}` : "",
                r.pageCount > 1 ? `page ${r.page + 1}/${r.pageCount}` : "",
            ].filter(Boolean).join(" · ");
        }
        case "filterPatterns": {
            const r = result as unknown as FilterPatternsResult;
            const cached = r.patterns.filter((p) => p.fromCache).length;
            return [
                `${r.layer.displayName} (${r.layer.name})`,
                r.patterns.length ? `patterns of channels ${r.patterns[0]?.channel}–${r.patterns.at(-1)?.channel} of ${r.layer.outputShape[0]}` : "",
                r.pageCount > 1 ? `page ${r.page + 1}/${r.pageCount}` : "",
                `${r.preset}, ${r.steps} steps, seed ${r.seed}`,
                cached === r.patterns.length ? "from the cache" : cached ? `${cached} from the cache` : "",
            ].filter(Boolean).join(" · ");
        }
        case "gradCam": {
            const r = result as unknown as GradCamResult;
            const caption = `${r.method === "grad-cam++" ? "Grad-CAM++" : "Grad-CAM"} of ${r.targetLabel} (${r.target}) at ${r.layer.displayName} (${r.layer.name}) · score ${fixed(r.score)}`;
            return r.hint ? `${caption} · ${r.hint}` : caption;
        }
        case "lime": {
            const r = result as unknown as LimeResult;
            return [
                `LIME for ${r.targetLabel} (${r.target})`,
                `${r.samples} samples, ${r.segments} segments, seed ${r.seed}`,
                `R² ${fixed(r.r2)}`,
                stabilityNote(r.stability),
                r.autoNote ?? "",
                r.topPositive.length ? `top segments for: ${r.topPositive.join(", ")}` : "",
                r.topNegative.length ? `against: ${r.topNegative.join(", ")}` : "",
                r.cancelled ? "cancelled: from the samples scored so far" : "",
            ].filter(Boolean).join(" · ");
        }
        case "shap": {
            const r = result as unknown as ShapResult;
            return [
                `${r.method === "gradient" ? "GradientSHAP" : "KernelSHAP"} for ${r.targets.map((t) => `${t.label} (${t.target})`).join(" and ")}`,
                r.layer ? `at ${r.layer}` : "",
                `${r.samples} samples${r.exact ? " (exact)" : ""}, seed ${r.seed}`,
                r.exact ? "" : stabilityNote(r.stability),
                r.autoNote ?? "",
                r.targets[0] ? `Σ values − (f(x) − f(baseline)) = ${fixed(r.targets[0].efficiencyGap, 3)}` : "",
                r.cancelled ? "cancelled: from the samples scored so far" : "",
            ].filter(Boolean).join(" · ");
        }
    }
}

/** The line under a registry method's map: the method, target, layer, score, how to read the colours and the options in use. */
export function attributionCaption(r: AttributionResult): string {
    const options = Object.entries(r.options).map(([k, v]) => `${optionLabel(k).toLowerCase()} ${typeof v === "number" ? fixedShort(v) : String(v)}`);
    return [
        `${r.displayName} of ${r.targetLabel} (${r.target})${r.layer ? ` at ${r.layer.displayName} (${r.layer.name})` : ""}`,
        `score ${fixed(r.score)}`,
        r.signed ? "red raises the score, blue lowers it" : "",
        options.length ? options.join(", ") : "",
    ].filter(Boolean).join(" · ");
}

/** What a method reports about its answer, each as a label and a value in words ("completenessError" → "Completeness error"). */
export function attributionFigures(r: Pick<AttributionResult, "figures">): { label: string; value: string }[] {
    return Object.entries(r.figures).map(([k, v]) => ({ label: optionLabel(k), value: typeof v === "number" ? fixedShort(v) : String(v) }));
}

/** Up to four significant digits, without an exponent for everyday magnitudes. */
function fixedShort(x: number): string {
    if (!Number.isFinite(x)) return String(x);
    if (Number.isInteger(x)) return String(x);
    return String(Number(x.toPrecision(4)));
}

/** One picture of a result; a view with several lets the user switch between them without asking the daemon again. */
export interface ViewImage {
    id: string;
    label: string;
    png: string;
}

/** One cell of a grid view, as the panel opens it large: its channel, its figures in words, and where it is largest. */
export interface GridCell {
    channel: number;
    figures: { label: string; value: string }[];
    /** The top activating position (row, column at the layer's resolution); feature maps only. */
    top?: { y: number; x: number };
}

/** Where each channel of a grid view is in its picture (the daemon's layout), and what the panel says about each. */
export interface GridCells {
    layout: GridLayout;
    /** One map's (or pattern's) height and width, in its own pixels. */
    mapHeight: number;
    mapWidth: number;
    cells: GridCell[];
}

/** The cells of a feature-map or filter-pattern grid; none for other views, or a daemon that does not say where its cells are. */
export function gridCells(kind: TabId | "attribution", result: RenderedResult): GridCells | undefined {
    if (kind === "featureMaps") {
        const r = result as unknown as FeatureMapsResult;
        if (!r.grid) return undefined;
        return {
            layout: r.grid,
            mapHeight: r.shape[1] ?? 0,
            mapWidth: r.shape[2] ?? 0,
            cells: r.stats.map((s) => ({
                channel: s.channel,
                figures: [
                    { label: "Min", value: fixedShort(s.min) },
                    { label: "Max", value: fixedShort(s.max) },
                    { label: "Mean", value: fixedShort(s.mean) },
                    { label: "Std", value: fixedShort(s.std) },
                    ...(s.topY !== undefined && s.topX !== undefined ? [{ label: "Top at", value: `row ${s.topY}, column ${s.topX}` }] : []),
                ],
                ...(s.topY !== undefined && s.topX !== undefined ? { top: { y: s.topY, x: s.topX } } : {}),
            })),
        };
    }
    if (kind === "filterPatterns") {
        const r = result as unknown as FilterPatternsResult;
        if (!r.grid) return undefined;
        return {
            layout: r.grid,
            mapHeight: r.patternShape[1] ?? 0,
            mapWidth: r.patternShape[2] ?? 0,
            cells: r.patterns.map((p) => ({
                channel: p.channel,
                figures: [
                    { label: "Activation before the ascent", value: fixedShort(p.activationBefore) },
                    { label: "Activation of the pattern", value: fixedShort(p.activationAfter) },
                    { label: "From the cache", value: p.fromCache ? "yes" : "no" },
                ],
            })),
        };
    }
    return undefined;
}

/** Below 0.8, the top segments still differ between halves of the samples. */
function stabilityNote(stability: number): string {
    return Number.isFinite(stability) && stability < 0.8 ? `stability ${fixed(stability)}: the ranking is not settled, try more samples` : `stability ${fixed(stability)}`;
}

/** The pictures each kind of result carries besides `png`, the first being what the view shows by default. */
const VIEW_IMAGES: Partial<Record<TabId | "attribution", [id: string, label: string, field: string][]>> = {
    gradCam: [["overlay", "Overlay", "png"], ["heatmap", "Heatmap", "heatmapPng"]],
    attribution: [["overlay", "Overlay", "png"], ["heatmap", "Heatmap", "heatmapPng"]],
    lime: [["weights", "Weights", "png"], ["top", "Top superpixels", "topPng"], ["segments", "Segments", "segmentsPng"]],
};

/** The pictures of `result` (of a fixed view, or "attribution": a registry method's) to switch between; none when it has only its `png`. */
export function viewImages(kind: TabId | "attribution", result: RenderedResult): ViewImage[] {
    const images = (VIEW_IMAGES[kind] ?? []).flatMap(([id, label, field]) => {
        const png = result[field];
        return typeof png === "string" && png ? [{ id, label, png }] : [];
    });
    return images.length > 1 ? images : [];
}

/**
 * A `$/progress` of a view's request as the panel gets it: the message, the percentage, and the picture of the
 * result so far, a LIME/SHAP partial map or the grid of the filter patterns finished so far (sent as each batch
 * of channels is done), so the panel draws them as they finish.
 */
export function progressMessage(id: number, p: WorkDoneProgress): Extract<ExtensionMessage, { type: "progress" }> {
    const partialPng = p.partial?.png ?? p.patterns?.png;
    return { type: "progress", id, ...(p.message ? { message: p.message } : {}), percentage: p.percentage, ...(partialPng ? { partialPng } : {}) };
}
