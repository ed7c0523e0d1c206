// The daemon client against the real daemon process (no mock): start, every method the panel uses, the
// daemon's error codes, cancellation, a crash mid-request, automatic restart, and giving up on a crash loop.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as os from "node:os";
import { DaemonClient, DaemonRequestError, DaemonUnavailableError, logDaemonLine, notExecutableHint, type StateChange } from "../../src/daemon";
import { checkRequest } from "../../src/checks";
import { attributionRequest } from "../../src/explainRequests";
import { buildLayerTree } from "../../src/layerModel";
import { parseWebviewMessage, type AttributeMessage } from "../../src/messages";
import { defaultMethodLayer, methodsState, panelMethods } from "../../src/methods";
import { ErrorCodes, type AttributionResult, type MetricsResult, type WorkDoneProgress } from "../../src/protocol";
import { daemonLaunch, memoryLog, samples, waitFor } from "./support";

const boot = path.join(samples, "ankle-boot-0.png");
const bag = path.join(samples, "bag-0.png");
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function isPng(base64: string): boolean {
    return PNG.every((b, i) => Buffer.from(base64.slice(0, 12), "base64")[i] === b);
}

function newClient(overrides: Partial<ConstructorParameters<typeof DaemonClient>[0]> = {}) {
    const log = memoryLog();
    const states: StateChange[] = [];
    const client = new DaemonClient({ resolveLaunch: daemonLaunch, log, restartDelaysMs: [100], ...overrides });
    client.onDidChangeState((s) => states.push(s));
    return { client, log, states };
}

