// Finding the daemon: one function with an override chain, as rust-analyzer's bootstrap.ts does it.
//   setting `cnnInterpret.daemon.path` → environment `CNN_INTERPRET_DAEMON` → the copy bundled in the
//   extension (daemon/cnn-interpret-daemon, .exe on Windows, put there by `npm run package`) → a clear error
//   saying what to do.
// Then a check that the file found can run here ({@link checkDaemon}): a program for this system and
// architecture (read from its header, so a .vsix for another platform is named as such), executable, not a
// batch file. No `vscode` import and the platform injected: the unit tests drive it as Windows, macOS or Linux.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { binaryKind, describeTarget, runsOn, targetName, type Target } from "./binaries";
import { readHeader } from "./fileHeader";

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
    /** For `~`; the user's home folder when absent. */
    home?: string;
}

export const ENV_VAR = "CNN_INTERPRET_DAEMON";
export const SETTING = "cnnInterpret.daemon.path";
/** The platforms `npm run package -- --target` builds. */
export const PACKAGED_TARGETS = ["linux-x64", "win32-x64", "darwin-arm64", "win32-arm64"];

/** No usable daemon: none found, or the one found cannot run here. The message says what to do. */
export class DaemonNotFoundError extends Error {
    override name = "DaemonNotFoundError";
}

/** Windows paths on Windows, POSIX paths elsewhere, whatever the machine running the tests. */
function pathFor(platform: NodeJS.Platform): path.PlatformPath {
    return platform === "win32" ? path.win32 : path.posix;
}

export function daemonFileName(platform: NodeJS.Platform): string {
    return platform === "win32" ? "cnn-interpret-daemon.exe" : "cnn-interpret-daemon";
}

export function bundledDaemonPath(extensionPath: string, platform: NodeJS.Platform): string {
    return pathFor(platform).join(extensionPath, "daemon", daemonFileName(platform));
}

/**
 * Where a bundled daemon may be, in order: this system's executable; on Windows, a framework-dependent
 * cnn-interpret-daemon.dll (the Windows on Arm package, run with `dotnet`); then another system's entry point,
 * so that a package for another platform is found and named by {@link checkDaemon} instead of "no daemon".
 */
export function bundledCandidates(extensionPath: string, platform: NodeJS.Platform): string[] {
    const p = pathFor(platform);
    const names =
        platform === "win32"
            ? ["cnn-interpret-daemon.exe", "cnn-interpret-daemon.dll", "cnn-interpret-daemon"]
            : ["cnn-interpret-daemon", "cnn-interpret-daemon.exe", "cnn-interpret-daemon.dll"];
    return names.map((n) => p.join(extensionPath, "daemon", n));
}

/** TorchSharp's native library, whichever system's it is: beside a bundled daemon, it says whom the package is for. */
export const LIBTORCHSHARP = ["LibTorchSharp.dll", "libLibTorchSharp.so", "libLibTorchSharp.dylib"];

/**
 * A path as a user writes it: surrounding quotes dropped (Windows' "Copy as path" adds them), `~` for the
 * home folder, relative to the workspace folder.
 */
export function expandPath(raw: string, inputs: Pick<DiscoveryInputs, "platform" | "home">, relativeTo: string | undefined): string {
    const p = pathFor(inputs.platform);
    let text = raw.trim();
    if (text.length >= 2 && (text.startsWith('"') || text.startsWith("'")) && text.at(-1) === text[0]) text = text.slice(1, -1).trim();
    const home = inputs.home ?? os.homedir();
    if (text === "~") text = home;
    else if (text.startsWith("~/") || (inputs.platform === "win32" && text.startsWith("~\\"))) text = p.join(home, text.slice(2));
    return p.isAbsolute(text) || relativeTo === undefined ? p.resolve(text) : p.resolve(relativeTo, text);
}

/** The first daemon of the chain; throws {@link DaemonNotFoundError} with what to do when there is none. */
export function locateDaemon(inputs: DiscoveryInputs): DaemonLocation {
    const setting = inputs.settingPath?.trim();
    if (setting) {
        const p = expandPath(setting, inputs, inputs.workspaceFolder);
        if (!inputs.isFile(p)) {
            throw new DaemonNotFoundError(
                `The setting ${SETTING} is '${setting}', but there is no file at ${p}. ` +
                    `Point it at ${daemonFileName(inputs.platform)} (or its .dll), or clear it to use the daemon bundled with the extension.`,
            );
        }
        return { source: "setting", path: p };
    }
    const fromEnv = inputs.env[ENV_VAR]?.trim();
    if (fromEnv) {
        const p = expandPath(fromEnv, inputs, undefined);
        if (!inputs.isFile(p)) {
            throw new DaemonNotFoundError(
                `The environment variable ${ENV_VAR} is '${fromEnv}', but there is no file at ${p}. ` +
                    `Fix or unset it (it is read when VS Code starts).`,
            );
        }
        return { source: "environment", path: p };
    }
    const bundled = bundledCandidates(inputs.extensionPath, inputs.platform).find((p) => inputs.isFile(p));
    if (bundled) return { source: "bundled", path: bundled };
    throw new DaemonNotFoundError(
        `This copy of the extension has no daemon (looked for ${bundledDaemonPath(inputs.extensionPath, inputs.platform)}): it was built without one, or the file was deleted. ` +
            `Reinstall the extension (for this machine: the .vsix for ${inputs.platform}, from 'npm run package'), or set ${SETTING} to a daemon you built ` +
            `(src/CnnInterpret.Daemon/bin/Release/net10.0/cnn-interpret-daemon.dll after 'npm run build').`,
    );
}

