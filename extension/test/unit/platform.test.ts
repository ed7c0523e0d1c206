// The extension's platform logic with the platform injected: which file it starts on Windows, macOS and
// Linux, paths with spaces, quotes and backslashes, and what it says (and what to do) when the daemon is for
// another platform, not executable, a batch file, or fails to load on start-up. Headers are made here, byte
// by byte, except one real binary: the Node running the tests.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { binaryKind, describeTarget, runsOn, type Target } from "../../src/binaries";
import {
    bundledDaemonPath,
    checkDaemon,
    DaemonNotFoundError,
    expandPath,
    fileProbe,
    launchFor,
    locateDaemon,
    type DaemonLocation,
    type DiscoveryInputs,
    type FileProbe,
} from "../../src/bootstrap";
import { DaemonClient, startFailureHint } from "../../src/daemon";
import { daemonLaunch, memoryLog } from "./support";

// ----- headers

function elf(machine: number): Buffer {
    const b = Buffer.alloc(64);
    b.writeUInt32BE(0x7f454c46, 0);
    b[4] = 2;
    b[5] = 1;
    b.writeUInt16LE(machine, 18);
    return b;
}
function machO(cpu: number): Buffer {
    const b = Buffer.alloc(64);
    b.writeUInt32LE(0xfeedfacf, 0);
    b.writeUInt32LE(cpu, 4);
    return b;
}
/** A PE32+ header; a .NET assembly has a CLR header (in its one section), ReadyToRun code a ManagedNativeHeader. */
function pe(machine: number, managed?: "il" | "r2r"): Buffer {
    const b = Buffer.alloc(1024);
    b.write("MZ", 0, "latin1");
    b.writeUInt32LE(0x80, 0x3c);
    b.writeUInt32BE(0x50450000, 0x80);
    b.writeUInt16LE(machine, 0x84);
    b.writeUInt16LE(1, 0x86); // one section
    b.writeUInt16LE(240, 0x94); // optional header size
    b.writeUInt16LE(0x20b, 0x98); // PE32+
    const section = 0x98 + 240;
    b.writeUInt32LE(0x1000, section + 8);
    b.writeUInt32LE(0x2000, section + 12);
    b.writeUInt32LE(0x200, section + 16);
    b.writeUInt32LE(0x200, section + 20);
    if (managed) {
        b.writeUInt32LE(0x2008, 0x98 + 112 + 14 * 8); // the CLR header's RVA: file offset 0x208
        b.writeUInt32LE(72, 0x208);
        if (managed === "r2r") b.writeUInt32LE(0x40, 0x208 + 68);
    }
    return b;
}
const HEADERS = {
    linuxX64: elf(62),
    linuxArm64: elf(183),
    winX64: pe(0x8664),
    winArm64: pe(0xaa64),
    macArm64: machO(0x0100000c),
    macX64: machO(0x01000007),
    ilOnly: pe(0x14c, "il"),
    ilX64: pe(0x8664, "il"),
    r2rLinuxX64: pe(0x8664 ^ 0x7b79, "r2r"),
    r2rWinX64: pe(0x8664, "r2r"),
    script: Buffer.from("#!/bin/sh\nexec dotnet daemon.dll\n"),
};

const linux: Target = { os: "linux", arch: "x64" };
const win: Target = { os: "win32", arch: "x64" };
const winArm: Target = { os: "win32", arch: "arm64" };
const mac: Target = { os: "darwin", arch: "arm64" };

