// What VS Code gives a webview's script (see media/panel.js, type-checked with //@ts-check).
interface VsCodeApi {
    postMessage(message: unknown): void;
    getState(): any;
    setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
