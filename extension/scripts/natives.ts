// The native side of a platform's daemon folder, checked without running it (only linux-x64 can run here):
//   checkDaemon   every native binary is for the target's system and architecture, the entry point is there,
//                 libtorch is the target's; on macOS every Mach-O carries a valid code signature (Apple silicon
//                 refuses to run unsigned arm64 code) and every library it loads is in the folder or the system's
//   relinkLibomp  libtorch-cpu-osx-arm64's libtorch_cpu.dylib loads OpenMP from Homebrew's folder
//                 (/opt/homebrew/opt/libomp/lib/libomp.dylib), which most Macs lack; point it at the libomp.dylib
//                 shipped beside it and re-hash the changed page of its (ad-hoc, linker-made) signature
// Used by scripts/package.sh (through natives-cli.ts) and by the .vsix test.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { binaryKind, describeTarget, HEADER_BYTES, type BinaryKind, type Target } from "../src/binaries";
import { readHeader } from "../src/fileHeader";

/** The platforms `npm run package -- --target` builds, by VS Code's names. */
export const TARGETS = ["linux-x64", "win32-x64", "darwin-arm64", "win32-arm64"] as const;
export type TargetName = (typeof TARGETS)[number];

export function parseTarget(name: string): Target {
    const [os, arch] = name.split("-");
    if (!os || !arch) throw new Error(`not a target: ${name}`);
    return { os, arch };
}

/**
 * Targets whose daemon is framework-dependent: cnn-interpret-daemon.dll, run with the user's .NET 10 `dotnet`.
 * The NuGet feed this project builds from serves no .NET runtime or apphost pack for win-arm64.
 */
export const FRAMEWORK_DEPENDENT: readonly string[] = ["win32-arm64"];

/** The daemon's entry point inside the daemon folder. */
export function daemonEntry(targetName: string): string {
    if (FRAMEWORK_DEPENDENT.includes(targetName)) return "cnn-interpret-daemon.dll";
    return parseTarget(targetName).os === "win32" ? "cnn-interpret-daemon.exe" : "cnn-interpret-daemon";
}

/** libtorch's main library on each system; one of another system's in a folder is a packaging mistake. */
export const LIBTORCH_CPU: Record<string, string> = { linux: "libtorch_cpu.so", win32: "torch_cpu.dll", darwin: "libtorch_cpu.dylib" };

/** A file of the daemon folder, from disk or from inside a .vsix. */
export interface DaemonFile {
    /** Relative to the daemon folder, with forward slashes. */
    name: string;
    size: number;
    /** The first bytes (at least HEADER_BYTES, or the whole file when smaller). */
    head(): Buffer;
    /** The whole file (only Mach-O files are read whole, to check their signatures). */
    read(): Buffer;
}

export interface DaemonReport {
    problems: string[];
    /** How many native (non-.NET) binaries were checked, and how many Mach-O signatures. */
    natives: number;
    signatures: number;
    kinds: Map<string, BinaryKind>;
}

// ---------------------------------------------------------------------------------------------------------
// Mach-O

const LC = {
    CODE_SIGNATURE: 0x1d,
    ID_DYLIB: 0xd,
    LOAD_DYLIB: 0xc,
    LOAD_WEAK_DYLIB: 0x80000018,
    REEXPORT_DYLIB: 0x8000001f,
    LAZY_LOAD_DYLIB: 0x20,
    LOAD_UPWARD_DYLIB: 0x80000023,
    RPATH: 0x8000001c,
};
const LOADS = new Set([LC.LOAD_DYLIB, LC.LOAD_WEAK_DYLIB, LC.REEXPORT_DYLIB, LC.LAZY_LOAD_DYLIB, LC.LOAD_UPWARD_DYLIB]);

interface LoadCommandString {
    cmd: number;
    /** Where the string's bytes start, and how many bytes it may use (up to the end of its command). */
    at: number;
    room: number;
    value: string;
}

