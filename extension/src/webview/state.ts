// The panel's state: what the extension sent (the session, the prediction, each view's result, the checks) and
// what the user chose (tab, layers, pages, class, options), kept in one object. The functions here are pure reads
// of it; app.ts changes it in answer to messages and clicks. The UI part survives hiding and reloads through
// VS Code's getState/setState.
import type { CheckView } from "../checks";
import type { GridCells, ViewImage } from "../explainRequests";
import type { ExplainOptions, ExtensionMessage, WebviewMessage } from "../messages";
import type { FormField, PanelMethod, PanelTab } from "../methods";
import type { ClassScore, Fit, MethodOptionValue } from "../protocol";

export type Session = Extract<ExtensionMessage, { type: "session" }>;
export type Prediction = Extract<ExtensionMessage, { type: "prediction" }>;
export type Outgoing = WebviewMessage;

/** What the user chose; saved with setState. */
export interface UiState {
    image?: string;
    model?: string;
    tab: string;
    layers: Record<string, string>;
    pages: Record<string, number>;
    target?: number;
    options: Record<string, ExplainOptions>;
    /** The picture shown among a result's pictures, by tab. */
    shown: Record<string, string>;
    /** The method picked in each group tab. */
    methods: Record<string, string>;
    methodOptions: Record<string, Record<string, MethodOptionValue>>;
    /** The cell opened large, by tab: its index in the grid shown. */
    zoomed: Record<string, number>;
}

export interface View {
    state: "idle" | "loading" | "ready" | "error" | "unavailable";
    key?: string | undefined;
    png?: string | undefined;
    caption?: string | undefined;
    message?: string | undefined;
    page?: number | undefined;
    pageCount?: number | undefined;
    images?: ViewImage[] | undefined;
    figures?: { label: string; value: string }[] | undefined;
    note?: string | undefined;
    cells?: GridCells | undefined;
    legendPng?: string | undefined;
}

export interface Progress {
    message?: string | undefined;
    percentage?: number | undefined;
}

export interface Check {
    state: "loading" | "ready" | "error" | "unavailable";
    key: string;
    id: number;
    view?: CheckView | undefined;
    message?: string | undefined;
    progress?: Progress | undefined;
}

/** A request the panel sent and is waiting for. */
export interface InFlight {
    id: number;
    tab: string;
    key: string;
    msg: ViewMessage;
}

/** The message that made a view: a fixed view's "explain" or a registry method's "attribute". */
export type ViewMessage = Extract<WebviewMessage, { type: "explain" }> | Extract<WebviewMessage, { type: "attribute" }>;

export interface Pinned {
    png: string;
    caption: string;
    title: string;
    key: string;
}

export interface Model {
    ui: UiState;
    session?: Session | undefined;
    top?: ClassScore[] | undefined;
    fit?: Fit | undefined;
    offers?: Prediction["offers"] | undefined;
    predictionError?: string | undefined;
    views: Map<string, View>;
    inFlight?: InFlight | undefined;
    progress?: Progress | undefined;
    /** Checks of the views, by slot: "metrics:<tab>", "sanity:<tab>", "layerSweep". */
    checks: Map<string, Check>;
    pinned?: Pinned | undefined;
    /** Compare's zoom: screen pixels per image pixel. */
    zoom: number;
    daemonNote?: string | undefined;
}

/** GradientSHAP's default (the daemon's): each of its samples is a backward pass, ~8× the cost of a KernelSHAP sample. */
export const GRADIENT_SHAP_SAMPLES = 128;
/** The layer choice "the input image" (GradientSHAP on pixels): sent as no layer at all. */
export const INPUT = "";

export function initialUi(saved: unknown): UiState {
    const s = typeof saved === "object" && saved !== null ? (saved as Partial<UiState>) : {};
    return { tab: "featureMaps", layers: {}, pages: {}, options: {}, shown: {}, methods: {}, methodOptions: {}, zoomed: {}, ...s };
}

export function newModel(saved: unknown): Model {
    return { ui: initialUi(saved), views: new Map(), checks: new Map(), zoom: 1 };
}

export function currentTab(m: Model): PanelTab | undefined {
    return m.session?.tabs.find((t) => t.id === m.ui.tab) ?? m.session?.tabs[0];
}

export function tabInfo(m: Model, id: string): PanelTab | undefined {
    return m.session?.tabs.find((t) => t.id === id);
}

/** The registry method a group tab shows (the one picked, else the tab's first); none for a fixed view. */
export function currentMethod(m: Model, tab: PanelTab | undefined = currentTab(m)): PanelMethod | undefined {
    if (!m.session || !tab?.methods?.length) return undefined;
    const methods = m.session.methods;
    const find = (name: string | undefined) => methods.find((x) => x.name === name && x.tab === tab.id);
    return find(m.ui.methods[tab.id]) ?? find(tab.methods[0]);
}

/**
 * The values of a method's form: the defaults, with what the user set over them where it still fits the field (a
 * value kept from an older daemon whose range or choices differed falls back to the default).
 */
export function methodValues(m: Model, method: PanelMethod): Record<string, MethodOptionValue> {
    const set = m.ui.methodOptions[method.name] ?? {};
    return Object.fromEntries(method.fields.map((f) => [f.name, fits(f, set[f.name]) ? (set[f.name] as MethodOptionValue) : f.value]));
}

export function fits(f: FormField, v: unknown): boolean {
    if (typeof v !== typeof f.value) return false;
    if (f.control === "select") return (f.choices ?? []).some((c) => c.value === v);
    if (typeof v !== "number") return true;
    return Number.isFinite(v) && (f.control !== "integer" || Number.isInteger(v)) && (f.min === undefined || v >= f.min) && (f.max === undefined || v <= f.max);
}