describe("binaryKind and runsOn", () => {
    it("reads ELF, PE and Mach-O headers: system and architecture", () => {
        assert.deepEqual(binaryKind(HEADERS.linuxX64), { format: "elf", os: "linux", arch: "x64" });
        assert.deepEqual(binaryKind(HEADERS.winArm64), { format: "pe", os: "win32", arch: "arm64" });
        assert.deepEqual(binaryKind(HEADERS.macArm64), { format: "macho", os: "darwin", arch: "arm64" });
        assert.deepEqual(binaryKind(HEADERS.ilOnly), { format: "pe", os: "win32", arch: "ia32", managed: true, anyCpu: true });
        assert.deepEqual(binaryKind(HEADERS.ilX64), { format: "pe", os: "win32", arch: "x64", managed: true, anyCpu: true }, "IL compiled for x64 runs on any x64");
        assert.deepEqual(binaryKind(HEADERS.r2rLinuxX64), { format: "pe", os: "linux", arch: "x64", managed: true });
        assert.deepEqual(binaryKind(HEADERS.r2rWinX64), { format: "pe", os: "win32", arch: "x64", managed: true });
        assert.equal(binaryKind(HEADERS.script), undefined);
        assert.equal(binaryKind(Buffer.alloc(0)), undefined);
        assert.equal(binaryKind(Buffer.from("MZ")), undefined, "a truncated header is no binary");
    });

    it("knows the Node running this test for what it is", () => {
        const head = fileProbe.header(process.execPath)!;
        const kind = binaryKind(head)!;
        assert.equal(kind.os, process.platform);
        assert.ok(runsOn(kind, { os: process.platform, arch: process.arch }), JSON.stringify(kind));
    });

    it("runs a program on its own platform, and x64 programs on arm64 Windows and Macs (emulated)", () => {
        assert.ok(runsOn(binaryKind(HEADERS.linuxX64)!, linux));
        assert.ok(runsOn(binaryKind(HEADERS.winX64)!, winArm));
        assert.ok(runsOn(binaryKind(HEADERS.macX64)!, mac));
        assert.ok(!runsOn(binaryKind(HEADERS.winArm64)!, win), "no arm64 program on x64 Windows");
        assert.ok(!runsOn(binaryKind(HEADERS.linuxArm64)!, linux));
        assert.ok(!runsOn(binaryKind(HEADERS.macArm64)!, linux));
        assert.equal(describeTarget(mac), "macOS arm64 (Apple silicon)");
    });
});

// ----- locating

const winExt = "C:\\Users\\Ada Lovelace\\.vscode\\extensions\\cnn-interpret.cnn-interpret-0.1.0-win32-x64";
function inputs(files: string[], over: Partial<DiscoveryInputs> = {}): DiscoveryInputs {
    return { settingPath: undefined, env: {}, extensionPath: "/ext", workspaceFolder: "/ws", platform: "linux", isFile: (p) => files.includes(p), home: "/home/ada", ...over };
}

describe("locateDaemon on Windows, macOS and Linux", () => {
    it("starts cnn-interpret-daemon.exe on Windows and cnn-interpret-daemon elsewhere", () => {
        const exe = `${winExt}\\daemon\\cnn-interpret-daemon.exe`;
        assert.equal(bundledDaemonPath(winExt, "win32"), exe);
        assert.deepEqual(locateDaemon(inputs([exe], { platform: "win32", extensionPath: winExt, workspaceFolder: undefined })), { source: "bundled", path: exe });
        for (const platform of ["linux", "darwin"] as const) {
            assert.deepEqual(locateDaemon(inputs(["/ext/daemon/cnn-interpret-daemon"], { platform })), { source: "bundled", path: "/ext/daemon/cnn-interpret-daemon" });
        }
    });

    it("takes a Windows setting with spaces, backslashes and the quotes of 'Copy as path'", () => {
        const exe = "C:\\Program Files\\CNN Interpret\\cnn-interpret-daemon.exe";
        const win32 = { platform: "win32" as const, extensionPath: winExt, workspaceFolder: "D:\\work\\my project", home: "C:\\Users\\Ada Lovelace" };
        assert.deepEqual(locateDaemon(inputs([exe], { ...win32, settingPath: `  "${exe}" ` })), { source: "setting", path: exe });
        assert.equal(expandPath("bin\\Release\\cnn-interpret-daemon.dll", win32, win32.workspaceFolder), "D:\\work\\my project\\bin\\Release\\cnn-interpret-daemon.dll");
        assert.equal(expandPath("~\\daemons\\d.exe", win32, undefined), "C:\\Users\\Ada Lovelace\\daemons\\d.exe");
        assert.equal(expandPath("D:/forward/slashes/d.exe", win32, undefined), "D:\\forward\\slashes\\d.exe");
    });

    it("takes a POSIX setting with spaces and quotes, relative to the workspace or the home folder", () => {
        const d = "/opt/CNN Interpret/cnn-interpret-daemon";
        assert.deepEqual(locateDaemon(inputs([d], { settingPath: `'${d}'` })), { source: "setting", path: d });
        assert.equal(expandPath("my daemons/d", { platform: "darwin", home: "/Users/ada" }, "/Users/ada/work space"), "/Users/ada/work space/my daemons/d");
        assert.equal(expandPath("~/my daemons/d", { platform: "linux", home: "/home/ada" }, "/ws"), "/home/ada/my daemons/d");
    });

    it("runs a .dll with dotnet and passes a path with spaces as one argument", () => {
        const dll: DaemonLocation = { source: "setting", path: "C:\\My Daemons\\cnn-interpret-daemon.DLL" };
        assert.deepEqual(launchFor(dll), { command: "dotnet", args: [dll.path], location: dll });
    });

    it("finds another platform's entry point in the daemon folder, so that the check can name the platform", () => {
        // A win32 .vsix on Linux: only the .exe is there.
        assert.deepEqual(locateDaemon(inputs(["/ext/daemon/cnn-interpret-daemon.exe"])), { source: "bundled", path: "/ext/daemon/cnn-interpret-daemon.exe" });
        // A linux .vsix on Windows.
        const plain = `${winExt}\\daemon\\cnn-interpret-daemon`;
        assert.deepEqual(locateDaemon(inputs([plain], { platform: "win32", extensionPath: winExt })), { source: "bundled", path: plain });
    });

    it("on Windows, a framework-dependent daemon (the Windows on Arm package) runs with dotnet", () => {
        const dll = `${winExt}\\daemon\\cnn-interpret-daemon.dll`;
        const found = locateDaemon(inputs([dll], { platform: "win32", extensionPath: winExt }));
        assert.deepEqual(found, { source: "bundled", path: dll });
        assert.deepEqual(launchFor(found), { command: "dotnet", args: [dll], location: found });
    });

    it("without any daemon says what happened and how to get one", () => {
        assert.throws(
            () => locateDaemon(inputs([])),
            (e: Error) => e instanceof DaemonNotFoundError && e.message.includes("has no daemon") && e.message.includes("Reinstall") && e.message.includes("cnnInterpret.daemon.path"),
        );
    });
});

