// The whole panel as a function of its state: header, predictions, tabs, the tab's toolbar and its view. Each
// tab's own parts come from its module in views/; app.ts patches the result into the page in place.
import type { PanelTab } from "../methods";
import type { App } from "./app";
import { mapChecks, metrics } from "./checks";
import { compare, startZoom } from "./compare";
import { button, progressBar } from "./controls";
import { h, type Child } from "./dom";
import { picture } from "./picture";
import { currentMethod, currentTab, isScored, isTargeted, shownPng, type View } from "./state";
import { featureMaps } from "./views/featureMaps";
import { filterPatterns } from "./views/filterPatterns";
import { lime } from "./views/lime";
import { methodTab } from "./views/methods";
import { shap } from "./views/shap";
import type { TabModule } from "./views/types";

/** Each tab's module: the fixed views by id; the registry's group tabs (and the older Grad-CAM view) share one. */
export function tabModule(tab: PanelTab): TabModule {
    switch (tab.id) {
        case "featureMaps":
            return featureMaps;
        case "filterPatterns":
            return filterPatterns;
        case "lime":
            return lime;
        case "shap":
            return shap;
        default:
            return methodTab;
    }
}

export function renderApp(app: App): Child[] {
    const m = app.model;
    const note = m.daemonNote ? h("p", { class: "banner", role: "status", id: "daemon-note", text: m.daemonNote }) : undefined;
    if (!m.session) return [note, h("p", { class: "placeholder", text: "Loading the model and the image…" })];
    return [
        note,
        header(app),
        predictions(app),
        tabs(app),
        m.session.methodsNote ? h("p", { class: "muted methods-note", id: "methods-note", role: "note", text: m.session.methodsNote }) : undefined,
        ...toolbar(app),
        view(app),
    ];
}

function header(app: App): HTMLElement {
    const s = app.model.session;
    if (!s) return h("header");
    return h("header", { class: "header" },
        s.image.src ? h("img", { class: "thumb", id: "thumb", src: s.image.src, alt: `The image ${s.image.name}` }) : h("div", { class: "thumb missing", text: "no preview" }),
        h("div", { class: "title" },
            h("h1", { text: s.image.name }),
            h("p", { class: "model" },
                "Explained by ",
                h("strong", { text: s.model.displayName }),
                ` (${s.model.id}) · daemon ${s.daemon.version} on ${s.daemon.device} `,
                button("Change model…", "link", () => app.post({ type: "command", command: "selectModel" })))));
}

function predictions(app: App): HTMLElement {
    const m = app.model;
    const section = h("section", { class: "predictions", id: "predictions", "aria-label": "Top-5 predictions" });
    if (m.predictionError) {
        section.append(h("p", { class: "error", role: "alert", text: m.predictionError }));
        return section;
    }
    const top = m.top;
    if (!top) {
        section.append(h("p", { class: "muted", text: "Predicting…" }));
        return section;
    }
    if (m.fit && !m.fit.suitable) {
        // The image does not suit the model: say so before showing classes that mean little, and offer the ones that suit it.
        const use = m.offers?.use ?? m.fit.suggestions.map((id) => ({ id, displayName: id }));
        const fetch = m.offers?.fetch ?? [];
        section.append(h("div", { class: "banner", role: "status", id: "fit-warning" },
            h("p", { text: `⚠ ${m.fit.reason ?? "This image does not suit the model."}${use.length || fetch.length ? " Models that suit it:" : ""}` }),
            h("p", { class: "toolbar" },
                ...use.map((x) => button(`Use ${x.displayName}`, "secondary", () => app.post({ type: "useModel", model: x.id }), { "data-model": x.id })),
                ...fetch.map((x) => button(`Fetch ${x.displayName} weights…`, "secondary", () => app.post({ type: "fetchWeights", model: x.id }), { "data-model": x.id, title: "Download its weights once (or add a file downloaded elsewhere), then use it" })),
                button("Change model…", "link", () => app.post({ type: "command", command: "selectModel" })))));
    }
    const target = m.ui.target;
    const targetName = target === undefined ? `the top class (${top[0]?.label ?? "?"})` : m.session?.model.classes[target] ?? String(target);
    const titles = (m.session?.tabs ?? []).filter(isTargeted).map((t) => t.title);
    const views = titles.length > 1 ? `${titles.slice(0, -1).join(", ")} and ${titles.at(-1) ?? ""}` : titles.join("");
    section.append(
        h("p", { class: "muted", id: "target-line", text: `Target of ${views}: ${targetName}. Click a class to change it.` }),
        h("ol", { class: "classes" }, ...top.map((c, i) => {
            const selected = target === c.index || (target === undefined && i === 0);
            const fill = h("span", { class: "fill", style: { width: `${Math.max(0, Math.min(100, c.probability * 100))}%` } });
            return h("li", {}, h("button", {
                type: "button", class: "class-row", "aria-pressed": String(selected), "data-class-index": c.index,
                on: {
                    click: () => {
                        if (m.ui.target === c.index) delete m.ui.target;
                        else m.ui.target = c.index;
                        app.save();
                        app.request();
                    },
                },
            }, h("span", { class: "label", text: c.label }), h("span", { class: "bar", "aria-hidden": "true" }, fill), h("span", { class: "prob", text: `${(c.probability * 100).toFixed(1)}%` })));
        })));
    return section;
}

