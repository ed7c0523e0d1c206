//@ts-check
// The read-only view of a model file: its layers as the daemon loaded them, and "Use as active model".
(function () {
    const vscode = acquireVsCodeApi();
    const app = /** @type {HTMLElement} */ (document.getElementById("app"));

    /**
     * @param {string} tag
     * @param {Record<string, string>} [attrs]
     * @param {(Node | string)[]} children
     */
    function h(tag, attrs, ...children) {
        const el = document.createElement(tag);
        for (const [k, v] of Object.entries(attrs || {})) {
            if (k === "text") el.textContent = v;
            else el.setAttribute(k, v);
        }
        el.append(...children);
        return el;
    }

    /** @param {MessageEvent} event */
    function onMessage(event) {
        const m = event.data;
        if (m.type === "labelsChosen" || m.type === "formError") return; // the form's own
        app.replaceChildren();
        app.removeAttribute("aria-busy");
        if (m.type === "untrusted") {
            app.append(h("h1", { text: m.file }), h("p", { class: "unavailable", text: "This workspace is not trusted, so CNN Interpret does not load its model files. Trust the workspace to see this model's layers." }));
        } else if (m.type === "error") {
            const logs = h("button", { type: "button", class: "secondary", text: "Show logs" });
            logs.addEventListener("click", () => vscode.postMessage({ type: "showLogs" }));
            app.append(h("h1", { text: m.file }), h("p", { class: "error", role: "alert", text: m.message }), logs);
        } else if (m.type === "model") {
            const use = h("button", { type: "button", text: m.active ? "Active model" : "Use as active model" });
            if (m.active) use.setAttribute("disabled", "");
            use.addEventListener("click", () => vscode.postMessage({ type: "useModel" }));
            const rows = /** @type {{ name: string, displayName: string, kind: string, group: string, shape: string, parameters: string }[]} */ (m.layers)
                .map((l) => h("tr", {}, h("td", { text: l.group }), h("td", { text: l.displayName }), h("td", {}, h("code", { text: l.name })), h("td", { text: l.kind }), h("td", { text: l.shape }), h("td", { class: "num", text: l.parameters })));
            app.append(
                h("header", { class: "header" }, h("div", { class: "title" },
                    h("h1", { text: `${m.displayName} — ${m.file}` }),
                    h("p", { class: "model", text: `input ${m.input} · ${m.classes} classes · ${m.parameters} parameters · ${m.layers.length} layers` }))),
                use,
                preprocessing(m),
                sidecarForm(m),
                h("table", { class: "layers" },
                    h("thead", {}, h("tr", {}, ...["block", "layer", "name", "kind", "output", "parameters"].map((c) => h("th", { scope: "col", text: c })))),
                    h("tbody", {}, ...rows)),
            );
        }
    }

    /**
     * What the model does to an image, each part with where it came from, and the first class names.
     * @param {{ preprocessing: { field: string, value: string, source: string }[], classNames: string[], classes: number }} m
     */
    function preprocessing(m) {
        const rows = m.preprocessing.map((r) => h("tr", {}, h("th", { scope: "row", text: r.field }), h("td", { text: r.value }), h("td", { class: "source", text: r.source })));
        const names = m.classNames.length > 0
            ? h("p", { class: "classes", id: "class-names", text: `Classes: ${m.classNames.join(", ")}${m.classes > m.classNames.length ? `, … (${m.classes})` : ""}` })
            : h("p", { class: "classes", id: "class-names", text: "No class names: targets are output channels. Give a labels file below." });
        return h("section", { class: "preprocessing", "aria-label": "Preprocessing" },
            h("h2", { text: "Preprocessing" }),
            h("table", { class: "preprocessing" }, h("thead", {}, h("tr", {}, ...["", "value", "from"].map((c) => h("th", { scope: "col", text: c })))), h("tbody", {}, ...rows)),
            names);
    }

    /**
     * The sidecar form: a preset, mean and std, a labels file; "Save" writes FILE.json and reloads the model.
     * @param {{ sidecar: string, presets: string[], form: { preset: string, mean: string, std: string, labelsFile: string } }} m
     */
    function sidecarForm(m) {
        const preset = /** @type {HTMLSelectElement} */ (h("select", { id: "preset", "aria-label": "Preset" },
            h("option", { value: "", text: "(none: the model's or the mean/std below)" }), ...m.presets.map((p) => h("option", { value: p, text: p }))));
        preset.value = m.form.preset;
        const mean = /** @type {HTMLInputElement} */ (h("input", { id: "mean", type: "text", placeholder: "R, G, B on 0–1, e.g. 0.485, 0.456, 0.406", value: m.form.mean }));
        const std = /** @type {HTMLInputElement} */ (h("input", { id: "std", type: "text", placeholder: "R, G, B on 0–1, e.g. 0.229, 0.224, 0.225", value: m.form.std }));
        const labels = /** @type {HTMLInputElement} */ (h("input", { id: "labels-file", type: "text", placeholder: "a text file, one label per line (or a JSON list)", value: m.form.labelsFile }));
        const choose = h("button", { type: "button", class: "secondary", text: "Choose…" });
        choose.addEventListener("click", () => vscode.postMessage({ type: "chooseLabels" }));
        const save = h("button", { type: "button", text: `Save to ${m.sidecar}` });
        const status = h("p", { class: "error", id: "form-error", role: "alert" });
        save.addEventListener("click", () => {
            status.textContent = "";
            save.setAttribute("disabled", "");
            vscode.postMessage({ type: "saveSidecar", form: { preset: preset.value, mean: mean.value, std: std.value, labelsFile: labels.value } });
        });
        window.addEventListener("message", (event) => {
            if (event.data.type === "labelsChosen") labels.value = event.data.path;
            if (event.data.type === "formError") {
                status.textContent = event.data.message;
                save.removeAttribute("disabled");
            }
        });
        /** @param {string} text @param {string} id @param {HTMLElement} control */
        const field = (text, id, control) => h("div", { class: "field" }, h("label", { for: id, text }), control);
        return h("section", { class: "sidecar-form", "aria-label": "Preprocessing and labels" },
            h("h2", { text: "Your preprocessing and labels" }),
            h("p", { text: `Saved in ${m.sidecar} beside the model; the command line and the daemon read it too. A mean or std given here overrides the preset.` }),
            field("Preset", "preset", preset), field("Mean", "mean", mean), field("Std", "std", std),
            h("div", { class: "field" }, h("label", { for: "labels-file", text: "Labels file" }), labels, choose),
            save, status);
    }

    window.addEventListener("message", onMessage);
    vscode.postMessage({ type: "ready" });
})();