// ----- checking

function probe(headers: Record<string, Buffer>, execution: Record<string, { mode: number; allowed: boolean }> = {}): FileProbe {
    return {
        header: (p) => headers[p],
        execution: (p) => {
            const e = execution[p];
            if (!e) throw new Error(`execution(${p}) asked where it should not be`);
            return e;
        },
    };
}
const ok = { mode: 0o755, allowed: true };
const bundledAt = (p: string): DaemonLocation => ({ source: "bundled", path: p });

describe("checkDaemon: a daemon that cannot run here is named, with what to do", () => {
    it("lets this platform's daemon through", () => {
        const p = "/ext/daemon/cnn-interpret-daemon";
        checkDaemon(bundledAt(p), linux, probe({ [p]: HEADERS.linuxX64 }, { [p]: ok }));
        checkDaemon(bundledAt(p), mac, probe({ [p]: HEADERS.macArm64 }, { [p]: ok }));
        const exe = "C:\\ext\\daemon\\cnn-interpret-daemon.exe";
        checkDaemon(bundledAt(exe), win, probe({ [exe]: HEADERS.winX64 })); // no execution check on Windows
        checkDaemon(bundledAt(exe), winArm, probe({ [exe]: HEADERS.winArm64 }));
    });

    it("a .vsix for Windows installed on Linux: which platform it is for, and which .vsix to install", () => {
        const p = "/ext/daemon/cnn-interpret-daemon.exe";
        assert.throws(
            () => checkDaemon(bundledAt(p), linux, probe({ [p]: HEADERS.winX64 }), "0.1.0"),
            (e: Error) =>
                e instanceof DaemonNotFoundError &&
                e.message.includes("a program for Windows x64") &&
                e.message.includes("runs here on Linux x64") &&
                e.message.includes("cnn-interpret-linux-x64-0.1.0.vsix") &&
                e.message.includes("--target linux-x64"),
        );
    });

    it("a .vsix for Apple silicon on an Intel Mac, or for Linux on a Mac", () => {
        const p = "/ext/daemon/cnn-interpret-daemon";
        assert.throws(() => checkDaemon(bundledAt(p), { os: "darwin", arch: "x64" }, probe({ [p]: HEADERS.macArm64 })), /macOS arm64 \(Apple silicon\).*macOS x64.*packaged for .* only, not darwin-x64/);
        assert.throws(() => checkDaemon(bundledAt(p), mac, probe({ [p]: HEADERS.linuxX64 })), /a program for Linux x64.*macOS arm64.*cnn-interpret-darwin-arm64/);
    });

    it("a win32-x64 .vsix runs on Windows on Arm (emulated); a win32-arm64 one does not run on x64 Windows", () => {
        const exe = "C:\\ext\\daemon\\cnn-interpret-daemon.exe";
        checkDaemon(bundledAt(exe), winArm, probe({ [exe]: HEADERS.winX64 }));
        assert.throws(() => checkDaemon(bundledAt(exe), win, probe({ [exe]: HEADERS.winArm64 })), /Windows arm64.*Windows x64.*cnn-interpret-win32-x64/);
    });

    it("the Windows on Arm package (a .dll) is named by its TorchSharp library: refused on Linux, taken on Windows on Arm", () => {
        const dll = "/ext/daemon/cnn-interpret-daemon.dll";
        const natives = { "/ext/daemon/LibTorchSharp.dll": HEADERS.winArm64 };
        assert.throws(() => checkDaemon(bundledAt(dll), linux, probe(natives), "0.1.0"), /part of a package for Windows arm64 \(its LibTorchSharp\.dll\).*Linux x64.*cnn-interpret-linux-x64-0\.1\.0\.vsix/);
        const winDll = "C:\\ext\\daemon\\cnn-interpret-daemon.dll";
        checkDaemon(bundledAt(winDll), winArm, probe({ "C:\\ext\\daemon\\LibTorchSharp.dll": HEADERS.winArm64 }));
        // A developer's build (not bundled): every platform's natives are under runtimes/, nothing to read here.
        checkDaemon({ source: "setting", path: "/src/bin/Release/net10.0/cnn-interpret-daemon.dll" }, linux, probe({}));
    });

    it("a daemon path set by the user to another platform's daemon: fix the setting", () => {
        const p = "/home/ada/Downloads/cnn-interpret-daemon";
        assert.throws(
            () => checkDaemon({ source: "setting", path: p }, linux, probe({ [p]: HEADERS.macArm64 })),
            (e: Error) => e.message.includes("Point cnnInterpret.daemon.path at a daemon built for Linux x64") && !e.message.includes("vsix"),
        );
        assert.throws(() => checkDaemon({ source: "environment", path: p }, linux, probe({ [p]: HEADERS.winX64 })), /unset the environment variable CNN_INTERPRET_DAEMON/);
    });

    it("not executable: the chmod to run, the path quoted for the shell (spaces, quotes)", () => {
        const p = "/home/ada/my daemons/it's/cnn-interpret-daemon";
        assert.throws(
            () => checkDaemon({ source: "setting", path: p }, linux, probe({ [p]: HEADERS.linuxX64 }, { [p]: { mode: 0o644, allowed: false } })),
            (e: Error) => e instanceof DaemonNotFoundError && e.message.includes(`chmod +x '/home/ada/my daemons/it'\\''s/cnn-interpret-daemon'`),
        );
    });

    it("executable but refused: the folder is mounted noexec", () => {
        const p = "/tmp/ext/daemon/cnn-interpret-daemon";
        assert.throws(() => checkDaemon(bundledAt(p), linux, probe({ [p]: HEADERS.linuxX64 }, { [p]: { mode: 0o755, allowed: false } })), /mounted noexec/);
    });

    it("a batch file on Windows: not startable without a shell, point at the .exe or .dll", () => {
        const p = "C:\\tools\\start daemon.CMD";
        assert.throws(() => checkDaemon({ source: "setting", path: p }, win, probe({})), /batch file.*cnn-interpret-daemon\.exe.*\.dll/);
    });

    it("a .dll and a shell script are let through (dotnet and the shell check them)", () => {
        checkDaemon({ source: "setting", path: "/d/cnn-interpret-daemon.dll" }, linux, probe({}));
        checkDaemon({ source: "setting", path: "/d/run daemon.sh" }, linux, probe({ "/d/run daemon.sh": HEADERS.script }, { "/d/run daemon.sh": ok }));
    });

    it("on Windows, a file that is no Windows program is refused", () => {
        const p = "C:\\d\\cnn-interpret-daemon.exe";
        assert.throws(() => checkDaemon({ source: "setting", path: p }, win, probe({ [p]: HEADERS.script })), /not a Windows program/);
    });
});

