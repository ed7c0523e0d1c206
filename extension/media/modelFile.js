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
                h("table", { class: "layers" },
                    h("thead", {}, h("tr", {}, ...["block", "layer", "name", "kind", "output", "parameters"].map((c) => h("th", { scope: "col", text: c })))),
                    h("tbody", {}, ...rows)),
            );
        }
    }

    window.addEventListener("message", onMessage);
    vscode.postMessage({ type: "ready" });
})();
