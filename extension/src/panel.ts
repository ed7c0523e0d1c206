// The explanation panel: one webview beside the editor showing one image, its predictions and the five
// views. createOrShow / revive / dispose as in vscode-extension-samples' webview-sample; the webview's
// script is src/webview/ bundled to dist/panel.js, and every message it sends is validated (messages.ts) before use.
import * as path from "node:path";
import * as vscode from "vscode";
import { message, type Ctx } from "./ctx";
import { DaemonRequestError } from "./daemon";
import { checkRequest, checkView, type CheckMessage } from "./checks";
import { attributionCaption, attributionFigures, attributionRequest, caption, defaultLayers, explainRequest, gridCells, progressMessage, viewImages, type ExplainMessage, type RenderedResult } from "./explainRequests";
import { CHECKS, COLORMAPS, InvalidMessageError, OVERLAY_COLORMAP, panelLayer, parseWebviewMessage, scoreCount, tabById, type AttributeMessage, type ExtensionMessage, type RegistryMethod, type TabId, type WebviewMessage } from "./messages";
import { defaultMethodLayer, methodsState, panelMethods, panelTabs, type MethodsState, type PanelTab } from "./methods";
import { fitOffers } from "./models";
import { npyFloat32 } from "./npy";
import type { AttributionResult, DaemonInfoResult, ModelDetails, RawArray, WorkDoneProgress } from "./protocol";
import { newNonce, webviewHtml } from "./webviewHtml";

const IMAGE_MIME: Record<string, string> = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".bmp": "image/bmp",
    ".gif": "image/gif",
    ".webp": "image/webp",
};
/** Larger pictures are not copied into the webview (the model sees them at its own, small size anyway). */
const MAX_INLINE_IMAGE = 8 * 1024 * 1024;

/** What the webview keeps with setState, so a panel comes back after a reload. */
export interface PanelState {
    image?: string;
}

interface LastResult {
    /** A fixed view's id, or "attribution" (a registry method's view). */
    kind: TabId | "attribution";
    method: string;
    params: Record<string, unknown>;
    result: RenderedResult;
}

export class ExplainPanel implements vscode.Disposable {
    static readonly viewType = "cnnInterpret.panel";
    static current: ExplainPanel | undefined;

    private readonly disposables: { dispose(): unknown }[] = [];
    private readonly running = new Map<number, vscode.CancellationTokenSource>();
    private readonly byTab = new Map<string, number>();
    private readonly byCheck = new Map<string, number>();
    private readonly last = new Map<string, LastResult>();
    private model: ModelDetails | undefined;
    /** The daemon's registry methods (daemon/methods), read at each session and after the daemon restarts. */
    private methods: MethodsState = { available: false, reason: "The daemon's methods have not been read yet." };
    private registry = new Map<string, RegistryMethod>();
    private tabs: PanelTab[] = [];
    /** The daemon process the methods were read from. */
    private methodsFrom: number | undefined;
    private webviewReady: Promise<void>;
    private markReady!: () => void;
    private sawReady = false;
    private loading: Promise<void> | undefined;
    private offered = new Set<string>();
    /** The image whose picture the webview has (it keeps it across sessions): sent once per panel, not with every session. */
    private sentImage: string | undefined;

    /** Opens the panel beside the active editor for `image`, or points the open one at it. */
    static createOrShow(ctx: Ctx, image: vscode.Uri, show?: { layer?: string; tab?: TabId }): ExplainPanel {
        if (ExplainPanel.current) {
            ExplainPanel.current.panel.reveal(vscode.ViewColumn.Beside, true);
            ExplainPanel.current.setImage(image);
        } else {
            const panel = vscode.window.createWebviewPanel(ExplainPanel.viewType, title(image), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(ctx));
            ExplainPanel.current = new ExplainPanel(ctx, panel, image);
        }
        if (show?.layer) ExplainPanel.current.showLayer(show.layer, show.tab);
        return ExplainPanel.current;
    }

    /** Brings back a panel VS Code restored after a reload (see the serializer in extension.ts). */
    static revive(ctx: Ctx, panel: vscode.WebviewPanel, state: PanelState | undefined): void {
        panel.webview.options = webviewOptions(ctx);
        const image = typeof state?.image === "string" ? vscode.Uri.file(state.image) : undefined;
        ExplainPanel.current?.dispose();
        ExplainPanel.current = new ExplainPanel(ctx, panel, image);
    }

