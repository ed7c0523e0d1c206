// The panel's webview: the image, its top-5 predictions and the views: the fixed ones (feature maps, filter
// patterns, LIME, SHAP) and one tab per group of the daemon's registry methods, each method's form drawn from
// the fields the extension sends (methods.ts), so a new method needs no change here. It only renders and asks;
// the extension validates every message and talks to the daemon. Each message updates the state (state.ts), and
// the views (render.ts and views/) are patched in place (dom.ts); a progress tick touches its progress bar only.
// Text from outside is always set as text, never as HTML.
import type { ExtensionMessage, WebviewMessage } from "../messages";
import { patch } from "./dom";
import { renderApp } from "./render";
import {
    checkSlot,
    currentMethod,
    currentTab,
    isScored,
    layerOf,
    newModel,
    requestKey,
    tabFor,
    tabInfo,
    usesLayer,
    viewMessage,
    type Model,
    type Outgoing,
    type Progress,
    type ViewMessage,
} from "./state";

/** What VS Code gives a webview's script (acquireVsCodeApi), or a test's stand-in. */
export interface Host {
    postMessage(message: Outgoing): void;
    getState(): unknown;
    setState(state: unknown): void;
}

type CheckKind = Extract<WebviewMessage, { type: "check" }>["check"];

export class App {
    readonly model: Model;
    private nextId = 1;

    constructor(
        private readonly host: Host,
        readonly root: HTMLElement,
    ) {
        this.model = newModel(host.getState());
    }

    post(message: Outgoing): void {
        this.host.postMessage(message);
    }

    save(): void {
        this.host.setState(this.model.ui);
    }

    /** Brings the DOM in line with the state, in place. */
    render(): void {
        this.root.removeAttribute("aria-busy");
        patch(this.root, renderApp(this));
    }

    // ---- asking for views and checks ---------------------------------------------------------------------

    /** Asks for the current tab's view unless it is on screen (or on its way) already. */
    request(): void {
        const m = this.model;
        const tab = currentTab(m);
        if (!m.session || !tab) return;
        const key = requestKey(m);
        const view = m.views.get(tab.id);
        if ((view?.key === key && view.state !== "error") || m.inFlight?.key === key) {
            this.render();
            return;
        }
        const id = this.nextId++;
        const msg = viewMessage(m, tab, id);
        if (!msg) return;
        m.inFlight = { id, tab: tab.id, key, msg };
        m.progress = undefined;
        m.views.set(tab.id, { ...view, state: "loading", key, message: undefined, images: undefined });
        this.post(msg);
        this.render();
    }

    /** Asks for a check of a view made with `view` (the same layer, class and options); `key`: what it belongs to. */
    requestCheck(check: CheckKind, view: ViewMessage, key: string): void {
        const id = this.nextId++;
        this.model.checks.set(checkSlot(check, view.tab), { state: "loading", key, id });
        const layer = check === "layerSweep" ? undefined : view.layer;
        const common = { type: "check" as const, id, check, ...(layer !== undefined ? { layer } : {}), ...(view.target !== undefined ? { target: view.target } : {}) };
        this.post(
            view.type === "attribute"
                ? { ...common, tab: view.tab, method: view.method, options: view.options }
                : { ...common, tab: view.tab as "gradCam" | "lime" | "shap", options: view.options },
        );
        this.render();
    }

    cancel(id: number): void {
        this.post({ type: "cancel", id });
    }

    // ---- what the user does ------------------------------------------------------------------------------

    selectTab(tab: string): void {
        this.model.ui.tab = tab;
        this.save();
        this.request();
        document.getElementById(`tab-${tab}`)?.focus();
    }

    selectLayer(name: string): void {
        const ui = this.model.ui;
        if (layerOf(this.model) !== name) {
            ui.pages[ui.tab] = 0;
            delete ui.zoomed[ui.tab];
        }
        ui.layers[ui.tab] = name;
        this.save();
        this.request();
    }

    /** Changes an option of the current fixed view (undefined: back to its default) and asks again. */
    setOption(name: string, value: string | number | undefined): void {
        const ui = this.model.ui;
        const o: Record<string, unknown> = { ...ui.options[ui.tab] };
        if (value === undefined) delete o[name];
        else o[name] = value;
        if (name === "method" && ui.tab === "shap") delete o["samples"]; // each method starts at its own default
        ui.options[ui.tab] = o;
        this.save();
        this.request();
    }

    /** Re-renders after a change of what is shown only (a picture, a zoomed cell): nothing to ask the daemon. */
    update(change: (m: Model) => void): void {
        change(this.model);
        this.save();
        this.render();
    }

    // ---- what the extension says -------------------------------------------------------------------------