describe("startFailureHint: what to do after a failed start, by platform", () => {
    it("Windows without the Visual C++ runtime that libtorch needs", () => {
        const tail = ["Unhandled exception. System.DllNotFoundException: Unable to load DLL 'LibTorchSharp' or one of its dependencies: The specified module could not be found. (0x8007007E)"];
        assert.match(startFailureHint("exit code 3762504530", "C:\\ext\\daemon\\cnn-interpret-daemon.exe", tail, "win32"), /Visual C\+\+ Redistributable/);
        assert.equal(startFailureHint("exit code 1", "/ext/daemon/cnn-interpret-daemon", tail, "linux"), "");
    });

    it("macOS killing an unsigned or quarantined daemon", () => {
        assert.match(startFailureHint("killed by SIGKILL", "/ext/daemon/cnn-interpret-daemon", [], "darwin"), /xattr -dr com\.apple\.quarantine/);
    });

    it("Linux: a daemon that exists but cannot be started lacks its loader (musl)", () => {
        assert.match(startFailureHint("it could not be started: spawn ENOENT", process.execPath, [], "linux"), /glibc/);
        assert.match(startFailureHint("it could not be started: spawn ENOENT", "/nowhere/d", [], "linux"), /Check the path/);
        assert.match(startFailureHint("it could not be started: spawn dotnet ENOENT", "dotnet", [], "win32"), /\.NET 10 Runtime .*Arm64/);
    });
});