    private constructor(
        private readonly ctx: Ctx,
        private readonly panel: vscode.WebviewPanel,
        private image: vscode.Uri | undefined,
    ) {
        this.webviewReady = new Promise((resolve) => (this.markReady = resolve));
        panel.webview.html = this.html();
        this.disposables.push(
            panel.onDidDispose(() => this.dispose()),
            panel.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
            ctx.onDidChangeModel(() => void this.load()),
            ctx.client.onDidChangeState((s) => {
                this.post({ type: "daemonState", state: s.state, ...(s.error ? { message: s.error } : {}) });
                // Another daemon (restarted, perhaps from another path): its methods may differ.
                if (s.state === "running" && s.info && this.methodsFrom !== undefined && s.info.processId !== this.methodsFrom) void this.recheckMethods(s.info);
            }),
        );
        void this.load();
    }

    setImage(image: vscode.Uri): void {
        this.image = image;
        this.sentImage = undefined; // explaining it again: its picture may have changed on disk
        this.panel.title = title(image);
        void this.load();
    }

    /** Shows `layer` (from the Layers tree) in the open tab, or in `tab`. */
    showLayer(layer: string, tab?: TabId): void {
        void this.webviewReady.then(() => this.loading).then(() => this.post({ type: "showLayer", layer, ...(tab ? { tab } : {}) }));
    }

    private load(): Promise<void> {
        this.cancelAll();
        this.loading = this.loadSession().catch((e: unknown) => {
            this.ctx.log.error(`Panel: ${message(e)}`);
            void this.ctx.showError(message(e));
        });
        return this.loading;
    }

    private async loadSession(): Promise<void> {
        await this.webviewReady;
        const image = this.image;
        if (!image) return;
        const sendPicture = this.sentImage !== image.fsPath;
        const [model, src] = await Promise.all([this.ctx.loadModel(), sendPicture ? imageSource(image) : undefined]);
        const info = await this.ctx.client.start();
        const methods = await this.readMethods(info);
        if (image !== this.image) return;
        this.model = model;
        this.sentImage = image.fsPath;
        this.setMethods(methods, info.processId);
        const config = vscode.workspace.getConfiguration("cnnInterpret");
        const groupTabs = this.tabs.filter((t) => t.methods);
        const methodLayer = defaultMethodLayer(model.layers);
        this.post({
            type: "session",
            image: { name: path.basename(image.fsPath), path: image.fsPath, ...(src ? { src } : {}) },
            model: { id: model.id, displayName: model.displayName, classes: model.classes, layers: model.layers.map(panelLayer) },
            tabs: this.tabs,
            methods: panelMethods(methods),
            ...(methods.available ? {} : { methodsNote: methods.reason }),
            layers: { ...defaultLayers(model), ...Object.fromEntries(methodLayer ? groupTabs.map((t) => [t.id, methodLayer]) : []) },
            defaults: {
                featureMaps: { colormap: config.get<(typeof COLORMAPS)[number]>("featureMaps.colormap") ?? "viridis", scaling: "perChannel" },
                filterPatterns: { preset: "readable", seed: config.get<number>("explain.seed") ?? 0 },
                // Maps over a photo: turbo, jet's hues without its bands (what pytorch-grad-cam's users know, easier to read).
                gradCam: { method: "grad-cam", colormap: OVERLAY_COLORMAP, opacity: 0.5 },
                lime: { samples: config.get<number>("explain.samples") ?? 1000, seed: config.get<number>("explain.seed") ?? 0 },
                shap: { method: "kernel", samples: config.get<number>("explain.samples") ?? 1000, seed: config.get<number>("explain.seed") ?? 0 },
                ...Object.fromEntries(groupTabs.map((t) => [t.id, { colormap: OVERLAY_COLORMAP, opacity: 0.5 }])),
            },
            daemon: { version: info.version, device: info.device },
        });
        try {
            const prediction = await this.ctx.client.request("image/predict", { model: model.id, image: image.fsPath, topK: 5 });
            // An image that does not suit the model: the banner offers the models that suit it, by name.
            const fit = prediction.fit;
            const offers = fit && !fit.suitable ? fitOffers(fit, (await this.ctx.listModels().catch(() => undefined))?.models ?? []) : undefined;
            if (image !== this.image) return;
            this.offered = new Set([...(offers?.use ?? []), ...(offers?.fetch ?? [])].map((m) => m.id));
            this.post({ type: "prediction", top: prediction.top, fit, ...(offers ? { offers } : {}) });
        } catch (e) {
            this.post({ type: "predictionError", message: message(e) });
            void this.ctx.showError(`${path.basename(image.fsPath)}: ${message(e)}`);
        }
    }

