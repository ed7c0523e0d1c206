// Shared by the unit tests: where the repository, the daemon and the sample images are.
import * as fs from "node:fs";
import * as path from "node:path";
import { launchFor, locateDaemon, type DaemonLaunch } from "../../src/bootstrap";
import type { Logger } from "../../src/daemon";

/** The repository root (the tests run from extension/out/test/unit or extension/). */
export const repoRoot = (() => {
    for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "CnnInterpret.sln"))) return dir;
    }
    throw new Error("Cannot find the repository root (CnnInterpret.sln) above " + __dirname);
})();

export const samples = path.join(process.env["CNN_INTERPRET_MODELS_DIR"] ?? path.join(repoRoot, "models"), "samples");

/** The daemon under test: CNN_INTERPRET_DAEMON when set, else the Release build of `npm run build`. */
export function daemonLaunch(): DaemonLaunch {
    const built = path.join(repoRoot, "src/CnnInterpret.Daemon/bin/Release/net10.0/cnn-interpret-daemon.dll");
    return launchFor(
        locateDaemon({
            settingPath: undefined,
            env: { CNN_INTERPRET_DAEMON: process.env["CNN_INTERPRET_DAEMON"] || built },
            extensionPath: path.join(repoRoot, "extension"),
            workspaceFolder: undefined,
            platform: process.platform,
            isFile: (p) => fs.existsSync(p) && fs.statSync(p).isFile(),
        }),
    );
}

/** A logger that keeps the lines, for asserting on them and printing them when a test fails. */
export function memoryLog(): Logger & { lines: string[] } {
    const lines: string[] = [];
    const at = (level: string) => (m: string) => void lines.push(`${level} ${m}`);
    return { lines, trace: at("trace"), debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export function delay(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 50 ms until it holds or `timeoutMs` passes. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!condition()) {
        if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
        await delay(50);
    }
}
