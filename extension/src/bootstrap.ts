// Finding the daemon: one function with an override chain, as rust-analyzer's bootstrap.ts does it.
//   setting `cnnInterpret.daemon.path` → environment `CNN_INTERPRET_DAEMON` → the copy bundled in the
//   extension (daemon/cnn-interpret-daemon, put there by `npm run package`) → a clear error saying what to do.
// No `vscode` import: the unit tests drive it with a fake file system.
import * as os from "node:os";
import * as path from "node:path";

export type DaemonSource = "setting" | "environment" | "bundled";

export interface DaemonLocation {
    source: DaemonSource;
    /** Absolute path of an executable or of the daemon's .dll. */
    path: string;
}

/** How to start the daemon process. */
export interface DaemonLaunch {
    command: string;
    args: string[];
    /** Where it came from, for logs and errors. */
    location: DaemonLocation;
    /** Variables to set for the daemon on top of the extension host's environment. */
    env?: Record<string, string>;
}

export interface DiscoveryInputs {
    /** `cnnInterpret.daemon.path` (VS Code already ignores a workspace value in an untrusted workspace). */
    settingPath: string | undefined;
    env: Record<string, string | undefined>;
    /** The extension's install folder. */
    extensionPath: string;
    /** For resolving a relative setting. */
    workspaceFolder: string | undefined;
    platform: NodeJS.Platform;
    isFile(p: string): boolean;
}

export const ENV_VAR = "CNN_INTERPRET_DAEMON";
export const SETTING = "cnnInterpret.daemon.path";

export class DaemonNotFoundError extends Error {
    override name = "DaemonNotFoundError";
}

export function bundledDaemonPath(extensionPath: string, platform: NodeJS.Platform): string {
    return path.join(extensionPath, "daemon", platform === "win32" ? "cnn-interpret-daemon.exe" : "cnn-interpret-daemon");
}

function expand(p: string, workspaceFolder: string | undefined): string {
    const home = p === "~" || p.startsWith("~/") ? os.homedir() + p.slice(1) : p;
    return path.isAbsolute(home) || workspaceFolder === undefined ? path.resolve(home) : path.resolve(workspaceFolder, home);
}

/** The first daemon of the chain; throws {@link DaemonNotFoundError} with what to do when there is none. */
export function locateDaemon(inputs: DiscoveryInputs): DaemonLocation {
    const setting = inputs.settingPath?.trim();
    if (setting) {
        const p = expand(setting, inputs.workspaceFolder);
        if (!inputs.isFile(p)) {
            throw new DaemonNotFoundError(
                `The setting ${SETTING} is '${setting}', but there is no file at ${p}. ` +
                    `Point it at cnn-interpret-daemon (or its .dll), or clear it to use the daemon bundled with the extension.`,
            );
        }
        return { source: "setting", path: p };
    }
    const fromEnv = inputs.env[ENV_VAR]?.trim();
    if (fromEnv) {
        const p = expand(fromEnv, undefined);
        if (!inputs.isFile(p)) {
            throw new DaemonNotFoundError(
                `The environment variable ${ENV_VAR} is '${fromEnv}', but there is no file at ${p}. ` +
                    `Fix or unset it (it is read when VS Code starts).`,
            );
        }
        return { source: "environment", path: p };
    }
    const bundled = bundledDaemonPath(inputs.extensionPath, inputs.platform);
    if (inputs.isFile(bundled)) return { source: "bundled", path: bundled };
    throw new DaemonNotFoundError(
        `This copy of the extension has no daemon for ${inputs.platform} (looked for ${bundled}). ` +
            `Install a .vsix made by 'npm run package', or set ${SETTING} to a daemon you built ` +
            `(src/CnnInterpret.Daemon/bin/Release/net10.0/cnn-interpret-daemon.dll after 'npm run build').`,
    );
}

/** A .dll runs under `dotnet`; anything else is executed directly. */
export function launchFor(location: DaemonLocation, dotnet = "dotnet"): DaemonLaunch {
    return location.path.toLowerCase().endsWith(".dll")
        ? { command: dotnet, args: [location.path], location }
        : { command: location.path, args: [], location };
}

export function describe(location: DaemonLocation): string {
    const from = { setting: `setting ${SETTING}`, environment: `environment ${ENV_VAR}`, bundled: "bundled with the extension" }[location.source];
    return `${location.path} (${from})`;
}
