// The daemon client: starts the C# daemon as a child process, talks JSON-RPC 2.0 over its stdio with
// vscode-jsonrpc, restarts it with backoff when it dies, and fails the requests it was answering with a
// clear message. No `vscode` import: the unit tests run it against the real daemon in plain Node.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as readline from "node:readline";
import * as rpc from "vscode-jsonrpc/node";
import { DaemonNotFoundError, describe, type DaemonLaunch } from "./bootstrap";
import { ErrorCodes, Methods, type DaemonInfoResult, type ErrorData, type RequestTypes, type WorkDoneProgress } from "./protocol";

export type DaemonState = "stopped" | "starting" | "running" | "restarting" | "failed";

export interface StateChange {
    state: DaemonState;
    /** The running daemon's answer to daemon/info (state "running"). */
    info?: DaemonInfoResult;
    /** What went wrong (states "restarting" and "failed"), in words for the user. */
    error?: string;
    /** The error behind a failed start (a DaemonNotFoundError: the daemon's path or platform is wrong). */
    cause?: unknown;
}

export interface Logger {
    trace(message: string): void;
    debug(message: string): void;
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
}

/** What VS Code's and vscode-jsonrpc's cancellation tokens have in common. */
export interface Cancellation {
    readonly isCancellationRequested: boolean;
    onCancellationRequested(listener: () => unknown): { dispose(): unknown };
}

export interface DaemonClientOptions {
    /** Called before every start, so a changed setting takes effect on restart. May throw DaemonNotFoundError. */
    resolveLaunch: () => DaemonLaunch;
    log: Logger;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    /** Delays before the 1st, 2nd, … automatic restart (the last one repeats). */
    restartDelaysMs?: number[];
    /** This many crashes within crashWindowMs and the client gives up until restarted by hand. */
    maxCrashes?: number;
    crashWindowMs?: number;
    /** How long the daemon may take to answer its first daemon/info. */
    startTimeoutMs?: number;
    /** For the hints after a failed start (process.platform; the tests pass another). */
    platform?: NodeJS.Platform;
}

/** The daemon answered with a JSON-RPC error: `code` is one of {@link ErrorCodes}, `message` says what to do. */
export class DaemonRequestError extends Error {
    override name = "DaemonRequestError";
    constructor(
        message: string,
        readonly method: string,
        readonly code: number,
        readonly data?: ErrorData,
    ) {
        super(message);
    }
    get cancelled(): boolean {
        return this.code === ErrorCodes.requestCancelled;
    }
    /** The daemon does not have this method (an older daemon, or a view not built yet). */
    get methodNotFound(): boolean {
        return this.code === ErrorCodes.methodNotFound;
    }
}

/** No daemon could answer: it is not running, failed to start, or died while answering. */
export class DaemonUnavailableError extends Error {
    override name = "DaemonUnavailableError";
}

interface Pending {
    method: string;
    reject(error: Error): void;
}

interface Instance {
    readonly generation: number;
    readonly process: ChildProcess;
    readonly connection: rpc.MessageConnection;
    readonly pending: Set<Pending>;
    readonly stderrTail: string[];
    readonly exited: Promise<string>;
    readonly launch: DaemonLaunch;
    stopping: boolean;
    /** Until daemon/info answers, an exit is a start-up failure that launch() reports. */
    starting: boolean;
}

const WorkDone = new rpc.ProgressType<WorkDoneProgress>();

export class DaemonClient {
    private readonly options: Required<Omit<DaemonClientOptions, "env" | "cwd">> & Pick<DaemonClientOptions, "env" | "cwd">;
    private readonly stateEmitter = new rpc.Emitter<StateChange>();
    private current: Instance | undefined;
    private generation = 0;
    private state_: StateChange = { state: "stopped" };
    private starting: Promise<DaemonInfoResult> | undefined;
    private restartTimer: NodeJS.Timeout | undefined;
    private crashes: number[] = [];
    private waiters: { resolve(i: Instance): void; reject(e: Error): void }[] = [];
    private progressTokens = 0;

    readonly onDidChangeState = this.stateEmitter.event;