    /** daemon/methods; an older daemon without it, or a failure, gives the reason the registry's tabs are hidden. */
    private async readMethods(info: DaemonInfoResult): Promise<MethodsState> {
        try {
            return methodsState(await this.ctx.client.request("daemon/methods", undefined));
        } catch (e) {
            if (e instanceof DaemonRequestError && e.methodNotFound) return methodsState({ notFound: true, daemonVersion: info.version });
            this.ctx.log.warn(`daemon/methods: ${message(e)}`);
            return methodsState({ error: message(e) });
        }
    }

    private setMethods(methods: MethodsState, daemonPid: number): void {
        this.methods = methods;
        this.methodsFrom = daemonPid;
        this.tabs = panelTabs(methods);
        const views = new Map(panelMethods(methods).map((v) => [v.name, v]));
        this.registry = new Map(methods.available ? methods.methods.flatMap((info) => {
            const view = views.get(info.name); // panelMethods makes one for each method
            return view ? [[info.name, { info, view }] as const] : [];
        }) : []);
        if (!methods.available) this.ctx.log.info(`Panel: ${methods.reason}`);
    }

    /** After a restart: a daemon whose methods differ from the shown ones gets a new session (new tabs and forms). */
    private async recheckMethods(info: DaemonInfoResult): Promise<void> {
        const methods = await this.readMethods(info);
        const same = JSON.stringify(methods) === JSON.stringify(this.methods);
        this.methodsFrom = info.processId;
        if (!same) {
            this.ctx.log.info("Panel: the restarted daemon offers other methods; reloading the panel.");
            await this.load();
        }
    }

    private onMessage(raw: unknown): void {
        let msg: WebviewMessage;
        try {
            msg = parseWebviewMessage(raw, {
                layers: new Set(this.model?.layers.map((l) => l.name) ?? []),
                scoreCount: this.model ? scoreCount(this.model) : 0,
                offered: this.offered,
                methods: this.registry,
            });
        } catch (e) {
            if (e instanceof InvalidMessageError) {
                this.ctx.log.warn(`Ignored a message from the panel: ${e.message}`);
                this.refuse(raw, e.message);
                return;
            }
            throw e;
        }
        switch (msg.type) {
            case "ready":
                // A second "ready" is a rebuilt webview (reloaded, or restored without its context): it needs the session again.
                this.sentImage = undefined;
                if (this.sawReady) void this.load();
                this.sawReady = true;
                this.markReady();
                return;
            case "explain":
            case "attribute":
                void this.explain(msg);
                return;
            case "cancel":
                this.running.get(msg.id)?.cancel();
                return;
            case "layerSelected":
                void this.ctx.revealLayer(msg.layer);
                return;
            case "export":
                void this.export(msg.tab, msg.format, msg.picture).catch((e: unknown) => this.ctx.showError(message(e)));
                return;
            case "command":
                void vscode.commands.executeCommand(`cnnInterpret.${msg.command}`);
                return;
            case "check":
                void this.check(msg);
                return;
            case "useModel":
                void this.ctx.setActiveModel(msg.model).catch((e: unknown) => this.ctx.showError(message(e)));
                return;
            case "fetchWeights":
                void vscode.commands.executeCommand("cnnInterpret.fetchWeights", msg.model);
                return;
        }
    }

