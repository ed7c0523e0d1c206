// The explainer registry in the panel (issue 16): daemon/methods → tabs, option metadata → forms → request
// options of the right JSON types, and the messages and requests of a registry method's view. The methods below
// are shaped like the ones issue 16 adds; nothing in the extension names them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkRequest, checkView } from "../../src/checks";
import { attributionCaption, attributionFigures, attributionRequest, viewImages } from "../../src/explainRequests";
import { InvalidMessageError, parseWebviewMessage, type AttributeMessage, type RegistryMethod, type ValidationContext } from "../../src/messages";
import {
    defaultMethodLayer,
    formFields,
    groupTabId,
    methodsState,
    optionLabel,
    panelMethods,
    panelTabs,
    requestOptions,
    OptionError,
    type MethodsState,
} from "../../src/methods";
import type { AttributionResult, DaemonMethodsResult, LayerInfo, MethodInfo } from "../../src/protocol";

const cam = (name: string, displayName: string, extra: Partial<MethodInfo> = {}): MethodInfo => ({
    name,
    displayName,
    group: "cam",
    kind: "layer",
    signed: false,
    sampling: false,
    needsLayer: true,
    paper: `${displayName}'s paper`,
    options: [],
    ...extra,
});

const integratedGradients: MethodInfo = {
    name: "integrated-gradients",
    displayName: "Integrated Gradients",
    group: "gradients",
    kind: "pixel",
    signed: true,
    sampling: false,
    needsLayer: false,
    paper: "Sundararajan et al., 2017",
    options: [
        { name: "steps", type: "integer", default: 32, description: "Points on the path from the baseline.", minimum: 1, maximum: 1024 },
        { name: "baseline", type: "choice", default: "black", description: "Where the path starts.", choices: ["black", "blur", "mean"] },
    ],
};

const smoothGrad: MethodInfo = {
    name: "smoothgrad",
    displayName: "SmoothGrad",
    group: "gradients",
    kind: "pixel",
    signed: true,
    sampling: true,
    needsLayer: false,
    paper: "Smilkov et al., 2017",
    options: [
        { name: "samples", type: "integer", default: 50, description: "Noisy copies.", minimum: 1, maximum: 10000 },
        { name: "noiseLevel", type: "number", default: 0.15, description: "σ as a fraction of the input's range.", minimum: 0, maximum: 1 },
        { name: "squared", type: "boolean", default: false, description: "Average the squared gradients (SmoothGrad²)." },
        { name: "seed", type: "integer", default: 0, description: "Same seed, same answer.", minimum: 0 },
    ],
};

const rise: MethodInfo = {
    name: "rise",
    displayName: "RISE",
    group: "perturbation",
    kind: "pixel",
    signed: false,
    sampling: true,
    needsLayer: false,
    paper: "Petsiuk et al., 2018",
    options: [{ name: "probability", type: "number", default: 0.5, description: "Chance a cell is kept.", minimum: 0, maximum: 1 }],
};

const daemonMethods: DaemonMethodsResult = {
    // The registry's order (the daemon's "the order the panel lists them"): CAM first, then the rest.
    methods: [
        cam("grad-cam", "Grad-CAM"),
        cam("grad-cam++", "Grad-CAM++"),
        cam("score-cam", "Score-CAM", { sampling: true }),
        integratedGradients,
        smoothGrad,
        rise,
        // A group the panel has never heard of, with an option type it has no control for.
        { ...cam("ablation-cam", "Ablation-CAM"), group: "ablation", options: [{ name: "layers", type: "list", default: "", description: "?" }] },
    ],
    trustMethods: ["grad-cam", "grad-cam++", "score-cam", "integrated-gradients", "smoothgrad", "lime", "kernel-shap", "gradient-shap"],
};

const state = methodsState(daemonMethods) as Extract<MethodsState, { available: true }>;