    constructor(options: DaemonClientOptions) {
        this.options = {
            restartDelaysMs: [500, 1000, 2000, 5000, 10000, 30000],
            maxCrashes: 5,
            crashWindowMs: 3 * 60_000,
            startTimeoutMs: 60_000,
            platform: process.platform,
            ...options,
        };
    }

    get state(): StateChange {
        return this.state_;
    }

    /** The daemon's process id while it runs. */
    get pid(): number | undefined {
        return this.state_.state === "running" ? this.current?.process.pid : undefined;
    }

    /** Starts the daemon (or joins a start under way) and resolves with its daemon/info. */
    start(): Promise<DaemonInfoResult> {
        if (this.state_.state === "running" && this.state_.info) return Promise.resolve(this.state_.info);
        this.starting ??= this.launch("starting").finally(() => (this.starting = undefined));
        return this.starting;
    }

    /** Stops the daemon (closing its stdin, then killing it) and starts a fresh one; forgets past crashes. */
    async restart(): Promise<DaemonInfoResult> {
        await this.stop("restarting");
        this.crashes = [];
        return this.start();
    }

    /**
     * Stops the daemon. Requests in flight fail with a DaemonUnavailableError. The daemon exits when its
     * stdin closes; it is killed when it has not after two seconds.
     */
    async stop(reason: "stopping" | "restarting" = "stopping"): Promise<void> {
        clearTimeout(this.restartTimer);
        this.restartTimer = undefined;
        this.generation++;
        const instance = this.current;
        this.current = undefined;
        if (instance) {
            instance.stopping = true;
            this.failPending(instance, (method) => `The daemon was ${reason === "restarting" ? "restarted" : "stopped"} while answering '${method}'. Run the action again.`);
            instance.connection.dispose();
            instance.process.stdin?.end();
            const killer = setTimeout(() => instance.process.kill("SIGKILL"), 2000);
            await instance.exited;
            clearTimeout(killer);
        }
        this.setState({ state: reason === "stopping" ? "stopped" : "restarting" });
    }

    dispose(): Promise<void> {
        const stopped = this.stop();
        this.stateEmitter.dispose();
        return stopped;
    }

    /**
     * Sends a request and resolves with its result. Waits for a daemon that is starting or restarting.
     * `onProgress` receives the daemon's `$/progress` for this request (a `workDoneToken` is added).
     * Rejects with DaemonRequestError (the daemon's answer) or DaemonUnavailableError (no daemon).
     */
    request<M extends keyof RequestTypes>(
        method: M,
        params: RequestTypes[M][0],
        options?: { token?: Cancellation; onProgress?: (progress: WorkDoneProgress) => void },
    ): Promise<RequestTypes[M][1]>;
    request<R>(method: string, params: object | undefined, options?: { token?: Cancellation; onProgress?: (progress: WorkDoneProgress) => void }): Promise<R>;
    async request(
        method: string,
        params: object | undefined,
        options: { token?: Cancellation; onProgress?: (progress: WorkDoneProgress) => void } = {},
    ): Promise<unknown> {
        const { token, onProgress } = options;
        const cancelled = () => new DaemonRequestError(`'${method}' was cancelled.`, method, ErrorCodes.requestCancelled);
        if (token?.isCancellationRequested) throw cancelled();
        let instance = await this.whenRunning(method, token);
        // Stopped or restarted meanwhile (a restart by hand): wait for the next daemon.
        for (let tries = 0; (instance.stopping || instance !== this.current) && tries < 3; tries++) instance = await this.whenRunning(method, token);
        if (token?.isCancellationRequested) throw cancelled();

        let progress: rpc.Disposable | undefined;
        let body = params;
        if (onProgress) {
            const workDoneToken = `cnn-interpret-${++this.progressTokens}`;
            body = { ...params, workDoneToken };
            progress = instance.connection.onProgress(WorkDone, workDoneToken, onProgress);
        }
        return new Promise((resolve, reject) => {
            const pending: Pending = { method, reject };
            instance.pending.add(pending);
            const args: unknown[] = body === undefined ? [] : [body];
            if (token) args.push(token);
            let sent: Promise<unknown>;
            try {
                sent = instance.connection.sendRequest(method, ...args);
            } catch (e) {
                sent = Promise.reject(e instanceof Error ? e : new Error(String(e))); // a connection disposed this very moment
            }
            sent.then(resolve, (e: unknown) => reject(this.translate(e, method)))
                .finally(() => {
                    instance.pending.delete(pending);
                    progress?.dispose();
                });
        });
    }