export interface MachO {
    loads: LoadCommandString[];
    id: string | undefined;
    rpaths: string[];
    /** LC_CODE_SIGNATURE: where the signature's SuperBlob is. */
    signature: { offset: number; size: number } | undefined;
}

/** The load commands of a thin 64-bit little-endian Mach-O. */
export function readMachO(buf: Buffer): MachO {
    if (buf.readUInt32LE(0) !== 0xfeedfacf) throw new Error("not a thin 64-bit Mach-O");
    const ncmds = buf.readUInt32LE(16);
    const result: MachO = { loads: [], id: undefined, rpaths: [], signature: undefined };
    let at = 32;
    for (let i = 0; i < ncmds; i++) {
        const cmd = buf.readUInt32LE(at);
        const size = buf.readUInt32LE(at + 4);
        const str = (): LoadCommandString => {
            const start = at + buf.readUInt32LE(at + 8);
            const end = buf.indexOf(0, start);
            return { cmd, at: start, room: at + size - start, value: buf.toString("utf8", start, end < 0 || end > at + size ? at + size : end) };
        };
        if (LOADS.has(cmd)) result.loads.push(str());
        else if (cmd === LC.ID_DYLIB) result.id = str().value;
        else if (cmd === LC.RPATH) result.rpaths.push(str().value);
        else if (cmd === LC.CODE_SIGNATURE) result.signature = { offset: buf.readUInt32LE(at + 8), size: buf.readUInt32LE(at + 12) };
        at += size;
    }
    return result;
}

interface CodeDirectory {
    at: number;
    flags: number;
    hashOffset: number;
    nCodeSlots: number;
    codeLimit: number;
    hashSize: number;
    hashType: number;
    pageSize: number;
}

/** The CodeDirectories of a signature SuperBlob (big-endian, as Apple writes them). */
function codeDirectories(buf: Buffer, signatureOffset: number): CodeDirectory[] {
    if (buf.readUInt32BE(signatureOffset) !== 0xfade0cc0) throw new Error("the signature is not an embedded SuperBlob");
    const count = buf.readUInt32BE(signatureOffset + 8);
    const found: CodeDirectory[] = [];
    for (let i = 0; i < count; i++) {
        const at = signatureOffset + buf.readUInt32BE(signatureOffset + 12 + i * 8 + 4);
        if (buf.readUInt32BE(at) !== 0xfade0c02) continue;
        found.push({
            at,
            flags: buf.readUInt32BE(at + 12),
            hashOffset: buf.readUInt32BE(at + 16),
            nCodeSlots: buf.readUInt32BE(at + 28),
            codeLimit: buf.readUInt32BE(at + 32),
            hashSize: buf.readUInt8(at + 36),
            hashType: buf.readUInt8(at + 37),
            pageSize: 2 ** buf.readUInt8(at + 39),
        });
    }
    return found;
}

function pageHash(buf: Buffer, cd: CodeDirectory, slot: number): Buffer {
    const start = slot * cd.pageSize;
    const page = buf.subarray(start, Math.min(start + cd.pageSize, cd.codeLimit));
    const algorithm = { 1: "sha1", 2: "sha256", 3: "sha256" }[cd.hashType];
    if (!algorithm) throw new Error(`unknown code signature hash type ${cd.hashType}`);
    return createHash(algorithm).update(page).digest().subarray(0, cd.hashSize);
}

/**
 * Checks a Mach-O's code signature the way the kernel does when it pages the code in: every page's hash
 * matches its slot in every CodeDirectory, which covers the whole file up to the signature. Returns what is
 * wrong, or undefined.
 */
