// The panel's controls, each with a visible label tied to it (a screen reader names every button and picker).
import type { App } from "./app";
import { h } from "./dom";
import { INPUT, layerOf, page, type Progress, type View } from "./state";
import type { PanelTab } from "../methods";

export function button(label: string, cls: string, onClick: () => void, props: Record<string, string | undefined> = {}): HTMLButtonElement {
    return h("button", { type: "button", class: cls, text: label || undefined, ...props, on: { click: () => onClick() } });
}

/** A labelled select of one of the current view's options. */
export function choice(app: App, name: string, label: string, values: readonly (readonly [string, string])[], value: string | undefined): HTMLElement {
    const id = `opt-${name}`;
    const select = h("select", { id, on: { change: (e) => app.setOption(name, (e.target as HTMLSelectElement).value) } },
        ...values.map(([v, text]) => h("option", { value: v, selected: v === value, text })));
    return h("span", { class: "field" }, h("label", { for: id, text: label }), select);
}

/**
 * A labelled number of one of the current view's options (opacity: a slider). What the user types stays in the box
 * until it is committed (change) or the view itself shows another value; a value out of range is marked, not sent.
 */
export function numberField(app: App, name: string, label: string, value: number | undefined, min: number, max: number, step: number): HTMLElement {
    const id = `opt-${name}`;
    const field = h("input", {
        id, type: name === "opacity" ? "range" : "number", min, max, step, value: value ?? "", placeholder: value === undefined ? "auto" : undefined,
        on: {
            change: (e) => {
                const input = e.currentTarget as HTMLInputElement; // the live element (patch() keeps it, not this render's)
                if (input.value === "" && name === "segments") return app.setOption(name, undefined);
                const v = Number(input.value);
                if (input.value.trim() === "" || !Number.isFinite(v) || v < min || v > max) {
                    input.setAttribute("aria-invalid", "true");
                    return;
                }
                input.removeAttribute("aria-invalid");
                app.setOption(name, name === "opacity" ? v : Math.round(v));
            },
        },
    });
    return h("span", { class: "field" }, h("label", { for: id, text: label }), field);
}

/** The layer picker: the model's spatial layers by block (SHAP also offers the input image's pixels). */
export function layerPicker(app: App, tab: PanelTab): HTMLElement {
    const session = app.model.session;
    const current = layerOf(app.model);
    const select = h("select", {
        id: "layer",
        on: {
            change: (e) => {
                const layer = (e.currentTarget as HTMLSelectElement).value;
                app.selectLayer(layer);
                app.post({ type: "layerSelected", layer });
            },
        },
    });
    if (tab.id === "shap") select.append(h("option", { value: INPUT, selected: current === INPUT, text: "Input image (pixels)" }));
    const groups = new Map<string, HTMLOptGroupElement>();
    for (const l of session?.model.layers ?? []) {
        if (!l.spatial) continue; // every view here works on [channels, height, width] maps
        let g = groups.get(l.group);
        if (!g) {
            g = h("optgroup", { label: l.group });
            groups.set(l.group, g);
            select.append(g);
        }
        g.append(h("option", { value: l.name, selected: l.name === current, text: `${l.displayName} — ${l.kind} ${l.shape}` }));
    }
    return h("span", { class: "field" }, h("label", { for: "layer", text: "Layer" }), select);
}

/** Previous and next page of 64 channels, when the layer has more. */
export function pager(app: App, view: View | undefined): HTMLElement[] {
    const pageCount = view?.pageCount;
    if (pageCount === undefined || pageCount <= 1) return [];
    const now = page(app.model);
    const go = (to: number) => {
        const ui = app.model.ui;
        ui.pages[ui.tab] = Math.max(0, Math.min(pageCount - 1, to));
        delete ui.zoomed[ui.tab];
        app.save();
        app.request();
    };
    return [
        button("‹ Previous 64", "secondary", () => go(now - 1), { disabled: now <= 0 ? "" : undefined }),
        h("span", { class: "muted", id: "page", text: `page ${now + 1} of ${pageCount}` }),
        button("Next 64 ›", "secondary", () => go(now + 1), { disabled: now >= pageCount - 1 ? "" : undefined }),
    ];
}

/** A progress bar with its message and Cancel; a progress tick updates it in place (app.ts showProgress). */
export function progressBar(id: string, p: Progress | undefined, cancel: () => void): HTMLElement {
    return h("div", { class: "progress", id, role: "status", "aria-live": "polite" },
        h("progress", p?.percentage !== undefined ? { max: 100, value: p.percentage } : {}),
        h("span", { class: "progress-text", text: p?.message ?? "Working…" }),
        button("Cancel", "secondary small", cancel));
}