    private translate(e: unknown, method: string): Error {
        if (e instanceof rpc.ResponseError) return new DaemonRequestError(e.message, method, e.code, e.data as ErrorData | undefined);
        if (e instanceof rpc.ConnectionError || (e instanceof Error && /disposed|closed/i.test(e.message))) {
            return new DaemonUnavailableError(`The connection to the daemon closed while it was answering '${method}'. Run the action again.`);
        }
        return e instanceof Error ? e : new Error(String(e));
    }

    private whenRunning(method: string, token: Cancellation | undefined): Promise<Instance> {
        const { state, error } = this.state_;
        if (state === "running" && this.current) return Promise.resolve(this.current);
        if (state === "failed" || state === "stopped") {
            return Promise.reject(
                new DaemonUnavailableError(
                    `The CNN Interpret daemon is not running${error ? `: ${error}` : "."} Use "CNN Interpret: Restart Daemon" to try again.`,
                ),
            );
        }
        return new Promise((resolve, reject) => {
            const waiter = { resolve, reject };
            this.waiters.push(waiter);
            token?.onCancellationRequested(() => {
                this.waiters = this.waiters.filter((w) => w !== waiter);
                reject(new DaemonRequestError(`'${method}' was cancelled.`, method, ErrorCodes.requestCancelled));
            });
        });
    }

    private setState(change: StateChange): void {
        this.state_ = change;
        if (change.state === "running" && this.current) {
            const instance = this.current;
            for (const w of this.waiters.splice(0)) w.resolve(instance);
        } else if (change.state === "failed" || change.state === "stopped") {
            const error = new DaemonUnavailableError(`The CNN Interpret daemon is not running${change.error ? `: ${change.error}` : "."}`);
            for (const w of this.waiters.splice(0)) w.reject(error);
        }
        this.stateEmitter.fire(change);
    }

    private async launch(state: "starting" | "restarting", reason?: string): Promise<DaemonInfoResult> {
        const generation = ++this.generation;
        this.setState(reason ? { state, error: reason } : { state });
        let instance: Instance | undefined;
        try {
            const launch = this.options.resolveLaunch();
            this.options.log.info(`Starting the daemon: ${describe(launch.location)}`);
            instance = this.spawn(launch, generation);
            this.current = instance;
            const info = await this.handshake(instance);
            instance.starting = false;
            if (generation !== this.generation) throw new DaemonUnavailableError("The daemon start was superseded by a stop or restart.");
            this.options.log.info(`Daemon ${info.version} running: pid ${info.processId}, device ${info.device}, TorchSharp ${info.torchSharpVersion}, libtorch ${info.libTorchVersion}`);
            this.setState({ state: "running", info });
            return info;
        } catch (e) {
            const message = e instanceof Error ? e.message : String(e);
            if (generation !== this.generation) throw e instanceof Error ? e : new Error(message); // stopped meanwhile: not a failure
            if (instance) {
                instance.stopping = true;
                instance.connection.dispose();
                instance.process.kill("SIGKILL");
                if (this.current === instance) this.current = undefined;
            }
            this.options.log.error(message);
            if (state === "restarting" && !(e instanceof DaemonNotFoundError)) this.onCrash(message);
            else this.setState({ state: "failed", error: message, cause: e });
            throw e instanceof Error ? e : new Error(message);
        }
    }