export function signatureProblem(buf: Buffer): string | undefined {
    const { signature } = readMachO(buf);
    if (!signature) return "it is not signed (no LC_CODE_SIGNATURE): Apple silicon refuses to run it";
    const directories = codeDirectories(buf, signature.offset);
    if (directories.length === 0) return "its signature has no CodeDirectory";
    for (const cd of directories) {
        if (cd.codeLimit !== signature.offset) return `its signature covers ${cd.codeLimit} bytes, not the ${signature.offset} before the signature`;
        if (cd.nCodeSlots !== Math.ceil(cd.codeLimit / cd.pageSize)) return `its signature has ${cd.nCodeSlots} page hashes for ${cd.codeLimit} bytes`;
        for (let slot = 0; slot < cd.nCodeSlots; slot++) {
            const expected = buf.subarray(cd.at + cd.hashOffset + slot * cd.hashSize, cd.at + cd.hashOffset + (slot + 1) * cd.hashSize);
            if (!pageHash(buf, cd, slot).equals(expected)) return `page ${slot} does not match its signature's hash (the file was changed after signing)`;
        }
    }
    return undefined;
}

/**
 * Rewrites load commands that name `from` to name `to` (which must fit in the command), then re-hashes the
 * pages that changed in every CodeDirectory. Only for signatures without a CMS blob (ad-hoc or linker-made),
 * whose CodeDirectory nothing else vouches for. Returns how many load commands changed.
 */
export function relinkDylib(buf: Buffer, from: string, to: string): number {
    const macho = readMachO(buf);
    const changed: number[] = [];
    for (const load of macho.loads) {
        if (load.value !== from) continue;
        const bytes = Buffer.from(to + "\0", "utf8");
        if (bytes.length > load.room) throw new Error(`'${to}' does not fit where '${from}' was`);
        buf.fill(0, load.at, load.at + load.room);
        bytes.copy(buf, load.at);
        changed.push(load.at, load.at + load.room - 1);
    }
    if (changed.length === 0 || !macho.signature) return changed.length / 2;
    for (const cd of codeDirectories(buf, macho.signature.offset)) {
        if ((cd.flags & 0x2) === 0) throw new Error("the library has a real (not ad-hoc) signature: re-signing it here would break it");
        for (const slot of new Set(changed.map((at) => Math.floor(at / cd.pageSize)))) {
            pageHash(buf, cd, slot).copy(buf, cd.at + cd.hashOffset + slot * cd.hashSize);
        }
    }
    return changed.length / 2;
}

/** Where Homebrew keeps libraries: a load command naming one works only on Macs that installed it. */
const PACKAGE_MANAGER_PREFIXES = ["/opt/homebrew/", "/usr/local/opt/", "/usr/local/Cellar/", "/opt/local/"];

/** Points every library's loads of a package manager's copy of a library shipped in `dir` at the shipped one. */
export function relinkToShipped(dir: string): string[] {
    const done: string[] = [];
    const names = new Set(fs.readdirSync(dir));
    for (const name of [...names].filter((n) => n.endsWith(".dylib"))) {
        const file = path.join(dir, name);
        const buf = fs.readFileSync(file);
        let count = 0;
        for (const load of readMachO(buf).loads) {
            const leaf = path.posix.basename(load.value);
            if (PACKAGE_MANAGER_PREFIXES.some((p) => load.value.startsWith(p)) && names.has(leaf)) {
                count += relinkDylib(buf, load.value, `@loader_path/${leaf}`);
                done.push(`${name}: ${load.value} → @loader_path/${leaf}`);
            }
        }
        if (count > 0) {
            const problem = signatureProblem(buf);
            if (problem) throw new Error(`${name} after relinking: ${problem}`);
            fs.writeFileSync(file, buf);
        }
    }
    return done;
}

// ---------------------------------------------------------------------------------------------------------
// The daemon folder

const SYSTEM_DYLIB = /^(\/usr\/lib\/|\/System\/Library\/)/;

