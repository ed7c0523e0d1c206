// The one object that owns the extension's state: the daemon client, the log, the status bar item, the
// Layers tree and the active model. Commands get it; nothing else holds a daemon connection.
import * as fs from "node:fs";
import * as vscode from "vscode";
import { checkDaemon, DaemonNotFoundError, fileProbe, launchFor, locateDaemon, SETTING, type DaemonLaunch } from "./bootstrap";
import { DaemonClient, DaemonRequestError, DaemonUnavailableError, type StateChange } from "./daemon";
import type { TreeNode } from "./layerModel";
import { LayersProvider } from "./layersView";
import { describeMemory, memoryBudgetEnv } from "./memory";
import { modelLabel } from "./models";
import type { DaemonInfoResult, ModelDetails, ModelsListResult } from "./protocol";
import { modelAllowed } from "./trust";

export type Cmd = (...args: unknown[]) => unknown;

/** A command: what it does, and whether it needs a daemon (then it is refused, with what to do, while none runs). */
export interface CommandFactory {
    run: (ctx: Ctx) => Cmd;
    needsDaemon: boolean;
}

export class Ctx implements vscode.Disposable {
    readonly log = vscode.window.createOutputChannel("CNN Interpret", { log: true });
    readonly client: DaemonClient;
    readonly layers = new LayersProvider();
    readonly treeView: vscode.TreeView<TreeNode>;
    private readonly status = vscode.window.createStatusBarItem("cnnInterpret.status", vscode.StatusBarAlignment.Left, 0);
    private readonly disposables: { dispose(): unknown }[] = [];
    private readonly models = new Map<string, Promise<ModelDetails>>();
    private readonly modelEmitter = new vscode.EventEmitter<ModelDetails>();
    private modelId: string;
    private lastFailure: string | undefined;
    /** The last daemon/info: its memory figures refresh the tooltip while the daemon runs. */
    private memoryInfo: DaemonInfoResult | undefined;
    private readonly memoryTimer: ReturnType<typeof setInterval>;

    /** Fires when the active model changes (the panel re-explains its image with it). */
    readonly onDidChangeModel = this.modelEmitter.event;

    constructor(readonly extension: vscode.ExtensionContext) {
        const configured = vscode.workspace.getConfiguration("cnnInterpret").get<string>("defaultModel") || DEFAULT_MODEL;
        this.modelId = modelAllowed(configured, vscode.workspace.isTrusted) ? configured : DEFAULT_MODEL;
        this.client = new DaemonClient({ resolveLaunch: () => this.resolveLaunch(), log: this.log });
        this.treeView = vscode.window.createTreeView("cnnInterpret.layers", { treeDataProvider: this.layers, showCollapseAll: true });
        this.status.name = "CNN Interpret";
        this.status.command = "cnnInterpret.statusMenu";
        this.disposables.push(
            this.log,
            this.layers,
            this.treeView,
            this.status,
            this.modelEmitter,
            this.client.onDidChangeState((s) => this.onDaemonState(s)),
            vscode.workspace.onDidChangeConfiguration((e) => this.onConfiguration(e)),
            this.log.onDidChangeLogLevel(() => void this.offerRestart("The log level changed; the daemon logs at it once restarted.")),
            vscode.workspace.onDidGrantWorkspaceTrust(() => this.onTrust()),
        );
        this.renderStatus(this.client.state);
        this.status.show();
        // The tooltip's resident memory and loaded models, every 30 s while the daemon runs (daemon/info is cheap).
        this.memoryTimer = setInterval(() => void this.refreshMemory(), 30_000);
        this.disposables.push({ dispose: () => clearInterval(this.memoryTimer) });
    }

    private async refreshMemory(): Promise<void> {
        if (this.client.state.state !== "running") return;
        try {
            this.memoryInfo = await this.client.request("daemon/info", undefined);
            this.renderStatus(this.client.state);
        } catch (e) {
            this.log.debug(`daemon/info for the memory figures failed: ${message(e)}`);
        }
    }

    get activeModelId(): string {
        return this.modelId;
    }

    /** Starts the daemon and loads the active model into the tree. Failures are shown, not thrown. */
    async start(): Promise<void> {
        try {
            await this.client.start();
            await this.refreshLayers();
        } catch (e) {
            this.log.error(`Start failed: ${message(e)}`);
            // A daemon that does not start is reported through its state; a model that does not load, here.
            if (!(e instanceof DaemonUnavailableError || e instanceof DaemonNotFoundError)) void this.showError(message(e));
        }
    }

    registerCommands(table: Record<string, CommandFactory>): void {
        for (const [name, factory] of Object.entries(table)) {
            const run = factory.run(this);
            this.disposables.push(
                vscode.commands.registerCommand(`cnnInterpret.${name}`, async (...args: unknown[]) => {
                    const { state, error, cause } = this.client.state;
                    if (factory.needsDaemon && state === "failed") return this.showError(`The daemon is not running: ${error}`, cause instanceof DaemonNotFoundError);
                    if (factory.needsDaemon && state === "stopped") void this.start();
                    try {
                        return await run(...args);
                    } catch (e) {
                        if (e instanceof DaemonRequestError && e.cancelled) return undefined;
                        return this.showError(message(e));
                    }
                }),
            );
        }
    }

