// The contract between the extension and the daemon, method by method, through the real daemon. Each case is a
// request as the extension builds it (with its own functions, from the messages the panel sends) and:
//   - every field it sends changes what the daemon computes (another value gives another answer), or a wrong value
//     is refused (which proves the daemon reads it), or it is listed under `ignored` with why;
//   - every field the extension reads of the answer is there (the extension's own readers run on a copy of the
//     answer that notes each property read), unless listed under `optionalReads` (read only when present);
//   - a check of a LIME or SHAP view reuses that view's samples (it explains the map as the view asked for it).
// A field added to a request without an entry here fails the test, as does a daemon that stops using one.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { checkRequest, checkView, type CheckMessage } from "../../src/checks";
import { DaemonClient, DaemonRequestError } from "../../src/daemon";
import { attributionCaption, attributionFigures, caption, defaultLayers, explainRequest, gridCells, viewImages, attributionRequest, type ExplainMessage } from "../../src/explainRequests";
import { buildLayerTree } from "../../src/layerModel";
import { COLORMAPS, panelLayer, parseWebviewMessage, scoreCount, type AttributeMessage, type RegistryMethod, type TabId, type ValidationContext } from "../../src/messages";
import { defaultMethodLayer, methodsState, panelMethods, type MethodsState } from "../../src/methods";
import { describeMemory } from "../../src/memory";
import { fitOffers } from "../../src/models";
import { ErrorCodes, type MethodInfo, type MethodOption, type ModelDetails, type WorkDoneProgress } from "../../src/protocol";
import { daemonLaunch, memoryLog, samples } from "./support";

const boot = path.join(samples, "ankle-boot-0.png");
const bag = path.join(samples, "bag-0.png");
const MODEL = "fashion-vgg";

/** Another value of a field: it must change the answer, or be refused with this error code. */
interface Variant {
    value: unknown;
    refused?: number;
}

interface Case {
    name: string;
    method: string;
    params: Record<string, unknown>;
    /** The extension asks with a progress callback (the client adds a workDoneToken). */
    progress?: boolean;
    /** By field (a registry method's option: "options.NAME"). */
    variants: Record<string, Variant>;
    /** Fields sent that the daemon does not use, and why. */
    ignored?: Record<string, string>;
    /** What the extension reads of the answer (its own functions, and what panel.ts reads by hand). */
    read: (result: never) => unknown;
    /** Paths read only when present ("hint": only an empty Grad-CAM map has one). */
    optionalReads?: string[];
}

type Answer = ({ result: unknown } | { error: DaemonRequestError }) & { progress: WorkDoneProgress[] };

/** What a field may change: the answer without its timing. */
function digest(answer: Answer): string {
    if ("error" in answer) return `error ${answer.error.code}: ${answer.error.message}`;
    return JSON.stringify(answer.result, (key, value: unknown) => (key === "seconds" ? undefined : value));
}

/** Runs `read` on a copy of `value` that notes every property read: the paths read, and those the value lacks. */
function readsOf(value: unknown, read: (v: never) => unknown): { read: Set<string>; absent: Set<string> } {
    const seen = new Set<string>();
    const absent = new Set<string>();
    const wrap = (v: unknown, at: string): unknown => {
        if (typeof v !== "object" || v === null) return v;
        return new Proxy(v, {
            get(target, key, receiver) {
                const got: unknown = Reflect.get(target, key, receiver);
                if (typeof key === "symbol") return got;
                if (Array.isArray(target)) return /^\d+$/.test(key) ? wrap(got, `${at}[]`) : got;
                if (key === "then" || key === "toJSON" || key === "constructor") return got;
                const where = at ? `${at}.${key}` : key;
                seen.add(where);
                if (!(key in target)) absent.add(where);
                return wrap(got, where);
            },
        });
    };
    read(wrap(value, "") as never);
    return { read: seen, absent };
}

