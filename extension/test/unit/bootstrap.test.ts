import assert from "node:assert/strict";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { bundledDaemonPath, DaemonNotFoundError, launchFor, locateDaemon, type DiscoveryInputs } from "../../src/bootstrap";

const ext = "/ext/cnn-interpret";
const bundled = bundledDaemonPath(ext, "linux");

function inputs(files: string[], over: Partial<DiscoveryInputs> = {}): DiscoveryInputs {
    return { settingPath: undefined, env: {}, extensionPath: ext, workspaceFolder: "/ws", platform: "linux", isFile: (p) => files.includes(p), ...over };
}

describe("locateDaemon: setting → environment → bundled → error", () => {
    it("uses the setting first, even when the others exist", () => {
        const found = locateDaemon(inputs(["/opt/d/cnn-interpret-daemon", "/env/d", bundled], { settingPath: "/opt/d/cnn-interpret-daemon", env: { CNN_INTERPRET_DAEMON: "/env/d" } }));
        assert.deepEqual(found, { source: "setting", path: "/opt/d/cnn-interpret-daemon" });
    });

    it("resolves a relative setting against the workspace folder and ~ against the home folder", () => {
        assert.equal(locateDaemon(inputs(["/ws/bin/d.dll"], { settingPath: "bin/d.dll" })).path, "/ws/bin/d.dll");
        const home = path.join(os.homedir(), "d");
        assert.equal(locateDaemon(inputs([home], { settingPath: "~/d" })).path, home);
    });

    it("uses the environment variable when the setting is empty or blank", () => {
        const found = locateDaemon(inputs(["/env/d", bundled], { settingPath: "  ", env: { CNN_INTERPRET_DAEMON: "/env/d" } }));
        assert.deepEqual(found, { source: "environment", path: "/env/d" });
    });

    it("falls back to the bundled daemon", () => {
        assert.deepEqual(locateDaemon(inputs([bundled])), { source: "bundled", path: bundled });
        assert.equal(bundledDaemonPath("C:\\ext", "win32"), "C:\\ext\\daemon\\cnn-interpret-daemon.exe");
    });

    it("says which setting points nowhere instead of silently falling back", () => {
        assert.throws(
            () => locateDaemon(inputs([bundled], { settingPath: "/nope/d" })),
            (e: Error) => e instanceof DaemonNotFoundError && e.message.includes("cnnInterpret.daemon.path") && e.message.includes("/nope/d") && e.message.includes("clear it"),
        );
        assert.throws(
            () => locateDaemon(inputs([bundled], { env: { CNN_INTERPRET_DAEMON: "/nope/e" } })),
            (e: Error) => e instanceof DaemonNotFoundError && e.message.includes("CNN_INTERPRET_DAEMON") && e.message.includes("/nope/e"),
        );
    });

    it("without any daemon, says how to get one", () => {
        assert.throws(
            () => locateDaemon(inputs([])),
            (e: Error) => e instanceof DaemonNotFoundError && e.message.includes("npm run package") && e.message.includes("cnnInterpret.daemon.path"),
        );
    });
});

describe("launchFor", () => {
    it("runs a .dll with dotnet and an executable directly", () => {
        const dll = { source: "setting" as const, path: "/b/cnn-interpret-daemon.dll" };
        assert.deepEqual(launchFor(dll), { command: "dotnet", args: ["/b/cnn-interpret-daemon.dll"], location: dll });
        const exe = { source: "bundled" as const, path: "/b/cnn-interpret-daemon" };
        assert.deepEqual(launchFor(exe), { command: "/b/cnn-interpret-daemon", args: [], location: exe });
    });
});