describe("the client with a daemon that cannot run", () => {
    it("fails once, with the error as the state's cause, and takes requests again after a fix", async () => {
        let broken = true;
        const client = new DaemonClient({
            resolveLaunch: () => {
                if (broken) throw new DaemonNotFoundError("The daemon /ext/daemon/cnn-interpret-daemon.exe is a program for Windows x64, but VS Code runs here on Linux x64.");
                return daemonLaunch();
            },
            log: memoryLog(),
        });
        await assert.rejects(client.start(), DaemonNotFoundError);
        assert.equal(client.state.state, "failed");
        assert.ok(client.state.cause instanceof DaemonNotFoundError);
        assert.match(client.state.error ?? "", /Windows x64/);
        await assert.rejects(client.request("models/list", undefined), /not running: The daemon .* Windows x64/);
        broken = false;
        const info = await client.restart();
        assert.ok(info.models.length > 0);
        await client.dispose();
    });
});

describe("a daemon whose libtorch cannot load (Windows without the Visual C++ runtime)", () => {
    it("fails daemon/info; the state says to install the redistributable, with the daemon's own words", async () => {
        // A stand-in daemon: logs what TorchSharp says on such a machine, answers daemon/info with an internal error.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnn-interpret-fake-"));
        const script = path.join(dir, "fake daemon.js");
        fs.writeFileSync(
            script,
            `let buf = "";
process.stdin.on("data", (d) => {
  buf += d;
  const m = /Content-Length: (\\d+)\\r\\n\\r\\n/.exec(buf);
  if (!m || buf.length < m.index + m[0].length + Number(m[1])) return;
  const request = JSON.parse(buf.slice(m.index + m[0].length, m.index + m[0].length + Number(m[1])));
  process.stderr.write("fail: System.DllNotFoundException: Unable to load DLL 'LibTorchSharp' or one of its dependencies: The specified module could not be found. (0x8007007E)\\n");
  const body = JSON.stringify({ jsonrpc: "2.0", id: request.id, error: { code: 1099, message: "Internal error: see the daemon's log." } });
  process.stdout.write("Content-Length: " + Buffer.byteLength(body) + "\\r\\n\\r\\n" + body);
});
`,
        );
        const location: DaemonLocation = { source: "bundled", path: script };
        const client = new DaemonClient({ resolveLaunch: () => ({ command: process.execPath, args: [script], location }), log: memoryLog(), platform: "win32" });
        try {
            await assert.rejects(client.start(), /could not answer daemon\/info/);
            assert.equal(client.state.state, "failed");
            assert.match(client.state.error ?? "", /Visual C\+\+ Redistributable/);
            assert.match(client.state.error ?? "", /Unable to load DLL 'LibTorchSharp'/);
        } finally {
            await client.dispose();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("a daemon path with spaces, for real", { skip: process.platform === "win32" ? "POSIX shell script" : false }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnn interpret with spaces "));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("starts a daemon whose path has spaces and is found through the setting", async () => {
        const real = daemonLaunch();
        const script = path.join(dir, "my daemon");
        const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
        fs.writeFileSync(script, `#!/bin/sh\nexec ${[real.command, ...real.args].map(quote).join(" ")} "$@"\n`, { mode: 0o755 });
        assert.equal(spawnSync("sh", ["-n", script]).status, 0);
        const location = locateDaemon({ settingPath: `"${script}"`, env: {}, extensionPath: "/nowhere", workspaceFolder: undefined, platform: process.platform, isFile: (p) => fs.existsSync(p) });
        checkDaemon(location, { os: process.platform, arch: process.arch }, fileProbe);
        const client = new DaemonClient({ resolveLaunch: () => launchFor(location), log: memoryLog() });
        try {
            const info = await client.start();
            assert.equal(client.state.state, "running");
            assert.ok(info.models.some((m) => m.id === "fashion-vgg"));
        } finally {
            await client.dispose();
        }
    });
});
