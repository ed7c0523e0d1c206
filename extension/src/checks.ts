// Can the map be trusted (issue 8)? From a validated "check" message of the panel to the daemon's
// explain/metrics, explain/sanity or explain/layerSweep request, and from their answers to what the panel
// shows. No `vscode` import (unit-tested).
import type { WebviewMessage } from "./messages";
import type { LayerSweepResult, MetricsParams, MetricsResult, SanityParams, SanityResult, LayerSweepParams } from "./protocol";

export type CheckMessage = Extract<WebviewMessage, { type: "check" }>;
/** A check of a fixed view (Grad-CAM, LIME, SHAP), whose method follows from the tab and its options. */
export type ViewCheckMessage = Exclude<CheckMessage, { method: string }>;
/** A check of a registry method's view: the method is named, and its options go as they are. */
export type MethodCheckMessage = Extract<CheckMessage, { method: string }>;

export interface CheckRequest {
    method: "explain/metrics" | "explain/sanity" | "explain/layerSweep";
    params: Record<string, unknown>;
}

/** The explain/metrics and explain/sanity name of the method a fixed view shows with its options. */
export function metricsMethod(message: ViewCheckMessage): string {
    const o = message.options;
    switch (message.tab) {
        case "gradCam":
            return o.method === "grad-cam++" ? "grad-cam++" : "grad-cam";
        case "lime":
            return "lime";
        case "shap":
            return o.method === "gradient" ? "gradient-shap" : "kernel-shap";
    }
}

/** The request for a check of the view the panel shows (same method, layer, target and options). */
export function checkRequest(message: CheckMessage, image: string, model: string): CheckRequest {
    if ("method" in message) return methodCheckRequest(message, image, model);
    const o = message.options;
    const method = metricsMethod(message);
    const target = message.target !== undefined ? { target: message.target } : {};
    const layer = message.layer !== undefined && (method.startsWith("grad-cam") || method === "gradient-shap") ? { layer: message.layer } : {};
    const sampled = message.tab === "lime" || message.tab === "shap";
    const samples = sampled && o.samples !== undefined ? { samples: o.samples } : {};
    const seed = sampled && o.seed !== undefined ? { seed: o.seed } : {};
    const segments = sampled && method !== "gradient-shap" && o.segments !== undefined ? { segments: o.segments } : {};
    switch (message.check) {
        case "metrics": {
            const params: MetricsParams = { model, image, method, ...layer, ...target, ...samples, ...seed, ...segments };
            return { method: "explain/metrics", params: params as unknown as Record<string, unknown> };
        }
        case "sanity": {
            const params: SanityParams = { model, image, method, ...layer, ...target, ...samples, ...seed, ...segments };
            return { method: "explain/sanity", params: params as unknown as Record<string, unknown> };
        }
        case "layerSweep": {
            const params: LayerSweepParams = { model, image, method, ...target };
            return { method: "explain/layerSweep", params: params as unknown as Record<string, unknown> };
        }
    }
}

/**
 * A registry method's check: any method of daemon/methods' trustMethods is scored with the view's layer (absent for
 * pixel methods), target and options; the layer sweep (CAM methods) takes the method and target only.
 */
function methodCheckRequest(message: MethodCheckMessage, image: string, model: string): CheckRequest {
    const { method, layer, target, options } = message;
    const at = layer !== undefined ? { layer } : {};
    const of = target !== undefined ? { target } : {};
    switch (message.check) {
        case "metrics": {
            const params: MetricsParams = { model, image, method, ...at, ...of, options };
            return { method: "explain/metrics", params: params as unknown as Record<string, unknown> };
        }
        case "sanity": {
            const params: SanityParams = { model, image, method, ...at, ...of, options };
            return { method: "explain/sanity", params: params as unknown as Record<string, unknown> };
        }
        case "layerSweep": {
            const params: LayerSweepParams = { model, image, method, ...of };
            return { method: "explain/layerSweep", params: params as unknown as Record<string, unknown> };
        }
    }
}

const fixed = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : String(x));

/** Faithful: removing the most important pixels first hurts more, and revealing them first helps more, than a random order. */
export function metricsVerdict(r: Pick<MetricsResult, "deletion" | "insertion" | "randomDeletion" | "randomInsertion">): { line: string; faithful: boolean } {
    const deletionBetter = r.deletion.auc < r.randomDeletion.auc;
    const insertionBetter = r.insertion.auc > r.randomInsertion.auc;
    const faithful = deletionBetter && insertionBetter;
    const verdict = faithful
        ? "more faithful than a random map"
        : deletionBetter || insertionBetter
          ? `only partly faithful: ${deletionBetter ? "insertion" : "deletion"} is no better than a random map's`
          : "no more faithful than a random map";
    return {
        line: `Deletion AUC ${fixed(r.deletion.auc)} vs random ${fixed(r.randomDeletion.auc)} · Insertion AUC ${fixed(r.insertion.auc)} vs random ${fixed(r.randomInsertion.auc)} — ${verdict}`,
        faithful,
    };
}

/** What the panel shows of a check's answer (all text, set with textContent). */
export type CheckView =
    | { check: "metrics"; png: string; line: string; faithful: boolean }
    | { check: "sanity"; png: string; verdict: string; flagged: boolean; stages: { label: string; correlation: string }[] }
    | { check: "layerSweep"; png: string; line: string; layers: { name: string; displayName: string }[] };

/** `method`: the display name of the method a layer sweep ran (default Grad-CAM). */
export function checkView(check: CheckMessage["check"], result: unknown, method = "Grad-CAM"): CheckView {
    const png = (result as { png?: unknown } | null)?.png;
    if (typeof png !== "string" || !png) throw new Error(`The daemon's answer to ${check} has no image.`);
    switch (check) {
        case "metrics": {
            const r = result as MetricsResult;
            return { check, png, ...metricsVerdict(r) };
        }
        case "sanity": {
            const r = result as SanityResult;
            return {
                check,
                png,
                verdict: String(r.verdict ?? ""),
                flagged: r.flagged === true,
                stages: (r.stages ?? []).map((s) => ({
                    label: String(s.label),
                    correlation: typeof s.rankCorrelation === "number" ? `ρ ${s.rankCorrelation.toFixed(2)}` : "flat map",
                })),
            };
        }
        case "layerSweep": {
            const r = result as LayerSweepResult;
            return {
                check,
                png,
                line: `${method} of ${r.targetLabel} (${r.target}) at each conv layer, shallow to deep — click a layer to open it`,
                layers: (r.layers ?? []).map((l) => ({ name: l.layer.name, displayName: l.layer.displayName })),
            };
        }
    }
}
