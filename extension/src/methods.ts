// The explainer registry as the panel sees it (issue 16): the daemon's daemon/methods list turned into tabs
// (one per group: Gradients, CAM, Perturbation…), a form per method generated from its options' metadata, and
// the checks of the values a form sends back. Nothing here names a method: a method the daemon adds shows up
// with no change to the extension. No `vscode` import (unit-tested).
import { TABS, type TabId } from "./tabs";
import type { DaemonMethodsResult, LayerInfo, MethodInfo, MethodOption, MethodOptionValue, MethodOptionValues } from "./protocol";

/** How the panel titles a group's tab; a group not named here gets its name, capitalised. */
const GROUP_TITLES: Record<string, string> = { gradients: "Gradients", cam: "CAM", perturbation: "Perturbation", superpixels: "Superpixels" };
/** The order of the group tabs; other groups follow in the order the daemon lists their first method. */
const GROUP_ORDER = ["gradients", "cam", "perturbation"];

/** What the panel knows of the daemon's methods: the list, or why there is none. */
export type MethodsState = { available: true; methods: MethodInfo[]; trustMethods: string[] } | { available: false; reason: string };

/** The daemon's answer to daemon/methods, or why the new tabs are hidden (an older daemon answers "method not found"). */
export function methodsState(result: DaemonMethodsResult | { notFound: true; daemonVersion: string } | { error: string }): MethodsState {
    if ("methods" in result) return { available: true, methods: (result.methods ?? []).filter(usable).map(knownOptions), trustMethods: result.trustMethods ?? [] };
    if ("notFound" in result) {
        return {
            available: false,
            reason:
                `This daemon (version ${result.daemonVersion}) has no 'daemon/methods': it predates the explainer registry, so the Gradients, CAM and ` +
                "Perturbation methods are hidden and Grad-CAM uses its own view. Clear the setting cnnInterpret.daemon.path to use the daemon bundled with the extension, or point it at a newer one.",
        };
    }
    return { available: false, reason: `The daemon's list of methods could not be read (${result.error}), so the Gradients, CAM and Perturbation methods are hidden.` };
}

/** The fixed view that shows `m` (daemon/methods' `view`, when the panel has that view), or undefined. */
function ownView(m: MethodInfo): TabId | undefined {
    return TABS.find((t) => t.id === m.view)?.id;
}

/** A method the panel can show: a name the messages can carry, in a group. */
function usable(m: MethodInfo): boolean {
    return typeof m.name === "string" && METHOD_NAME.test(m.name) && typeof m.group === "string" && m.group !== "";
}

/** The options the panel has a control for; any other (a type added later) is left out, so the daemon uses its default. */
function knownOptions(m: MethodInfo): MethodInfo {
    return { ...m, options: (m.options ?? []).filter((o) => typeof o.name === "string" && OPTION_TYPES.includes(o.type)) };
}

export const METHOD_NAME = /^[a-z0-9][a-z0-9+_-]{0,40}$/i;
const OPTION_TYPES = ["integer", "number", "choice", "boolean"];

/** One tab of the panel: a fixed view (feature maps, LIME…) or a group of registry methods. */
export interface PanelTab {
    id: string;
    title: string;
    /** "spatial": always at a layer; "optional": SHAP (GradientSHAP at a layer); "none"; "method": when the chosen method needs one. */
    layer: "spatial" | "optional" | "none" | "method";
    /** A group tab's methods, in the daemon's order. */
    methods?: string[];
}

/** The id of a group's tab: the group's name, unless a fixed view already has that id. */
export function groupTabId(group: string): string {
    return (TABS as readonly { id: string }[]).some((t) => t.id === group) || !/^[a-z][a-z0-9-]{0,30}$/.test(group) ? `methods-${group.replace(/[^a-z0-9-]/gi, "").toLowerCase()}` : group;
}

function groupTitle(group: string): string {
    return GROUP_TITLES[group] ?? group.charAt(0).toUpperCase() + group.slice(1);
}

