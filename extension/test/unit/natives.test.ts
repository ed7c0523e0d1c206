// The packaging helper's Mach-O handling on a small library made here byte by byte (load commands, an
// ad-hoc linker signature over two pages): the signature check, the relink of a Homebrew path with its page
// re-hashed, and the daemon-folder check naming what a Mac would refuse.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { checkDaemon, readMachO, relinkDylib, signatureProblem, type DaemonFile } from "../../scripts/natives";

const HOMEBREW_OMP = "/opt/homebrew/opt/libomp/lib/libomp.dylib";

function dylibCommand(cmd: number, name: string): Buffer {
    const size = Math.ceil((24 + name.length + 1) / 8) * 8;
    const b = Buffer.alloc(size);
    b.writeUInt32LE(cmd, 0);
    b.writeUInt32LE(size, 4);
    b.writeUInt32LE(24, 8);
    b.write(name, 24, "utf8");
    return b;
}

/** A thin arm64 dylib of two 4 KiB pages, signed the way Apple's linker signs (ad hoc, linker-signed). */
function signedDylib(loads: string[]): Buffer {
    const commands = [dylibCommand(0xd, "@rpath/libtest.dylib"), ...loads.map((l) => dylibCommand(0xc, l))];
    const signatureCommand = Buffer.alloc(16);
    signatureCommand.writeUInt32LE(0x1d, 0);
    signatureCommand.writeUInt32LE(16, 4);
    const header = Buffer.alloc(32);
    header.writeUInt32LE(0xfeedfacf, 0);
    header.writeUInt32LE(0x0100000c, 4);
    header.writeUInt32LE(6, 12);
    header.writeUInt32LE(commands.length + 1, 16);
    header.writeUInt32LE([...commands, signatureCommand].reduce((n, c) => n + c.length, 0), 20);
    const code = Buffer.alloc(8192, 0x5a);
    Buffer.concat([header, ...commands, signatureCommand]).copy(code, 0);
    const codeLimit = code.length;
    signatureCommand.writeUInt32LE(codeLimit, 8);

    const ident = Buffer.from("libtest\0");
    const cd = Buffer.alloc(88 + ident.length + 2 * 32);
    cd.writeUInt32BE(0xfade0c02, 0);
    cd.writeUInt32BE(cd.length, 4);
    cd.writeUInt32BE(0x20400, 8);
    cd.writeUInt32BE(0x20002, 12); // adhoc | linker-signed
    cd.writeUInt32BE(88 + ident.length, 16); // hashOffset
    cd.writeUInt32BE(88, 20); // identOffset
    cd.writeUInt32BE(2, 28); // nCodeSlots
    cd.writeUInt32BE(codeLimit, 32);
    cd.writeUInt8(32, 36);
    cd.writeUInt8(2, 37); // sha256
    cd.writeUInt8(12, 39); // 4 KiB pages
    ident.copy(cd, 88);
    const superBlob = Buffer.alloc(20);
    superBlob.writeUInt32BE(0xfade0cc0, 0);
    superBlob.writeUInt32BE(20 + cd.length, 4);
    superBlob.writeUInt32BE(1, 8);
    superBlob.writeUInt32BE(0, 12);
    superBlob.writeUInt32BE(20, 16);
    const signature = Buffer.concat([superBlob, cd]);
    signatureCommand.writeUInt32LE(signature.length, 12);
    // The signature command's final values go into the first page before it is hashed.
    const sigAt = 32 + commands.reduce((n, c) => n + c.length, 0);
    signatureCommand.copy(code, sigAt);
    for (let slot = 0; slot < 2; slot++) {
        createHash("sha256").update(code.subarray(slot * 4096, (slot + 1) * 4096)).digest().copy(signature, 20 + 88 + ident.length + slot * 32);
    }
    return Buffer.concat([code, signature]);
}

const asFile = (name: string, buf: Buffer): DaemonFile => ({ name, size: buf.length, head: () => buf.subarray(0, 4096), read: () => buf });

describe("Mach-O signatures and the libomp relink", () => {
    it("accepts a correctly signed library and names a changed page", () => {
        const lib = signedDylib(["@rpath/libc10.dylib"]);
        assert.equal(signatureProblem(lib), undefined);
        lib.writeUInt8(lib.readUInt8(5000) ^ 1, 5000);
        assert.match(signatureProblem(lib) ?? "", /page 1 does not match/);
    });

    it("points a Homebrew load at the shipped library and re-hashes the page, keeping the signature valid", () => {
        const lib = signedDylib([HOMEBREW_OMP, "/usr/lib/libc++.1.dylib"]);
        assert.equal(relinkDylib(lib, HOMEBREW_OMP, "@loader_path/libomp.dylib"), 1);
        assert.deepEqual(readMachO(lib).loads.map((l) => l.value), ["@loader_path/libomp.dylib", "/usr/lib/libc++.1.dylib"]);
        assert.equal(signatureProblem(lib), undefined);
        assert.throws(() => relinkDylib(signedDylib([HOMEBREW_OMP]), HOMEBREW_OMP, "@loader_path/" + "x".repeat(64)), /does not fit/);
    });

    it("a macOS daemon folder: what a Mac would refuse is named", () => {
        const entry = signedDylib([]); // stands in for the apphost: a signed arm64 Mach-O
        const files = [
            asFile("cnn-interpret-daemon", entry),
            asFile("libtorch_cpu.dylib", signedDylib([HOMEBREW_OMP, "@rpath/libc10.dylib"])),
            asFile("libc10.dylib", signedDylib([])),
            asFile("libtorch_cpu.so", Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]), Buffer.alloc(200)])),
            asFile("models/models.json", Buffer.from("{}")),
            asFile("models/fashion-vgg.safetensors", Buffer.alloc(8)),
            asFile("models/onnx/ResNet18.onnx", Buffer.alloc(8)),
            asFile("cnn-interpret-daemon.runtimeconfig.json", Buffer.from('{"runtimeOptions":{"includedFrameworks":[]}}')),
        ];
        const unsigned = signedDylib([]).subarray(0, 8192);
        unsigned.writeUInt32LE(1, 16); // LC_ID_DYLIB only: LC_CODE_SIGNATURE is no longer counted, an unsigned library
        files.push(asFile("libunsigned.dylib", unsigned));
        const { problems } = checkDaemon(files, "darwin-arm64");
        assert.ok(problems.some((p) => p.includes("libtorch_cpu.dylib loads /opt/homebrew/opt/libomp/lib/libomp.dylib, which is neither in the daemon folder nor part of macOS")), problems.join("\n"));
        assert.ok(problems.some((p) => p.includes('libtorch_cpu.so is another system\'s libtorch')), problems.join("\n"));
        assert.ok(problems.some((p) => p.includes("libtorch_cpu.so is a elf binary for Linux")), problems.join("\n"));
        assert.ok(problems.some((p) => p.includes("libunsigned.dylib: it is not signed")), problems.join("\n"));
        assert.equal(problems.length, 4, problems.join("\n"));
    });
});
