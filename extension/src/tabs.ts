// The panel's fixed views, in tab order, with the daemon method each one calls and whether it works at a layer:
// "spatial" (always, a layer with [C,H,W] output), "optional" (SHAP: only GradientSHAP at a layer) or "none".
// The registry's methods get tabs of their own, one per group (methods.ts). No `vscode` import.
export const TABS = [
    { id: "featureMaps", title: "Feature maps", method: "explain/featureMaps", layer: "spatial" },
    { id: "filterPatterns", title: "Filter patterns", method: "explain/filterPatterns", layer: "spatial" },
    { id: "gradCam", title: "Grad-CAM", method: "explain/gradCam", layer: "spatial" },
    { id: "lime", title: "LIME", method: "explain/lime", layer: "none" },
    { id: "shap", title: "SHAP", method: "explain/shap", layer: "optional" },
] as const;

/** A fixed view's id. A group tab's id is its group's name (see methods.ts groupTabId). */
export type TabId = (typeof TABS)[number]["id"];
export type Tab = (typeof TABS)[number];

export function tabById(id: string): Tab | undefined {
    return TABS.find((t) => t.id === id);
}