    onMessage(msg: ExtensionMessage): void {
        const m = this.model;
        switch (msg.type) {
            case "session": {
                const previous = m.session;
                const sameImage = m.ui.image === msg.image.path && m.ui.model === msg.model.id;
                // The picture comes once per panel: a later session for the same image (another model, a restarted daemon) has none.
                const src = msg.image.src ?? (previous?.image.path === msg.image.path ? previous.image.src : undefined);
                m.session = { ...msg, image: { ...msg.image, ...(src ? { src } : {}) } };
                m.top = undefined;
                m.fit = undefined;
                m.offers = undefined;
                m.predictionError = undefined;
                m.views.clear();
                m.checks.clear();
                m.inFlight = undefined;
                if (!sameImage) {
                    delete m.ui.target;
                    m.ui.zoomed = {};
                }
                if (m.ui.model !== msg.model.id) {
                    m.ui.layers = {};
                    m.ui.pages = {};
                }
                m.ui.image = msg.image.path;
                m.ui.model = msg.model.id;
                m.ui.tab = tabFor(m, m.ui.tab) ?? msg.tabs[0]?.id ?? "featureMaps";
                this.save();
                this.request();
                return;
            }
            case "prediction":
                m.top = msg.top;
                m.fit = msg.fit;
                m.offers = msg.offers;
                this.render();
                return;
            case "predictionError":
                m.predictionError = msg.message;
                this.render();
                return;
            case "progress":
                this.onProgress(msg.id, { ...(msg.message !== undefined ? { message: msg.message } : {}), ...(msg.percentage !== undefined ? { percentage: msg.percentage } : {}) }, msg.partialPng);
                return;
            case "checkResult":
            case "checkError": {
                const check = this.checkById(msg.id);
                if (!check) return;
                delete check.progress;
                if (msg.type === "checkResult") Object.assign(check, { state: "ready", view: msg.view });
                else Object.assign(check, { state: msg.unavailable ? "unavailable" : "error", message: msg.cancelled ? "Cancelled." : msg.message });
                this.render();
                return;
            }
            case "result":
            case "error": {
                const inFlight = m.inFlight;
                if (inFlight?.id !== msg.id) return;
                m.inFlight = undefined;
                m.progress = undefined;
                if (msg.type === "result") {
                    const tab = msg.tab;
                    m.views.set(tab, {
                        state: "ready", key: inFlight.key, png: msg.png, caption: msg.caption, page: msg.page, pageCount: msg.pageCount, images: msg.images,
                        figures: msg.figures, note: msg.note, cells: msg.cells, legendPng: msg.legendPng,
                    });
                    // Faithfulness scores of every attribution map, after the map itself is on screen; a sampling method's
                    // map would be computed again for them, so those wait for a click.
                    const made = inFlight.msg;
                    const method = made.type === "attribute" ? m.session?.methods.find((x) => x.name === made.method) : undefined;
                    const scored = method ? method.trust && !method.sampling : isScored(m, tabInfo(m, tab));
                    if (scored) this.requestCheck("metrics", inFlight.msg, inFlight.key);
                    // A channel kept open from another page or layer that has fewer channels closes.
                    if ((m.ui.zoomed[tab] ?? 0) >= (msg.cells?.cells.length ?? Infinity)) delete m.ui.zoomed[tab];
                } else {
                    const previous = m.views.get(msg.tab);
                    m.views.set(msg.tab, {
                        state: msg.unavailable ? "unavailable" : "error",
                        message: msg.cancelled ? "Cancelled." : msg.message,
                        ...(msg.cancelled && previous?.png ? { png: previous.png } : {}),
                        ...(msg.unavailable ? { key: inFlight.key } : {}),
                    });
                }
                this.render();
                return;
            }
            case "showLayer": {
                // From the Layers tree: the named view, else the open one when it works at a layer, else feature maps.
                const tab = (msg.tab && tabFor(m, msg.tab)) || (usesLayer(m) ? m.ui.tab : "featureMaps");
                m.ui.tab = tab;
                if (tab === "shap") m.ui.options["shap"] = { ...m.ui.options["shap"], method: "gradient" };
                const t = tabInfo(m, tab);
                if (t?.methods && !currentMethod(m, t)?.needsLayer) {
                    // A group tab showing a pixel method: its first method that works at a layer.
                    const at = m.session?.methods.find((x) => x.tab === tab && x.needsLayer);
                    if (at) m.ui.methods[tab] = at.name;
                }
                this.selectLayer(msg.layer);
                return;
            }
            case "daemonState":
                m.daemonNote =
                    msg.state === "running" ? undefined
                    : msg.state === "restarting" ? `The daemon is restarting (${msg.message || "it stopped"})…`
                    : msg.state === "failed" ? `The daemon is not running: ${msg.message ?? "it failed to start"}`
                    : undefined;
                this.render();
                return;
        }
    }

    /**
     * A progress tick (up to ten a second) touches its progress bar only, and a partial picture (a LIME or SHAP map, the
     * grid of the filter patterns finished so far) the view's picture: nothing else is rebuilt or even compared.
     */
    private onProgress(id: number, progress: Progress, partialPng: string | undefined): void {
        const m = this.model;
        const check = this.checkById(id);
        if (check?.state === "loading") {
            check.progress = progress;
            showProgress(document.getElementById(`progress-${check.id}`), progress);
        }
        if (m.inFlight?.id === id) {
            m.progress = progress;
            showProgress(document.getElementById("view-progress"), progress);
            const view = m.views.get(m.inFlight.tab);
            if (partialPng && view) {
                view.png = partialPng;
                // The cells a grid kept from the previous page or layer do not describe a partial grid (filter patterns
                // finished so far): they go, and the picture is drawn anew without them (clicks open nothing until the result).
                const stale = view.cells !== undefined;
                view.cells = undefined;
                const img = document.getElementById("view-img");
                if (img instanceof HTMLImageElement && !stale) img.src = `data:image/png;base64,${partialPng}`;
                else this.render(); // the first partial picture: there is none to update yet
            }
        }
    }

    private checkById(id: number) {
        for (const c of this.model.checks.values()) if (c.id === id) return c;
        return undefined;
    }
}

/** Sets a progress bar (see progressBar in controls.ts) to `p`. */
export function showProgress(bar: HTMLElement | null, p: Progress): void {
    if (!bar) return;
    const meter = bar.querySelector("progress");
    if (meter && p.percentage !== undefined) {
        meter.max = 100;
        meter.value = p.percentage;
    }
    const text = bar.querySelector(".progress-text");
    const line = p.message ?? "Working…";
    if (text && text.textContent !== line) text.textContent = line;
}
