// What VS Code gives a webview's script (see media/modelFile.js, type-checked with //@ts-check; the panel is TypeScript: src/webview/).
interface VsCodeApi {
    postMessage(message: unknown): void;
    getState(): any;
    setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