/**
 * The panel's tabs: feature maps and filter patterns, then one tab per group of registry methods (replacing the
 * Grad-CAM view, whose methods are in the CAM group), then LIME and SHAP. A method the daemon says has a view of its
 * own that the panel has (LIME in the LIME view, KernelSHAP in the SHAP view) is shown there only, not in a group
 * tab too. Without the registry (an older daemon), the fixed views of before.
 */
export function panelTabs(state: MethodsState): PanelTab[] {
    const fixed = (id: TabId): PanelTab => {
        const t = TABS.find((x) => x.id === id);
        if (!t) throw new Error(`No fixed tab '${id}'.`);
        return { id: t.id, title: t.title, layer: t.layer };
    };
    if (!state.available || state.methods.length === 0) return TABS.map((t) => fixed(t.id));
    const groups = new Map<string, string[]>();
    for (const m of state.methods.filter((x) => !ownView(x))) groups.set(m.group, [...(groups.get(m.group) ?? []), m.name]);
    const rank = (g: string) => (GROUP_ORDER.includes(g) ? GROUP_ORDER.indexOf(g) : GROUP_ORDER.length);
    const ordered = [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b)); // stable: unknown groups keep the daemon's order
    const groupTabs = ordered.map(([g, methods]): PanelTab => ({ id: groupTabId(g), title: groupTitle(g), layer: "method", methods }));
    return [fixed("featureMaps"), fixed("filterPatterns"), ...groupTabs, fixed("lime"), fixed("shap")];
}

// ---- the option form ---------------------------------------------------------------------------------

/** One control of a method's form, everything the webview needs to draw it (it does no parsing of metadata). */
export interface FormField {
    /** The option's name: the key in explain/attribution's `options`. */
    name: string;
    label: string;
    control: "integer" | "number" | "select" | "checkbox";
    /** The default, of the option's JSON type. */
    value: MethodOptionValue;
    min?: number;
    max?: number;
    /** 1 for integers, "any" for numbers. */
    step?: number | "any";
    choices?: { value: string; label: string }[];
    /** The option's description, its range and its default: the control's tooltip. */
    title: string;
}

