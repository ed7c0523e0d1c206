// Opening a model file (.onnx, .pth, .pt, .safetensors) shows a read-only view of its layers, loaded by
// the daemon (models/load with the file's path), and offers to make it the active model. In an untrusted
// workspace the file is not loaded at all.
import * as path from "node:path";
import * as vscode from "vscode";
import { message, type Ctx } from "./ctx";
import { formatCount, formatShape } from "./layerModel";
import { newNonce, webviewHtml } from "./webviewHtml";

export class ModelFileEditor implements vscode.CustomReadonlyEditorProvider {
    static readonly viewType = "cnnInterpret.modelFile";

    constructor(private readonly ctx: Ctx) {}

    openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
        return { uri, dispose: () => undefined };
    }

    resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
        const file = document.uri.fsPath;
        const webview = panel.webview;
        const media = vscode.Uri.joinPath(this.ctx.extension.extensionUri, "media");
        webview.options = { enableScripts: true, localResourceRoots: [media] };
        webview.html = webviewHtml({
            cspSource: webview.cspSource,
            nonce: newNonce(),
            script: webview.asWebviewUri(vscode.Uri.joinPath(media, "modelFile.js")).toString(),
            style: webview.asWebviewUri(vscode.Uri.joinPath(media, "panel.css")).toString(),
            title: path.basename(file),
            placeholder: `Loading ${path.basename(file)}…`,
        });

        const post = (m: unknown) => void webview.postMessage(m);
        const load = async () => {
            if (!vscode.workspace.isTrusted) {
                post({ type: "untrusted", file: path.basename(file) });
                return;
            }
            try {
                const model = await this.ctx.loadModel(file);
                post({
                    type: "model",
                    file: path.basename(file),
                    id: model.id,
                    displayName: model.displayName,
                    input: formatShape(model.inputShape),
                    classes: model.classes.length,
                    parameters: formatCount(model.parameterCount),
                    active: model.id === this.ctx.activeModelId,
                    layers: model.layers.map((l) => ({
                        name: l.name,
                        displayName: l.displayName,
                        kind: l.kind,
                        group: l.group,
                        shape: formatShape(l.outputShape),
                        parameters: formatCount(l.parameterCount),
                    })),
                });
            } catch (e) {
                post({ type: "error", file: path.basename(file), message: message(e) });
            }
        };
        const subscriptions = [
            webview.onDidReceiveMessage(async (raw: unknown) => {
                // (JSON.stringify gives undefined, not a string, for an undefined message: hence `raw ?? null` below.)
                const type = typeof raw === "object" && raw !== null ? (raw as { type?: unknown }).type : undefined;
                if (type === "ready") await load();
                else if (type === "useModel") {
                    await this.ctx.setActiveModel(file).then(load, (e: unknown) => this.ctx.showError(message(e)));
                } else if (type === "showLogs") this.ctx.log.show();
                else this.ctx.log.warn(`Ignored a message from the model view: ${JSON.stringify(raw ?? null).slice(0, 200)}`);
            }),
            vscode.workspace.onDidGrantWorkspaceTrust(load),
        ];
        panel.onDidDispose(() => {
            for (const d of subscriptions) d.dispose();
        });
    }
}