    private async explain(msg: ExplainMessage | AttributeMessage): Promise<void> {
        const image = this.image;
        const model = this.model;
        if (!image || !model) return;
        // One request per tab at a time: a newer one (another layer, page or option) replaces it.
        const previous = this.byTab.get(msg.tab);
        if (previous !== undefined) this.running.get(previous)?.cancel();
        const cts = new vscode.CancellationTokenSource();
        this.running.set(msg.id, cts);
        this.byTab.set(msg.tab, msg.id);
        const { method, params } = msg.type === "attribute" ? attributionRequest(msg, image.fsPath, model.id) : explainRequest(msg, image.fsPath, model.id);
        const kind = msg.type === "attribute" ? "attribution" : msg.tab;
        try {
            const result = await this.ctx.client.request<RenderedResult>(method, params, {
                token: cts.token,
                onProgress: (p) => this.post(progressMessage(msg.id, p)),
            });
            if (typeof result.png !== "string") throw new Error(`The daemon's answer to ${method} has no image.`);
            this.last.set(msg.tab, { kind, method, params, result });
            const images = viewImages(kind, result);
            const attribution = kind === "attribution" ? (result as unknown as AttributionResult) : undefined;
            const figures = attribution ? attributionFigures(attribution) : [];
            const cells = gridCells(kind, result);
            this.post({
                type: "result",
                id: msg.id,
                tab: msg.tab,
                png: result.png,
                caption: attribution ? attributionCaption(attribution) : caption(kind as TabId, result),
                ...(images.length ? { images } : {}),
                ...(typeof result.page === "number" ? { page: result.page } : {}),
                ...(typeof result.pageCount === "number" ? { pageCount: result.pageCount } : {}),
                ...(figures.length ? { figures } : {}),
                ...(typeof attribution?.note === "string" && attribution.note ? { note: attribution.note } : {}),
                ...(cells ? { cells } : {}),
                ...(typeof result["legendPng"] === "string" && result["legendPng"] ? { legendPng: result["legendPng"] } : {}),
            });
        } catch (e) {
            const notFound = e instanceof DaemonRequestError && e.methodNotFound;
            const cancelled = e instanceof DaemonRequestError && e.cancelled;
            const text = notFound
                ? `${this.tabTitle(msg.tab)} is not available yet: this daemon has no '${method}' method (it answered "${message(e)}").`
                : message(e);
            if (!cancelled && !notFound) this.ctx.log.warn(`${method}: ${text}`);
            this.post({ type: "error", id: msg.id, tab: msg.tab, message: text, unavailable: notFound, cancelled });
        } finally {
            cts.dispose();
            this.running.delete(msg.id);
            if (this.byTab.get(msg.tab) === msg.id) this.byTab.delete(msg.tab);
        }
    }

    /** A check of the shown view (faithfulness, sanity, layer sweep): runs beside the views, one per kind at a time. */
    private async check(msg: CheckMessage): Promise<void> {
        const image = this.image;
        const model = this.model;
        if (!image || !model) return;
        const slot = `${msg.check}:${msg.tab}`;
        const previous = this.byCheck.get(slot);
        if (previous !== undefined) this.running.get(previous)?.cancel();
        const cts = new vscode.CancellationTokenSource();
        this.running.set(msg.id, cts);
        this.byCheck.set(slot, msg.id);
        const { method, params } = checkRequest(msg, image.fsPath, model.id);
        try {
            // explain/layerSweep takes no workDoneToken (one forward and one backward: nothing to report).
            const onProgress = method === "explain/layerSweep" ? undefined : (p: WorkDoneProgress) =>
                this.post({
                    type: "progress",
                    id: msg.id,
                    ...(p.message ? { message: p.message } : {}),
                    percentage: p.percentage,
                });
            const result = await this.ctx.client.request<unknown>(method, params, { token: cts.token, ...(onProgress ? { onProgress } : {}) });
            const shown = "method" in msg ? this.registry.get(msg.method)?.info.displayName : undefined;
            this.post({ type: "checkResult", id: msg.id, view: checkView(msg.check, result, shown) });
        } catch (e) {
            const notFound = e instanceof DaemonRequestError && e.methodNotFound;
            const cancelled = e instanceof DaemonRequestError && e.cancelled;
            const text = notFound ? `Not available yet: this daemon has no '${method}' method (it answered "${message(e)}").` : message(e);
            if (!cancelled && !notFound) this.ctx.log.warn(`${method}: ${text}`);
            this.post({ type: "checkError", id: msg.id, check: msg.check, message: text, unavailable: notFound, cancelled });
        } finally {
            cts.dispose();
            this.running.delete(msg.id);
            if (this.byCheck.get(slot) === msg.id) this.byCheck.delete(slot);
        }
    }

