// End to end in a real VS Code: the packaged .vsix installed into code-server, driven by Playwright with
// Debian's Chromium (recipe: shared/docs/vscode-e2e.md). Nothing is mocked: the daemon is the one bundled
// in the .vsix. Screenshots, logs and timings go to out/e2e/ at the repository root.
//
// Needs `npm run package` first (the .vsix) and scripts/e2e-setup.sh (run here; quick once cached).
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type BrowserContext, type FrameLocator, type Locator, type Page } from "playwright-core";

const repoRoot = (() => {
    for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) if (fs.existsSync(path.join(dir, "CnnInterpret.sln"))) return dir;
    throw new Error(`Cannot find the repository root above ${__dirname}`);
})();
const artifacts = path.join(repoRoot, "out", "e2e");
const version = (JSON.parse(fs.readFileSync(path.join(repoRoot, "extension", "package.json"), "utf8")) as { version: string }).version;
const vsix = process.env["CNN_INTERPRET_VSIX"] || path.join(repoRoot, "extension", `cnn-interpret-linux-x64-${version}.vsix`);
const IMAGE = "ankle-boot-0.png";
/** A model file in the workspace, opened "while coding": the embedded model's own weights. */
const MODEL_FILE = "fashion-vgg.safetensors";
/**
 * A user's own ONNX model with a sidecar: a ResNet18 fine-tuned to 5 classes, made by PyTorch into the test-fixtures
 * cache (tests/fixtures/make_user_model_fixtures.py, run by scripts/test-deps.sh).
 */
const USER_ONNX = "resnet18-5.onnx";
const userModelsDir = path.join(
    process.env["CNN_INTERPRET_TEST_FIXTURES"] || path.join(process.env["XDG_CACHE_HOME"] || path.join(os.homedir(), ".cache"), "cnn-interpret", "test-fixtures"),
    "user-models",
);
const SIDECAR_LABELS = ["sky", "grass", "sand", "snow", "sea"];
const FILE_LABELS = ["aster", "bluebell", "crocus", "dahlia", "iris"];

interface Tools {
    NODE24: string;
    CODE_SERVER: string;
    CHROMIUM: string;
}