/** What {@link checkDaemon} reads from the file system (injected by the tests). */
export interface FileProbe {
    /** The file's first bytes (binaries.HEADER_BYTES), or undefined when it cannot be read. */
    header(p: string): Uint8Array | undefined;
    /** Unix only: the permission bits, and whether this process may execute it (access X_OK). */
    execution(p: string): { mode: number; allowed: boolean };
}

/** The real file system's answers. */
export const fileProbe: FileProbe = {
    header(p) {
        try {
            return readHeader(p);
        } catch {
            return undefined;
        }
    },
    execution(p) {
        let mode = 0;
        try {
            mode = fs.statSync(p).mode;
            fs.accessSync(p, fs.constants.X_OK);
            return { mode, allowed: true };
        } catch {
            return { mode, allowed: false };
        }
    },
};

/** What to do about a daemon that cannot run, by where it came from. */
function remedy(location: DaemonLocation, host: Target, version: string | undefined): string {
    const here = targetName(host);
    switch (location.source) {
        case "setting":
            return `Point ${SETTING} at a daemon built for ${describeTarget(host)}, or clear it to use the daemon bundled with the extension.`;
        case "environment":
            return `Fix or unset the environment variable ${ENV_VAR} (it is read when VS Code starts).`;
        case "bundled":
            return PACKAGED_TARGETS.includes(here)
                ? `Install the extension's package for ${here} (cnn-interpret-${here}-${version ?? "VERSION"}.vsix, made by 'npm run package -- --target ${here}'), ` +
                      `or set ${SETTING} to a daemon built for this machine.`
                : `CNN Interpret is packaged for ${PACKAGED_TARGETS.join(", ")} only, not ${here}; set ${SETTING} to a daemon you built for this machine.`;
    }
}

/**
 * Throws {@link DaemonNotFoundError}, saying what happened and what to do, when the daemon at `location`
 * cannot run on `host`: a program for another system or architecture, a file that is not executable (or lies
 * on a file system mounted noexec), or a Windows batch file (Node starts those only through a shell).
 * A `.dll` runs under `dotnet` and is not checked; a file that is no known binary (a shell script) is let through.
 */
export function checkDaemon(location: DaemonLocation, host: Target, probe: FileProbe, version?: string): void {
    const file = location.path;
    const lower = file.toLowerCase();
    const p = pathFor(host.os === "win32" ? "win32" : "linux");
    const mismatch = (what: string) =>
        new DaemonNotFoundError(`The daemon ${file} is ${what}, but VS Code runs here on ${describeTarget(host)}. ${remedy(location, host, version)}`);
    if (location.source === "bundled") {
        // The package's TorchSharp library says whom it was built for (the only native part of a .dll daemon).
        for (const name of LIBTORCHSHARP) {
            const header = probe.header(p.join(p.dirname(file), name));
            const kind = header && binaryKind(header);
            if (kind && !runsOn(kind, host)) throw mismatch(`part of a package for ${describeTarget(kind)} (its ${name})`);
            if (kind) break;
        }
    }
    if (lower.endsWith(".dll")) return; // run with dotnet, which says what it lacks
    if (host.os === "win32" && (lower.endsWith(".cmd") || lower.endsWith(".bat"))) {
        throw new DaemonNotFoundError(
            `The daemon ${file} is a batch file, which VS Code cannot start without a shell. ` +
                `Point ${SETTING} at cnn-interpret-daemon.exe, or at cnn-interpret-daemon.dll to run it with dotnet.`,
        );
    }
    const header = probe.header(file);
    const kind = header && binaryKind(header);
    if (kind && !runsOn(kind, host)) throw mismatch(kind.managed ? `a .NET assembly for ${describeTarget(kind)}` : `a program for ${describeTarget(kind)}`);
    if (host.os === "win32") {
        if (header && !kind) throw new DaemonNotFoundError(`The daemon ${file} is not a Windows program. ${remedy(location, host, version)}`);
        return; // Windows has no executable bit
    }
    const { mode, allowed } = probe.execution(file);
    if (allowed) return;
    const quoted = `'${file.replaceAll("'", `'\\''`)}'`;
    throw new DaemonNotFoundError(
        mode & 0o111
            ? `The daemon ${file} is executable, but its folder is on a file system mounted noexec, where no program may run. ` +
                  `Install the extension on one that allows programs (or copy the daemon's folder there and set ${SETTING} to it).`
            : `The daemon ${file} is not executable. Run: chmod +x ${quoted}` +
                  (location.source === "bundled" ? " (or reinstall the extension)." : "."),
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
