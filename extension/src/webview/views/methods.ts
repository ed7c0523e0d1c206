// A group tab of the daemon's registry (Gradients, CAM, Perturbation…) and the Grad-CAM view of an older daemon:
// the method picker, its layer when it takes one, the colours of an unsigned map with their legend, the method's
// option form drawn from daemon/methods, and what the method reports about its answer. Nothing here names a method.
import type { FormField, PanelMethod, PanelTab } from "../../methods";
import type { MethodOptionValue } from "../../protocol";
import type { App } from "../app";
import { button, choice, layerPicker, numberField } from "../controls";
import { h } from "../dom";
import { dataUri } from "../picture";
import { currentMethod, methodValues, options, shownPng, usesLayer, type View } from "../state";
import { COLORMAP_CHOICES } from "./featureMaps";
import type { TabModule } from "./types";

export const methodTab: TabModule = {
    controls: (app, tab) => {
        const o = options(app.model);
        const method = currentMethod(app.model, tab);
        const unsigned = tab.id === "gradCam" || (!!method && !method.signed);
        return [
            method ? methodPicker(app, tab, method) : undefined,
            tab.id === "gradCam" ? choice(app, "method", "Method", [["grad-cam", "Grad-CAM"], ["grad-cam++", "Grad-CAM++"]], o.method) : undefined,
            usesLayer(app.model, tab) ? layerPicker(app, tab) : undefined,
            unsigned ? choice(app, "colormap", "Colormap", COLORMAP_CHOICES, o.colormap) : undefined,
            unsigned ? numberField(app, "opacity", "Overlay opacity", o.opacity, 0, 1, 0.1) : undefined,
        ];
    },
    form: (app, tab) => {
        const method = currentMethod(app.model, tab);
        return method ? methodForm(app, method, methodValues(app.model, method)) : undefined;
    },
    above: (app, tab, view) => [legend(app, tab, view)],
    below: (_app, _tab, view) => [figures(view)],
};

/** The group's methods to choose from, each titled with its paper. */
function methodPicker(app: App, tab: PanelTab, method: PanelMethod): HTMLElement {
    const picker = h("select", {
        id: "method",
        title: method.paper || undefined,
        on: {
            change: (e) => {
                app.model.ui.methods[tab.id] = (e.currentTarget as HTMLSelectElement).value;
                app.save();
                app.request();
            },
        },
    }, ...(app.model.session?.methods ?? []).filter((x) => x.tab === tab.id).map((x) => h("option", { value: x.name, selected: x.name === method.name, title: x.paper || undefined, text: x.displayName })));
    return h("span", { class: "field" }, h("label", { for: "method", text: "Method" }), picker);
}

/**
 * The form of a method's options, one labelled control per field, the option's description as its tooltip, and the
 * paper the method follows; a change asks for the map again.
 */
function methodForm(app: App, method: PanelMethod, values: Record<string, MethodOptionValue>): HTMLElement {
    const form = h("div", { class: "toolbar method-form", id: "method-form", role: "group", "aria-label": `${method.displayName} options` });
    for (const f of method.fields) form.append(field(f, values[f.name] ?? f.value, (v) => setMethodOption(app, method, f, v)));
    if (method.fields.some((f) => values[f.name] !== f.value)) {
        form.append(button("Defaults", "secondary small", () => {
            delete app.model.ui.methodOptions[method.name];
            app.save();
            app.request();
        }, { id: "method-defaults", title: `Reset ${method.displayName}'s options to their defaults` }));
    }
    if (method.paper) form.append(h("span", { class: "muted paper", id: "method-paper", text: method.paper }));
    return form;
}

/** One control: a number input with the option's range, a select of its choices, or a checkbox; a bad value is marked, not sent. */
function field(f: FormField, value: MethodOptionValue, onChange: (v: MethodOptionValue) => void): HTMLElement {
    const id = `mopt-${f.name}`;
    const label = h("label", { for: id, text: f.label, title: f.title });
    if (f.control === "select") {
        const picker = h("select", { id, title: f.title, on: { change: (e) => onChange((e.currentTarget as HTMLSelectElement).value) } },
            ...(f.choices ?? []).map((c) => h("option", { value: c.value, selected: c.value === value, text: c.label })));
        return h("span", { class: "field" }, label, picker);
    }
    if (f.control === "checkbox") {
        const box = h("input", { id, type: "checkbox", title: f.title, checked: value === true, on: { change: (e) => onChange((e.currentTarget as HTMLInputElement).checked) } });
        return h("span", { class: "field" }, box, label);
    }
    const number = h("input", {
        id, type: "number", title: f.title, min: f.min, max: f.max, step: f.step ?? "any", value: String(value), "data-default": String(f.value),
        on: {
            change: (e) => {
                const input = e.currentTarget as HTMLInputElement; // the live element (patch() keeps it, not this render's)
                const v = input.value.trim() === "" ? f.value : Number(input.value);
                const bad = typeof v !== "number" || !Number.isFinite(v) || (f.control === "integer" && !Number.isInteger(v)) || (f.min !== undefined && v < f.min) || (f.max !== undefined && v > f.max);
                if (bad) {
                    input.setAttribute("aria-invalid", "true");
                    return;
                }
                input.removeAttribute("aria-invalid");
                onChange(v);
            },
        },
    });
    return h("span", { class: "field" }, label, number);
}

function setMethodOption(app: App, method: PanelMethod, f: FormField, value: MethodOptionValue): void {
    const set = { ...app.model.ui.methodOptions[method.name] };
    if (value === f.value) delete set[f.name];
    else set[f.name] = value;
    app.model.ui.methodOptions[method.name] = set;
    app.save();
    app.request();
}

/** The colour scale of an unsigned map (a signed map's own scale is in its heatmap). */
function legend(app: App, tab: PanelTab, view: View): HTMLElement | undefined {
    if (!view.legendPng || !shownPng(app.model, tab.id, view)) return undefined;
    const colormap = options(app.model, tab.id).colormap ?? "viridis";
    return h("figure", { class: "legend", id: "legend" },
        h("span", { class: "muted", text: "0" }),
        h("img", { src: dataUri(view.legendPng), alt: `Colour scale (${colormap}): from 0, the map's lowest value, on the left to 1, its highest, on the right` }),
        h("span", { class: "muted", text: "1 (the map's largest value)" }));
}

/** What the method reports about its answer (a completeness error…) and its note. */
function figures(view: View): HTMLElement | undefined {
    if (!view.figures?.length && !view.note) return undefined;
    return h("div", { class: "figures" },
        view.figures?.length ? h("dl", { id: "figures" }, ...view.figures.flatMap((f) => [h("dt", { text: f.label }), h("dd", { text: f.value })])) : undefined,
        view.note ? h("p", { class: "note", id: "note", role: "note", text: view.note }) : undefined);
}