function tools(): Tools {
    const envFile = execFileSync("bash", [path.join(repoRoot, "scripts", "e2e-setup.sh"), "all"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
    const values = Object.fromEntries(
        fs.readFileSync(envFile, "utf8").split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    ) as Partial<Tools>;
    for (const k of ["NODE24", "CODE_SERVER", "CHROMIUM"] as const) assert.ok(values[k], `${envFile} has no ${k}`);
    return values as Tools;
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer().listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
        server.on("error", reject);
    });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
        const value = await probe();
        if (value !== undefined) return value;
        if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}.`);
        await new Promise((r) => setTimeout(r, 250));
    }
}

/** The image's pixels vary: not blank, not one flat colour (drawn on a canvas inside the webview). */
async function pixelSpread(img: Locator): Promise<{ width: number; height: number; min: number; max: number; distinct: number }> {
    return img.evaluate(async (el: HTMLImageElement) => {
        await el.decode();
        const canvas = document.createElement("canvas");
        canvas.width = el.naturalWidth;
        canvas.height = el.naturalHeight;
        const g = canvas.getContext("2d")!;
        g.drawImage(el, 0, 0);
        const data = g.getImageData(0, 0, canvas.width, canvas.height).data;
        let min = 255;
        let max = 0;
        const seen = new Set<number>();
        for (let i = 0; i < data.length; i += 4) {
            const y = Math.round(0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!);
            min = Math.min(min, y);
            max = Math.max(max, y);
            seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
        }
        return { width: canvas.width, height: canvas.height, min, max, distinct: seen.size };
    });
}

/** `minDistinct`: a map has many colours; a line plot (the faithfulness curves) only a few. */
async function assertNotBlank(img: Locator, what: string, minDistinct = 8): Promise<void> {
    const s = await pixelSpread(img);
    assert.ok(s.width >= 16 && s.height >= 16, `${what}: image is ${s.width}×${s.height}`);
    assert.ok(s.max - s.min >= 32 && s.distinct >= minDistinct, `${what}: the image is (nearly) blank: ${JSON.stringify(s)}`);
}

describe("CNN Interpret in code-server", { timeout: 15 * 60_000 }, () => {
    let t: Tools;
    let tmp: string;
    let workspace: string;
    let extensionsDir: string;
    let userDataDir: string;
    let server: ChildProcess | undefined;
    let context: BrowserContext | undefined;
    let page: Page;
    let panel: FrameLocator;
    const timings: Record<string, number> = {};
    const covered: string[] = [];

    let failed = false;
    /** `it`, remembering a failure so that after() prints what explains it. */
    const step = (name: string, body: () => Promise<void>) =>
        it(name, async () => {
            try {
                await body();
            } catch (e) {
                failed = true;
                throw e;
            }
        });

    const shot = async (name: string) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

    /** The status bar item says "running … process N" (daemon/info's processId). */
    const daemonPid = async (): Promise<number | undefined> => {
        const label = await page.locator('[aria-label^="CNN Interpret daemon running"]').first().getAttribute("aria-label", { timeout: 1000 }).catch(() => null);
        const m = label ? /process (\d+)/.exec(label) : null;
        return m ? Number(m[1]) : undefined;
    };

    /** Daemons started from this test's extension folder (other daemons on the machine are not ours). */
    const ourDaemons = (): number[] => {
        try {
            return execFileSync("pgrep", ["-f", `${extensionsDir}/.*/daemon/cnn-interpret-daemon`], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
        } catch {
            return [];
        }
    };

    before(async () => {
        failed = true; // until set-up succeeds
        assert.ok(fs.existsSync(vsix), `No .vsix at ${vsix}: run 'npm run package' first.`);
        t = tools();
        fs.rmSync(artifacts, { recursive: true, force: true });
        fs.mkdirSync(artifacts, { recursive: true });
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cnn-interpret-e2e-"));
        workspace = path.join(tmp, "workspace");
        // Inside the repository, not the temp folder: CI machines often mount /tmp noexec, and the bundled
        // daemon must be executable where VS Code installs it (the repository's own build runs from here).
        extensionsDir = path.join(repoRoot, "out", "e2e-extensions");
        fs.rmSync(extensionsDir, { recursive: true, force: true });
        userDataDir = path.join(tmp, "user-data");
        for (const d of [workspace, extensionsDir, path.join(userDataDir, "User"), path.join(tmp, "xdg-config"), path.join(tmp, "xdg-data"), path.join(tmp, "xdg-cache"), path.join(tmp, "tmp")]) {
            fs.mkdirSync(d, { recursive: true });
        }
        fs.copyFileSync(path.join(repoRoot, "models", "samples", IMAGE), path.join(workspace, IMAGE));
        fs.copyFileSync(path.join(repoRoot, "models", MODEL_FILE), path.join(workspace, MODEL_FILE));
        assert.ok(fs.existsSync(path.join(userModelsDir, USER_ONNX)), `${path.join(userModelsDir, USER_ONNX)} is missing: scripts/test-deps.sh makes it`);
        fs.copyFileSync(path.join(userModelsDir, USER_ONNX), path.join(workspace, USER_ONNX));
        fs.writeFileSync(path.join(workspace, `${USER_ONNX}.json`), JSON.stringify({ preset: "imagenet", labels: SIDECAR_LABELS }));
        fs.writeFileSync(path.join(workspace, "flowers.txt"), `${FILE_LABELS.join("\n")}\n`);
        fs.writeFileSync(
            path.join(userDataDir, "User", "settings.json"),
            JSON.stringify({
                "telemetry.telemetryLevel": "off",
                "update.mode": "none",
                "extensions.autoCheckUpdates": false,
                "extensions.autoUpdate": false,
                "workbench.startupEditor": "none",
                "workbench.secondarySideBar.defaultVisibility": "hidden",
                "workbench.tips.enabled": false,
                "security.workspace.trust.enabled": false,
                "chat.disableAIFeatures": true,
                "git.enabled": false,
            }),
        );
        const port = await freePort();
        const config = path.join(tmp, "config.yaml");
        fs.writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
        const env: NodeJS.ProcessEnv = {
            ...process.env,
            PATH: `${path.dirname(t.NODE24)}:${process.env["PATH"]}`,
            XDG_CONFIG_HOME: path.join(tmp, "xdg-config"),
            XDG_DATA_HOME: path.join(tmp, "xdg-data"),
            XDG_CACHE_HOME: path.join(tmp, "xdg-cache"),
            TMPDIR: path.join(tmp, "tmp"),
        };
        delete env["CNN_INTERPRET_DAEMON"]; // the bundled daemon, as a user gets it
        delete env["CNN_INTERPRET_MODELS_DIR"];
        const common = ["--config", config, "--user-data-dir", userDataDir, "--extensions-dir", extensionsDir];

        let started = Date.now();
        execFileSync(t.NODE24, [t.CODE_SERVER, ...common, "--install-extension", vsix, "--force"], { env, stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
        timings["installVsixMs"] = Date.now() - started;

        started = Date.now();
        const log = fs.openSync(path.join(artifacts, "code-server.log"), "w");
        server = spawn(
            t.NODE24,
            [t.CODE_SERVER, ...common, "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override", "--ignore-last-opened", workspace],
            { env, detached: true, stdio: ["ignore", log, log] }, // its own process group: killed as a whole in after()
        );
        await until("code-server's /healthz", 120_000, async () => {
            try {
                return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined;
            } catch {
                return undefined;
            }
        });
        context = await chromium.launchPersistentContext(path.join(tmp, "chromium"), {
            executablePath: t.CHROMIUM,
            headless: true,
            viewport: { width: 1600, height: 1000 },
            args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        });
        page = context.pages()[0] ?? (await context.newPage());
        await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
        await page.locator(".monaco-workbench").waitFor({ timeout: 120_000 });
        timings["workbenchReadyMs"] = Date.now() - started;
        failed = false;
    });

    /** What a failed run needs to be understood from its console output alone (CI keeps nothing else). */
    const diagnose = async () => {
        const lines = ["--- e2e diagnostics ---"];
        if (page) {
            const labels = await page.locator('[aria-label^="CNN Interpret daemon"]').evaluateAll((els) => els.map((e) => e.getAttribute("aria-label"))).catch((e: Error) => [e.message]);
            lines.push(`status bar: ${labels.join(" | ") || "(no CNN Interpret item)"}`);
            const view = await panel?.locator("#view").textContent({ timeout: 2_000 }).catch(() => null);
            lines.push(`panel #view: ${view?.trim().slice(0, 500) ?? "(no panel)"}`);
        }
        try {
            lines.push(`mount of the extensions folder: ${execFileSync("findmnt", ["-n", "-o", "TARGET,FSTYPE,OPTIONS", "-T", extensionsDir], { encoding: "utf8" }).trim()}`);
        } catch {
            // findmnt missing: not worth failing over
        }
        for (const file of fs.existsSync(artifacts) ? fs.readdirSync(artifacts).filter((f) => f.endsWith(".log")) : []) {
            const tail = fs.readFileSync(path.join(artifacts, file), "utf8").split("\n").filter(Boolean).slice(-25);
            lines.push(`${file} (last ${tail.length} lines):`, ...tail.map((l) => `  ${l.slice(0, 400)}`));
        }
        console.log(lines.join("\n"));
    };

    after(async () => {
        fs.writeFileSync(path.join(artifacts, "timings.json"), JSON.stringify({ ...timings, covered }, null, 2) + "\n");
        if (page) await shot("zz-last").catch(() => undefined);
        // the extension's log and the extension host's, for reading after a failure
        if (userDataDir && fs.existsSync(path.join(userDataDir, "logs"))) {
            for (const file of fs.readdirSync(path.join(userDataDir, "logs"), { recursive: true, encoding: "utf8" }).filter((f) => /CNN Interpret\.log$|exthost\.log$/.test(f))) {
                fs.copyFileSync(path.join(userDataDir, "logs", file), path.join(artifacts, path.basename(file)));
            }
        }
        if (failed) await diagnose().catch((e: Error) => console.log(`diagnostics failed: ${e.message}`));
        await context?.close().catch(() => undefined);
        if (server?.pid) {
            try {
                process.kill(-server.pid, "SIGTERM");
            } catch {
                // already gone
            }
        }
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
        if (extensionsDir) fs.rmSync(extensionsDir, { recursive: true, force: true, maxRetries: 3 });
    });

    step("right-click → Explain with CNN Interpret opens the panel with the prediction and feature maps", async () => {
        // The remote extension host registers the extension's menus a few seconds after the workbench shows.
        await page.locator('.activitybar .action-label[aria-label^="CNN Interpret"]').waitFor({ timeout: 60_000 });
        const row = page.locator(".explorer-folders-view .monaco-list-row", { hasText: IMAGE });
        await row.waitFor({ timeout: 60_000 });
        await row.click({ button: "right" });
        const item = page.getByRole("menuitem", { name: "Explain with CNN Interpret" });
        await item.waitFor({ timeout: 30_000 });
        const clicked = Date.now();
        await item.click();

        panel = page.frameLocator("iframe.webview.ready").first().frameLocator("iframe#active-frame");
        const img = panel.locator('#view[data-state="ready"] #view-img');
        await img.waitFor({ timeout: 120_000 });
        await img.evaluate((el: HTMLImageElement) => el.decode());
        timings["rightClickToFirstImageMs"] = Date.now() - clicked;

        await panel.locator("#predictions .class-row").nth(4).waitFor({ timeout: 60_000 });
        const labels = await panel.locator("#predictions .class-row .label").allTextContents();
        assert.equal(labels.length, 5);
        assert.equal(labels[0], "Ankle boot", `top-5: ${labels.join(", ")}`);
        const probabilities = (await panel.locator("#predictions .class-row .prob").allTextContents()).map((p) => parseFloat(p));
        assert.ok(probabilities[0]! > 50, `top probability ${probabilities[0]}%`);
        assert.match((await panel.locator("#caption").textContent()) ?? "", /block1_conv1 \(features\.0\)/);
        await assertNotBlank(img, "feature maps of block1_conv1");
        const thumb = panel.locator("header img.thumb");
        await assertNotBlank(thumb, "the image itself");
        covered.push("explain from the explorer", "predictions", "feature maps");
        await shot("01-explain-feature-maps");
    });

    step("a click on a channel of the feature maps opens it large, with its figures; arrow keys step through the channels", async () => {
        const grid = panel.locator('#view[data-tab="featureMaps"][data-state="ready"] #view-img');
        // block1_conv1's 16 channels of 28×28: 8 columns of 56-pixel cells (scale 2) with 2 pixels between and 4 around,
        // so channel 5's middle is at (4 + 5·58 + 28, 4 + 28) in the picture; the panel shows the picture at its own width.
        const { natural, shown } = await grid.evaluate((el: HTMLImageElement) => ({ natural: el.naturalWidth, shown: el.getBoundingClientRect().width }));
        assert.ok(shown > natural, `the grid uses the panel's width: ${natural} px shown at ${shown.toFixed(0)}`);
        const scale = shown / natural;
        await grid.click({ position: { x: (4 + 5 * 58 + 28) * scale, y: (4 + 28) * scale } });
        const zoom = panel.locator("#channel-zoom");
        await zoom.waitFor({ timeout: 10_000 });
        assert.equal(await panel.locator("#zoom-title").textContent(), "Channel 5 of block1_conv1");
        const stats = (await panel.locator("#zoom-stats").textContent()) ?? "";
        assert.match(stats, /Min-?[\d.]+Max-?[\d.]+Mean-?[\d.]+Std[\d.]+Top atrow \d+, column \d+/, stats);
        const frame = await panel.locator(".zoom-frame").evaluate((el) => el.getBoundingClientRect().width);
        assert.ok(frame > 300, `the channel is shown large: ${frame.toFixed(0)} px wide`);
        await zoom.focus();
        await zoom.press("ArrowRight");
        await panel.locator("#zoom-title", { hasText: "Channel 6 of block1_conv1" }).waitFor({ timeout: 5_000 });
        await zoom.press("ArrowLeft");
        await panel.locator("#zoom-title", { hasText: "Channel 5 of block1_conv1" }).waitFor({ timeout: 5_000 });
        assert.equal(await zoom.evaluate((el) => el === document.activeElement), true, "the zoomed channel keeps the focus while stepping");
        await assertNotBlank(panel.locator("#zoom-img"), "the channel opened large");
        covered.push(`channel zoom: ${stats}`);
        await zoom.scrollIntoViewIfNeeded();
        await shot("01b-channel-zoom");
        await zoom.press("Escape");
        await zoom.waitFor({ state: "detached", timeout: 5_000 });
    });

    step("shows each view, the registry's groups among them: a non-blank image, or plainly that the daemon does not have it yet", async () => {
        // The fixed views, and one tab per group of the daemon's registry methods (daemon/methods): CAM replaces Grad-CAM.
        const shown = (await panel.getByRole("tab").allTextContents()).map((t) => t.trim());
        assert.ok(shown.includes("CAM") && !shown.includes("Grad-CAM"), `tabs: ${shown.join(", ")}`);
        assert.equal(await panel.locator("#methods-note").count(), 0, "this daemon has the registry: no note about hidden methods");
        covered.push(`tabs: ${shown.join(", ")}`);
        const tabs = [...shown.filter((t) => t !== "Feature maps"), "Feature maps"];
        for (const [i, title] of tabs.entries()) {
            const started = Date.now();
            await panel.getByRole("tab", { name: title }).click();
            const view = panel.locator("#view");
            const state = await until(`the ${title} view`, 240_000, async () => {
                const s = await view.getAttribute("data-state");
                const tab = await view.getAttribute("data-tab");
                const selected = await panel.getByRole("tab", { name: title }).getAttribute("aria-selected");
                return selected === "true" && tab && s && s !== "loading" && s !== "idle" ? s : undefined;
            });
            const text = (await view.textContent()) ?? "";
            if (state === "ready") {
                await assertNotBlank(view.locator("#view-img"), title);
                covered.push(title);
                timings[`view ${title} ms`] = Date.now() - started;
            } else {
                assert.equal(state, "unavailable", `${title}: ${text}`);
                assert.match(text, new RegExp(`${title} is not available yet: this daemon has no 'explain/\\w+' method`));
                covered.push(`${title} (not in this daemon: says so)`);
            }
            // The tabs at the top: the view's controls and as much of its picture as fits.
            await panel.locator(".tabs").evaluate((el) => el.scrollIntoView({ block: "start" }));
            await shot(`02-view-${i + 1}-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`);
        }
    });

    step("scores the Grad-CAM map's faithfulness, and the layer sweep opens Grad-CAM at a layer", async () => {
        await panel.getByRole("tab", { name: "CAM", exact: true }).click();
        await panel.locator('#view[data-tab="cam"][data-state="ready"] #view-img').waitFor({ timeout: 240_000 });
        assert.equal(await panel.locator("#method").inputValue(), "grad-cam", "the CAM tab starts with Grad-CAM");
        assert.match((await panel.locator("#caption").textContent()) ?? "", /^Grad-CAM of Ankle boot \(9\) at \w+ \(features\.\d+\)/);
        const line = panel.locator("#metrics-line");
        await line.waitFor({ timeout: 240_000 });
        const text = (await line.textContent()) ?? "";
        assert.match(text, /^Deletion AUC [\d.]+ vs random [\d.]+ · Insertion AUC [\d.]+ vs random [\d.]+ — /);
        assert.ok(text.includes("AUC"));
        await assertNotBlank(panel.locator("#metrics-img"), "the deletion and insertion curves", 3);
        covered.push(`Grad-CAM faithfulness: ${text}`);
        await panel.locator("#metrics").scrollIntoViewIfNeeded();
        await shot("05-grad-cam-scores");

        await panel.locator("#sweep-btn").click();
        const sweep = panel.locator('#layer-sweep[data-state="ready"] #sweep-img');
        await sweep.waitFor({ timeout: 240_000 });
        await assertNotBlank(sweep, "the layer sweep");
        const names = await panel.locator("#layer-sweep .sweep-layers button").allTextContents();
        assert.ok(names.length >= 2 && names.includes("block2_conv1_relu"), `layers of the sweep: ${names.join(", ")}`);
        await panel.locator("#layer-sweep").scrollIntoViewIfNeeded();
        await shot("06-layer-sweep");
        await panel.locator("#layer-sweep .sweep-layers").getByRole("button", { name: "block2_conv1_relu", exact: true }).click();
        await panel.locator("#caption", { hasText: "at block2_conv1_relu (" }).waitFor({ timeout: 120_000 });
        await assertNotBlank(panel.locator('#view[data-state="ready"] #view-img'), "Grad-CAM at block2_conv1_relu from the sweep");
        covered.push("layer sweep → Grad-CAM at a layer");

        await panel.locator("#sanity-btn").click();
        const verdict = panel.locator('#sanity[data-state="ready"] #sanity-verdict');
        await verdict.waitFor({ timeout: 240_000 });
        const stages = await panel.locator("#sanity .stages li").allTextContents();
        assert.ok(stages.length >= 2 && stages.every((s) => /: (ρ -?[\d.]+|flat map)$/.test(s)), `stages: ${stages.join(" | ")}`);
        await assertNotBlank(panel.locator("#sanity-img"), "the sanity check's strip");
        covered.push(`sanity check: ${(await verdict.textContent()) ?? ""}`);
        await panel.locator("#sanity").scrollIntoViewIfNeeded();
        await shot("07-sanity-check");
    });

    /**
     * A registry method through the panel's generic path: picked in its group's tab, its form filled from `values` (by
     * option name), the map drawn and scored, exported as .npy [H,W]. Returns the view's caption.
     */
    const runMethod = async (tab: string, method: string, values: Record<string, string> = {}, shotName = `10-${method}`) => {
        await panel.getByRole("tab", { name: tab, exact: true }).click();
        await panel.locator("#method").selectOption(method);
        for (const [name, value] of Object.entries(values)) {
            const field = panel.locator(`#method-form #mopt-${name}`);
            if ((await field.evaluate((el) => el.tagName)) === "SELECT") await field.selectOption(value);
            else {
                await field.fill(value);
                await field.dispatchEvent("change");
            }
        }
        const label = (await panel.locator(`#method option[value="${method}"]`).textContent())!.trim();
        const caption = panel.locator('#view[data-state="ready"] #caption', { hasText: `${label} of ` });
        await caption.waitFor({ timeout: 240_000 });
        const text = (await caption.textContent()) ?? "";
        for (const value of Object.values(values)) assert.ok(text.includes(value), `the caption shows the options in use: ${text}`);
        const img = panel.locator('#view[data-state="ready"] #view-img');
        await assertNotBlank(img, `${label}'s map`);
        assert.ok(((await panel.locator("#method-paper").textContent()) ?? "").length > 10, "the method's paper is cited");
        await panel.locator("#show-heatmap").click();
        await assertNotBlank(panel.locator('#view[data-state="ready"] #view-img'), `${label}'s heatmap`);
        await panel.locator("#show-overlay").click();
        // The faithfulness score: at once for a quick method, on a click for a sampling one.
        if ((await panel.locator("#metrics-line").count()) === 0) {
            const compute = panel.getByRole("button", { name: "Compute faithfulness" });
            if (await compute.count()) await compute.click();
        }
        const line = panel.locator("#metrics-line");
        await line.waitFor({ timeout: 240_000 });
        assert.match((await line.textContent()) ?? "", /^Deletion AUC [\d.]+ vs random [\d.]+ · Insertion AUC/);
        await panel.locator("#view").scrollIntoViewIfNeeded();
        await shot(shotName);

        await panel.getByRole("button", { name: "Export the view as a NumPy .npy file", exact: true }).click();
        const input = page.locator(".quick-input-widget input");
        await input.waitFor({ timeout: 30_000 });
        const file = `ankle-boot-0-${method}`;
        await until("the dialog to offer the method's file", 30_000, async () => ((await input.inputValue()).includes(`/workspace/${file}`) ? true : undefined));
        await input.press("Enter");
        const exported = await until(`the exported ${file}*.npy`, 30_000, () => fs.readdirSync(workspace).find((f) => f.startsWith(file) && f.endsWith(".npy")));
        const npy = fs.readFileSync(path.join(workspace, exported));
        const header = npy.subarray(10, 10 + npy.readUInt16LE(8)).toString("latin1");
        assert.match(header, /'descr': '<f4'.*'shape': \(28, 28\)/, `${exported}: the map [H,W] at the input's resolution`);
        covered.push(`${label} (${tab} tab): ${text} → ${exported}`);
        return text;
    };

    step("runs a registry method other than Grad-CAM through the generic path: picker, map, score, .npy", async () => {
        await runMethod("CAM", "grad-cam++");
        // Once the gradient methods are in the daemon, a method with a form: integrated gradients at 16 steps.
        const gradients = panel.getByRole("tab", { name: "Gradients", exact: true });
        if (await gradients.count()) {
            await gradients.click();
            if ((await panel.locator('#method option[value="integrated-gradients"]').count()) > 0) {
                await runMethod("Gradients", "integrated-gradients", { steps: "16" }, "11-integrated-gradients");
                const figures = (await panel.locator("#figures").textContent()) ?? "";
                assert.match(figures, /Completeness error/i, `figures: ${figures}`);
            }
        }
        await panel.getByRole("tab", { name: "CAM", exact: true }).click();
        await panel.locator("#method").selectOption("grad-cam");
        await panel.locator('#view[data-tab="cam"][data-state="ready"] #caption', { hasText: "Grad-CAM of " }).waitFor({ timeout: 120_000 });
    });

    step("compares two views side by side with one zoom for both", async () => {
        await panel.locator("#compare-btn").click();
        await panel.locator("#compare-left").waitFor({ timeout: 10_000 });
        await panel.locator("#layer").selectOption({ label: (await panel.locator("#layer option", { hasText: "block3_conv1_relu" }).first().textContent()) ?? "" });
        const right = panel.locator("#compare #view-img");
        await right.waitFor({ timeout: 120_000 });
        await panel.locator("#zoom").fill("2");
        const widths = async () =>
            Promise.all(["#compare-left", "#compare #view-img"].map((sel) => panel.locator(sel).evaluate((el: HTMLImageElement) => [el.naturalWidth, el.getBoundingClientRect().width] as const)));
        const both = await until("both panes at 2×", 10_000, async () => {
            const w = await widths();
            return w.every(([n, css]) => n > 0 && Math.abs(css - 2 * n) <= 2) ? w : undefined;
        });
        assert.equal(both.length, 2);
        await assertNotBlank(right, "the right pane of Compare");
        covered.push("compare with linked zoom");
        await panel.locator("#compare").scrollIntoViewIfNeeded();
        await shot("08-compare");
        await panel.getByRole("button", { name: "Close compare" }).click();
        await panel.locator("#compare").waitFor({ state: "detached", timeout: 10_000 });
    });

    step("clicking a layer in the Layers tree changes the feature maps", async () => {
        await panel.getByRole("tab", { name: "Feature maps" }).click();
        const img = panel.locator('#view[data-state="ready"] #view-img');
        await img.waitFor({ timeout: 60_000 });
        const before = await img.getAttribute("src");

        await page.locator('.activitybar .action-label[aria-label^="CNN Interpret"]').click();
        const layer = page.locator('.monaco-list-row[aria-label^="block2_conv1,"]');
        await layer.waitFor({ timeout: 60_000 });
        await layer.click();

        await panel.locator("#caption", { hasText: "block2_conv1 (features.5)" }).or(panel.locator("#caption", { hasText: "block2_conv1 (" })).waitFor({ timeout: 60_000 });
        const after = await img.getAttribute("src");
        assert.notEqual(after, before, "the feature maps did not change");
        assert.match((await panel.locator("#layer").inputValue()) ?? "", /^features\.\d+$/);
        await assertNotBlank(img, "feature maps of block2_conv1");
        covered.push("Layers tree → panel");
        await shot("03-layer-from-tree");
    });

    step("runs the sanity check on the LIME view too", async () => {
        await panel.getByRole("tab", { name: "LIME" }).click();
        await panel.locator('#view[data-tab="lime"][data-state="ready"] #view-img').waitFor({ timeout: 120_000 });
        await panel.locator("#sanity-btn").click();
        const verdict = panel.locator('#sanity[data-state="ready"] #sanity-verdict');
        await verdict.waitFor({ timeout: 240_000 });
        const stages = await panel.locator("#sanity .stages li").allTextContents();
        assert.ok(stages.length >= 2 && stages.every((s) => /: (ρ -?[\d.]+|flat map)$/.test(s)), `stages: ${stages.join(" | ")}`);
        await assertNotBlank(panel.locator("#sanity-img"), "the LIME sanity strip");
        covered.push(`LIME sanity check: ${(await verdict.textContent()) ?? ""}`);
        await panel.locator("#sanity").scrollIntoViewIfNeeded();
        await shot("07b-lime-sanity-check");
    });

    step("exports the feature maps as PNG and .npy where the user saves them", async () => {
        await panel.getByRole("tab", { name: "Feature maps" }).click();
        await panel.locator('#view[data-tab="featureMaps"][data-state="ready"] #view-img').waitFor({ timeout: 60_000 });
        const exported = (extension: string) => fs.readdirSync(workspace).filter((f) => f.startsWith("ankle-boot-0-featureMaps-") && f.endsWith(extension));
        for (const [label, extension] of [["Export the view as PNG", ".png"], ["Export the view as a NumPy .npy file", ".npy"]] as const) {
            await panel.getByRole("button", { name: label, exact: true }).click();
            // VS Code's own save dialog (a quick input in the browser), offering the image's folder: accept it.
            const input = page.locator(".quick-input-widget input");
            await input.waitFor({ timeout: 30_000 });
            const offered = new RegExp(`/workspace/ankle-boot-0-featureMaps-features\\.\\d+\\${extension}$`);
            await until("the dialog to offer the image's folder", 30_000, async () => (offered.test(await input.inputValue()) ? true : undefined));
            await input.press("Enter");
            await until(`the exported ${extension}`, 30_000, () => (exported(extension).length ? true : undefined));
        }
        const png = fs.readFileSync(path.join(workspace, exported(".png")[0]!));
        assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        const npy = fs.readFileSync(path.join(workspace, exported(".npy")[0]!));
        assert.equal(npy.subarray(1, 6).toString("latin1"), "NUMPY");
        const header = npy.subarray(10, 10 + npy.readUInt16LE(8)).toString("latin1");
        assert.match(header, /'descr': '<f4'.*'shape': \(\d+, \d+, \d+\)/); // [C, H, W] of the layer shown
        covered.push(`export: ${exported(".png")[0]}, ${exported(".npy")[0]} (${header.match(/\(.*\)/)?.[0]})`);
    });

    step("restarts the daemon when it is killed in the middle of a LIME, and the next request works", async () => {
        const pid = await until("the daemon's pid in the status bar", 30_000, daemonPid);
        const status = page.locator('[aria-label^="CNN Interpret daemon running"]').first();
        assert.match((await status.getAttribute("aria-label")) ?? "", /model fashion-vgg, device cpu, process \d+/);
        assert.match((await status.textContent()) ?? "", /fashion-vgg · cpu/);
        assert.deepEqual(ourDaemons(), [pid], "the status bar's pid is the daemon process");

        // A LIME long enough to be caught running: 50,000 samples (about 15 s here).
        await panel.getByRole("tab", { name: "LIME" }).click();
        const samples = panel.locator("#opt-samples");
        await samples.fill("50000");
        await samples.dispatchEvent("change");
        await panel.locator('#view[data-tab="lime"][data-state="loading"] .progress progress[value]').waitFor({ timeout: 60_000 });
        // Typing into Samples while it runs: the progress ticks (and partial maps) leave the text and the focus alone.
        await samples.fill("12345"); // typed, not committed (no change event yet)
        const meter = panel.locator("#view-progress progress");
        const first = Number(await meter.getAttribute("value"));
        await until("two more progress ticks", 60_000, async () => (Number(await meter.getAttribute("value")) > first + 1 ? true : undefined));
        assert.equal(await samples.inputValue(), "12345", "a progress tick wiped what was typed into Samples");
        assert.equal(await samples.evaluate((el) => el === document.activeElement), true, "a progress tick took the focus from Samples");
        covered.push("typing into Samples while a LIME runs keeps the text and the focus");
        await shot("04a-typing-while-lime-runs");
        const killed = Date.now();
        process.kill(pid, "SIGKILL");

        const failed = panel.locator('#view[data-tab="lime"][data-state="error"] .error');
        await failed.waitFor({ timeout: 30_000 });
        assert.match((await failed.textContent()) ?? "", /daemon stopped .*while answering 'explain\/lime'.*run the action again/i);
        const restarted = await until("a new daemon", 120_000, async () => {
            const p = await daemonPid();
            return p !== undefined && p !== pid ? p : undefined;
        });
        timings["daemonRestartMs"] = Date.now() - killed;
        assert.deepEqual(ourDaemons(), [restarted]);
        await shot("04-lime-killed-then-restarted");

        await samples.fill("300");
        await samples.dispatchEvent("change");
        await panel.locator('#view[data-tab="lime"][data-state="ready"] #view-img').waitFor({ timeout: 120_000 });
        covered.push("daemon killed during LIME → the view says so → restarted → LIME served");

        await panel.getByRole("tab", { name: "Feature maps" }).click();
        await panel.locator('#view[data-tab="featureMaps"][data-state="ready"] #view-img').waitFor({ timeout: 60_000 });
        const img = panel.locator('#view[data-state="ready"] #view-img');
        const before = await img.getAttribute("src");
        await page.locator('.monaco-list-row[aria-label^="block3_conv1,"]').click();
        await panel.locator("#caption", { hasText: "block3_conv1 (" }).waitFor({ timeout: 60_000 });
        assert.notEqual(await img.getAttribute("src"), before);
        await assertNotBlank(img, "feature maps of block3_conv1 after the restart");
        covered.push("daemon restarted → feature maps from the tree served");
        await shot("04-after-daemon-restart");
    });
    step("opening a model file shows its layers, and it can become the active model", async () => {
        await page.locator('.activitybar .action-label[aria-label^="Explorer"]').click();
        const row = page.locator(".explorer-folders-view .monaco-list-row", { hasText: MODEL_FILE });
        await row.waitFor({ timeout: 30_000 });
        await row.dblclick();
        // The model file's own webview: the frame whose page holds the layers table.
        const table = await until("the model file's layers", 120_000, async () => {
            for (const frame of page.frames()) {
                const t = frame.locator("table.layers");
                if ((await t.count().catch(() => 0)) > 0) return { frame, rows: t.locator("tbody tr") };
            }
            return undefined;
        });
        assert.equal(await table.rows.count(), 24);
        assert.ok(((await table.frame.locator("h1").textContent()) ?? "").includes(MODEL_FILE));
        assert.deepEqual(await table.rows.first().locator("td").allTextContents(), ["block1", "block1_conv1", "features.0", "Conv2d", "16×28×28", "160"]);
        await shot("09-model-file");
        await table.frame.getByRole("button", { name: "Use as active model" }).click();
        await table.frame.getByRole("button", { name: "Active model" }).waitFor({ timeout: 60_000 });
        await page.locator('[aria-label^="CNN Interpret daemon running"]', { hasText: MODEL_FILE }).first().waitFor({ timeout: 60_000 });
        covered.push("model file opened → layers → active model");
    });
    step("a user's .onnx shows the preprocessing of its sidecar; the form writes a labels file into it; the panel predicts with those labels", async () => {
        // The Explorer's icon toggles the side bar: click it only when the explorer is not showing already.
        if (!(await page.locator(".explorer-folders-view").isVisible())) await page.locator('.activitybar .action-label[aria-label^="Explorer"]').click();
        const row = page.locator(".explorer-folders-view .monaco-list-row", { hasText: USER_ONNX }).filter({ hasNotText: ".json" });
        await row.waitFor({ timeout: 30_000 });
        await row.dblclick();
        const view = await until("the user model's preprocessing", 120_000, async () => {
            for (const frame of page.frames()) {
                const names = frame.locator("#class-names");
                if (((await names.textContent({ timeout: 500 }).catch(() => null)) ?? "").includes("sky")) return frame;
            }
            return undefined;
        });
        assert.equal(await view.locator("#class-names").textContent(), `Classes: ${SIDECAR_LABELS.join(", ")}`);
        // The preset row: its value and where it came from (the sidecar, over the labels in the file's metadata_props).
        const presetRow = await view.locator("table.preprocessing tbody tr").first().locator("th, td").allTextContents();
        assert.deepEqual(presetRow, ["preset", "imagenet", `${USER_ONNX}.json`]);
        await shot("11-user-model-preprocessing");

        await view.locator("#labels-file").fill(path.join(workspace, "flowers.txt"));
        await view.getByRole("button", { name: `Save to ${USER_ONNX}.json` }).click();
        await until("the labels file's names in the view", 60_000, async () =>
            ((await view.locator("#class-names").textContent({ timeout: 500 }).catch(() => null)) ?? "").includes("aster") ? true : undefined);
        const sidecar = JSON.parse(fs.readFileSync(path.join(workspace, `${USER_ONNX}.json`), "utf8")) as Record<string, unknown>;
        assert.deepEqual(sidecar, { preset: "imagenet", labelsFile: "flowers.txt" });

        await view.getByRole("button", { name: "Use as active model" }).click();
        await page.locator('[aria-label^="CNN Interpret daemon running"]', { hasText: USER_ONNX }).first().waitFor({ timeout: 60_000 });
        const image = page.locator(".explorer-folders-view .monaco-list-row", { hasText: IMAGE });
        await image.click({ button: "right" });
        await page.getByRole("menuitem", { name: "Explain with CNN Interpret" }).click();
        // Any webview frame: the model file's view is a webview too, so the panel need not be the first.
        const labels = await until("the panel's predictions with the labels file's names", 120_000, async () => {
            for (const frame of page.frames()) {
                const texts = await frame.locator("#predictions .class-row .label").allTextContents().catch(() => []);
                if (texts.length === 5 && texts.every((l) => FILE_LABELS.includes(l))) return texts;
            }
            return undefined;
        });
        assert.deepEqual([...labels].sort(), FILE_LABELS);
        await shot("12-user-model-predictions");
        covered.push("user .onnx + sidecar → preprocessing shown → sidecar written by the form → labels in the panel");
    });
});