/** Everything that is wrong with a platform's daemon folder (empty: nothing). */
export function checkDaemon(files: DaemonFile[], targetName: string): DaemonReport {
    const target = parseTarget(targetName);
    const report: DaemonReport = { problems: [], natives: 0, signatures: 0, kinds: new Map() };
    const problem = (text: string) => report.problems.push(text);
    const byName = new Map(files.map((f) => [f.name, f]));
    const entry = daemonEntry(targetName);
    const want = describeTarget(target);

    if (!byName.has(entry)) problem(`no ${entry} (the daemon's entry point for ${want})`);
    for (const other of ["cnn-interpret-daemon", "cnn-interpret-daemon.exe"]) {
        if (other !== entry && byName.has(other)) problem(`${other} is another platform's entry point`);
    }
    const runtimeConfig = byName.get("cnn-interpret-daemon.runtimeconfig.json")?.read().toString("utf8") ?? "";
    const selfContained = runtimeConfig.includes('"includedFrameworks"');
    if (FRAMEWORK_DEPENDENT.includes(targetName) === selfContained) {
        problem(`the daemon should be ${selfContained ? "framework-dependent" : "self-contained"} (cnn-interpret-daemon.runtimeconfig.json)`);
    }
    for (const [os, lib] of Object.entries(LIBTORCH_CPU)) {
        const present = files.some((f) => path.posix.basename(f.name) === lib);
        if (os === target.os && !present) problem(`no ${lib}: libtorch for ${want} is missing`);
        if (os !== target.os && present) problem(`${lib} is another system's libtorch (${os}), not ${want}'s`);
    }
    if (!files.some((f) => f.name === "models/models.json")) problem("no models/models.json (the built-in models)");
    if (!files.some((f) => f.name === "models/fashion-vgg.safetensors")) problem("no models/fashion-vgg.safetensors (the default model's weights)");
    if (!files.some((f) => f.name === "models/onnx/ResNet18.onnx")) problem("no models/onnx/ResNet18.onnx (the network of resnet18-imagenet)");

    for (const file of files) {
        if (file.name.startsWith("models/") || file.size < 64) continue;
        const kind = binaryKind(file.head().subarray(0, HEADER_BYTES));
        if (!kind) continue;
        report.kinds.set(file.name, kind);
        if (kind.managed) {
            // .NET assemblies: IL runs anywhere; ReadyToRun code must be this system's.
            if (!kind.anyCpu && (kind.os !== target.os || kind.arch !== target.arch)) {
                problem(`${file.name} is a .NET assembly precompiled for ${describeTarget(kind)}, not ${want}`);
            }
            continue;
        }
        report.natives++;
        if (kind.os !== target.os || !(kind.arches ?? [kind.arch]).includes(target.arch)) {
            problem(`${file.name} is a ${kind.format} binary for ${describeTarget(kind)}, not ${want}`);
            continue;
        }
        if (kind.format === "macho" && !kind.arches) {
            const buf = file.read();
            let macho: MachO;
            try {
                const signature = signatureProblem(buf);
                if (signature) problem(`${file.name}: ${signature}`);
                macho = readMachO(buf);
            } catch (e) {
                problem(`${file.name}: not a well-formed Mach-O (${e instanceof Error ? e.message : String(e)})`);
                continue;
            }
            report.signatures++;
            for (const load of macho.loads) {
                if (SYSTEM_DYLIB.test(load.value)) continue;
                const m = /^@(rpath|loader_path|executable_path)\/(.+)$/.exec(load.value);
                const own = macho.id !== undefined && load.value === macho.id;
                if (own) continue;
                if (m?.[2] === undefined || !byName.has(path.posix.join(path.posix.dirname(file.name), m[2]).replace(/^\.\//, ""))) {
                    problem(`${file.name} loads ${load.value}, which is neither in the daemon folder nor part of macOS`);
                }
            }
        }
    }
    return report;
}

/** The files of a folder on disk, as {@link DaemonFile}s. */
export function filesOnDisk(dir: string): DaemonFile[] {
    const out: DaemonFile[] = [];
    const walk = (sub: string) => {
        for (const e of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
            const rel = sub ? `${sub}/${e.name}` : e.name;
            if (e.isDirectory()) walk(rel);
            else if (e.isFile()) {
                const full = path.join(dir, rel);
                out.push({
                    name: rel,
                    size: fs.statSync(full).size,
                    head: () => readHeader(full),
                    read: () => fs.readFileSync(full),
                });
            }
        }
    };
    walk("");
    return out;
}