    /** models/load, once per model and daemon process. */
    loadModel(id = this.modelId): Promise<ModelDetails> {
        let loading = this.models.get(id);
        if (!loading) {
            loading = this.client.request("models/load", { model: id });
            loading.catch(() => this.models.delete(id));
            this.models.set(id, loading);
        }
        return loading;
    }

    /** Forgets a model's load, so the next models/load reads its file and sidecar again. */
    forgetModel(id: string): void {
        this.models.delete(id);
    }

    async listModels(): Promise<ModelsListResult> {
        return this.client.request("models/list", undefined);
    }

    /** Makes `model` (a built-in id or a model file's path) the active model. */
    async setActiveModel(model: string): Promise<void> {
        if (!modelAllowed(model, vscode.workspace.isTrusted)) {
            throw new Error(`This workspace is not trusted, so only the built-in models run (not ${model}). Trust the workspace to use its model files.`);
        }
        const details = await this.loadModel(model);
        if (details.id !== model) this.models.set(details.id, Promise.resolve(details));
        this.modelId = details.id;
        this.layers.setModel(details);
        this.renderStatus(this.client.state);
        void this.refreshMemory();
        this.modelEmitter.fire(details);
    }

    async refreshLayers(): Promise<void> {
        this.models.clear();
        this.layers.setModel(await this.loadModel());
    }

    /** Selects a layer in the tree (when the view is visible), e.g. after the panel's layer picker changed. */
    async revealLayer(name: string): Promise<void> {
        const node = this.layers.find(name);
        if (node && this.treeView.visible) await this.treeView.reveal(node, { select: true, focus: false });
    }

    /**
     * An error notification with "Show Logs" (and "Restart Daemon" when the daemon is down; "Open Settings"
     * when the fix is the daemon's path).
     */
    async showError(text: string, settings = false): Promise<void> {
        const down = this.client.state.state === "failed";
        const actions = [...(settings ? ["Open Settings"] : []), ...(down ? ["Restart Daemon"] : []), "Show Logs"];
        const choice = await vscode.window.showErrorMessage(`CNN Interpret: ${text}`, ...actions);
        if (choice === "Show Logs") this.log.show();
        if (choice === "Restart Daemon") await vscode.commands.executeCommand("cnnInterpret.restartDaemon");
        if (choice === "Open Settings") await vscode.commands.executeCommand("workbench.action.openSettings", SETTING);
    }

    private resolveLaunch(): DaemonLaunch {
        const config = vscode.workspace.getConfiguration("cnnInterpret");
        const location = locateDaemon({
            settingPath: config.get<string>("daemon.path"),
            env: process.env,
            extensionPath: this.extension.extensionPath,
            workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
            platform: process.platform,
            isFile: (p) => {
                try {
                    return fs.statSync(p).isFile();
                } catch {
                    return false;
                }
            },
        });
        if (location.source === "bundled" && process.platform !== "win32" && !location.path.endsWith(".dll")) ensureExecutable(location.path);
        // A program for another platform, not executable, a batch file: said now, with what to do, not as a failed spawn.
        checkDaemon(location, { os: process.platform, arch: process.arch }, fileProbe, extensionVersion(this.extension));
        const cache = config.get<string>("cacheFolder")?.trim();
        const maxPixels = config.get<number>("maxImagePixels");
        // No diagnostics pipes in /tmp: the daemon writes only in its cache folder.
        const env: Record<string, string> = { DOTNET_EnableDiagnostics: "0" };
        if (cache) env["CNN_INTERPRET_CACHE"] = cache;
        if (maxPixels && Number.isInteger(maxPixels) && maxPixels > 0) env["CNN_INTERPRET_MAX_PIXELS"] = String(maxPixels);
        Object.assign(env, memoryBudgetEnv(config.get<number>("memoryBudgetMiB")));
        const launch = launchFor(location);
        // The channel's level ("Developer: Set Log Level…") reaches the daemon's own logging at its next start.
        const daemonLevel = { [vscode.LogLevel.Trace]: "Trace", [vscode.LogLevel.Debug]: "Debug" }[this.log.logLevel as number];
        const args = daemonLevel ? [...launch.args, `--Logging:LogLevel:Default=${daemonLevel}`] : launch.args;
        return { ...launch, args, env };
    }

    private onDaemonState(change: StateChange): void {
        this.renderStatus(change);
        if (change.state === "starting" || change.state === "restarting") this.models.clear();
        if (change.state === "running" && this.lastFailure !== undefined) {
            this.lastFailure = undefined;
            void this.refreshLayers().catch((e: unknown) => this.log.error(message(e)));
        }
        if (change.state === "failed" && change.error && change.error !== this.lastFailure) {
            this.lastFailure = change.error;
            void this.showError(`The daemon is not running: ${change.error}`, change.cause instanceof DaemonNotFoundError);
        }
        if (change.state === "restarting") this.lastFailure ??= change.error ?? "restarting";
    }