    private async export(tab: string, format: "png" | "json" | "npy", picture?: string): Promise<void> {
        const last = this.last.get(tab);
        if (!last) throw new Error(`There is nothing to export in ${this.tabTitle(tab)} yet.`);
        const images = viewImages(last.kind, last.result);
        const shown = format === "png" && picture && picture !== images[0]?.id ? images.find((i) => i.id === picture) : undefined;
        // A registry method's files are named after the method (image-integrated-gradients.npy), as the CLI names its own.
        const what = last.kind === "attribution" && typeof last.params["method"] === "string" ? last.params["method"].replace(/[^a-z0-9+_-]/gi, "") : tab;
        const base = `${path.parse(this.image?.fsPath ?? "image").name}-${what}${typeof last.params["layer"] === "string" ? `-${last.params["layer"]}` : ""}${shown ? `-${shown.id}` : ""}`;
        const folder = this.image ? vscode.Uri.file(path.dirname(this.image.fsPath)) : vscode.workspace.workspaceFolders?.[0]?.uri;
        const target = await vscode.window.showSaveDialog({
            ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, `${base}.${format}`) } : {}),
            filters: { [format.toUpperCase()]: [format] },
        });
        if (!target) return;
        let bytes: Uint8Array;
        if (format === "png") {
            bytes = Buffer.from(shown?.png ?? last.result.png ?? "", "base64");
        } else if (format === "json") {
            const { png: _png, ...rest } = last.result;
            bytes = Buffer.from(JSON.stringify({ method: last.method, params: last.params, result: rest }, null, 2));
        } else {
            const again = await this.ctx.client.request<RenderedResult & { raw?: RawArray; targets?: { raw?: RawArray }[] }>(last.method, { ...last.params, raw: true });
            const raw = again.raw ?? stack((again.targets ?? []).map((t) => t.raw));
            if (!raw) throw new Error(`The daemon's ${last.method} does not return numbers (raw), so there is no .npy to save.`);
            bytes = npyFloat32(Buffer.from(raw.data, "base64"), raw.shape);
        }
        await vscode.workspace.fs.writeFile(target, bytes);
        this.ctx.log.info(`Exported ${target.fsPath}`);
    }

    /** Answers a refused request, so that the view which sent it does not wait for an answer forever. */
    private refuse(raw: unknown, why: string): void {
        if (typeof raw !== "object" || raw === null) return;
        const { type, id, tab, check } = raw as Record<string, unknown>;
        if (typeof id !== "number") return;
        const text = `The panel asked for something this model does not have: ${why}`;
        if ((type === "explain" || type === "attribute") && typeof tab === "string" && this.tabs.some((t) => t.id === tab)) {
            this.post({ type: "error", id, tab, message: text, unavailable: false, cancelled: false });
        } else if (type === "check" && typeof check === "string" && (CHECKS as readonly string[]).includes(check)) {
            this.post({ type: "checkError", id, check: check as (typeof CHECKS)[number], message: text, unavailable: false, cancelled: false });
        }
    }

    private tabTitle(tab: string): string {
        return this.tabs.find((t) => t.id === tab)?.title ?? tabById(tab)?.title ?? tab;
    }

    private post(message: ExtensionMessage): void {
        void this.panel.webview.postMessage(message);
    }

    private cancelAll(): void {
        for (const cts of this.running.values()) cts.cancel();
    }

    private html(): string {
        const webview = this.panel.webview;
        const media = vscode.Uri.joinPath(this.ctx.extension.extensionUri, "media");
        const dist = vscode.Uri.joinPath(this.ctx.extension.extensionUri, "dist");
        return webviewHtml({
            cspSource: webview.cspSource,
            nonce: newNonce(),
            script: webview.asWebviewUri(vscode.Uri.joinPath(dist, "panel.js")).toString(),
            style: webview.asWebviewUri(vscode.Uri.joinPath(media, "panel.css")).toString(),
            title: "CNN Interpret",
            placeholder: "Starting the CNN Interpret daemon…",
        });
    }

    dispose(): void {
        if (ExplainPanel.current === this) ExplainPanel.current = undefined;
        this.cancelAll();
        this.panel.dispose();
        for (const d of this.disposables.splice(0)) d.dispose();
    }
}

function webviewOptions(ctx: Ctx): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    // retainContextWhenHidden: a panel moved to a background tab keeps its views, and results that arrive meanwhile.
    return { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: ["media", "dist"].map((d) => vscode.Uri.joinPath(ctx.extension.extensionUri, d)) };
}

function title(image: vscode.Uri): string {
    return `Explain: ${path.basename(image.fsPath)}`;
}

async function imageSource(image: vscode.Uri): Promise<string | undefined> {
    const mime = IMAGE_MIME[path.extname(image.fsPath).toLowerCase()];
    if (!mime) return undefined;
    try {
        const stat = await vscode.workspace.fs.stat(image);
        if (stat.size > MAX_INLINE_IMAGE) return undefined;
        return `data:${mime};base64,${Buffer.from(await vscode.workspace.fs.readFile(image)).toString("base64")}`;
    } catch {
        return undefined; // the daemon's answer says what is wrong with the file
    }
}

/** SHAP's per-target arrays as one [T, ...shape] array (when they all have one shape). */
function stack(arrays: (RawArray | undefined)[]): RawArray | undefined {
    const first = arrays[0];
    if (!first) return undefined;
    const same = arrays.filter((a): a is RawArray => a?.shape.join() === first.shape.join());
    if (same.length !== arrays.length) return undefined;
    const data = Buffer.concat(same.map((a) => Buffer.from(a.data, "base64"))).toString("base64");
    return { shape: [arrays.length, ...first.shape], data };
}