describe("DaemonClient with the real daemon", () => {
    const { client, log, states } = newClient();

    before(async () => {
        assert.ok(fs.existsSync(boot), `sample image missing: ${boot}`);
        await client.start();
    });
    after(() => client.dispose());

    it("starts the daemon and reads daemon/info from the very process it started", () => {
        const info = client.state.info!;
        assert.equal(client.state.state, "running");
        assert.equal(info.processId, client.pid);
        assert.match(info.version, /^\d+\.\d+\.\d+$/);
        assert.ok(info.device.length > 0);
        assert.ok(info.models.some((m) => m.id === "fashion-vgg"));
        assert.deepEqual(states.map((s) => s.state), ["starting", "running"]);
        assert.ok(log.lines.some((l) => /info Daemon .* running: pid \d+/.test(l)), log.lines.join("\n"));
    });

    it("lists and loads fashion-vgg, whose layers make a full tree", async () => {
        const list = await client.request("models/list", undefined);
        assert.equal(list.defaultModel, "fashion-vgg");
        const model = await client.request("models/load", { model: "fashion-vgg" });
        assert.deepEqual(model.inputShape, [1, 28, 28]);
        assert.equal(model.classes.length, 10);
        const tree = buildLayerTree(model);
        assert.deepEqual(tree.blocks.map((b) => b.name).slice(0, 3), ["block1", "block2", "block3"]);
        assert.equal(tree.blocks.flatMap((b) => b.layers).length, model.layers.length);
        assert.equal(tree.blocks.reduce((n, b) => n + b.parameterCount, 0), model.parameterCount);
    });

    it("predicts the top 5 classes of a sample, sorted, with the right top class", async () => {
        const result = await client.request("image/predict", { model: "fashion-vgg", image: boot, topK: 5 });
        assert.equal(result.top.length, 5);
        assert.equal(result.top[0]!.label, "Ankle boot");
        for (let i = 1; i < 5; i++) assert.ok(result.top[i - 1]!.probability >= result.top[i]!.probability);
        assert.equal(result.logits.length, 10);
    });

    it("renders feature maps as a PNG, 64 channels a page, different per layer", async () => {
        const first = await client.request("explain/featureMaps", { model: "fashion-vgg", image: boot, layer: "features.0" });
        assert.ok(isPng(first.png));
        assert.equal(first.layer.name, "features.0");
        assert.deepEqual(first.channels, Array.from({ length: first.layer.outputShape[0]! }, (_, i) => i));
        assert.equal(first.stats.length, first.channels.length);
        assert.equal(first.pageCount, Math.ceil(first.layer.outputShape[0]! / 64));
        const deeper = await client.request("explain/featureMaps", { model: "fashion-vgg", image: boot, layer: "block2_conv1" });
        assert.notEqual(deeper.png, first.png);
        assert.notDeepEqual(deeper.layer.outputShape, first.layer.outputShape);
    });

    it("lists its registry methods, and the panel's generic path runs each through explain/attribution and explain/metrics", async () => {
        const state = methodsState(await client.request("daemon/methods", undefined));
        assert.ok(state.available);
        const names = state.methods.map((m) => m.name);
        assert.ok(names.includes("grad-cam") && names.includes("grad-cam++"), names.join(", "));
        for (const name of names) assert.ok(state.trustMethods.includes(name), `${name} is not in trustMethods`);
        const views = panelMethods(state);
        const registry = new Map(state.methods.map((info) => [info.name, { info, view: views.find((v) => v.name === info.name)! }]));
        const model = await client.request("models/load", { model: "fashion-vgg" });
        const layer = defaultMethodLayer(model.layers)!;
        const context = { layers: new Set(model.layers.map((l) => l.name)), scoreCount: 10, methods: registry };
        for (const view of views.filter((v) => !v.sampling)) {
            // What the webview sends: the form's defaults as they are drawn.
            const values = Object.fromEntries(view.fields.map((f) => [f.name, f.value]));
            const msg = parseWebviewMessage(
                { type: "attribute", id: 1, tab: view.tab, method: view.name, ...(view.needsLayer ? { layer } : {}), target: 9, options: values },
                context,
            ) as AttributeMessage;
            const { method, params } = attributionRequest(msg, boot, "fashion-vgg");
            const result = await client.request<AttributionResult>(method, params);
            assert.ok(isPng(result.png) && isPng(result.heatmapPng), view.name);
            assert.equal(result.method, view.name);
            assert.equal(result.target, "9");
            assert.deepEqual(result.options, msg.options, `${view.name}: the options in use are the ones sent`);
            if (view.needsLayer) assert.equal(result.layer?.name, layer, `${view.name} ran at the panel's default layer`);
            const metrics = parseWebviewMessage({ type: "check", id: 2, check: "metrics", tab: view.tab, method: view.name, layer: msg.layer, target: 9, options: values }, context);
            const check = checkRequest(metrics as never, boot, "fashion-vgg");
            const scored = await client.request<MetricsResult>(check.method, check.params);
            assert.equal(scored.method, view.name);
            assert.ok(scored.deletion.auc >= 0 && scored.deletion.auc <= 1);
        }
    });

    it("returns the daemon's error codes with messages that say what to do", async () => {
        const missing = path.join(samples, "no-such-image.png");
        await assert.rejects(client.request("image/predict", { image: missing }), (e: unknown) => {
            assert.ok(e instanceof DaemonRequestError);
            assert.equal(e.code, ErrorCodes.badImage);
            assert.match(e.message, /no-such-image\.png/);
            return true;
        });
        await assert.rejects(client.request("explain/featureMaps", { image: boot, layer: "features.99" }), (e: unknown) => {
            assert.ok(e instanceof DaemonRequestError);
            assert.equal(e.code, ErrorCodes.unknownLayer);
            assert.equal(e.data?.kind, "UnknownLayer");
            assert.match(e.message, /features\.0/); // lists the valid ones
            return true;
        });
        await assert.rejects(client.request("models/load", { model: "no-such-model" }), (e: unknown) => e instanceof DaemonRequestError && e.code === ErrorCodes.unknownModel);
        await assert.rejects(client.request("explain/noSuchView", { image: boot }), (e: unknown) => e instanceof DaemonRequestError && e.methodNotFound);
        // and it goes on serving
        assert.equal((await client.request("daemon/info", undefined)).processId, client.pid);
    });

    it("names every error code the daemon sends: weights missing (1008) and network (1007) too", async () => {
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "cnn-interpret-cache-")); // no fetched weights
        const { client: fresh } = newClient({ env: { ...process.env, CNN_INTERPRET_CACHE: cache } });
        try {
            await fresh.start();
            await assert.rejects(fresh.request("models/load", { model: "vgg16" }), (e: unknown) => {
                assert.ok(e instanceof DaemonRequestError);
                assert.equal(e.code, ErrorCodes.weightsMissing);
                assert.equal(e.data?.kind, "WeightsMissing");
                return true;
            });
            // Port 9 (discard) has no listener here: the download fails before any byte arrives.
            await assert.rejects(fresh.request("models/fetch", { model: "vgg16", url: "http://127.0.0.1:9/vgg16-397923af.pth" }), (e: unknown) => {
                assert.ok(e instanceof DaemonRequestError);
                assert.equal(e.code, ErrorCodes.network, e.message);
                assert.equal(e.data?.kind, "Network");
                return true;
            });
        } finally {
            await fresh.dispose();
            fs.rmSync(cache, { recursive: true, force: true });
        }
    });

    it("sends each layer's isSpatial, as typed", async () => {
        const model = await client.request("models/load", { model: "fashion-vgg" });
        for (const layer of model.layers) assert.equal(layer.isSpatial, layer.outputShape.length === 3, layer.name);
        assert.ok(model.layers.some((l) => l.isSpatial) && model.layers.some((l) => !l.isSpatial));
    });

    it("does not send a request whose token is already cancelled", async () => {
        const token = { isCancellationRequested: true, onCancellationRequested: () => ({ dispose: () => undefined }) };
        await assert.rejects(client.request("daemon/info", undefined, { token }), (e: unknown) => e instanceof DaemonRequestError && e.cancelled);
    });

    it("fails a request in flight with a clear message when the daemon dies, restarts it, and serves the next request", async () => {
        const before = client.pid!;
        const inFlight = client.request("explain/featureMaps", { model: "fashion-vgg", image: bag, layer: "features.0" });
        process.kill(before, "SIGKILL"); // before the daemon can have decoded the image and run the network
        await assert.rejects(inFlight, (e: unknown) => {
            assert.ok(e instanceof DaemonUnavailableError, String(e));
            assert.match(e.message, /stopped \(killed by SIGKILL\) while answering 'explain\/featureMaps'.*restarted/);
            return true;
        });
        // A request made while it restarts waits for the new process.
        const next = await client.request("explain/featureMaps", { model: "fashion-vgg", image: bag, layer: "features.0" });
        assert.ok(isPng(next.png));
        assert.equal(client.state.state, "running");
        assert.notEqual(client.pid, before);
        assert.deepEqual(states.slice(-2).map((s) => s.state), ["restarting", "running"]);
        assert.match(states.at(-2)!.error!, /killed by SIGKILL/);
    });

    it("restarts by hand, failing what was in flight", async () => {
        const before = client.pid;
        const inFlight = client.request("image/predict", { image: bag });
        const info = await client.restart();
        await inFlight.then(
            () => undefined, // it may have been answered before the restart
            (e: unknown) => assert.match(String(e), /restarted while answering 'image\/predict'/),
        );
        assert.notEqual(info.processId, before);
        assert.equal(client.pid, info.processId);
    });
});

