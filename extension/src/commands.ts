// The command table (rust-analyzer's commands.ts shape): each entry says what it does and whether it
// needs the daemon; Ctx.registerCommands refuses the latter, with what to do, while the daemon is down.
import * as path from "node:path";
import * as vscode from "vscode";
import { message, type CommandFactory, type Ctx } from "./ctx";
import { DaemonRequestError } from "./daemon";
import type { TreeNode } from "./layerModel";
import type { TabId } from "./messages";
import { mirrorUrl } from "./models";
import { ExplainPanel } from "./panel";
import type { ModelSummary } from "./protocol";

export const IMAGE_EXTENSIONS = ["png", "jpg", "jpeg", "bmp", "gif", "webp"];

export function createCommands(): Record<string, CommandFactory> {
    return {
        explain: { needsDaemon: true, run: (ctx) => (uri?: unknown) => explain(ctx, uri) },
        restartDaemon: {
            needsDaemon: false,
            run: (ctx) => () =>
                vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: "Restarting the CNN Interpret daemon" }, async () => {
                    await ctx.client.restart();
                    await ctx.refreshLayers();
                }),
        },
        showLogs: { needsDaemon: false, run: (ctx) => () => ctx.log.show() },
        selectModel: { needsDaemon: true, run: (ctx) => () => selectModel(ctx) },
        fetchWeights: { needsDaemon: true, run: (ctx) => (model?: unknown) => fetchAndUse(ctx, model) },
        refreshLayers: { needsDaemon: true, run: (ctx) => () => ctx.refreshLayers() },
        showLayer: { needsDaemon: true, run: () => (layer?: unknown) => showLayer(layer) },
        gradCamHere: { needsDaemon: true, run: () => (node?: unknown) => showLayer(node, "gradCam") },
        filterPatternsHere: { needsDaemon: true, run: () => (node?: unknown) => showLayer(node, "filterPatterns") },
        shapHere: { needsDaemon: true, run: () => (node?: unknown) => showLayer(node, "shap") },
        statusMenu: { needsDaemon: false, run: (ctx) => () => statusMenu(ctx) },
    };
}

/** Explorer context menu, editor title, or the palette (then: the active image, else a file picker). */
async function explain(ctx: Ctx, arg: unknown): Promise<void> {
    let image = arg instanceof vscode.Uri ? arg : activeImage();
    if (!image) {
        const picked = await vscode.window.showOpenDialog({
            canSelectMany: false,
            openLabel: "Explain",
            filters: { Images: IMAGE_EXTENSIONS },
            ...(vscode.workspace.workspaceFolders?.[0] ? { defaultUri: vscode.workspace.workspaceFolders[0].uri } : {}),
        });
        image = picked?.[0];
    }
    if (!image) return;
    if (image.scheme !== "file") {
        throw new Error(`${image.toString()} is not a file on this machine; the daemon reads images from disk.`);
    }
    if (!IMAGE_EXTENSIONS.includes(path.extname(image.fsPath).slice(1).toLowerCase())) {
        throw new Error(`${path.basename(image.fsPath)} is not an image CNN Interpret reads (${IMAGE_EXTENSIONS.join(", ")}).`);
    }
    ctx.log.info(`Explain ${image.fsPath} with ${ctx.activeModelId}`);
    ExplainPanel.createOrShow(ctx, image);
}

function activeImage(): vscode.Uri | undefined {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const uri = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
    return uri && IMAGE_EXTENSIONS.includes(path.extname(uri.fsPath).slice(1).toLowerCase()) ? uri : undefined;
}

function showLayer(arg: unknown, tab?: TabId): void {
    const layer = typeof arg === "string" ? arg : isLayerNode(arg) ? arg.layer.name : undefined;
    if (!layer) return;
    if (!ExplainPanel.current) {
        void vscode.window.showInformationMessage("CNN Interpret: right-click an image and choose “Explain with CNN Interpret” first; the layer is then shown for it.");
        return;
    }
    ExplainPanel.current.showLayer(layer, tab);
}

function isLayerNode(x: unknown): x is Extract<TreeNode, { type: "layer" }> {
    return typeof x === "object" && x !== null && (x as { type?: unknown }).type === "layer";
}

export const MODEL_FILE_GLOB = "**/*.{onnx,pth,pt,safetensors}";

type ModelPick = vscode.QuickPickItem & ({ action: "use"; model: string } | { action: "fetch"; model: ModelSummary } | { action: "none" });

/** Built-in models; model files of the workspace when it is trusted; fetching weights that are not here yet. */
async function selectModel(ctx: Ctx): Promise<void> {
    const list = await ctx.listModels();
    const items: ModelPick[] = [{ label: "Built-in models", kind: vscode.QuickPickItemKind.Separator, action: "none" }];
    for (const m of list.models) {
        const active = m.id === ctx.activeModelId ? " (active)" : "";
        const detail = `${m.description} Input ${m.inputShape.join("×")}, ${m.classCount} classes.`;
        items.push(
            m.state === "weights missing"
                ? { label: `$(cloud-download) ${m.displayName}`, description: `${m.id} · fetch its weights…`, detail, action: "fetch", model: m }
                : { label: m.displayName, description: `${m.id}${active}`, detail, action: "use", model: m.id },
        );
    }
    if (vscode.workspace.isTrusted) {
        const files = await vscode.workspace.findFiles(MODEL_FILE_GLOB, "**/{node_modules,.git,bin,obj}/**", 100);
        if (files.length) items.push({ label: "Model files in the workspace", kind: vscode.QuickPickItemKind.Separator, action: "none" });
        for (const f of files.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
            items.push({ label: `$(file-binary) ${path.basename(f.fsPath)}`, description: vscode.workspace.asRelativePath(f), action: "use", model: f.fsPath });
        }
    } else {
        items.push({ label: "Model files in the workspace run once you trust it", kind: vscode.QuickPickItemKind.Separator, action: "none" });
    }
    const picked = await vscode.window.showQuickPick(items, { title: "CNN Interpret: active model", matchOnDescription: true, matchOnDetail: true });
    if (!picked || picked.action === "none") return;
    if (picked.action === "fetch") {
        if (await fetchWeights(ctx, picked.model)) await ctx.setActiveModel(picked.model.id);
        return;
    }
    await ctx.setActiveModel(picked.model);
}