function setField(params: Record<string, unknown>, field: string, value: unknown): Record<string, unknown> {
    const copy = structuredClone(params);
    const [head, tail] = field.split(".", 2) as [string, string | undefined];
    const into = tail === undefined ? copy : ((copy[head] ??= {}) as Record<string, unknown>);
    const key = tail ?? head;
    if (value === undefined) Reflect.deleteProperty(into, key);
    else into[key] = value;
    return copy;
}

/**
 * Registry options that by design do not change the answer, and why (a sampling method's batch size, say: the same
 * numbers for every batch size). Every other declared option must change the map.
 */
const OPTIONS_THAT_KEEP_THE_ANSWER: Record<string, string> = {};

/** A value of `o` that is not the default (attribution's variants: it must change the map). */
function otherValue(o: MethodOption): unknown {
    switch (o.type) {
        case "boolean":
            return o.default !== true;
        case "choice":
            return (o.choices ?? []).find((c) => c !== o.default);
        default: {
            const d = Number(o.default);
            const up = o.type === "integer" ? Math.max(1, Math.round(Math.abs(d) * 0.5)) : Math.abs(d) * 0.5 || 0.5;
            return o.maximum != null && d + up > o.maximum ? d - up : d + up;
        }
    }
}

/** A value `o` refuses (metrics' and sanity's variants: that it is refused proves the check passes the option on). */
function wrongValue(o: MethodOption): unknown {
    switch (o.type) {
        case "boolean":
            return "maybe";
        case "choice":
            return "no-such-choice";
        default:
            return o.maximum != null ? o.maximum + 1 : o.minimum != null ? o.minimum - 1 : "not a number";
    }
}