describe("daemon/methods → the panel's tabs", () => {
    it("gives one tab per group, known groups in a fixed order, between the fixed views", () => {
        const tabs = panelTabs(state);
        assert.deepEqual(
            tabs.map((t) => [t.id, t.title, t.layer]),
            [
                ["featureMaps", "Feature maps", "spatial"],
                ["filterPatterns", "Filter patterns", "spatial"],
                ["gradients", "Gradients", "method"],
                ["cam", "CAM", "method"],
                ["perturbation", "Perturbation", "method"],
                ["ablation", "Ablation", "method"],
                ["lime", "LIME", "none"],
                ["shap", "SHAP", "optional"],
            ],
        );
        assert.deepEqual(tabs.find((t) => t.id === "cam")!.methods, ["grad-cam", "grad-cam++", "score-cam"]);
        assert.deepEqual(tabs.find((t) => t.id === "gradients")!.methods, ["integrated-gradients", "smoothgrad"]);
        assert.equal(tabs.find((t) => t.id === "gradCam"), undefined, "the CAM tab replaces the Grad-CAM view");
    });

    it("keeps the fixed views of before for a daemon without the registry, and says why", () => {
        const old = methodsState({ notFound: true, daemonVersion: "0.1.0" });
        assert.ok(!old.available);
        assert.match(old.reason, /daemon \(version 0\.1\.0\) has no 'daemon\/methods'.*cnnInterpret\.daemon\.path/);
        assert.deepEqual(panelTabs(old).map((t) => t.id), ["featureMaps", "filterPatterns", "gradCam", "lime", "shap"]);
        assert.deepEqual(panelMethods(old), []);
        const failed = methodsState({ error: "boom" });
        assert.match(!failed.available ? failed.reason : "", /could not be read \(boom\)/);
        assert.deepEqual(panelTabs(methodsState({ methods: [], trustMethods: [] })).map((t) => t.id), ["featureMaps", "filterPatterns", "gradCam", "lime", "shap"]);
    });

    it("names a group's tab after the group, never after a fixed view", () => {
        assert.equal(groupTabId("cam"), "cam");
        assert.equal(groupTabId("lime"), "methods-lime");
        assert.equal(groupTabId("Odd Group!"), "methods-oddgroup");
    });

    it("drops methods the messages could not carry and options the panel has no control for", () => {
        const s = methodsState({ methods: [cam("grad-cam", "Grad-CAM"), cam("../evil", "Evil"), { ...cam("x", "X"), group: "" }], trustMethods: [] });
        assert.deepEqual(s.available && s.methods.map((m) => m.name), ["grad-cam"]);
        assert.deepEqual(state.methods.find((m) => m.name === "ablation-cam")!.options, []);
    });

    it("offers the checks each method supports: scores for trustMethods, the layer sweep for cheap CAMs", () => {
        const views = new Map(panelMethods(state).map((m) => [m.name, m]));
        assert.deepEqual([...views.values()].map((m) => [m.name, m.tab, m.trust, m.sweep]), [
            ["grad-cam", "cam", true, true],
            ["grad-cam++", "cam", true, true],
            ["score-cam", "cam", true, false],
            ["integrated-gradients", "gradients", true, false],
            ["smoothgrad", "gradients", true, false],
            ["rise", "perturbation", false, false],
            ["ablation-cam", "ablation", false, false],
        ]);
        assert.equal(views.get("smoothgrad")!.sampling, true);
        assert.equal(views.get("integrated-gradients")!.signed, true);
    });

    it("shows a method that has a view of its own (LIME, KernelSHAP) in that view only, not in a group tab too", () => {
        const superpixel = (name: string, displayName: string, view: string): MethodInfo => ({
            name,
            displayName,
            group: "superpixels",
            kind: "superpixel",
            signed: true,
            sampling: true,
            needsLayer: false,
            paper: `${displayName}'s paper`,
            options: [{ name: "samples", type: "integer", default: 1000, description: "Masked images.", minimum: 10, maximum: 100000 }],
            view,
        });
        const withViews = methodsState({
            methods: [
                ...daemonMethods.methods,
                superpixel("lime", "LIME", "lime"),
                superpixel("kernel-shap", "KernelSHAP", "shap"),
                // A view this panel does not have: the method is shown in its group's tab like any other.
                superpixel("anchors", "Anchors", "anchorsView"),
            ],
            trustMethods: daemonMethods.trustMethods,
        });
        const tabs = panelTabs(withViews);
        assert.deepEqual(tabs.map((t) => t.id), ["featureMaps", "filterPatterns", "gradients", "cam", "perturbation", "ablation", "superpixels", "lime", "shap"]);
        assert.deepEqual(tabs.find((t) => t.id === "superpixels")!.methods, ["anchors"]);
        assert.equal(tabs.filter((t) => t.id === "lime").length, 1);
        const names = panelMethods(withViews).map((m) => m.name);
        assert.ok(!names.includes("lime") && !names.includes("kernel-shap"), "LIME and KernelSHAP are their views', not a form's");
        assert.ok(names.includes("anchors"));
    });
});