/** "steps" → "Steps", "noiseLevel" / "noise-level" / "noise_level" → "Noise level". */
export function optionLabel(name: string): string {
    const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").split(/[\s_-]+/).filter(Boolean).map((w) => w.toLowerCase());
    const text = words.join(" ");
    return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The form of a method: one field per option, in the daemon's order, defaults filled. */
export function formFields(method: MethodInfo): FormField[] {
    return method.options.map((o): FormField => {
        const range = rangeText(o);
        const title = [o.description, range, `Default: ${String(o.default)}.`].filter(Boolean).join(" ");
        const base = { name: o.name, label: optionLabel(o.name), title };
        switch (o.type) {
            case "integer":
            case "number":
                return {
                    ...base,
                    control: o.type,
                    value: typeof o.default === "number" ? o.default : Number(o.default),
                    ...(o.minimum !== undefined && o.minimum !== null ? { min: o.minimum } : {}),
                    ...(o.maximum !== undefined && o.maximum !== null ? { max: o.maximum } : {}),
                    step: o.type === "integer" ? 1 : "any",
                };
            case "choice":
                return { ...base, control: "select", value: String(o.default), choices: (o.choices ?? []).map((c) => ({ value: c, label: c })) };
            default:
                return { ...base, control: "checkbox", value: o.default === true || o.default === "true" };
        }
    });
}

function rangeText(o: MethodOption): string {
    const min = o.minimum ?? undefined;
    const max = o.maximum ?? undefined;
    if (o.type === "choice") return o.choices?.length ? `One of ${o.choices.join(", ")}.` : "";
    if (min !== undefined && max !== undefined) return `From ${min} to ${max}.`;
    if (min !== undefined) return `At least ${min}.`;
    if (max !== undefined) return `At most ${max}.`;
    return "";
}

/** What is wrong with `value` for option `o` (in words), or undefined when it is a valid value of the option's JSON type. */
export function optionProblem(o: MethodOption, value: unknown): string | undefined {
    const what = `Option '${o.name}'`;
    switch (o.type) {
        case "integer":
        case "number": {
            const kind = o.type === "integer" ? "an integer" : "a number";
            if (typeof value !== "number" || !Number.isFinite(value) || (o.type === "integer" && !Number.isSafeInteger(value))) return `${what} must be ${kind}, not ${JSON.stringify(value)}.`;
            if ((o.minimum != null && value < o.minimum) || (o.maximum != null && value > o.maximum)) return `${what} must be ${kind} ${rangeText(o).replace(/^From/, "from").replace(/^At/, "at").replace(/\.$/, "")}, not ${value}.`;
            return undefined;
        }
        case "choice":
            return typeof value === "string" && (o.choices ?? []).includes(value) ? undefined : `${what} must be one of ${(o.choices ?? []).join(", ")}, not ${JSON.stringify(value)}.`;
        case "boolean":
            return typeof value === "boolean" ? undefined : `${what} must be true or false, not ${JSON.stringify(value)}.`;
        default:
            return `${what} has a type the panel does not know (${o.type}).`;
    }
}

/**
 * The options explain/attribution gets for `method`: every declared option, the value sent for it or its default,
 * each of its JSON type. Values for options the method does not declare are dropped (a form kept from an older
 * daemon); a value of the wrong type or out of range throws, saying which option and what it allows.
 */
export function requestOptions(method: MethodInfo, values: Readonly<Record<string, unknown>> | undefined): MethodOptionValues {
    const out: MethodOptionValues = {};
    for (const o of method.options) {
        const sent = values?.[o.name];
        if (sent === undefined) {
            out[o.name] = defaultValue(o);
            continue;
        }
        const problem = optionProblem(o, sent);
        if (problem) throw new OptionError(problem);
        out[o.name] = sent as MethodOptionValue;
    }
    return out;
}

export class OptionError extends Error {
    override name = "OptionError";
}

function defaultValue(o: MethodOption): MethodOptionValue {
    if (o.type === "integer" || o.type === "number") return typeof o.default === "number" ? o.default : Number(o.default);
    if (o.type === "boolean") return o.default === true || o.default === "true";
    return String(o.default);
}

// ---- what the webview gets ---------------------------------------------------------------------------

/** A method as the webview shows it: its form, and which checks its view offers. */
export interface PanelMethod {
    name: string;
    displayName: string;
    /** The tab it is listed in. */
    tab: string;
    kind: string;
    signed: boolean;
    sampling: boolean;
    needsLayer: boolean;
    paper: string;
    fields: FormField[];
    /** explain/metrics and explain/sanity score it (it is in trustMethods). */
    trust: boolean;
    /** A layer method that is cheap to run at every layer at once (explain/layerSweep). */
    sweep: boolean;
}

/** The registry methods of the group tabs (a method with a fixed view of its own is that view's, which asks for it its own way). */
export function panelMethods(state: MethodsState): PanelMethod[] {
    if (!state.available) return [];
    return state.methods.filter((m) => !ownView(m)).map((m) => ({
        name: m.name,
        displayName: m.displayName || m.name,
        tab: groupTabId(m.group),
        kind: m.kind,
        signed: m.signed === true,
        sampling: m.sampling === true,
        needsLayer: m.needsLayer === true,
        paper: m.paper ?? "",
        fields: formFields(m),
        trust: state.trustMethods.includes(m.name),
        sweep: m.needsLayer === true && m.sampling !== true && m.group === "cam",
    }));
}

/** The layer a layer method starts at, as the daemon picks it: the last conv layer, after its batch norm and activation. */
export function defaultMethodLayer(layers: readonly LayerInfo[]): string | undefined {
    const spatial = (l: LayerInfo) => l.outputShape.length === 3;
    let last: string | undefined;
    for (const [i, l] of layers.entries()) {
        if (!spatial(l)) continue;
        if (l.kind === "BasicBlock" || l.kind === "Bottleneck") {
            last = l.name;
            continue;
        }
        if (l.kind !== "Conv2d" && l.kind !== "Conv") continue;
        last = l.name;
        for (const next of layers.slice(i + 1)) {
            if (!spatial(next) || !/^(BatchNorm2d|BatchNormalization|ReLU|Relu|LeakyRelu)$/.test(next.kind)) break;
            last = next.name;
        }
    }
    return last ?? layers.filter(spatial).at(-1)?.name;
}
