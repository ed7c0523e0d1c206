// Can the map be trusted: faithfulness scores, the sanity check and the layer sweep of the view on screen.
import type { CheckView } from "../checks";
import type { App } from "./app";
import { button, progressBar } from "./controls";
import { h } from "./dom";
import { checkSlot, currentMethod, layerOf, sweepKey, tabInfo, viewMessage, type Check, type ViewMessage } from "./state";
import { dataUri, picture } from "./picture";

/** A check's progress bar with Cancel, or its error with Try again. */
function checkStatus(app: App, c: Check, retry: () => void): HTMLElement | undefined {
    if (c.state === "loading") return progressBar(`progress-${c.id}`, c.progress, () => app.cancel(c.id));
    if (c.state === "unavailable") return h("p", { class: "unavailable", role: "status", text: c.message ?? "Not available yet." });
    if (c.state === "error") return h("p", {}, h("span", { class: "error", role: "alert", text: `${c.message ?? "Failed."} ` }), button("Try again", "secondary small", retry));
    return undefined;
}

function ready<K extends CheckView["check"]>(c: Check | undefined, kind: K): Extract<CheckView, { check: K }> | undefined {
    return c?.state === "ready" && c.view?.check === kind ? (c.view as Extract<CheckView, { check: K }>) : undefined;
}

/** The message that made the view of `tab` as it is now. */
function made(app: App, tab: string): ViewMessage | undefined {
    const t = tabInfo(app.model, tab);
    return t ? viewMessage(app.model, t) : undefined;
}

/** Faithfulness of the view with `key`: deletion/insertion curves and a one-line verdict. */
export function metrics(app: App, tab: string, key: string): HTMLElement {
    const section = h("section", { class: "check", id: "metrics", "aria-label": "Faithfulness" }, h("h2", { text: "Faithfulness (deletion and insertion against a random map)" }));
    const c = app.model.checks.get(checkSlot("metrics", tab));
    const retry = () => {
        const msg = made(app, tab);
        if (msg && app.model.inFlight?.tab !== tab) app.requestCheck("metrics", msg, key);
    };
    if (!c || c.key !== key) {
        section.append(button("Compute faithfulness", "secondary", retry));
        return section;
    }
    section.setAttribute("data-state", c.state);
    const status = checkStatus(app, c, retry);
    if (status) section.append(status);
    const v = ready(c, "metrics");
    if (v) section.append(h("p", { id: "metrics-line", class: v.faithful ? "verdict good" : "verdict bad", text: v.line }), h("img", { id: "metrics-img", class: "plot", src: dataUri(v.png), alt: `Deletion and insertion curves: ${v.line}` }));
    return section;
}

function sanityButton(app: App, msg: ViewMessage, viewKey: string, sampling: boolean): HTMLElement {
    return button("Sanity check", "secondary", () => app.requestCheck("sanity", msg, viewKey), {
        id: "sanity-btn",
        title: sampling
            ? "Randomise the model's weights layer by layer from the top and recompute the map with the same samples and seed: one run of the method per layer, so it takes a while on a large model"
            : "Randomise the model's weights layer by layer from the top and recompute the map: a map that does not change does not explain the model",
    });
}

/** The sanity check of the view `msg` made, when one was asked for: progress, verdict, strip and correlations. */
function sanity(app: App, msg: ViewMessage, viewKey: string): HTMLElement | undefined {
    const c = app.model.checks.get(checkSlot("sanity", msg.tab));
    if (!c || c.key !== viewKey) return undefined;
    const part = h("div", { id: "sanity", "data-state": c.state }, h("h2", { text: "Sanity check (model parameter randomisation)" }));
    const status = checkStatus(app, c, () => app.requestCheck("sanity", msg, viewKey));
    if (status) part.append(status);
    const v = ready(c, "sanity");
    if (v) {
        part.append(
            h("p", { id: "sanity-verdict", class: v.flagged ? "verdict bad" : "verdict good", role: v.flagged ? "alert" : undefined, text: `${v.flagged ? "⚠ " : ""}${v.verdict}` }),
            picture("sanity-img", v.png, "The map at each stage of randomisation", { class: "fit plot" }),
            h("ol", { class: "stages" }, ...v.stages.map((s) => h("li", { text: `${s.label}: ${s.correlation}` }))),
        );
    }
    return part;
}

/**
 * The checks under a scored view: its sanity check, one click, and for a CAM method (or the old Grad-CAM view) the
 * layer sweep. `sampling`: the method samples (its sanity check runs it once per layer).
 */
export function mapChecks(app: App, tab: string, viewKey: string): HTMLElement | undefined {
    const msg = made(app, tab);
    if (!msg) return undefined;
    const method = currentMethod(app.model, tabInfo(app.model, tab));
    const sampling = method ? method.sampling : tab === "lime" || tab === "shap";
    const sweepable = method ? method.sweep : tab === "gradCam";
    const title = method?.displayName ?? "Grad-CAM";
    const tools = h("div", { class: "toolbar" }, sanityButton(app, msg, viewKey, sampling));
    if (sweepable) tools.append(button("Layer sweep", "secondary", () => app.requestCheck("layerSweep", msg, sweepKey(app.model, tab)), { id: "sweep-btn", title: `${title} at every conv layer in one go: which layer should I pick?` }));
    const section = h("section", { class: "check", id: sweepable ? "map-checks" : `${tab}-checks`, "aria-label": sweepable ? "Sanity check and layer sweep" : "Sanity check" }, tools, sanity(app, msg, viewKey));
    const sweep = app.model.checks.get("layerSweep");
    if (sweepable && sweep?.key === sweepKey(app.model, tab)) {
        const part = h("div", { id: "layer-sweep", "data-state": sweep.state }, h("h2", { text: "Layer sweep" }));
        const status = checkStatus(app, sweep, () => app.requestCheck("layerSweep", msg, sweepKey(app.model, tab)));
        if (status) part.append(status);
        const v = ready(sweep, "layerSweep");
        if (v) {
            const current = layerOf(app.model);
            const names = h("div", { class: "sweep-layers" }, ...v.layers.map((l) =>
                button(l.displayName, "link", () => {
                    app.model.ui.tab = tab;
                    app.selectLayer(l.name);
                    app.post({ type: "layerSelected", layer: l.name });
                }, { title: `Open ${title} at ${l.displayName} (${l.name})`, "aria-current": l.name === current ? "true" : undefined })));
            part.append(h("p", { class: "muted", text: v.line }), h("div", { class: "strip" }, picture("sweep-img", v.png, `${title} at each conv layer`, { class: "fit plot" }), names));
        }
        section.append(part);
    }
    return section;
}
