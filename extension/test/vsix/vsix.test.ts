// Opens every platform's .vsix that `npm run package` left in extension/ (or the folder CNN_INTERPRET_VSIX_DIR
// names) and checks, without running anything, what only a Windows machine or a Mac could run: the manifest's
// target platform, the daemon's entry point for it, that every native binary is for that system and
// architecture and no other (ELF, PE and Mach-O headers; e.g. no torch_cpu.dll in the darwin package), that every
// Mach-O's code signature is valid and its libraries resolve inside the package, that models/ is inside, and
// the size limit. linux-x64's also runs end to end (test/e2e); the others are only checked here.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { binaryKind, describeTarget, HEADER_BYTES } from "../../src/binaries";
import { checkDaemon, daemonEntry, FRAMEWORK_DEPENDENT, parseTarget, TARGETS, type DaemonFile } from "../../scripts/natives";
import { readZip, type ZipEntry } from "./zip";

const ext = path.resolve(__dirname, "..", "..", "..");
const version = (JSON.parse(fs.readFileSync(path.join(ext, "package.json"), "utf8")) as { version: string }).version;
const dir = process.env["CNN_INTERPRET_VSIX_DIR"] || ext;
const MAX_BYTES = 200 * 1000 * 1000;
const found = TARGETS.map((target) => ({ target, file: path.join(dir, `cnn-interpret-${target}-${version}.vsix`) })).filter((v) => fs.existsSync(v.file));

describe("platform .vsix files", () => {
    it("at least one was packed (npm run package -- --target …)", { skip: found.length === 0 ? `no cnn-interpret-<target>-${version}.vsix in ${dir}` : false }, () => {
        assert.ok(found.length > 0);
    });

    for (const { target, file } of found) {
        describe(path.basename(file), () => {
            const bytes = fs.statSync(file).size;
            const entries = readZip(fs.readFileSync(file));
            const byName = new Map(entries.map((e) => [e.name, e]));
            const text = (name: string) => {
                const e = byName.get(name);
                assert.ok(e, `${name} is not in the .vsix`);
                return e.read().toString("utf8");
            };
            const daemonFiles: DaemonFile[] = entries
                .filter((e) => e.name.startsWith("extension/daemon/"))
                .map((e: ZipEntry) => ({ name: e.name.slice("extension/daemon/".length), size: e.size, head: () => e.head(HEADER_BYTES), read: () => e.read() }));
            const host = parseTarget(target);

            it(`is at most ${MAX_BYTES / 1e6} MB (${(bytes / 1e6).toFixed(1)} MB)`, () => {
                assert.ok(bytes <= MAX_BYTES, `${(bytes / 1e6).toFixed(1)} MB`);
            });

            it(`declares the target platform ${target}`, () => {
                const identity = /<Identity\b[^>]*>/.exec(text("extension.vsixmanifest"))?.[0] ?? "";
                assert.match(identity, new RegExp(`TargetPlatform="${target}"`), identity);
                const manifest = JSON.parse(text("extension/package.json")) as { version: string; icon: string; engines: { vscode: string } };
                assert.equal(manifest.version, version);
                assert.ok(byName.has(`extension/${manifest.icon}`), `the icon ${manifest.icon} is missing`);
                assert.ok(byName.has("extension/dist/extension.js"));
                // The webviews' scripts and styles: the panel (bundled from src/webview/) and the model file view.
                for (const file of ["dist/panel.js", "media/panel.css", "media/modelFile.js"]) assert.ok(byName.has(`extension/${file}`), `${file} is missing`);
            });

            it(`carries the daemon's entry point for ${describeTarget(host)}`, () => {
                const name = daemonEntry(target);
                const entry = byName.get(`extension/daemon/${name}`);
                assert.ok(entry, `no daemon/${name}`);
                const kind = binaryKind(entry.head(HEADER_BYTES));
                const config = text("extension/daemon/cnn-interpret-daemon.runtimeconfig.json");
                if (FRAMEWORK_DEPENDENT.includes(target)) {
                    // Run with the user's dotnet: IL only, and the runtimeconfig names the framework to find.
                    assert.equal(kind?.managed && kind.anyCpu, true, JSON.stringify(kind));
                    assert.match(config, /"framework":\s*\{\s*"name":\s*"Microsoft\.NETCore\.App",\s*"version":\s*"10\./);
                } else {
                    assert.deepEqual(kind && { os: kind.os, arch: kind.arch, managed: kind.managed ?? false }, { os: host.os, arch: host.arch, managed: false });
                    assert.match(config, /"includedFrameworks"/, "self-contained: the .NET runtime is inside");
                    if (host.os !== "win32") assert.ok(entry.mode & 0o100, `daemon/${name} is not executable in the archive (mode ${entry.mode.toString(8)})`);
                }
                for (const other of ["cnn-interpret-daemon", "cnn-interpret-daemon.exe"].filter((n) => n !== name)) {
                    assert.ok(!byName.has(`extension/daemon/${other}`), `daemon/${other} belongs to another platform`);
                }
            });

            it("has native binaries of its platform only, signed and resolvable on macOS", () => {
                const report = checkDaemon(daemonFiles, target);
                assert.deepEqual(report.problems, []);
                assert.ok(report.natives >= 5, `only ${report.natives} native binaries`);
                if (host.os === "darwin") assert.equal(report.signatures, report.natives, "every Mach-O's signature is checked");
                const natives = [...report.kinds].filter(([, k]) => !k.managed).map(([n]) => n);
                const foreign = { linux: /\.(dll|dylib)$/, win32: /\.(so(\.\d+)*|dylib)$/, darwin: /\.(so(\.\d+)*|dll)$/ }[host.os]!;
                assert.deepEqual(natives.filter((n) => foreign.test(n)), [], "native libraries named for another system");
            });

            it("shows README images that exist in the repository's extension/ folder", () => {
                const readme = text("extension/readme.md");
                const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);
                assert.ok(images.length >= 6, `${images.length} images`);
                for (const url of images) {
                    const m = /\/raw\/HEAD\/extension\/(.+)$/.exec(url);
                    assert.ok(m, `${url} is not an image in the repository's extension/ folder`);
                    assert.ok(fs.existsSync(path.join(ext, m[1]!)), `${m[1]} does not exist`);
                }
            });

            it("has models/ inside: the manifest, the default model's weights, samples and resnet18-imagenet's ONNX", () => {
                for (const f of ["models.json", "fashion-vgg.safetensors", "samples/ankle-boot-0.png", "onnx/ResNet18.onnx", "onnx/ResNetPreprocess.onnx"]) {
                    assert.ok(byName.has(`extension/daemon/models/${f}`), `daemon/models/${f} is missing`);
                }
            });
        });
    }
});