/** The fixed views whose maps are explained for the selected class, and every group tab. */
export function isTargeted(tab: PanelTab | undefined): boolean {
    return !!tab && (tab.id === "gradCam" || tab.id === "lime" || tab.id === "shap" || !!tab.methods);
}

export function options(m: Model, tab: string = m.ui.tab): ExplainOptions {
    const o: ExplainOptions = { ...m.session?.defaults[tab], ...m.ui.options[tab] };
    if (tab === "shap" && o.method === "gradient" && m.ui.options["shap"]?.samples === undefined) o.samples = GRADIENT_SHAP_SAMPLES;
    return o;
}

/** Whether the tab works at a layer now (SHAP only with GradientSHAP; a group tab when its method needs one). */
export function usesLayer(m: Model, tab: PanelTab | undefined = currentTab(m)): boolean {
    if (!tab) return false;
    if (tab.layer === "spatial") return true;
    if (tab.layer === "optional") return options(m, tab.id).method === "gradient";
    return tab.layer === "method" && !!currentMethod(m, tab)?.needsLayer;
}

export function layerOf(m: Model, tab: string = m.ui.tab): string | undefined {
    return m.ui.layers[tab] ?? m.session?.layers[tab];
}

export function page(m: Model, tab: string = m.ui.tab): number {
    return m.ui.pages[tab] ?? 0;
}

/** What the tab shows, as a key: a view already made for this key is shown as is. */
export function requestKey(m: Model, tab: PanelTab | undefined = currentTab(m)): string {
    if (!tab) return "";
    const method = currentMethod(m, tab);
    return JSON.stringify([
        tab.id,
        m.session?.image.path,
        m.session?.model.id,
        usesLayer(m, tab) ? layerOf(m, tab.id) : "",
        page(m, tab.id),
        isTargeted(tab) ? m.ui.target : "",
        options(m, tab.id),
        method ? [method.name, methodValues(m, method)] : "",
    ]);
}

/**
 * A registry method's request as the view shows it: its layer when it takes one, the class, the form's values, and
 * the colours of an unsigned map (a signed one is drawn red and blue by the daemon).
 */
export function attributeMessage(m: Model, tab: PanelTab, method: PanelMethod, id = 0): Extract<WebviewMessage, { type: "attribute" }> {
    const o = options(m, tab.id);
    const layer = method.needsLayer ? layerOf(m, tab.id) : undefined;
    return {
        type: "attribute",
        id,
        tab: tab.id,
        method: method.name,
        ...(layer !== undefined ? { layer } : {}),
        ...(m.ui.target !== undefined ? { target: m.ui.target } : {}),
        options: methodValues(m, method),
        ...(!method.signed && o.colormap ? { colormap: o.colormap } : {}),
        ...(!method.signed && o.opacity !== undefined ? { opacity: o.opacity } : {}),
    };
}

/** A fixed view's request as it is now. */
export function explainMessage(m: Model, tab: PanelTab, id = 0): Extract<WebviewMessage, { type: "explain" }> {
    const paged = tab.id === "featureMaps" || tab.id === "filterPatterns";
    const layer = usesLayer(m, tab) ? layerOf(m, tab.id) : undefined;
    return {
        type: "explain",
        id,
        tab: tab.id as Extract<WebviewMessage, { type: "explain" }>["tab"],
        ...(layer !== undefined && layer !== INPUT ? { layer } : {}),
        ...(paged ? { page: page(m, tab.id) } : {}),
        ...(isTargeted(tab) && m.ui.target !== undefined ? { target: m.ui.target } : {}),
        options: options(m, tab.id),
    };
}

/** The message that makes the view of `tab` now. */
export function viewMessage(m: Model, tab: PanelTab, id = 0): ViewMessage | undefined {
    if (tab.methods) {
        const method = currentMethod(m, tab);
        return method ? attributeMessage(m, tab, method, id) : undefined;
    }
    return explainMessage(m, tab, id);
}

/** The slot a check of `tab` is kept in. */
export function checkSlot(check: string, tab: string): string {
    return check === "layerSweep" ? check : `${check}:${tab}`;
}

/** The key a layer sweep belongs to: the view's image, model, class and method, not its layer. */
export function sweepKey(m: Model, tab: string): string {
    const method = currentMethod(m, tabInfo(m, tab));
    return JSON.stringify([m.session?.image.path, m.session?.model.id, m.ui.target, tab, method ? method.name : options(m, "gradCam").method]);
}

/** The picture of `view` on screen: the one picked among its images (Overlay/Heatmap, Weights/Top superpixels), else its png. */
export function shownPng(m: Model, tab: string, view: View | undefined): string | undefined {
    const images = view?.images;
    if (!images?.length) return view?.png;
    return (images.find((i) => i.id === m.ui.shown[tab]) ?? images[0])?.png;
}

/**
 * The tab to show for `id`: itself when the panel has it; the Grad-CAM view of an older panel (a saved state, the
 * Layers tree's "Grad-CAM at This Layer") is the CAM group's tab when the daemon has the registry.
 */
export function tabFor(m: Model, id: string): string | undefined {
    if (tabInfo(m, id)) return id;
    if (id === "gradCam" && tabInfo(m, "cam")) return "cam";
    return undefined;
}

/** Whether a map of this tab is scored (faithfulness) and checked (sanity): the registry says so for its methods. */
export function isScored(m: Model, tab: PanelTab | undefined): boolean {
    const method = currentMethod(m, tab);
    return method ? method.trust : tab?.id === "gradCam" || tab?.id === "lime" || tab?.id === "shap";
}