    private renderStatus({ state, info, error }: StateChange): void {
        const s = this.status;
        s.backgroundColor = undefined;
        const links = "[Show logs](command:cnnInterpret.showLogs) · [Restart](command:cnnInterpret.restartDaemon)";
        let detail: string;
        switch (state) {
            case "running": {
                    s.text = `$(circuit-board) ${modelLabel(this.modelId)} · ${info?.device ?? "?"}`;
                    detail = `running · model \`${this.modelId}\` · device ${info?.device} · pid ${info?.processId}\n\ndaemon ${info?.version} · TorchSharp ${info?.torchSharpVersion} · libtorch ${info?.libTorchVersion}`;
                    const memory = describeMemory(this.memoryInfo?.processId === info?.processId ? this.memoryInfo : info);
                    if (memory) detail += `\n\n${memory}`;
                    s.accessibilityInformation = {
                        label: `CNN Interpret daemon running, model ${this.modelId}, device ${info?.device}, process ${info?.processId}`,
                    };
                    break;
            }
            case "starting":
            case "restarting":
                s.text = `$(loading~spin) CNN Interpret`;
                detail = state === "starting" ? "starting…" : `restarting${error ? ` (${error})` : ""}…`;
                s.accessibilityInformation = { label: `CNN Interpret daemon ${state}` };
                break;
            case "failed":
            case "stopped":
                s.text = `$(error) CNN Interpret`;
                s.backgroundColor = state === "failed" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
                detail = state === "failed" ? `not running: ${error}` : "stopped";
                s.accessibilityInformation = { label: `CNN Interpret daemon ${state}` };
                break;
        }
        const tooltip = new vscode.MarkdownString(`**CNN Interpret daemon** ${detail}\n\n${links}`);
        tooltip.isTrusted = { enabledCommands: ["cnnInterpret.showLogs", "cnnInterpret.restartDaemon"] };
        s.tooltip = tooltip;
    }

    private onConfiguration(e: vscode.ConfigurationChangeEvent): void {
        if (e.affectsConfiguration("cnnInterpret.daemon.path")) void this.offerRestart("The daemon path changed.");
        if (e.affectsConfiguration("cnnInterpret.cacheFolder")) void this.offerRestart("The cache folder changed.");
        if (e.affectsConfiguration("cnnInterpret.maxImagePixels")) void this.offerRestart("The image size limit changed.");
        if (e.affectsConfiguration("cnnInterpret.memoryBudgetMiB")) void this.offerRestart("The memory budget changed.");
        if (e.affectsConfiguration("cnnInterpret.defaultModel")) {
            const id = vscode.workspace.getConfiguration("cnnInterpret").get<string>("defaultModel");
            if (id && id !== this.modelId) void this.setActiveModel(id).catch((err: unknown) => this.showError(message(err)));
        }
    }

    /** Settings a trusted workspace may now set (restricted until then) take effect on a restart. */
    private onTrust(): void {
        const config = vscode.workspace.getConfiguration("cnnInterpret");
        const restricted = ["daemon.path", "cacheFolder", "defaultModel"].filter((k) => {
            const i = config.inspect(k);
            return i?.workspaceValue !== undefined || i?.workspaceFolderValue !== undefined;
        });
        const model = config.get<string>("defaultModel");
        if (restricted.includes("defaultModel") && model && model !== this.modelId) void this.setActiveModel(model).catch((e: unknown) => this.showError(message(e)));
        if (restricted.some((k) => k !== "defaultModel")) void this.offerRestart(`The workspace is now trusted, so its settings (${restricted.join(", ")}) apply.`);
    }

    private async offerRestart(why: string): Promise<void> {
        const choice = await vscode.window.showInformationMessage(`CNN Interpret: ${why} Restart the daemon to use it?`, "Restart Daemon");
        if (choice) await vscode.commands.executeCommand("cnnInterpret.restartDaemon");
    }

    dispose(): void {
        void this.client.dispose();
        for (const d of this.disposables.splice(0).reverse()) d.dispose();
    }
}

const DEFAULT_MODEL = "fashion-vgg";

/** A .vsix does not always keep the executable bit; put it back on the bundled daemon. */
function ensureExecutable(file: string): void {
    try {
        fs.accessSync(file, fs.constants.X_OK);
    } catch {
        try {
            fs.chmodSync(file, 0o755);
        } catch {
            // spawn reports EACCES with a hint
        }
    }
}

export function message(e: unknown): string {
    if (e instanceof DaemonRequestError || e instanceof DaemonUnavailableError) return e.message;
    return e instanceof Error ? e.message : String(e);
}

/** The extension's version from its package.json (VS Code types the manifest as `any`). */
function extensionVersion(extension: vscode.ExtensionContext): string {
    const version = (extension.extension.packageJSON as { version?: unknown }).version;
    return typeof version === "string" ? version : "";
}