describe("the extension–daemon contract, method by method (real daemon)", () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "cnn-interpret-contract-"));
    const client = new DaemonClient({ resolveLaunch: daemonLaunch, log: memoryLog(), env: { ...process.env, CNN_INTERPRET_CACHE: cache } });
    const requested: string[] = [];
    const server = http.createServer((request, response) => {
        requested.push(request.url ?? "");
        if (request.url?.startsWith("/ok/")) response.end(Buffer.from("not really a checkpoint"));
        else response.writeHead(404).end();
    });
    let model: ModelDetails;
    let methods: MethodsState;
    let context: ValidationContext;

    before(async () => {
        await client.start();
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        model = await client.request("models/load", { model: MODEL });
        methods = methodsState(await client.request("daemon/methods", undefined));
        assert.ok(methods.available);
        const views = panelMethods(methods);
        const registry = new Map<string, RegistryMethod>(methods.methods.map((info) => [info.name, { info, view: views.find((v) => v.name === info.name)! }]));
        context = { layers: new Set(model.layers.map((l) => l.name)), scoreCount: scoreCount(model), methods: registry };
    });
    after(async () => {
        await client.dispose();
        server.close();
        fs.rmSync(cache, { recursive: true, force: true });
    });

    async function ask(method: string, params: Record<string, unknown> | undefined, progress = false): Promise<Answer> {
        const seen: WorkDoneProgress[] = [];
        try {
            const result = await client.request<unknown>(method, params, progress ? { onProgress: (p) => void seen.push(p) } : {});
            return { result, progress: seen };
        } catch (e) {
            if (e instanceof DaemonRequestError) return { error: e, progress: seen };
            throw e;
        }
    }

    async function holds(c: Case): Promise<void> {
        // workDoneToken (added by the client when the extension asks with progress) is checked by the $/progress that comes.
        for (const field of Object.keys(c.params)) {
            const covered = [...Object.keys(c.variants), ...Object.keys(c.ignored ?? {})].some((k) => k === field || k.startsWith(`${field}.`));
            assert.ok(covered, `${c.name}: '${field}' is sent but the contract says nothing of it (add a variant, or list it as ignored with why)`);
        }
        const base = await ask(c.method, c.params, c.progress);
        assert.ok(!("error" in base), `${c.name}: ${c.method} failed: ${"error" in base ? base.error.message : ""}`);

        const { read, absent } = readsOf(base.result, c.read);
        assert.ok(read.size > 0, `${c.name}: the extension reads nothing of the answer?`);
        for (const where of absent) assert.ok(c.optionalReads?.includes(where), `${c.name}: the extension reads '${where}', which ${c.method} did not send`);

        if (c.progress && !c.ignored?.["workDoneToken"]) assert.ok(base.progress.length > 0, `${c.name}: a workDoneToken was sent but no $/progress came`);
        if (c.progress && c.ignored?.["workDoneToken"]) assert.equal(base.progress.length, 0, `${c.name}: $/progress came, so workDoneToken is not ignored: update the contract`);

        for (const [field, variant] of Object.entries(c.variants)) {
            const other = await ask(c.method, setField(c.params, field, variant.value));
            if (variant.refused !== undefined) {
                assert.ok("error" in other, `${c.name}: ${field} = ${JSON.stringify(variant.value)} should be refused, but ${c.method} answered`);
                assert.equal(other.error.code, variant.refused, `${c.name}: ${field} = ${JSON.stringify(variant.value)}: ${other.error.message}`);
            } else {
                assert.notEqual(digest(other), digest(base),
                    `${c.name}: ${field} = ${JSON.stringify(variant.value)} gives the same answer as ${JSON.stringify(c.params[field.split(".")[0]!])}: the daemon ignores '${field}'`);
            }
        }
    }

    // ---- what the extension builds ---------------------------------------------------------------------------

    const explain = (raw: Omit<ExplainMessage, "type" | "id">) => {
        const message = parseWebviewMessage({ type: "explain", id: 1, ...raw }, context) as ExplainMessage;
        return explainRequest(message, boot, MODEL);
    };
    const check = (raw: Record<string, unknown>) => checkRequest(parseWebviewMessage({ type: "check", id: 1, ...raw }, context) as CheckMessage, boot, MODEL);
    const unknownModel: Variant = { value: "no-such-model", refused: ErrorCodes.unknownModel };
    const otherImage: Variant = { value: bag };
    /** Export as .npy asks again with raw: true (panel.ts). */
    const raw: Variant = { value: true };
    /** What panel.ts reads of any view's answer besides caption() and viewImages(). */
    const viewReads = (kind: TabId | "attribution", legend = false) => (r: never) => {
        const result = r as { png?: unknown; page?: unknown; pageCount?: unknown; legendPng?: unknown };
        return [result.png, kind === "attribution" ? [attributionCaption(r), attributionFigures(r)] : caption(kind, r), viewImages(kind, r), gridCells(kind, r), legend ? result.legendPng : undefined];
    };
    const checkReads = (kind: CheckMessage["check"]) => (r: never) => checkView(kind, r);

    it("daemon/info, models/list, daemon/methods: what the extension reads is there", async () => {
        for (const c of [
            { method: "daemon/info", read: (r: never) => { const i = r as { version: string; device: string; processId: number; models: unknown[] }; return [i.version, i.device, i.processId, describeMemory(r)]; } },
            { method: "models/list", read: (r: never) => { const l = r as { models: { id: string; displayName: string; state: string; weightsFile: string }[]; defaultModel: string }; return l.models.map((m) => [m.id, m.displayName, m.state]); } },
            // An option has a range or choices only when its type has them (null fields are left out of the JSON).
            { method: "daemon/methods", read: (r: never) => panelMethods(methodsState(r)),
              optional: ["methods[].options[].minimum", "methods[].options[].maximum", "methods[].options[].choices"] },
        ] as { method: string; read: (r: never) => unknown; optional?: string[] }[]) {
            const answer = await ask(c.method, undefined);
            assert.ok(!("error" in answer));
            const { absent } = readsOf(answer.result, c.read);
            assert.deepEqual([...absent].filter((where) => !c.optional?.includes(where)), [], c.method);
        }
    });

    it("models/load", async () => {
        await holds({
            name: "the active model",
            method: "models/load",
            params: { model: MODEL },
            variants: { model: { value: "resnet18-imagenet" } },
            read: (r: never) => {
                const m = r as ModelDetails;
                return [buildLayerTree(m), defaultLayers(m), defaultMethodLayer(m.layers), m.layers.map(panelLayer), scoreCount(m), m.id, m.displayName, m.classes];
            },
        });
    });

    it("image/predict", async () => {
        await holds({
            name: "the panel's prediction",
            method: "image/predict",
            params: { model: MODEL, image: boot, topK: 5 },
            variants: { model: unknownModel, image: otherImage, topK: { value: 3 } },
            read: (r: never) => {
                const p = r as { top: { index: number; label: string; probability: number }[]; fit?: { suitable: boolean; reason?: string; suggestions: string[] } };
                return [p.top.map((t) => [t.index, t.label, t.probability]), p.fit && fitOffers(p.fit, [])];
            },
        });
    });

    it("models/fetch and models/add (a local server and local files)", async () => {
        const port = (server.address() as AddressInfo).port;
        // Both answers are refusals here: the served bytes are not VGG16's, and the other address has nothing.
        const fetched = await ask("models/fetch", { model: "vgg16", url: `http://127.0.0.1:${port}/ok/vgg16-397923af.pth` }, true);
        const missing = await ask("models/fetch", { model: "vgg16", url: `http://127.0.0.1:${port}/missing/vgg16-397923af.pth` });
        const builtIn = await ask("models/fetch", { model: "fashion-vgg", url: `http://127.0.0.1:${port}/ok/vgg16-397923af.pth` });
        assert.ok("error" in fetched && "error" in missing && "error" in builtIn);
        assert.deepEqual(requested, ["/ok/vgg16-397923af.pth", "/missing/vgg16-397923af.pth"]);
        assert.equal(fetched.error.code, ErrorCodes.badModelFile, fetched.error.message); // downloaded, then refused by its hash
        assert.ok(fetched.progress.length > 0, "the download reported no $/progress");
        assert.equal(missing.error.code, ErrorCodes.network, missing.error.message);
        assert.equal(builtIn.error.code, ErrorCodes.invalidArgument, builtIn.error.message);

        const a = path.join(cache, "a.pth");
        const b = path.join(cache, "b.pth");
        fs.writeFileSync(a, "a");
        fs.writeFileSync(b, "b");
        const added = await ask("models/add", { model: "vgg16", file: a });
        const other = await ask("models/add", { model: "vgg16", file: b });
        const addedBuiltIn = await ask("models/add", { model: "fashion-vgg", file: a });
        assert.ok("error" in added && "error" in other && "error" in addedBuiltIn);
        assert.match(added.error.message, /a\.pth/);
        assert.match(other.error.message, /b\.pth/);
        assert.equal(addedBuiltIn.error.code, ErrorCodes.invalidArgument);
    });

    it("explain/featureMaps", async () => {
        const { method, params } = explain({ tab: "featureMaps", layer: "features.0", page: 0, options: { colormap: "viridis", scaling: "perChannel" } });
        await holds({
            name: "Feature maps",
            method,
            params,
            progress: true,
            variants: {
                model: unknownModel,
                image: otherImage,
                layer: { value: "features.3" },
                page: { value: 1, refused: ErrorCodes.invalidArgument }, // 16 channels: one page
                colormap: { value: "gray" },
                scaling: { value: "shared" },
                raw,
            },
            ignored: { workDoneToken: "a page of maps is one forward pass (cached): it reports no progress" },
            read: viewReads("featureMaps"),
        });
    });

    it("explain/filterPatterns", async () => {
        const { method, params } = explain({ tab: "filterPatterns", layer: "features.0", page: 0, options: { preset: "classic", seed: 0 } });
        await holds({
            name: "Filter patterns",
            method,
            params,
            progress: true,
            variants: {
                model: unknownModel,
                layer: { value: "features.2" },
                page: { value: 1, refused: ErrorCodes.invalidArgument },
                preset: { value: "readable" },
                seed: { value: 1 },
                raw,
            },
            read: viewReads("filterPatterns"),
        });
    });

    it("explain/gradCam (the fixed Grad-CAM view of a daemon without the registry)", async () => {
        const { method, params } = explain({ tab: "gradCam", layer: "features.13", target: 9, options: { method: "grad-cam", colormap: "viridis", opacity: 0.5 } });
        await holds({
            name: "Grad-CAM",
            method,
            params,
            progress: true,
            variants: {
                model: unknownModel,
                image: otherImage,
                layer: { value: "features.8" },
                target: { value: 5 },
                method: { value: "grad-cam++" },
                colormap: { value: "gray" },
                opacity: { value: 0.8 },
                raw,
            },
            ignored: { workDoneToken: "one forward and one backward: no progress" },
            read: viewReads("gradCam", true),
            optionalReads: ["hint"],
        });
    });

    it("explain/attribution: every registry method, every option it declares", async () => {
        assert.ok(methods.available);
        const layer = defaultMethodLayer(model.layers)!;
        for (const info of attributionMethods()) {
            const view = panelMethods(methods).find((v) => v.name === info.name)!;
            const options = Object.fromEntries(view.fields.map((f) => [f.name, f.value]));
            const message = parseWebviewMessage(
                { type: "attribute", id: 1, tab: view.tab, method: info.name, ...(info.needsLayer ? { layer } : {}), target: 9, options, ...(info.signed ? {} : { colormap: "viridis", opacity: 0.5 }) },
                context,
            ) as AttributeMessage;
            const { method, params } = attributionRequest(message, boot, MODEL);
            const another = methods.methods.find((m) => m.name !== info.name && m.needsLayer === info.needsLayer);
            await holds({
                name: info.displayName,
                method,
                params,
                progress: true,
                variants: {
                    model: unknownModel,
                    image: otherImage,
                    method: another ? { value: another.name } : { value: "no-such-method", refused: ErrorCodes.invalidArgument },
                    target: { value: 5 },
                    ...(info.needsLayer ? { layer: { value: "features.8" } } : {}),
                    ...(info.signed ? {} : { colormap: { value: "gray" }, opacity: { value: 0.8 } }),
                    ...Object.fromEntries(info.options.filter((o) => !(o.name in OPTIONS_THAT_KEEP_THE_ANSWER)).map((o) => [`options.${o.name}`, { value: otherValue(o) }])),
                    raw,
                },
                ignored: {
                    ...Object.fromEntries(info.options.filter((o) => o.name in OPTIONS_THAT_KEEP_THE_ANSWER).map((o) => [`options.${o.name}`, OPTIONS_THAT_KEEP_THE_ANSWER[o.name]!])),
                    ...(info.options.length ? {} : { options: `${info.displayName} declares no options` }),
                    ...(info.sampling ? {} : { workDoneToken: `${info.displayName} does not sample: no progress` }),
                },
                read: viewReads("attribution", !info.signed),
                optionalReads: ["note", ...(info.needsLayer ? [] : ["layer"])],
            });
        }
    });

    it("every colormap the panel offers draws its own picture and legend (feature maps, Grad-CAM, a registry CAM)", async () => {
        const layer = defaultMethodLayer(model.layers)!;
        const cam = methods.available ? methods.methods.find((m) => m.name === "grad-cam") : undefined;
        assert.ok(cam, "the registry has grad-cam");
        const requests = {
            featureMaps: (colormap: string) => explain({ tab: "featureMaps", layer: "features.0", page: 0, options: { colormap: colormap as "viridis" } }),
            gradCam: (colormap: string) => explain({ tab: "gradCam", layer, target: 9, options: { method: "grad-cam", colormap: colormap as "viridis", opacity: 0.5 } }),
            attribution: (colormap: string) => attributionRequest(parseWebviewMessage({ type: "attribute", id: 1, tab: "cam", method: "grad-cam", layer, target: 9, options: {}, colormap, opacity: 0.5 }, context) as AttributeMessage, boot, MODEL),
        };
        for (const [view, request] of Object.entries(requests)) {
            const answers = new Map<string, { png: string; heatmapPng?: string; legendPng?: string }>();
            for (const colormap of COLORMAPS) {
                const { method, params } = request(colormap);
                const answer = await ask(method, params);
                assert.ok(!("error" in answer), `${view} in ${colormap}: ${"error" in answer ? answer.error.message : ""}`);
                answers.set(colormap, answer.result as { png: string; legendPng?: string });
            }
            for (const part of ["png", "heatmapPng", "legendPng"] as const) {
                const seen = [...answers.values()].map((a) => a[part]);
                if (seen.every((x) => x === undefined)) continue;
                assert.equal(new Set(seen).size, COLORMAPS.length, `${view}: the ${part} of ${COLORMAPS.join(", ")} are not all different`);
            }
            if (view !== "featureMaps") assert.ok([...answers.values()].every((a) => typeof a.legendPng === "string"), `${view}: a legend for every colormap`);
        }
    });

    /**
     * The registry methods the panel asks for through explain/attribution: those it lists in a group of methods. A method
     * with a view of its own (LIME, KernelSHAP, GradientSHAP) is asked for through that view's request, covered below.
     */
    function attributionMethods(): MethodInfo[] {
        assert.ok(methods.available);
        const listed = new Set(panelMethods(methods).map((v) => v.name));
        const shown = methods.methods.filter((m) => listed.has(m.name));
        assert.deepEqual(methods.methods.filter((m) => !listed.has(m.name)).map((m) => m.view ?? "none").filter((v) => v !== "lime" && v !== "shap"), [],
            "every method the panel leaves out of its groups has a view of its own");
        return shown;
    }

    /** `samples: "auto"` only: how sure it is, and its note. */
    const autoReads = ["confidence", "autoNote"];

    /** LIME and SHAP views as the panel asks for them (small sample counts: the fields matter, not the numbers). */
    const samplingViews = {
        lime: { tab: "lime", target: 9, options: { samples: 50, seed: 0, segments: 10 } },
        kernelShap: { tab: "shap", target: 9, options: { method: "kernel", samples: 50, seed: 0, segments: 10 } },
        gradientShap: { tab: "shap", layer: "features.8", target: 9, options: { method: "gradient", samples: 12, seed: 0 } },
    } as const;

    it("explain/lime", async () => {
        const { method, params } = explain(samplingViews.lime);
        await holds({
            name: "LIME",
            method,
            params,
            progress: true,
            variants: { model: unknownModel, image: otherImage, target: { value: 5 }, samples: { value: 60 }, seed: { value: 1 }, segments: { value: 14 }, raw },
            read: viewReads("lime"),
            optionalReads: autoReads,
        });
    });

    it("explain/shap: KernelSHAP and GradientSHAP", async () => {
        const kernel = explain(samplingViews.kernelShap);
        await holds({
            name: "KernelSHAP",
            method: kernel.method,
            params: kernel.params,
            progress: true,
            variants: { model: unknownModel, image: otherImage, target: { value: 5 }, method: { value: "gradient" }, samples: { value: 60 }, seed: { value: 1 }, segments: { value: 14 }, raw },
            read: viewReads("shap"),
            optionalReads: ["layer", ...autoReads], // GradientSHAP at a layer only
        });
        const gradient = explain(samplingViews.gradientShap);
        await holds({
            name: "GradientSHAP at a layer",
            method: gradient.method,
            params: gradient.params,
            progress: true,
            variants: { model: unknownModel, image: otherImage, target: { value: 5 }, method: { value: "kernel" }, layer: { value: "features.3" }, samples: { value: 16 }, seed: { value: 1 }, raw },
            read: viewReads("shap"),
            optionalReads: autoReads,
        });
    });

    /** The checks of each kind of view: the view as the panel shows it, then its check. */
    function checkCases(kind: "metrics" | "sanity"): { view?: { method: string; params: Record<string, unknown> }; c: Case }[] {
        assert.ok(methods.available);
        const reads = checkReads(kind);
        const common = { model: unknownModel, image: otherImage, target: { value: 5 } };
        const sampled = (name: string, view: (typeof samplingViews)[keyof typeof samplingViews], variants: Record<string, Variant>) => ({
            view: explain(view),
            c: { name: `${kind} of the ${name} view`, ...check({ check: kind, ...view }), progress: true, variants: { ...common, ...variants }, read: reads },
        });
        const layer = defaultMethodLayer(model.layers)!;
        return [
            {
                c: {
                    name: `${kind} of the Grad-CAM view`,
                    ...check({ check: kind, tab: "gradCam", layer: "features.13", target: 9, options: { method: "grad-cam" } }),
                    progress: true,
                    variants: { ...common, method: { value: "grad-cam++" }, layer: { value: "features.8" } },
                    read: reads,
                },
            },
            sampled("LIME", samplingViews.lime, { method: { value: "kernel-shap" }, samples: { value: 60 }, seed: { value: 1 }, segments: { value: 14 } }),
            sampled("KernelSHAP", samplingViews.kernelShap, { method: { value: "lime" }, samples: { value: 60 }, seed: { value: 1 }, segments: { value: 14 } }),
            sampled("GradientSHAP", samplingViews.gradientShap, { method: { value: "kernel-shap" }, layer: { value: "features.3" }, samples: { value: 16 }, seed: { value: 1 } }),
            ...attributionMethods().map((info: MethodInfo, _, registry) => {
                const view = panelMethods(methods).find((v) => v.name === info.name)!;
                const options = Object.fromEntries(view.fields.map((f) => [f.name, f.value]));
                return {
                    c: {
                        name: `${kind} of the ${info.displayName} view`,
                        ...check({ check: kind, tab: view.tab, method: info.name, ...(info.needsLayer ? { layer } : {}), target: 9, options }),
                        progress: true,
                        variants: {
                            ...common,
                            method: { value: registry.find((m) => m.name !== info.name)?.name ?? "lime" },
                            ...(info.needsLayer ? { layer: { value: "features.8" } } : {}),
                            // Refused when out of range: the check hands the view's options to the method.
                            ...Object.fromEntries(info.options.map((o) => [`options.${o.name}`, { value: wrongValue(o), refused: ErrorCodes.invalidArgument }])),
                        },
                        ...(info.options.length ? {} : { ignored: { options: `${info.displayName} declares no options` } }),
                        read: reads,
                    },
                };
            }),
        ];
    }

    /** A check of a LIME or SHAP view asks for the map as the view did: every field of the view's request that shapes the map, with its value. */
    function asksAsTheViewDid(view: { params: Record<string, unknown> }, c: Case): void {
        for (const [field, value] of Object.entries(view.params)) {
            if (field === "method") continue; // explain/shap's "kernel" is the check's "kernel-shap"
            assert.deepEqual(c.params[field], value, `${c.name} does not send the view's ${field}`);
        }
    }

    it("explain/metrics of every kind of view; a LIME or SHAP view's is scored from its own samples", async () => {
        for (const { view, c } of checkCases("metrics")) {
            if (view) {
                asksAsTheViewDid(view, c);
                await ask(view.method, view.params, true);
                const scored = await ask(c.method, c.params, true);
                assert.ok(!("error" in scored), c.name);
                assert.match(scored.progress[0]?.message ?? "", /from memory/, `${c.name} sampled again instead of scoring the view's map`);
            }
            await holds(c);
        }
    });

    it("explain/sanity of every kind of view", async () => {
        for (const { view, c } of checkCases("sanity")) {
            if (view) asksAsTheViewDid(view, c);
            await holds(c);
        }
    });

    it("explain/layerSweep", async () => {
        await holds({
            name: "the layer sweep of the Grad-CAM view",
            ...check({ check: "layerSweep", tab: "gradCam", layer: "features.13", target: 9, options: { method: "grad-cam" } }),
            variants: { model: unknownModel, image: otherImage, target: { value: 5 }, method: { value: "grad-cam++" } },
            read: checkReads("layerSweep"),
        });
    });
});
