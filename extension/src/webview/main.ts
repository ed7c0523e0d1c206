// The panel's webview script (bundled by esbuild to dist/panel.js): the App on VS Code's webview API.
import type { ExtensionMessage } from "../messages";
import { App, type Host } from "./app";

declare function acquireVsCodeApi(): Host;

const root = document.getElementById("app");
if (root) {
    const app = new App(acquireVsCodeApi(), root);
    // Messages come only from the extension (the webview's own origin); the extension sends ExtensionMessage only.
    window.addEventListener("message", (event: MessageEvent<ExtensionMessage>) => app.onMessage(event.data));
    app.render();
    app.post({ type: "ready" });
}