function tabs(app: App): HTMLElement {
    const all = app.model.session?.tabs ?? [];
    const current = currentTab(app.model)?.id;
    return h("div", { class: "tabs", role: "tablist", "aria-label": "Views" }, ...all.map((t, i) => h("button", {
        type: "button", role: "tab", id: `tab-${t.id}`, class: "tab", "aria-selected": String(t.id === current), "aria-controls": "view",
        tabindex: t.id === current ? 0 : -1, text: t.title,
        on: {
            click: () => app.selectTab(t.id),
            keydown: (e) => {
                const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
                const to = e.key === "Home" ? 0 : e.key === "End" ? all.length - 1 : step ? (i + step + all.length) % all.length : -1;
                if (to < 0) return;
                e.preventDefault();
                app.selectTab(all[to]?.id ?? t.id);
            },
        },
    })));
}

function toolbar(app: App): Child[] {
    const m = app.model;
    const tab = currentTab(m);
    if (!tab) return [];
    const module = tabModule(tab);
    const view = m.views.get(tab.id);
    const ready = view?.state === "ready";
    const compareButton = button(m.pinned ? "Pin this view instead" : "Compare…", "secondary", () => {
        const v = m.views.get(tab.id);
        const png = shownPng(m, tab.id, v);
        if (!v?.key || !png) return;
        app.update((x) => {
            if (!x.pinned) x.zoom = startZoom([png]);
            x.pinned = { png, caption: v.caption ?? "", title: tab.title, key: v.key ?? "" };
        });
    }, { id: "compare-btn", title: "Pin this view on the left; the next view you make appears on the right, with linked zoom", disabled: ready ? undefined : "" });
    const exports = h("span", { class: "exports" }, "Export ", ...(["png", "json", "npy"] as const).map((f) =>
        button(f === "npy" ? ".npy" : f.toUpperCase(), "secondary small", () => {
            const picture = m.ui.shown[tab.id];
            app.post({ type: "export", tab: tab.id, format: f, ...(picture ? { picture } : {}) });
        }, { "aria-label": `Export the view as ${f === "npy" ? "a NumPy .npy file" : f.toUpperCase()}`, disabled: ready ? undefined : "" })));
    return [
        h("div", { class: "toolbar", id: "toolbar", "data-key": `toolbar-${tab.id}` }, ...module.controls(app, tab, view), compareButton, exports),
        module.form?.(app, tab),
    ];
}

function view(app: App): HTMLElement {
    const m = app.model;
    const tab = currentTab(m);
    const v = tab ? m.views.get(tab.id) : undefined;
    const section = h("section", { id: "view", role: "tabpanel", "aria-labelledby": tab ? `tab-${tab.id}` : undefined, "data-state": v?.state ?? "idle", "data-tab": tab?.id });
    if (!tab) return section;
    if (v?.state === "loading") section.append(progressBar("view-progress", m.progress, () => { if (m.inFlight) app.cancel(m.inFlight.id); }));
    if (v?.state === "unavailable") section.append(h("p", { class: "unavailable", role: "status", text: v.message ?? "Not available yet." }));
    if (v?.state === "error") {
        section.append(h("p", { class: "error", role: "alert", text: v.message ?? "Failed." }),
            h("p", {}, button("Try again", "secondary", () => app.request()), " ", button("Show logs", "secondary", () => app.post({ type: "command", command: "showLogs" }))));
    }
    const png = shownPng(m, tab.id, v);
    if (m.pinned) {
        section.append(compare(app, m.pinned, v));
    } else if (v && png) {
        const module = tabModule(tab);
        if (v.images?.length && v.state === "ready") section.append(imagePicker(app, tab.id, v));
        if (v.state === "ready") for (const part of module.above?.(app, tab, v) ?? []) if (part) section.append(part);
        const alt = `${tab.title}: ${v.caption ?? ""}`;
        section.append(h("figure", { id: "view-figure" }, module.picture?.(app, tab, v, png, alt) ?? picture("view-img", png, alt), h("figcaption", { id: "caption", text: v.caption ?? "" })));
        if (v.state === "ready") for (const part of module.below?.(app, tab, v, png) ?? []) if (part) section.append(part);
    }
    if (v?.key && v.state === "ready" && isScored(m, tab)) section.append(metrics(app, tab.id, v.key));
    const method = currentMethod(m, tab);
    const checked = method ? method.trust : tab.id === "gradCam" || tab.id === "lime" || tab.id === "shap";
    if (v?.key && v.state === "ready" && checked) {
        const checks = mapChecks(app, tab.id, v.key);
        if (checks) section.append(checks);
    }
    return section;
}

/** Buttons to switch between the pictures of one result; switching asks the daemon nothing. */
function imagePicker(app: App, tab: string, v: View): HTMLElement {
    const images = v.images ?? [];
    const shown = images.find((i) => i.id === app.model.ui.shown[tab]) ?? images[0];
    return h("div", { class: "toolbar", role: "group", "aria-label": "Show", id: "view-images" },
        h("span", { class: "muted", text: "Show" }),
        ...images.map((i) => button(i.label, "secondary small", () => app.update((x) => { x.ui.shown[tab] = i.id; }), { id: `show-${i.id}`, "aria-pressed": String(i === shown) })));
}