describe("DaemonClient failures", () => {
    it("reports a daemon that is not there, and a request then fails at once", async () => {
        const { client, states } = newClient({
            resolveLaunch: () => ({ command: "/nonexistent/cnn-interpret-daemon", args: [], location: { source: "setting", path: "/nonexistent/cnn-interpret-daemon" } }),
        });
        await assert.rejects(client.start(), /could not be started: .*ENOENT.*Check the path/);
        assert.equal(client.state.state, "failed");
        assert.deepEqual(states.map((s) => s.state), ["starting", "failed"]);
        await assert.rejects(client.request("daemon/info", undefined), (e: unknown) => e instanceof DaemonUnavailableError && e.message.includes("not running"));
        await client.dispose();
    });

    it("says what to do when the daemon cannot be executed: chmod +x, or a file system mounted noexec", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnn-interpret-exec-"));
        try {
            const file = path.join(dir, "cnn-interpret-daemon");
            fs.writeFileSync(file, "#!/bin/sh\nexit 0\n", { mode: 0o644 });
            const { client } = newClient({ resolveLaunch: () => ({ command: file, args: [], location: { source: "setting", path: file } }) });
            await assert.rejects(client.start(), /could not be started: .*EACCES.*not executable \(chmod \+x\)/);
            await client.dispose();
            // The same EACCES for a file that has its executable bits can only come from the mount.
            fs.chmodSync(file, 0o755);
            assert.match(notExecutableHint(file), /mounted noexec.*cnnInterpret\.daemon\.path/);
            assert.match(notExecutableHint(path.join(dir, "missing")), /Check the path/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("reports a daemon that exits during start-up, with its last messages", async () => {
        const script = "console.error('fail: CnnInterpret[0] cannot find the built-in models'); process.exit(3)";
        const { client, log } = newClient({
            resolveLaunch: () => ({ command: process.execPath, args: ["-e", script], location: { source: "environment", path: process.execPath } }),
        });
        await assert.rejects(client.start(), /stopped during start-up \(exit code 3\).*cannot find the built-in models/);
        assert.ok(log.lines.some((l) => l === "error [daemon] CnnInterpret[0] cannot find the built-in models"), log.lines.join("\n"));
        await client.dispose();
    });

    it("passes the launch's extra environment (the cache folder setting) to the daemon", async () => {
        const { client } = newClient({
            resolveLaunch: () => ({
                command: process.execPath,
                args: ["-e", "console.error('cache=' + process.env.CNN_INTERPRET_CACHE); process.exit(4)"],
                location: { source: "setting", path: process.execPath },
                env: { CNN_INTERPRET_CACHE: "/tmp/cnn-cache" },
            }),
        });
        await assert.rejects(client.start(), /exit code 4\).*cache=\/tmp\/cnn-cache/);
        await client.dispose();
    });

    it("gives up after maxCrashes crashes in the window, until restarted by hand", async () => {
        const { client, states, log } = newClient({ maxCrashes: 2, restartDelaysMs: [50] });
        await client.start();
        process.kill(client.pid!, "SIGKILL");
        await waitFor(() => states.filter((s) => s.state === "running").length === 2 || client.state.state === "failed", 60_000, "the first automatic restart");
        assert.equal(client.state.state, "running", `the restart failed:\n${log.lines.join("\n")}`);
        process.kill(client.pid!, "SIGKILL");
        await waitFor(() => client.state.state === "failed", 10_000, "the client to give up");
        assert.match(client.state.error!, /stopped 2 times in 3 minutes .*not restarted again/);
        await assert.rejects(client.request("daemon/info", undefined), DaemonUnavailableError);
        const info = await client.restart();
        assert.equal(client.state.state, "running");
        assert.equal(info.processId, client.pid);
        await client.dispose();
        assert.equal(client.state.state, "stopped");
    });
});

describe("logDaemonLine", () => {
    it("keeps the daemon's log level", () => {
        const log = memoryLog();
        logDaemonLine(log, "14:02:11 info: CnnInterpret.Daemon.RpcServer[0] listening");
        logDaemonLine(log, "14:02:12 warn: X[0] slow");
        logDaemonLine(log, "14:02:13 fail: X[0] Internal error");
        logDaemonLine(log, "dbug: X[0] detail");
        logDaemonLine(log, "   at Foo.Bar()");
        assert.deepEqual(log.lines, [
            "info [daemon] CnnInterpret.Daemon.RpcServer[0] listening",
            "warn [daemon] X[0] slow",
            "error [daemon] X[0] Internal error",
            "debug [daemon] X[0] detail",
            "info [daemon]    at Foo.Bar()",
        ]);
    });
});

describe("DaemonClient progress and cancellation (real daemon)", () => {
    const { client } = newClient();
    before(() => client.start());
    after(() => client.dispose());

    it("forwards the daemon's $/progress for a request to its onProgress, ending at 100%", async () => {
        const events: WorkDoneProgress[] = [];
        const result = await client.request("explain/lime", { image: boot, samples: 300, seed: 1 }, { onProgress: (p) => events.push(p) });
        assert.ok(isPng(result.png));
        assert.equal(result.targetLabel, "Ankle boot");
        assert.ok(events.length >= 1, "no progress");
        assert.equal(events.at(-1)!.kind, "end");
        assert.equal(events.at(-1)!.percentage, 100);
        for (const e of events) assert.ok(e.percentage >= 0 && e.percentage <= 100);
    });

    it("cancels through the token: the daemon stops early and answers with what it has, or with 'cancelled'", async () => {
        let cancel!: () => void;
        const token = {
            isCancellationRequested: false,
            onCancellationRequested(listener: () => unknown) {
                cancel = () => {
                    token.isCancellationRequested = true;
                    listener();
                };
                return { dispose: () => undefined };
            },
        };
        const started = Date.now();
        const events: WorkDoneProgress[] = [];
        const pending = client.request("explain/lime", { image: bag, samples: 100_000, seed: 2 }, {
            token,
            onProgress: (p) => {
                events.push(p);
                if (events.length === 1) cancel();
            },
        });
        const outcome = await pending.then(
            (r) => ({ cancelled: r.cancelled, samples: r.samples }),
            (e: unknown) => ({ error: e }),
        );
        if ("error" in outcome) assert.ok(outcome.error instanceof DaemonRequestError && outcome.error.cancelled, String(outcome.error));
        else assert.ok(outcome.cancelled && outcome.samples < 100_000, JSON.stringify(outcome));
        assert.ok(Date.now() - started < 60_000);
        assert.equal((await client.request("daemon/info", undefined)).processId, client.pid); // still serving
    });
});