/** The fetch command (palette, or the panel's banner with a model id): fetches a model's weights, then uses it. */
async function fetchAndUse(ctx: Ctx, arg: unknown): Promise<void> {
    const models = (await ctx.listModels()).models;
    let model = typeof arg === "string" ? models.find((m) => m.id === arg) : undefined;
    if (!model) {
        const missing = models.filter((m) => m.state === "weights missing");
        if (!missing.length) {
            void vscode.window.showInformationMessage("CNN Interpret: every built-in model has its weights.");
            return;
        }
        const picked = await vscode.window.showQuickPick(
            missing.map((m) => ({ label: m.displayName, description: m.id, ...(m.weightsUrl ? { detail: m.weightsUrl } : {}), model: m })),
            { title: "CNN Interpret: fetch the weights of" },
        );
        model = picked?.model;
    }
    if (!model) return;
    if (model.state !== "weights missing" || (await fetchWeights(ctx, model))) await ctx.setActiveModel(model.id);
}

/**
 * models/fetch with a cancellable notification showing the daemon's progress. Many machines have no internet
 * access, so a failed fetch offers to add the file downloaded elsewhere. Says whether the weights are in place.
 */
async function fetchWeights(ctx: Ctx, model: ModelSummary): Promise<boolean> {
    const url = mirrorUrl(vscode.workspace.getConfiguration("cnnInterpret").get<string>("models.mirrorUrl"), model);
    try {
        await vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title: `Fetching the weights of ${model.displayName}`, cancellable: true },
            async (progress, token) => {
                let last = 0;
                const result = await ctx.client.request("models/fetch", { model: model.id, ...(url ? { url } : {}) }, {
                    token,
                    onProgress: (p) => {
                        const now = p.percentage;
                        progress.report({ ...(p.message ? { message: p.message } : {}), increment: Math.max(0, now - last) });
                        last = now;
                    },
                });
                ctx.log.info(`Fetched ${result.model}: ${result.path} (${(result.bytes / 1e6).toFixed(0)} MB)`);
            },
        );
        return true;
    } catch (e) {
        if (e instanceof DaemonRequestError && e.cancelled) return false;
        ctx.log.warn(`models/fetch ${model.id}: ${message(e)}`);
        const add = "Add a File Downloaded Elsewhere…";
        const mirror = "Set a Mirror…";
        const choice = await vscode.window.showErrorMessage(`CNN Interpret: the weights of ${model.displayName} could not be fetched. ${message(e)}`, add, mirror, "Show Logs");
        if (choice === "Show Logs") ctx.log.show();
        if (choice === mirror) void vscode.commands.executeCommand("workbench.action.openSettings", "cnnInterpret.models.mirrorUrl");
        return choice === add ? addWeightsFile(ctx, model) : false;
    }
}

/** models/add: the user picks the weights file they downloaded on another machine; the daemon checks and copies it. */
async function addWeightsFile(ctx: Ctx, model: ModelSummary): Promise<boolean> {
    const picked = await vscode.window.showOpenDialog({
        canSelectMany: false,
        openLabel: "Add Weights",
        title: `The weights of ${model.displayName}${model.weightsFile ? ` (${model.weightsFile}${model.weightsUrl ? `, from ${model.weightsUrl}` : ""})` : ""}`,
        filters: { "PyTorch weights": ["pth"] },
    });
    const file = picked?.[0];
    if (!file) return false;
    const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Checking and copying ${path.basename(file.fsPath)}`, cancellable: true },
        (_progress, token) => ctx.client.request("models/add", { model: model.id, file: file.fsPath }, { token }),
    );
    ctx.log.info(`Added the weights of ${result.model}: ${result.path}`);
    void vscode.window.showInformationMessage(`CNN Interpret: the weights of ${model.displayName} are in place (${result.path}).`);
    return true;
}

async function statusMenu(ctx: Ctx): Promise<void> {
    const items = [
        { label: "$(output) Show Logs", command: "cnnInterpret.showLogs" },
        { label: "$(debug-restart) Restart Daemon", command: "cnnInterpret.restartDaemon" },
        { label: "$(circuit-board) Select Model…", command: "cnnInterpret.selectModel" },
    ];
    const { state, info, error } = ctx.client.state;
    const picked = await vscode.window.showQuickPick(items, {
        title: `CNN Interpret daemon: ${state}${info ? ` (pid ${info.processId}, ${info.device})` : ""}${error ? ` — ${error}` : ""}`,
    });
    if (picked) await vscode.commands.executeCommand(picked.command).then(undefined, (e: unknown) => ctx.showError(message(e)));
}