    private spawn(launch: DaemonLaunch, generation: number): Instance {
        const child = spawn(launch.command, launch.args, {
            stdio: ["pipe", "pipe", "pipe"],
            env: { ...(this.options.env ?? process.env), ...launch.env, DOTNET_NOLOGO: "1", DOTNET_CLI_TELEMETRY_OPTOUT: "1" },
            cwd: this.options.cwd,
            windowsHide: true,
        });
        const stderrTail: string[] = [];
        let spawnError: Error | undefined;
        const exited = new Promise<string>((resolve) => {
            child.once("error", (e) => {
                spawnError = e;
                resolve(`it could not be started: ${e.message}`);
            });
            child.once("exit", (code, signal) => {
                const why = signal ? `killed by ${signal}` : `exit code ${code}`;
                // Let stderr drain (briefly) so the daemon's last log lines are in the tail.
                const done = () => resolve(why);
                if (child.stderr.readableEnded) {
                    done();
                    return;
                }
                const timer = setTimeout(done, 500);
                child.stderr.once("close", () => {
                    clearTimeout(timer);
                    done();
                });
            });
        });
        const connection = rpc.createMessageConnection(new rpc.StreamMessageReader(child.stdout), new rpc.StreamMessageWriter(child.stdin));
        connection.onError(([error]) => this.options.log.debug(`JSON-RPC: ${error.message}`));
        const instance: Instance = { generation, process: child, connection, pending: new Set(), stderrTail, exited, launch, stopping: false, starting: true };
        readline.createInterface({ input: child.stderr }).on("line", (line) => {
            stderrTail.push(line);
            if (stderrTail.length > 20) stderrTail.shift();
            logDaemonLine(this.options.log, line);
        });
        child.stdin.on("error", () => undefined); // EPIPE when it dies: reported through 'exit'
        void exited.then((why) => this.onExit(instance, why, spawnError));
        connection.listen();
        return instance;
    }

    private async handshake(instance: Instance): Promise<DaemonInfoResult> {
        const where = describe(instance.launch.location);
        // daemon/info is the first call into libtorch (the device): a library that cannot load fails it, not the start.
        const answered = instance.connection.sendRequest<DaemonInfoResult>(Methods.daemonInfo).catch(async (e: unknown) => {
            if (!(e instanceof rpc.ResponseError)) throw e;
            await new Promise((r) => setTimeout(r, 300)); // its log lines on stderr may arrive after the answer
            const tail = instance.stderrTail.length ? ` Its last messages: ${instance.stderrTail.slice(-5).join(" | ")}` : "";
            const hint = startFailureHint(`daemon/info failed: ${e.message}`, instance.launch.command, instance.stderrTail, this.options.platform);
            throw new DaemonUnavailableError(`The daemon ${where} started but could not answer daemon/info (${e.message}).${hint}${tail}`);
        });
        const exitedEarly = instance.exited.then((why) => {
            const tail = instance.stderrTail.length ? ` Its last messages: ${instance.stderrTail.slice(-5).join(" | ")}` : "";
            const hint = startFailureHint(why, instance.launch.command, instance.stderrTail, this.options.platform);
            throw new DaemonUnavailableError(`The daemon ${where} stopped during start-up (${why}).${hint}${tail}`);
        });
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<never>((_, reject) => {
            const seconds = this.options.startTimeoutMs / 1000;
            timer = setTimeout(() => reject(new DaemonUnavailableError(`The daemon ${where} did not answer daemon/info within ${seconds} s.`)), this.options.startTimeoutMs);
        });
        // The losers of the race settle later (a good start's daemon exits one day): nobody waits for them.
        for (const p of [answered, exitedEarly, timedOut]) p.catch(() => undefined);
        try {
            return await Promise.race([answered, exitedEarly, timedOut]);
        } finally {
            clearTimeout(timer);
        }
    }

    private onExit(instance: Instance, why: string, spawnError: Error | undefined): void {
        if (instance.starting) return; // launch() reports it
        instance.connection.dispose();
        this.failPending(
            instance,
            (method) => `The CNN Interpret daemon stopped (${why}) while answering '${method}'. It is being restarted; run the action again in a moment.`,
        );
        if (instance.stopping || this.current !== instance) return;
        this.current = undefined;
        this.options.log.error(`The daemon (pid ${instance.process.pid}) stopped unexpectedly: ${spawnError?.message ?? why}.`);
        this.onCrash(`it stopped unexpectedly (${why})`);
    }