describe("option metadata → the form", () => {
    it("draws integers and numbers as number inputs with their range, choices as selects, booleans as checkboxes, defaults filled", () => {
        assert.deepEqual(formFields(integratedGradients), [
            {
                name: "steps",
                label: "Steps",
                title: "Points on the path from the baseline. From 1 to 1024. Default: 32.",
                control: "integer",
                value: 32,
                min: 1,
                max: 1024,
                step: 1,
            },
            {
                name: "baseline",
                label: "Baseline",
                title: "Where the path starts. One of black, blur, mean. Default: black.",
                control: "select",
                value: "black",
                choices: [
                    { value: "black", label: "black" },
                    { value: "blur", label: "blur" },
                    { value: "mean", label: "mean" },
                ],
            },
        ]);
        const [samples, noise, squared, seed] = formFields(smoothGrad);
        assert.deepEqual([noise!.control, noise!.value, noise!.min, noise!.max, noise!.step], ["number", 0.15, 0, 1, "any"]);
        assert.equal(noise!.label, "Noise level");
        assert.deepEqual([squared!.control, squared!.value], ["checkbox", false]);
        assert.deepEqual([seed!.min, seed!.max, seed!.title], [0, undefined, "Same seed, same answer. At least 0. Default: 0."]);
        assert.equal(samples!.step, 1);
        assert.deepEqual(formFields(cam("grad-cam", "Grad-CAM")), []);
    });

    it("labels options in words whatever their spelling", () => {
        assert.deepEqual(["steps", "noiseLevel", "noise-level", "noise_level", "window"].map(optionLabel), ["Steps", "Noise level", "Noise level", "Noise level", "Window"]);
    });

    it("turns the form's values into request options of each option's JSON type, defaults filling the rest", () => {
        assert.deepEqual(requestOptions(integratedGradients, undefined), { steps: 32, baseline: "black" });
        assert.deepEqual(requestOptions(integratedGradients, { steps: 64, baseline: "blur" }), { steps: 64, baseline: "blur" });
        assert.deepEqual(requestOptions(smoothGrad, { noiseLevel: 0.3, squared: true }), { samples: 50, noiseLevel: 0.3, squared: true, seed: 0 });
        // An option the method no longer declares (a form kept from an older daemon) is dropped, not sent.
        assert.deepEqual(requestOptions(integratedGradients, { steps: 8, gone: 1 }), { steps: 8, baseline: "black" });
        const json = JSON.parse(JSON.stringify(requestOptions(smoothGrad, { samples: 10 }))) as Record<string, unknown>;
        assert.deepEqual(Object.fromEntries(Object.entries(json).map(([k, v]) => [k, typeof v])), { samples: "number", noiseLevel: "number", squared: "boolean", seed: "number" });
    });

    it("refuses values of the wrong type or out of range, saying what the option allows", () => {
        const refuses = (method: MethodInfo, values: Record<string, unknown>, pattern: RegExp) =>
            assert.throws(() => requestOptions(method, values), (e: Error) => e instanceof OptionError && pattern.test(e.message));
        refuses(integratedGradients, { steps: "64" }, /'steps' must be an integer, not "64"/);
        refuses(integratedGradients, { steps: 2.5 }, /'steps' must be an integer, not 2.5/);
        refuses(integratedGradients, { steps: 0 }, /'steps' must be an integer from 1 to 1024, not 0/);
        refuses(integratedGradients, { steps: 2000 }, /from 1 to 1024, not 2000/);
        refuses(integratedGradients, { baseline: "white" }, /'baseline' must be one of black, blur, mean, not "white"/);
        refuses(smoothGrad, { noiseLevel: Number.NaN }, /'noiseLevel' must be a number/);
        refuses(smoothGrad, { noiseLevel: 1.5 }, /must be a number from 0 to 1, not 1.5/);
        refuses(smoothGrad, { squared: "true" }, /'squared' must be true or false/);
        refuses(smoothGrad, { seed: -1 }, /'seed' must be an integer at least 0, not -1/);
    });
});

