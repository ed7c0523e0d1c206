//@ts-check
// The panel's webview: the image, its top-5 predictions and the views: the fixed ones (feature maps, filter
// patterns, LIME, SHAP) and one tab per group of the daemon's registry methods, each method's form drawn from
// the fields the extension sends (methods.ts), so a new method needs no change here. It only renders and asks;
// the extension validates every message and talks to the daemon. UI state survives hiding and reloads
// through getState/setState. Text from outside is always set with textContent, never as HTML.

(function () {
    /** @typedef {{ name: string, displayName: string, kind: string, group: string, shape: string, spatial: boolean }} Layer */
    /** @typedef {{ id: string, title: string, layer: "spatial" | "optional" | "none" | "method", methods?: string[] }} TabInfo */
    /** @typedef {string | number | boolean} OptionValue */
    /**
     * @typedef {{ name: string, label: string, control: "integer" | "number" | "select" | "checkbox", value: OptionValue,
     *   min?: number, max?: number, step?: number | "any", choices?: { value: string, label: string }[], title: string }} FormField
     */
    /**
     * @typedef {{ name: string, displayName: string, tab: string, kind: string, signed: boolean, sampling: boolean,
     *   needsLayer: boolean, paper: string, fields: FormField[], trust: boolean, sweep: boolean }} Method
     */
    /** @typedef {{ index: number, label: string, probability: number, logit: number }} ClassScore */
    /** @typedef {{ colormap?: string, scaling?: string, method?: string, preset?: string, samples?: number, segments?: number, seed?: number, opacity?: number }} Options */
    /**
     * @typedef {{ type: "session", image: { name: string, path: string, src?: string },
     *   model: { id: string, displayName: string, classes: string[], layers: Layer[] },
     *   tabs: TabInfo[], methods: Method[], methodsNote?: string, layers: Record<string, string>, defaults: Record<string, Options>,
     *   daemon: { version: string, device: string } }} Session
     */
    /**
     * @typedef {{ image?: string, model?: string, tab: string, layers: Record<string, string>,
     *   pages: Record<string, number>, target?: number, options: Record<string, Options>, shown?: Record<string, string>,
     *   methods?: Record<string, string>, methodOptions?: Record<string, Record<string, OptionValue>> }} State
     */
    /** @typedef {{ id: string, label: string, png: string }} ViewImage */
    /** @typedef {{ state: "idle" | "loading" | "ready" | "error" | "unavailable", png?: string, caption?: string,
     *   message?: string, key?: string, page?: number, pageCount?: number, images?: ViewImage[],
     *   figures?: { label: string, value: string }[], note?: string }} View */

    const vscode = acquireVsCodeApi();
    /** GradientSHAP's default (the daemon's): each of its samples is a backward pass, ~8× the cost of a KernelSHAP sample. */
    const GRADIENT_SHAP_SAMPLES = 128;
    /** The layer choice "the input image" (GradientSHAP on pixels): sent as no layer at all. */
    const INPUT = "";
    const app = /** @type {HTMLElement} */ (document.getElementById("app"));

    /** @type {State} */
    let state = Object.assign({ tab: "featureMaps", layers: {}, pages: {}, options: {} }, vscode.getState() || {});
    /** @type {Session | undefined} */
    let session;
    /** @type {ClassScore[] | undefined} */
    let top;
    /** @type {{suitable: boolean, reason?: string, suggestions: string[]} | undefined} */
    let imageFit;
    /** @typedef {{ id: string, displayName: string }} ModelOffer */
    /** @type {{ use: ModelOffer[], fetch: ModelOffer[] } | undefined} the models the misfit banner offers */
    let fitOffers;
    /** @type {string | undefined} */
    let predictionError;
    /** @type {Map<string, View>} per tab */
    const views = new Map();
    /** @type {{ id: number, tab: string, key: string, msg: Record<string, unknown> } | undefined} */
    let inFlight;
    /**
     * @typedef {{ state: "loading" | "ready" | "error" | "unavailable", key: string, id: number, view?: any, message?: string,
     *   progress?: { message?: string, percentage?: number } }} Check
     */
    /** @type {Map<string, Check>} checks of the views (issue 8), by slot: "metrics:<tab>", "sanity", "layerSweep" */
    const checks = new Map();
    /** @type {{ png: string, caption: string, title: string, key: string } | undefined} the left pane of Compare */
    let pinned;
    let zoom = 1;
    /** @type {{ message?: string, percentage?: number } | undefined} */
    let progress;
    /** @type {string | undefined} */
    let daemonNote;
    let nextId = 1;

    function save() {
        vscode.setState(state);
    }

    /**
     * @param {string} tag
     * @param {Record<string, string | number | boolean | undefined>} [attrs]
     * @param {(Node | string | undefined | false)[]} children
     * @returns {HTMLElement}
     */
    function h(tag, attrs, ...children) {
        const el = document.createElement(tag);
        for (const [k, v] of Object.entries(attrs || {})) {
            if (v === undefined || v === false) continue;
            if (k === "text") el.textContent = String(v);
            else if (v === true) el.setAttribute(k, "");
            else el.setAttribute(k, String(v));
        }
        for (const c of children) if (c !== undefined && c !== false) el.append(c);
        return el;
    }

    /** @returns {TabInfo | undefined} */
    function currentTab() {
        return session?.tabs.find((t) => t.id === state.tab) ?? session?.tabs[0];
    }

    /** @param {string} id @returns {TabInfo | undefined} */
    function tabInfo(id) {
        return session?.tabs.find((t) => t.id === id);
    }

    /** The registry method a group tab shows (the one picked, else the tab's first); none for a fixed view. @param {TabInfo | undefined} tab */
    function currentMethod(tab = currentTab()) {
        if (!session || !tab?.methods?.length) return undefined;
        const methods = session.methods;
        /** @param {string | undefined} name */
        const find = (name) => methods.find((m) => m.name === name && m.tab === tab.id);
        return find(state.methods?.[tab.id]) ?? find(tab.methods[0]);
    }

    /**
     * The values of a method's form: the defaults, with what the user set over them where it still fits the field (a
     * value kept from an older daemon whose range or choices differed falls back to the default).
     * @param {Method} method
     */
    function methodValues(method) {
        const set = state.methodOptions?.[method.name] ?? {};
        return Object.fromEntries(method.fields.map((f) => [f.name, fits(f, set[f.name]) ? set[f.name] : f.value]));
    }

    /** @param {FormField} f @param {unknown} v */
    function fits(f, v) {
        if (typeof v !== typeof f.value) return false;
        if (f.control === "select") return (f.choices ?? []).some((c) => c.value === v);
        if (typeof v !== "number") return true;
        return Number.isFinite(v) && (f.control !== "integer" || Number.isInteger(v)) && (f.min === undefined || v >= f.min) && (f.max === undefined || v <= f.max);
    }

    /** The fixed views whose maps are explained for the selected class, and every group tab. @param {TabInfo | undefined} tab */
    function isTargeted(tab) {
        return !!tab && (tab.id === "gradCam" || tab.id === "lime" || tab.id === "shap" || !!tab.methods);
    }

    /** @param {string} [tab] @returns {Options} */
    function options(tab = state.tab) {
        const o = Object.assign({}, session?.defaults[tab], state.options[tab]);
        if (tab === "shap" && o.method === "gradient" && state.options.shap?.samples === undefined) o.samples = GRADIENT_SHAP_SAMPLES;
        return o;
    }

    /** @param {string} name @param {string | number | undefined} value */
    function setOption(name, value) {
        const o = (state.options[state.tab] = Object.assign({}, state.options[state.tab]));
        if (value === undefined) delete o[/** @type {keyof Options} */ (name)];
        else Object.assign(o, { [name]: value });
        if (name === "method" && state.tab === "shap") delete o.samples; // each method starts at its own default
        save();
        request();
    }

    /** Whether the current tab works at a layer now (SHAP only with GradientSHAP; a group tab when its method needs one). */
    function usesLayer(tab = currentTab()) {
        return !!tab && (tab.layer === "spatial" || (tab.layer === "optional" && options(tab.id).method === "gradient") || (tab.layer === "method" && !!currentMethod(tab)?.needsLayer));
    }

    function layer() {
        return state.layers[state.tab] ?? session?.layers[state.tab];
    }

    function page() {
        return state.pages[state.tab] ?? 0;
    }

    /** What the current tab shows, as a key: a view already made for this key is shown as is. */
    function requestKey() {
        const tab = currentTab();
        if (!tab) return "";
        const method = currentMethod(tab);
        return JSON.stringify([tab.id, session?.image.path, session?.model.id, usesLayer(tab) ? layer() : "", page(), isTargeted(tab) ? state.target : "", options(),
            method ? [method.name, methodValues(method)] : ""]);
    }

    function request() {
        const tab = currentTab();
        if (!session || !tab) return;
        const key = requestKey();
        const view = views.get(tab.id);
        if (view && view.key === key && view.state !== "error") return render();
        if (inFlight && inFlight.key === key) return render();
        const id = nextId++;
        const method = currentMethod(tab);
        /** @type {Record<string, unknown>} */
        let msg;
        if (tab.methods) {
            if (!method) return;
            msg = attributeMessage(tab, method, id);
        } else {
            const paged = tab.id === "featureMaps" || tab.id === "filterPatterns";
            msg = {
                type: "explain",
                id,
                tab: tab.id,
                layer: usesLayer(tab) && layer() !== INPUT ? layer() : undefined,
                page: paged ? page() : undefined,
                target: isTargeted(tab) ? state.target : undefined,
                options: options(),
            };
        }
        inFlight = { id, tab: tab.id, key, msg };
        progress = undefined;
        views.set(tab.id, Object.assign({}, view, { state: "loading", key, message: undefined, images: undefined }));
        vscode.postMessage(msg);
        render();
    }

    /**
     * A registry method's request as the view shows it: its layer when it takes one, the class, the form's values, and
     * the colours of an unsigned map (a signed one is drawn red and blue by the daemon).
     * @param {TabInfo} tab @param {Method} method @param {number} [id]
     */
    function attributeMessage(tab, method, id) {
        const o = options(tab.id);
        const at = method.needsLayer ? state.layers[tab.id] ?? session?.layers[tab.id] : undefined;
        return {
            type: "attribute",
            id,
            tab: tab.id,
            method: method.name,
            layer: at,
            target: state.target,
            options: methodValues(method),
            colormap: method.signed ? undefined : o.colormap,
            opacity: method.signed ? undefined : o.opacity,
        };
    }

    /** The slot a check of `tab` is kept in. @param {string} check @param {string} tab */
    function checkSlot(check, tab) {
        return check === "layerSweep" ? check : `${check}:${tab}`;
    }

    /** The key a layer sweep belongs to: the view's image, model, class and method, not its layer. @param {string} tab */
    function sweepKey(tab) {
        const method = currentMethod(tabInfo(tab));
        return JSON.stringify([session?.image.path, session?.model.id, state.target, tab, method ? method.name : options("gradCam").method]);
    }

    /**
     * Asks for a check of a view made with `explain` (the same layer, class and options).
     * @param {"metrics" | "sanity" | "layerSweep"} check
     * @param {Record<string, unknown>} explain the view's "explain" message
     * @param {string} key what the check belongs to
     */
    function requestCheck(check, explain, key) {
        const slot = checkSlot(check, String(explain.tab));
        const id = nextId++;
        checks.set(slot, { state: "loading", key, id });
        vscode.postMessage({
            type: "check", id, check, tab: explain.tab, method: explain.method,
            layer: check === "layerSweep" ? undefined : explain.layer, target: explain.target, options: explain.options,
        });
        render();
    }

    /** The check with request `id`, if it is still the one shown. @param {number} id */
    function checkById(id) {
        for (const c of checks.values()) if (c.id === id) return c;
        return undefined;
    }

    /** The message of a map view (Grad-CAM, or a group tab's method) as it is now: for its sanity check and layer sweep. @param {string} tab */
    function mapMessage(tab) {
        const t = tabInfo(tab);
        const method = currentMethod(t);
        if (t && method) return attributeMessage(t, method);
        return { type: "explain", tab: "gradCam", layer: state.layers.gradCam ?? session?.layers.gradCam, target: state.target, options: options("gradCam") };
    }

    /**
     * The tab to show for `id`: itself when the panel has it; the Grad-CAM view of an older panel (a saved state, the
     * Layers tree's "Grad-CAM at This Layer") is the CAM group's tab when the daemon has the registry.
     * @param {string} id
     */
    function tabFor(id) {
        if (tabInfo(id)) return id;
        if (id === "gradCam" && tabInfo("cam")) return "cam";
        return undefined;
    }

    /** @param {string} tab */
    function selectTab(tab) {
        state.tab = tab;
        save();
        request();
        const button = document.getElementById(`tab-${tab}`);
        if (button) button.focus();
    }

    /** @param {string} name */
    function selectLayer(name) {
        if (layer() !== name) state.pages[state.tab] = 0;
        state.layers[state.tab] = name;
        save();
        request();
    }

    /** @param {MessageEvent} event */
    function onMessage(event) {
        const msg = event.data;
        switch (msg.type) {
            case "session": {
                const s = /** @type {Session} */ (msg);
                const sameImage = state.image === s.image.path && state.model === s.model.id;
                session = s;
                top = undefined;
                imageFit = undefined;
                fitOffers = undefined;
                predictionError = undefined;
                views.clear();
                checks.clear();
                inFlight = undefined;
                if (!sameImage) state.target = undefined;
                if (state.model !== s.model.id) {
                    state.layers = {};
                    state.pages = {};
                }
                state.image = s.image.path;
                state.model = s.model.id;
                state.tab = tabFor(state.tab) ?? s.tabs[0]?.id ?? "featureMaps";
                save();
                request();
                break;
            }
            case "prediction":
                top = msg.top;
                imageFit = msg.fit;
                fitOffers = msg.offers;
                render();
                break;
            case "predictionError":
                predictionError = msg.message;
                render();
                break;
            case "progress": {
                const check = checkById(msg.id);
                if (check && check.state === "loading") {
                    check.progress = { message: msg.message, percentage: msg.percentage };
                    render();
                }
                if (inFlight && inFlight.id === msg.id) {
                    progress = { message: msg.message, percentage: msg.percentage };
                    if (msg.partialPng) {
                        const view = views.get(inFlight.tab);
                        if (view) view.png = msg.partialPng;
                    }
                    render();
                }
                break;
            }
            case "checkResult":
            case "checkError": {
                const check = checkById(msg.id);
                if (!check) break;
                if (msg.type === "checkResult") Object.assign(check, { state: "ready", view: msg.view, progress: undefined });
                else Object.assign(check, { state: msg.unavailable ? "unavailable" : "error", message: msg.cancelled ? "Cancelled." : msg.message, progress: undefined });
                render();
                break;
            }
            case "result":
            case "error": {
                const isCurrent = inFlight && inFlight.id === msg.id;
                if (!isCurrent) break;
                const key = inFlight?.key;
                const explain = inFlight?.msg;
                inFlight = undefined;
                progress = undefined;
                if (msg.type === "result") {
                    views.set(msg.tab, {
                        state: "ready", png: msg.png, caption: msg.caption, key, page: msg.page, pageCount: msg.pageCount, images: msg.images,
                        figures: msg.figures, note: msg.note,
                    });
                    // Faithfulness scores of every attribution map, after the map itself is on screen; a sampling method's
                    // map would be computed again for them, so those wait for a click.
                    const method = explain?.method ? session?.methods.find((m) => m.name === explain.method) : undefined;
                    const scored = method ? method.trust && !method.sampling : msg.tab === "gradCam" || msg.tab === "lime" || msg.tab === "shap";
                    if (explain && key && scored) requestCheck("metrics", explain, key);
                } else {
                    const previous = views.get(msg.tab);
                    views.set(msg.tab, {
                        state: msg.unavailable ? "unavailable" : "error",
                        message: msg.cancelled ? "Cancelled." : msg.message,
                        png: msg.cancelled ? previous?.png : undefined,
                        key: msg.unavailable ? key : undefined,
                    });
                }
                render();
                break;
            }
            case "showLayer": {
                // From the Layers tree: the named view, else the open one when it works at a layer, else feature maps.
                const tab = (msg.tab && tabFor(msg.tab)) ?? (usesLayer() ? state.tab : "featureMaps");
                state.tab = tab;
                if (tab === "shap") state.options.shap = Object.assign({}, state.options.shap, { method: "gradient" });
                const t = tabInfo(tab);
                if (t?.methods && !currentMethod(t)?.needsLayer) {
                    // A group tab showing a pixel method: its first method that works at a layer.
                    const at = session?.methods.find((m) => m.tab === tab && m.needsLayer);
                    if (at) state.methods = Object.assign({}, state.methods, { [tab]: at.name });
                }
                selectLayer(msg.layer);
                break;
            }
            case "daemonState":
                daemonNote = msg.state === "running" ? undefined : msg.state === "restarting" ? `The daemon is restarting (${msg.message || "it stopped"})…` : msg.state === "failed" ? `The daemon is not running: ${msg.message}` : undefined;
                render();
                break;
        }
    }

    function renderHeader() {
        if (!session) return h("header");
        const s = session;
        return h("header", { class: "header" },
            s.image.src ? h("img", { class: "thumb", src: s.image.src, alt: `The image ${s.image.name}` }) : h("div", { class: "thumb missing", text: "no preview" }),
            h("div", { class: "title" },
                h("h1", { text: s.image.name }),
                h("p", { class: "model" },
                    "Explained by ",
                    h("strong", { text: s.model.displayName }),
                    ` (${s.model.id}) · daemon ${s.daemon.version} on ${s.daemon.device} `,
                    button("Change model…", "link", () => vscode.postMessage({ type: "command", command: "selectModel" }))),
            ));
    }

    function renderPredictions() {
        const section = h("section", { class: "predictions", id: "predictions", "aria-label": "Top-5 predictions" });
        if (predictionError) {
            section.append(h("p", { class: "error", role: "alert", text: predictionError }));
            return section;
        }
        if (!top) {
            section.append(h("p", { class: "muted", text: "Predicting…" }));
            return section;
        }
        if (imageFit && !imageFit.suitable) {
            // The image does not suit the model: say so before showing classes that mean little, and offer the ones that suit it.
            const use = fitOffers?.use ?? imageFit.suggestions.map((id) => ({ id, displayName: id }));
            const fetch = fitOffers?.fetch ?? [];
            const banner = h("div", { class: "banner", role: "status", id: "fit-warning" },
                h("p", { text: `⚠ ${imageFit.reason ?? "This image does not suit the model."}${use.length || fetch.length ? " Models that suit it:" : ""}` }));
            const actions = h("p", { class: "toolbar" });
            for (const m of use) {
                const b = button(`Use ${m.displayName}`, "secondary", () => vscode.postMessage({ type: "useModel", model: m.id }));
                b.setAttribute("data-model", m.id);
                actions.append(b);
            }
            for (const m of fetch) {
                const b = button(`Fetch ${m.displayName} weights…`, "secondary", () => vscode.postMessage({ type: "fetchWeights", model: m.id }));
                b.setAttribute("data-model", m.id);
                b.title = "Download its weights once (or add a file downloaded elsewhere), then use it";
                actions.append(b);
            }
            actions.append(button("Change model…", "link", () => vscode.postMessage({ type: "command", command: "selectModel" })));
            banner.append(actions);
            section.append(banner);
        }
        const targetName = state.target === undefined ? `the top class (${top[0]?.label ?? "?"})` : session?.model.classes[state.target] ?? String(state.target);
        const titles = (session?.tabs ?? []).filter(isTargeted).map((t) => t.title);
        const views = titles.length > 1 ? `${titles.slice(0, -1).join(", ")} and ${titles.at(-1)}` : titles.join("");
        section.append(h("p", { class: "muted", id: "target-line", text: `Target of ${views}: ${targetName}. Click a class to change it.` }));
        const list = h("ol", { class: "classes" });
        for (const c of top) {
            const selected = state.target === c.index || (state.target === undefined && c === top[0]);
            const b = button("", "class-row", () => {
                state.target = state.target === c.index ? undefined : c.index;
                save();
                request();
            });
            b.setAttribute("aria-pressed", String(selected));
            b.setAttribute("data-class-index", String(c.index));
            const fill = h("span", { class: "fill" });
            fill.style.width = `${Math.max(0, Math.min(100, c.probability * 100))}%`; // CSSOM: allowed by the CSP, unlike style=""
            b.append(
                h("span", { class: "label", text: c.label }),
                h("span", { class: "bar", "aria-hidden": "true" }, fill),
                h("span", { class: "prob", text: `${(c.probability * 100).toFixed(1)}%` }),
            );
            list.append(h("li", {}, b));
        }
        section.append(list);
        return section;
    }

    /**
     * @param {string} label
     * @param {string} cls
     * @param {() => void} onClick
     */
    function button(label, cls, onClick) {
        const b = h("button", { type: "button", class: cls, text: label || undefined });
        b.addEventListener("click", onClick);
        return b;
    }

    function renderTabs() {
        if (!session) return h("div");
        const tabs = session.tabs;
        const list = h("div", { class: "tabs", role: "tablist", "aria-label": "Views" });
        for (const t of tabs) {
            const selected = t.id === currentTab()?.id;
            const b = h("button", {
                type: "button", role: "tab", id: `tab-${t.id}`, class: "tab", "aria-selected": String(selected),
                "aria-controls": "view", tabindex: selected ? 0 : -1, text: t.title,
            });
            b.addEventListener("click", () => selectTab(t.id));
            b.addEventListener("keydown", (e) => {
                const i = tabs.findIndex((x) => x.id === t.id);
                const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
                const to = e.key === "Home" ? 0 : e.key === "End" ? tabs.length - 1 : step ? (i + step + tabs.length) % tabs.length : -1;
                if (to >= 0) {
                    e.preventDefault();
                    selectTab(tabs[to]?.id ?? t.id);
                }
            });
            list.append(b);
        }
        return list;
    }

    function renderToolbar() {
        const tab = currentTab();
        if (!session || !tab) return h("div");
        const bar = h("div", { class: "toolbar" });
        const o = options();
        const method = currentMethod(tab);
        if (tab.methods && method) bar.append(renderMethodPicker(tab, method));
        if (tab.id === "gradCam") bar.append(choice("method", "Method", [["grad-cam", "Grad-CAM"], ["grad-cam++", "Grad-CAM++"]], o.method));
        if (tab.id === "shap") {
            bar.append(choice("method", "Method", [["kernel", "KernelSHAP"], ["gradient", "GradientSHAP"]], o.method));
        }
        if (usesLayer(tab)) {
            const select = /** @type {HTMLSelectElement} */ (h("select", { id: "layer", "aria-label": "Layer" }));
            /** @type {Map<string, HTMLElement>} */
            const groups = new Map();
            if (tab.id === "shap") select.append(h("option", { value: INPUT, selected: layer() === INPUT, text: "Input image (pixels)" }));
            for (const l of session.model.layers) {
                if (!l.spatial) continue; // every view here works on [channels, height, width] maps
                let g = groups.get(l.group);
                if (!g) {
                    g = h("optgroup", { label: l.group });
                    groups.set(l.group, g);
                    select.append(g);
                }
                g.append(h("option", { value: l.name, selected: l.name === layer(), text: `${l.displayName} — ${l.kind} ${l.shape}` }));
            }
            select.addEventListener("change", () => {
                selectLayer(select.value);
                vscode.postMessage({ type: "layerSelected", layer: select.value });
            });
            bar.append(h("span", { class: "field" }, h("label", { for: "layer", text: "Layer" }), select));
        }
        const view = views.get(tab.id);
        if ((tab.id === "featureMaps" || tab.id === "filterPatterns") && view?.pageCount !== undefined && view.pageCount > 1) {
            const pageCount = view.pageCount;
            const go = (/** @type {number} */ to) => { state.pages[state.tab] = Math.max(0, Math.min(pageCount - 1, to)); save(); request(); };
            const prev = button("‹ Previous 64", "secondary", () => go(page() - 1));
            const next = button("Next 64 ›", "secondary", () => go(page() + 1));
            if (page() <= 0) prev.setAttribute("disabled", "");
            if (page() >= pageCount - 1) next.setAttribute("disabled", "");
            bar.append(prev, h("span", { class: "muted", id: "page", text: `page ${page() + 1} of ${pageCount}` }), next);
        }
        const unsignedMap = tab.id === "gradCam" || (!!method && !method.signed);
        if (tab.id === "featureMaps" || unsignedMap) bar.append(choice("colormap", "Colormap", [["viridis", "viridis"], ["gray", "gray"]], o.colormap));
        if (tab.id === "featureMaps") bar.append(choice("scaling", "Scale", [["perChannel", "per channel"], ["shared", "shared"]], o.scaling));
        if (tab.id === "filterPatterns") bar.append(choice("preset", "Preset", [["readable", "readable"], ["classic", "classic"]], o.preset));
        if (unsignedMap) bar.append(number("opacity", "Overlay opacity", o.opacity, 0, 1, 0.1));
        if (tab.id === "lime" || tab.id === "shap") bar.append(number("samples", "Samples", o.samples, 10, 100000, 10));
        if (tab.id === "lime" || (tab.id === "shap" && o.method !== "gradient")) bar.append(number("segments", "Segments", o.segments, 2, 10000, 1));
        if (tab.id === "lime" || tab.id === "shap" || tab.id === "filterPatterns") bar.append(number("seed", "Seed", o.seed, 0, 2147483647, 1));
        const compare = button(pinned ? "Pin this view instead" : "Compare…", "secondary", () => {
            const v = views.get(tab.id);
            const png = shownPng(tab.id, v);
            if (!v || !png || !v.key) return;
            if (!pinned) zoom = 0; // chosen when the first image has loaded
            pinned = { png, caption: v.caption ?? "", title: tab.title, key: v.key };
            render();
        });
        compare.id = "compare-btn";
        compare.title = "Pin this view on the left; the next view you make appears on the right, with linked zoom";
        if (view?.state !== "ready") compare.setAttribute("disabled", "");
        bar.append(compare);
        const exports = h("span", { class: "exports" }, "Export ",
            ...["png", "json", "npy"].map((f) => {
                const b = button(f === "npy" ? ".npy" : f.toUpperCase(), "secondary small", () => vscode.postMessage({ type: "export", tab: tab.id, format: f, picture: state.shown?.[tab.id] }));
                b.setAttribute("aria-label", `Export the view as ${f === "npy" ? "a NumPy .npy file" : f.toUpperCase()}`);
                if (view?.state !== "ready") b.setAttribute("disabled", "");
                return b;
            }));
        bar.append(exports);
        if (!method) return bar;
        return h("div", {}, bar, renderMethodForm(method, methodValues(method)));
    }

    // ---- a registry method's view: picker, form, figures (issue 16) ----------------------------------------

    /** The group's methods to choose from, each titled with its paper. @param {TabInfo} tab @param {Method} method */
    function renderMethodPicker(tab, method) {
        const select = /** @type {HTMLSelectElement} */ (h("select", { id: "method", title: method.paper || undefined }));
        for (const m of (session?.methods ?? []).filter((x) => x.tab === tab.id)) {
            select.append(h("option", { value: m.name, selected: m.name === method.name, title: m.paper || undefined, text: m.displayName }));
        }
        select.addEventListener("change", () => {
            state.methods = Object.assign({}, state.methods, { [tab.id]: select.value });
            save();
            request();
        });
        return h("span", { class: "field" }, h("label", { for: "method", text: "Method" }), select);
    }

    /**
     * The form of a method's options, one labelled control per field, the option's description as its tooltip, and the
     * paper the method follows; a change asks for the map again.
     * @param {Method} method @param {Record<string, OptionValue>} values
     */
    function renderMethodForm(method, values) {
        const form = h("div", { class: "toolbar method-form", id: "method-form", role: "group", "aria-label": `${method.displayName} options` });
        for (const f of method.fields) form.append(renderField(f, values[f.name] ?? f.value, (v) => setMethodOption(method, f, v)));
        const changed = method.fields.some((f) => values[f.name] !== f.value);
        if (changed) {
            const reset = button("Defaults", "secondary small", () => {
                if (state.methodOptions) delete state.methodOptions[method.name];
                save();
                request();
            });
            reset.id = "method-defaults";
            reset.title = `Reset ${method.displayName}'s options to their defaults`;
            form.append(reset);
        }
        if (method.paper) form.append(h("span", { class: "muted paper", id: "method-paper", text: method.paper }));
        return form;
    }

    /**
     * One control: a number input with the option's range, a select of its choices, or a checkbox. A typed value out
     * of range or of the wrong kind is marked invalid and not sent.
     * @param {FormField} f @param {OptionValue} value @param {(v: OptionValue) => void} onChange
     */
    function renderField(f, value, onChange) {
        const id = `mopt-${f.name}`;
        const label = h("label", { for: id, text: f.label, title: f.title });
        if (f.control === "select") {
            const select = /** @type {HTMLSelectElement} */ (h("select", { id, title: f.title }));
            for (const c of f.choices ?? []) select.append(h("option", { value: c.value, selected: c.value === value, text: c.label }));
            select.addEventListener("change", () => onChange(select.value));
            return h("span", { class: "field" }, label, select);
        }
        if (f.control === "checkbox") {
            const box = /** @type {HTMLInputElement} */ (h("input", { id, type: "checkbox", title: f.title, checked: value === true }));
            box.addEventListener("change", () => onChange(box.checked));
            return h("span", { class: "field" }, box, label);
        }
        const input = /** @type {HTMLInputElement} */ (h("input", {
            id, type: "number", title: f.title, min: f.min, max: f.max, step: f.step ?? "any", value: String(value), "data-default": String(f.value),
        }));
        input.addEventListener("change", () => {
            const v = input.value.trim() === "" ? f.value : Number(input.value);
            const bad = typeof v !== "number" || !Number.isFinite(v) || (f.control === "integer" && !Number.isInteger(v))
                || (f.min !== undefined && v < f.min) || (f.max !== undefined && v > f.max);
            if (bad) {
                input.setAttribute("aria-invalid", "true");
                return;
            }
            input.removeAttribute("aria-invalid");
            onChange(v);
        });
        return h("span", { class: "field" }, label, input);
    }

    /** @param {Method} method @param {FormField} f @param {OptionValue} value */
    function setMethodOption(method, f, value) {
        const all = (state.methodOptions = Object.assign({}, state.methodOptions));
        const set = (all[method.name] = Object.assign({}, all[method.name]));
        if (value === f.value) delete set[f.name];
        else set[f.name] = value;
        save();
        request();
    }

    /** What the method reports about its answer (a completeness error…) and its note. @param {View} view */
    function renderFigures(view) {
        const part = h("div", { class: "figures" });
        if (view.figures?.length) {
            const list = h("dl", { id: "figures" });
            for (const f of view.figures) list.append(h("dt", { text: f.label }), h("dd", { text: f.value }));
            part.append(list);
        }
        if (view.note) part.append(h("p", { class: "note", id: "note", role: "note", text: view.note }));
        return part;
    }

    /**
     * @param {string} name
     * @param {string} label
     * @param {[string, string][]} values [value, text]
     * @param {string | undefined} value
     */
    function choice(name, label, values, value) {
        const select = /** @type {HTMLSelectElement} */ (h("select", { id: `opt-${name}`, "aria-label": label }));
        for (const [v, text] of values) select.append(h("option", { value: v, selected: v === value, text }));
        select.addEventListener("change", () => setOption(name, select.value));
        return h("span", { class: "field" }, h("label", { for: `opt-${name}`, text: label }), select);
    }

    /**
     * @param {string} name
     * @param {string} label
     * @param {number | undefined} value
     * @param {number} min
     * @param {number} max
     * @param {number} step
     */
    function number(name, label, value, min, max, step) {
        const input = /** @type {HTMLInputElement} */ (h("input", {
            id: `opt-${name}`, type: name === "opacity" ? "range" : "number", min, max, step, value: value ?? "",
            placeholder: value === undefined ? "auto" : undefined,
        }));
        input.addEventListener("change", () => {
            if (input.value === "" && name === "segments") return setOption(name, undefined);
            const v = Number(input.value);
            if (!Number.isFinite(v) || v < min || v > max) {
                input.setAttribute("aria-invalid", "true");
                return;
            }
            input.removeAttribute("aria-invalid");
            setOption(name, name === "opacity" ? v : Math.round(v));
        });
        return h("span", { class: "field" }, h("label", { for: `opt-${name}`, text: label }), input);
    }

    /** The picture of `view` on screen: the one picked among its images (Overlay/Heatmap, Weights/Top superpixels), else its png.
     * @param {string} tab @param {View | undefined} view */
    function shownPng(tab, view) {
        const images = view?.images;
        if (!images?.length) return view?.png;
        return (images.find((i) => i.id === state.shown?.[tab]) ?? images[0])?.png;
    }

    /** Buttons to switch between the pictures of one result; switching asks the daemon nothing. @param {string} tab @param {ViewImage[]} images */
    function renderImagePicker(tab, images) {
        const shown = images.find((i) => i.id === state.shown?.[tab]) ?? images[0];
        const group = h("div", { class: "toolbar", role: "group", "aria-label": "Show", id: "view-images" }, h("span", { class: "muted", text: "Show" }));
        for (const i of images) {
            const b = button(i.label, "secondary small", () => {
                state.shown = Object.assign({}, state.shown, { [tab]: i.id });
                save();
                render();
            });
            b.id = `show-${i.id}`;
            b.setAttribute("aria-pressed", String(i === shown));
            group.append(b);
        }
        return group;
    }

    function renderView() {
        const tab = currentTab();
        const view = tab ? views.get(tab.id) : undefined;
        const section = h("section", { id: "view", role: "tabpanel", "aria-labelledby": tab ? `tab-${tab.id}` : undefined, "data-state": view?.state ?? "idle", "data-tab": tab?.id });
        if (view?.state === "loading") {
            const bar = h("div", { class: "progress", role: "status", "aria-live": "polite" },
                h("progress", progress?.percentage !== undefined ? { max: 100, value: progress.percentage } : {}),
                h("span", { text: progress?.message ?? "Working…" }),
                button("Cancel", "secondary small", () => { if (inFlight) vscode.postMessage({ type: "cancel", id: inFlight.id }); }));
            section.append(bar);
        }
        if (view?.state === "unavailable") section.append(h("p", { class: "unavailable", role: "status", text: view.message ?? "Not available yet." }));
        if (view?.state === "error") {
            section.append(h("p", { class: "error", role: "alert", text: view.message ?? "Failed." }),
                h("p", {}, button("Try again", "secondary", () => request()), " ", button("Show logs", "secondary", () => vscode.postMessage({ type: "command", command: "showLogs" }))));
        }
        const png = tab ? shownPng(tab.id, view) : undefined;
        if (pinned) section.append(renderCompare(view));
        else if (view && png) {
            if (tab && view.images?.length && view.state === "ready") section.append(renderImagePicker(tab.id, view.images));
            const img = h("img", { id: "view-img", src: `data:image/png;base64,${png}`, alt: `${tab?.title}: ${view.caption ?? ""}` });
            img.addEventListener("load", () => fit(/** @type {HTMLImageElement} */ (img)));
            section.append(h("figure", {}, img, h("figcaption", { id: "caption", text: view.caption ?? "" })));
            if (view.state === "ready" && (view.figures?.length || view.note)) section.append(renderFigures(view));
        }
        const method = currentMethod(tab);
        const scored = method ? method.trust : tab?.id === "gradCam" || tab?.id === "lime" || tab?.id === "shap";
        if (tab && view?.key && view.state === "ready" && scored) section.append(renderMetrics(tab.id, view.key));
        if (tab && view?.state === "ready" && (tab.id === "gradCam" || (method && method.trust))) section.append(renderMapChecks(tab.id, !!method?.sampling, method ? method.sweep : true));
        if ((tab?.id === "lime" || tab?.id === "shap") && view?.state === "ready") section.append(renderSamplingChecks(tab.id));
        return section;
    }

    /** Two views side by side: the pinned one and the current one, zoomed together. @param {View | undefined} view */
    function renderCompare(view) {
        const p = /** @type {NonNullable<typeof pinned>} */ (pinned);
        const left = h("img", { class: "zoomed", id: "compare-left", src: `data:image/png;base64,${p.png}`, alt: `Pinned: ${p.title}: ${p.caption}` });
        left.addEventListener("load", () => applyZoom());
        const panes = h("div", { class: "compare", id: "compare" },
            h("figure", { class: "pane" }, left, h("figcaption", { text: `${p.title}: ${p.caption}` })));
        const png = shownPng(currentTab()?.id ?? "", view);
        if (view && png && view.key !== p.key) {
            const right = h("img", { class: "zoomed", id: "view-img", src: `data:image/png;base64,${png}`, alt: `${currentTab()?.title}: ${view.caption ?? ""}` });
            right.addEventListener("load", () => applyZoom());
            panes.append(h("figure", { class: "pane" }, right, h("figcaption", { id: "caption", text: `${currentTab()?.title}: ${view.caption ?? ""}` })));
        } else {
            panes.append(h("div", { class: "pane placeholder", text: "Now change the tab, layer, method, class or image: the next view appears here." }));
        }
        // Linked scrolling: a pane scrolled to a fraction of its width and height carries the other to the same
        // fraction, so the same part of the image stays side by side even when the two images differ in size.
        let syncing = false;
        const figures = /** @type {HTMLElement[]} */ ([...panes.querySelectorAll("figure.pane")]);
        for (const pane of figures) {
            pane.addEventListener("scroll", () => {
                if (syncing) return;
                syncing = true;
                const fx = pane.scrollLeft / Math.max(1, pane.scrollWidth - pane.clientWidth);
                const fy = pane.scrollTop / Math.max(1, pane.scrollHeight - pane.clientHeight);
                for (const other of figures) {
                    if (other === pane) continue;
                    other.scrollLeft = fx * (other.scrollWidth - other.clientWidth);
                    other.scrollTop = fy * (other.scrollHeight - other.clientHeight);
                }
                requestAnimationFrame(() => { syncing = false; });
            });
        }
        panes.addEventListener("wheel", (e) => {
            if (!e.ctrlKey) return;
            e.preventDefault();
            setZoom(zoom + (e.deltaY < 0 ? 1 : -1));
        }, { passive: false });
        const slider = /** @type {HTMLInputElement} */ (h("input", { id: "zoom", type: "range", min: 1, max: 16, step: 1, value: zoom || 1 }));
        slider.addEventListener("input", () => setZoom(Number(slider.value)));
        const bar = h("div", { class: "toolbar" },
            h("span", { class: "field" }, h("label", { for: "zoom", text: "Zoom (both; or Ctrl+wheel)" }), slider, h("span", { id: "zoom-value", class: "muted", text: zoom ? `${zoom}×` : "" })),
            button("Close compare", "secondary", () => { pinned = undefined; render(); }));
        return h("div", {}, bar, panes);
    }

    /** @param {number} z */
    function setZoom(z) {
        zoom = Math.max(1, Math.min(16, Math.round(z)));
        applyZoom();
    }

    /** Both panes at the same scale: every image `zoom` screen pixels per image pixel, pixels kept square. */
    function applyZoom() {
        const imgs = /** @type {HTMLImageElement[]} */ (Array.from(document.querySelectorAll("img.zoomed")));
        if (!zoom) {
            const w = Math.max(...imgs.map((i) => i.naturalWidth));
            if (!(w > 0)) return;
            zoom = Math.max(1, Math.floor(360 / w));
        }
        for (const img of imgs) if (img.naturalWidth > 0) img.style.width = `${img.naturalWidth * zoom}px`; // CSSOM: allowed by the CSP
        const slider = /** @type {HTMLInputElement | null} */ (document.getElementById("zoom"));
        if (slider) slider.value = String(zoom);
        const label = document.getElementById("zoom-value");
        if (label) label.textContent = `${zoom}×`;
    }

    /** A check's progress bar with Cancel, or its error with Try again. @param {Check} c @param {() => void} retry */
    function checkStatus(c, retry) {
        if (c.state === "loading") {
            return h("div", { class: "progress", role: "status", "aria-live": "polite" },
                h("progress", c.progress?.percentage !== undefined ? { max: 100, value: c.progress.percentage } : {}),
                h("span", { text: c.progress?.message ?? "Working…" }),
                button("Cancel", "secondary small", () => vscode.postMessage({ type: "cancel", id: c.id })));
        }
        if (c.state === "unavailable") return h("p", { class: "unavailable", role: "status", text: c.message ?? "Not available yet." });
        if (c.state === "error") return h("p", {}, h("span", { class: "error", role: "alert", text: `${c.message ?? "Failed."} ` }), button("Try again", "secondary small", retry));
        return undefined;
    }

    /** Faithfulness of the view with `key`: deletion/insertion curves and a one-line verdict. @param {string} tab @param {string} key */
    function renderMetrics(tab, key) {
        const section = h("section", { class: "check", id: "metrics", "aria-label": "Faithfulness" }, h("h2", { text: "Faithfulness (deletion and insertion against a random map)" }));
        const c = checks.get(checkSlot("metrics", tab));
        const retry = () => { if (inFlight?.tab !== tab) requestCheck("metrics", Object.assign({ tab }, lastExplain(tab)), key); };
        if (!c || c.key !== key) {
            section.append(button("Compute faithfulness", "secondary", retry));
            return section;
        }
        section.setAttribute("data-state", c.state);
        const status = checkStatus(c, retry);
        if (status) section.append(status);
        if (c.state === "ready" && c.view) {
            section.append(h("p", { id: "metrics-line", class: c.view.faithful ? "verdict good" : "verdict bad", text: c.view.line }));
            const img = h("img", { id: "metrics-img", class: "plot", src: `data:image/png;base64,${c.view.png}`, alt: `Deletion and insertion curves: ${c.view.line}` });
            section.append(img);
        }
        return section;
    }

    /** The "explain" message that made the view of `tab` now (its key's parts). @param {string} tab */
    function lastExplain(tab) {
        const t = tabInfo(tab);
        const method = currentMethod(t);
        if (t && method) return attributeMessage(t, method);
        const at = t && usesLayer(t) ? state.layers[tab] ?? session?.layers[tab] : undefined;
        return { layer: at === INPUT ? undefined : at, target: state.target, options: options(tab) };
    }

    /** The sanity check's button for the view that `explain` made (its key: `viewKey`). @param {any} explain @param {string} viewKey */
    function sanityButton(explain, viewKey) {
        const b = button("Sanity check", "secondary", () => requestCheck("sanity", explain, viewKey));
        b.id = "sanity-btn";
        b.title = explain.tab === "gradCam" || (explain.type === "attribute" && !explain.sampling)
            ? "Randomise the model's weights layer by layer from the top and recompute the map: a map that does not change does not explain the model"
            : "Randomise the model's weights layer by layer from the top and recompute the map with the same samples and seed: one run of the method per layer, so it takes a while on a large model";
        return b;
    }

    /** The sanity check of the view `explain` made, when one was asked for: progress, verdict, strip and correlations. @param {any} explain @param {string} viewKey */
    function renderSanity(explain, viewKey) {
        const sanity = checks.get(checkSlot("sanity", String(explain.tab)));
        if (!sanity || sanity.key !== viewKey) return undefined;
        const part = h("div", { id: "sanity", "data-state": sanity.state }, h("h2", { text: "Sanity check (model parameter randomisation)" }));
        const status = checkStatus(sanity, () => requestCheck("sanity", explain, viewKey));
        if (status) part.append(status);
        if (sanity.state === "ready" && sanity.view) {
            const v = sanity.view;
            part.append(h("p", { id: "sanity-verdict", class: v.flagged ? "verdict bad" : "verdict good", role: v.flagged ? "alert" : undefined, text: `${v.flagged ? "⚠ " : ""}${v.verdict}` }));
            const img = h("img", { id: "sanity-img", class: "plot", src: `data:image/png;base64,${v.png}`, alt: "The map at each stage of randomisation" });
            img.addEventListener("load", () => fit(/** @type {HTMLImageElement} */ (img)));
            part.append(img);
            const list = h("ol", { class: "stages" });
            for (const s of /** @type {{ label: string, correlation: string }[]} */ (v.stages)) list.append(h("li", { text: `${s.label}: ${s.correlation}` }));
            part.append(list);
        }
        return part;
    }

    /** LIME's and SHAP's sanity check, one click. @param {string} tab */
    function renderSamplingChecks(tab) {
        const viewKey = views.get(tab)?.key ?? "";
        const explain = Object.assign({ type: "explain", tab }, lastExplain(tab));
        const section = h("section", { class: "check", id: `${tab}-checks`, "aria-label": "Sanity check" }, h("div", { class: "toolbar" }, sanityButton(explain, viewKey)));
        const sanity = renderSanity(explain, viewKey);
        if (sanity) section.append(sanity);
        return section;
    }

    /**
     * A map view's sanity check and, for CAM methods, the layer sweep, each one click.
     * @param {string} tab @param {boolean} sampling the method samples (its sanity check runs it once per layer) @param {boolean} sweepable
     */
    function renderMapChecks(tab, sampling, sweepable) {
        const viewKey = views.get(tab)?.key ?? "";
        const explain = Object.assign(mapMessage(tab), { sampling });
        const section = h("section", { class: "check", id: "map-checks", "aria-label": sweepable ? "Sanity check and layer sweep" : "Sanity check" });
        const tools = h("div", { class: "toolbar" }, sanityButton(explain, viewKey));
        const title = currentMethod(tabInfo(tab))?.displayName ?? "Grad-CAM";
        if (sweepable) {
            const sweepButton = button("Layer sweep", "secondary", () => requestCheck("layerSweep", mapMessage(tab), sweepKey(tab)));
            sweepButton.id = "sweep-btn";
            sweepButton.title = `${title} at every conv layer in one go: which layer should I pick?`;
            tools.append(sweepButton);
        }
        section.append(tools);
        const sanity = renderSanity(explain, viewKey);
        if (sanity) section.append(sanity);
        const sweep = checks.get("layerSweep");
        if (sweepable && sweep && sweep.key === sweepKey(tab)) {
            const part = h("div", { id: "layer-sweep", "data-state": sweep.state }, h("h2", { text: "Layer sweep" }));
            const status = checkStatus(sweep, () => requestCheck("layerSweep", mapMessage(tab), sweepKey(tab)));
            if (status) part.append(status);
            if (sweep.state === "ready" && sweep.view) {
                const v = sweep.view;
                part.append(h("p", { class: "muted", text: v.line }));
                const img = h("img", { id: "sweep-img", class: "plot", src: `data:image/png;base64,${v.png}`, alt: `${title} at each conv layer` });
                img.addEventListener("load", () => fit(/** @type {HTMLImageElement} */ (img)));
                const names = h("div", { class: "sweep-layers" });
                for (const l of /** @type {{ name: string, displayName: string }[]} */ (v.layers)) {
                    const b = button(l.displayName, "link", () => {
                        state.tab = tab;
                        selectLayer(l.name);
                        vscode.postMessage({ type: "layerSelected", layer: l.name });
                    });
                    b.title = `Open ${title} at ${l.displayName} (${l.name})`;
                    if (l.name === layer()) b.setAttribute("aria-current", "true");
                    names.append(b);
                }
                part.append(h("div", { class: "strip" }, img, names));
            }
            section.append(part);
        }
        return section;
    }

    /** Small renderings (a 28×28 map) are enlarged by a whole factor, so their pixels stay square and sharp. */
    function fit(/** @type {HTMLImageElement} */ img) {
        const w = img.naturalWidth;
        if (w > 0) img.style.width = `${w * Math.max(1, Math.floor(480 / w))}px`; // CSSOM: allowed by the CSP
    }

    function render() {
        const focused = document.activeElement && document.activeElement.id;
        app.replaceChildren();
        app.removeAttribute("aria-busy");
        if (daemonNote) app.append(h("p", { class: "banner", role: "status", text: daemonNote }));
        if (!session) {
            app.append(h("p", { class: "placeholder", text: "Loading the model and the image…" }));
            return;
        }
        app.append(renderHeader(), renderPredictions(), renderTabs());
        if (session.methodsNote) app.append(h("p", { class: "muted methods-note", id: "methods-note", role: "note", text: session.methodsNote }));
        app.append(renderToolbar(), renderView());
        if (focused) document.getElementById(focused)?.focus();
    }

    window.addEventListener("message", onMessage);
    render();
    vscode.postMessage({ type: "ready" });
})();