    private onCrash(reason: string): void {
        const now = Date.now();
        this.crashes = [...this.crashes.filter((t) => now - t < this.options.crashWindowMs), now];
        if (this.crashes.length >= this.options.maxCrashes) {
            this.setState({
                state: "failed",
                error: `it stopped ${this.crashes.length} times in ${Math.round(this.options.crashWindowMs / 60_000)} minutes (last: ${reason}), so it is not restarted again. The log has its messages`,
            });
            return;
        }
        const delays = this.options.restartDelaysMs;
        const delay = delays[Math.min(this.crashes.length - 1, delays.length - 1)] ?? 1000;
        this.options.log.warn(`Restarting the daemon in ${delay} ms (${reason}).`);
        this.setState({ state: "restarting", error: reason });
        const generation = this.generation;
        clearTimeout(this.restartTimer);
        this.restartTimer = setTimeout(() => {
            this.restartTimer = undefined;
            if (generation !== this.generation || this.starting) return;
            this.starting = this.launch("restarting", reason).finally(() => (this.starting = undefined));
            this.starting.catch(() => undefined); // reported through the state
        }, delay);
    }

    private failPending(instance: Instance, message: (method: string) => string): void {
        for (const p of instance.pending) p.reject(new DaemonUnavailableError(message(p.method)));
        instance.pending.clear();
    }
}

/** The daemon logs `HH:mm:ss level: Category[0] message` to stderr; keep its level in ours. */
export function logDaemonLine(log: Logger, line: string): void {
    const m = /^(?:\d\d:\d\d:\d\d )?(trce|dbug|info|warn|fail|crit): (.*)$/.exec(line);
    const text = `[daemon] ${m?.[2] ?? line}`;
    switch (m?.[1]) {
        case "trce":
            log.trace(text);
            break;
        case "dbug":
            log.debug(text);
            break;
        case "warn":
            log.warn(text);
            break;
        case "fail":
        case "crit":
            log.error(text);
            break;
        default:
            log.info(text);
    }
}

/**
 * What to do after a daemon stopped during start-up (`why`: "exit code 1", "it could not be started: spawn …
 * ENOENT", "killed by SIGKILL"), from the reason and its last messages on stderr. Empty when there is nothing to add.
 */
export function startFailureHint(why: string, command: string, stderrTail: readonly string[], platform: NodeJS.Platform): string {
    const tail = stderrTail.join("\n");
    if (why.includes("ENOENT")) {
        if (command === "dotnet") {
            return (
                " This daemon runs on .NET: install the .NET 10 Runtime for this machine's architecture (on Windows on Arm, the Arm64 one)" +
                " so that 'dotnet' is on the PATH, then restart the daemon."
            );
        }
        // The file is there but cannot be started: on Linux, its loader (glibc's ld-linux) is missing.
        if (platform === "linux" && fs.existsSync(command)) {
            return " The file exists, so the system lacks its loader: the daemon is built for Linux with glibc (Debian, Ubuntu, Fedora, …), not musl (Alpine).";
        }
        return " Check the path.";
    }
    if (why.includes("EACCES")) return notExecutableHint(command);
    if (platform === "win32" && /LibTorchSharp|torch_cpu|DllNotFound|0x8007007E|specified module could not be found/i.test(tail)) {
        return (
            " It could not load libtorch, which needs the Microsoft Visual C++ Redistributable (2015–2022, x64 or ARM64):" +
            " install it (search for 'vc_redist' on Microsoft's site), then restart the daemon."
        );
    }
    if (platform === "darwin" && (why.includes("SIGKILL") || /Library not loaded|code signature|not valid for use in process/i.test(tail))) {
        return (
            " macOS refused to load it (a code signature or a missing library): reinstall the extension, and if it still fails," +
            " run xattr -dr com.apple.quarantine on the extension's daemon folder and restart the daemon."
        );
    }
    return "";
}

/** Why a spawn met EACCES, in words that say what to do. */
export function notExecutableHint(file: string): string {
    let mode: number;
    try {
        mode = fs.statSync(file).mode;
    } catch {
        return " Check the path.";
    }
    // An executable file that still cannot run lies on a file system mounted noexec (often /tmp on CI machines).
    return mode & 0o111
        ? " The file is executable, so its folder is on a file system mounted noexec: install the extension on one that allows programs to run, or copy the daemon folder there and set cnnInterpret.daemon.path."
        : " The file is not executable (chmod +x).";
}