describe("a registry method's view: messages and requests", () => {
    const registry = new Map<string, RegistryMethod>(
        state.methods.map((info) => [info.name, { info, view: panelMethods(state).find((v) => v.name === info.name)! }]),
    );
    const context: ValidationContext = { layers: new Set(["features.0", "features.3", "classifier.0"]), scoreCount: 10, methods: registry };
    const parse = (raw: unknown) => parseWebviewMessage(raw, context);
    const rejects = (raw: unknown, pattern: RegExp) => assert.throws(() => parse(raw), (e: Error) => e instanceof InvalidMessageError && pattern.test(e.message));

    it("accepts an attribute message with complete, typed options", () => {
        assert.deepEqual(parse({ type: "attribute", id: 5, tab: "gradients", method: "integrated-gradients", target: 3, options: { steps: 64 }, colormap: "gray", x: 1 }), {
            type: "attribute",
            id: 5,
            tab: "gradients",
            method: "integrated-gradients",
            target: 3,
            options: { steps: 64, baseline: "black" }, // colormap dropped: a signed map has the daemon's red/blue scale
        });
        assert.deepEqual(parse({ type: "attribute", id: 6, tab: "cam", method: "grad-cam++", layer: "features.3", colormap: "gray", opacity: 0.3 }), {
            type: "attribute",
            id: 6,
            tab: "cam",
            method: "grad-cam++",
            layer: "features.3",
            options: {},
            colormap: "gray",
            opacity: 0.3,
        });
    });

    it("rejects unknown methods, the wrong tab, a layer for a pixel method and bad options", () => {
        rejects({ type: "attribute", id: 1, tab: "cam", method: "deep-dream" }, /Unknown method "deep-dream": this daemon has grad-cam, grad-cam\+\+/);
        rejects({ type: "attribute", id: 1, tab: "cam", method: "integrated-gradients" }, /integrated-gradients is in the gradients tab, not "cam"/);
        rejects({ type: "attribute", id: 1, tab: "gradients", method: "integrated-gradients", layer: "features.3" }, /attributes the input pixels; it takes no layer/);
        rejects({ type: "attribute", id: 1, tab: "cam", method: "grad-cam", layer: "../x" }, /Unknown layer/);
        rejects({ type: "attribute", id: 1, tab: "gradients", method: "integrated-gradients", options: { steps: "many" } }, /Integrated Gradients: Option 'steps' must be an integer/);
        rejects({ type: "attribute", id: 1, tab: "gradients", method: "integrated-gradients", options: [1] }, /options must be an object/);
        rejects({ type: "attribute", id: 1, tab: "cam", method: "grad-cam", target: 10 }, /target must be an integer from 0 to 9/);
        assert.throws(
            () => parseWebviewMessage({ type: "attribute", id: 1, tab: "cam", method: "grad-cam" }, { ...context, methods: new Map() }),
            /this daemon has no registry methods/,
        );
        // export from a group tab
        assert.deepEqual(parse({ type: "export", tab: "perturbation", format: "npy" }), { type: "export", tab: "perturbation", format: "npy" });
        rejects({ type: "export", tab: "nowhere", format: "npy" }, /tab must be one of/);
    });

    it("builds explain/attribution with the view's layer, target, options and colours", () => {
        const msg = parse({ type: "attribute", id: 2, tab: "cam", method: "grad-cam++", layer: "features.3", target: 1, colormap: "gray", opacity: 0.7 }) as AttributeMessage;
        assert.deepEqual(attributionRequest(msg, "/i.png", "m"), {
            method: "explain/attribution",
            params: { model: "m", image: "/i.png", method: "grad-cam++", layer: "features.3", target: 1, options: {}, colormap: "gray", opacity: 0.7 },
        });
        const ig = parse({ type: "attribute", id: 3, tab: "gradients", method: "integrated-gradients", options: { baseline: "mean" } }) as AttributeMessage;
        assert.deepEqual(attributionRequest(ig, "/i.png", "m").params, { model: "m", image: "/i.png", method: "integrated-gradients", options: { steps: 32, baseline: "mean" } });
    });

    it("scores and sanity-checks any method of trustMethods with the view's layer and options; sweeps only CAMs", () => {
        const metrics = parse({ type: "check", id: 4, check: "metrics", tab: "gradients", method: "smoothgrad", target: 2, options: { samples: 10 } });
        assert.deepEqual(checkRequest(metrics as never, "/i.png", "m"), {
            method: "explain/metrics",
            params: { model: "m", image: "/i.png", method: "smoothgrad", target: 2, options: { samples: 10, noiseLevel: 0.15, squared: false, seed: 0 } },
        });
        const sanity = parse({ type: "check", id: 5, check: "sanity", tab: "cam", method: "grad-cam++", layer: "features.3" });
        assert.deepEqual(checkRequest(sanity as never, "/i.png", "m"), {
            method: "explain/sanity",
            params: { model: "m", image: "/i.png", method: "grad-cam++", layer: "features.3", options: {} },
        });
        const sweep = parse({ type: "check", id: 6, check: "layerSweep", tab: "cam", method: "grad-cam++", target: 4 });
        assert.deepEqual(checkRequest(sweep as never, "/i.png", "m"), { method: "explain/layerSweep", params: { model: "m", image: "/i.png", method: "grad-cam++", target: 4 } });
        rejects({ type: "check", id: 7, check: "metrics", tab: "perturbation", method: "rise" }, /metrics is not offered for RISE/);
        rejects({ type: "check", id: 7, check: "layerSweep", tab: "cam", method: "score-cam" }, /layerSweep is not offered for Score-CAM/);
        rejects({ type: "check", id: 7, check: "layerSweep", tab: "gradients", method: "integrated-gradients" }, /not offered/);
        const line = checkView("layerSweep", { png: "A", target: "1", targetLabel: "Trouser", layers: [] }, "Grad-CAM++");
        assert.match(line.check === "layerSweep" ? line.line : "", /^Grad-CAM\+\+ of Trouser \(1\) at each conv layer/);
    });

    it("says what the map shows, what the method reports and its note", () => {
        const result: AttributionResult = {
            model: "m",
            method: "integrated-gradients",
            displayName: "Integrated Gradients",
            kind: "pixel",
            signed: true,
            target: "9",
            targetLabel: "Ankle boot",
            score: 7.123,
            shape: [28, 28],
            options: { steps: 64, baseline: "black" },
            figures: { completenessError: 0.001234567, gradientCalls: 64 },
            note: "The baseline scores like the image.",
            png: "P",
            heatmapPng: "H",
        };
        assert.equal(attributionCaption(result), "Integrated Gradients of Ankle boot (9) · score 7.12 · red raises the score, blue lowers it · steps 64, baseline black");
        assert.deepEqual(attributionFigures(result), [
            { label: "Completeness error", value: "0.001235" },
            { label: "Gradient calls", value: "64" },
        ]);
        const layer: LayerInfo = { name: "features.12", displayName: "block3_conv3_relu", kind: "ReLU", group: "block3", outputShape: [8, 7, 7], parameterCount: 0, isSpatial: true };
        assert.equal(
            attributionCaption({ ...result, displayName: "Grad-CAM", signed: false, layer, options: {}, figures: {} }),
            "Grad-CAM of Ankle boot (9) at block3_conv3_relu (features.12) · score 7.12",
        );
        assert.deepEqual(viewImages("attribution", result as never).map((i) => i.id), ["overlay", "heatmap"]);
    });
});

describe("the layer a layer method starts at", () => {
    const l = (name: string, kind: string, outputShape: number[]): LayerInfo => ({ name, displayName: name, kind, group: "", outputShape, parameterCount: 0, isSpatial: outputShape.length === 3 });
    it("is the daemon's: the last conv layer, after its batch norm and activation", () => {
        const vgg = [l("features.0", "Conv2d", [16, 28, 28]), l("features.1", "ReLU", [16, 28, 28]), l("features.2", "Conv2d", [32, 14, 14]), l("features.3", "ReLU", [32, 14, 14]),
            l("features.4", "MaxPool2d", [32, 7, 7]), l("classifier.0", "Linear", [10])];
        assert.equal(defaultMethodLayer(vgg), "features.3");
        const bn = [l("c", "Conv2d", [8, 4, 4]), l("bn", "BatchNorm2d", [8, 4, 4]), l("r", "ReLU", [8, 4, 4]), l("fc", "Linear", [2])];
        assert.equal(defaultMethodLayer(bn), "r");
        assert.equal(defaultMethodLayer([l("p", "MaxPool2d", [8, 4, 4]), l("fc", "Linear", [2])]), "p");
        assert.equal(defaultMethodLayer([l("fc", "Linear", [2])]), undefined);
    });
});
