// Opening a model file (.onnx, .pth, .pt, .safetensors) shows a read-only view of its layers, loaded by
// the daemon (models/load with the file's path), the preprocessing it will use and where each part came from,
// and offers to make it the active model. A small form writes the file's sidecar (FILE.json: preset, mean, std,
// labels file), which the daemon reads on the next load. In an untrusted workspace the file is not loaded at all.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as vscode from "vscode";
import { message, type Ctx } from "./ctx";
import { formatCount, formatShape } from "./layerModel";
import { PRESETS, preprocessingRows, updatedSidecar, type SidecarForm } from "./sidecar";
import { newNonce, webviewHtml } from "./webviewHtml";

/** The sidecar's fields as the form shows them (strings), and the parsed object; an unreadable sidecar reads as empty. */
async function readSidecar(file: string): Promise<Record<string, unknown>> {
    try {
        const parsed: unknown = JSON.parse(await fs.readFile(file, "utf8"));
        return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    } catch {
        return {};
    }
}

function formValues(sidecar: Record<string, unknown>, sidecarPath: string): SidecarForm {
    const text = (v: unknown) => (Array.isArray(v) ? v.join(", ") : typeof v === "string" || typeof v === "number" ? String(v) : "");
    const labelsFile = typeof sidecar["labelsFile"] === "string" ? path.resolve(path.dirname(sidecarPath), sidecar["labelsFile"]) : "";
    return { preset: text(sidecar["preset"]), mean: text(sidecar["mean"]), std: text(sidecar["std"]), labelsFile };
}

export class ModelFileEditor implements vscode.CustomReadonlyEditorProvider {
    static readonly viewType = "cnnInterpret.modelFile";

    constructor(private readonly ctx: Ctx) {}

    openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
        return { uri, dispose: () => undefined };
    }

    async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
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
                const sidecarPath = model.preprocessing?.sidecar ?? `${file}.json`;
                post({
                    type: "model",
                    file: path.basename(file),
                    id: model.id,
                    displayName: model.displayName,
                    input: formatShape(model.inputShape),
                    classes: model.classes.length,
                    classNames: model.classes.slice(0, 20),
                    preprocessing: model.preprocessing ? preprocessingRows(model.preprocessing, model.classes.length) : [],
                    sidecar: path.basename(sidecarPath),
                    form: formValues(await readSidecar(sidecarPath), sidecarPath),
                    presets: PRESETS,
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
                const type = typeof raw === "object" && raw !== null ? (raw as { type?: unknown }).type : undefined;
                if (type === "ready") await load();
                else if (type === "useModel") {
                    await this.ctx.setActiveModel(file).then(load, (e: unknown) => this.ctx.showError(message(e)));
                } else if (type === "chooseLabels") {
                    const picked = await vscode.window.showOpenDialog({
                        canSelectMany: false, defaultUri: vscode.Uri.file(path.dirname(file)), openLabel: "Use as labels",
                        filters: { "Labels (one per line, or a JSON list)": ["txt", "json", "names", "csv"], "All files": ["*"] },
                    });
                    if (picked?.[0]) post({ type: "labelsChosen", path: picked[0].fsPath });
                } else if (type === "saveSidecar") {
                    await this.saveSidecar(file, (raw as { form?: SidecarForm }).form).then(load, (e: unknown) => post({ type: "formError", message: message(e) }));
                } else if (type === "showLogs") this.ctx.log.show();
                else this.ctx.log.warn(`Ignored a message from the model view: ${JSON.stringify(raw)?.slice(0, 200)}`);
            }),
            vscode.workspace.onDidGrantWorkspaceTrust(load),
        ];
        panel.onDidDispose(() => subscriptions.forEach((d) => d.dispose()));
    }

    /**
     * Writes the form into the sidecar (keeping its other fields) and loads the model again, so the daemon reads it;
     * an active model is switched to the new settings. Only in a trusted workspace: the sidecar is the workspace's file.
     */
    private async saveSidecar(file: string, form: SidecarForm | undefined): Promise<void> {
        if (!vscode.workspace.isTrusted) throw new Error("This workspace is not trusted, so CNN Interpret does not write its files. Trust the workspace first.");
        if (!form) throw new Error("The form sent nothing to save.");
        const sidecarPath = `${file}.json`;
        const next = updatedSidecar(await readSidecar(sidecarPath), form, sidecarPath);
        await fs.writeFile(sidecarPath, `${JSON.stringify(next, null, 2)}\n`, "utf8");
        const wasActive = this.ctx.activeModelId === (await this.ctx.loadModel(file).then((m) => m.id, () => undefined));
        this.ctx.forgetModel(file);
        if (wasActive) await this.ctx.setActiveModel(file);
        else await this.ctx.loadModel(file);
    }
}
