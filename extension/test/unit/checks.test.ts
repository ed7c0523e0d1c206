import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkRequest, checkView, metricsVerdict, type CheckMessage, type ViewCheckMessage } from "../../src/checks";
import { InvalidMessageError, parseWebviewMessage } from "../../src/messages";

const context = { layers: new Set(["features.0", "features.3", "classifier.0"]), scoreCount: 10 };
const parse = (raw: unknown) => parseWebviewMessage(raw, context);
const rejects = (raw: unknown, pattern: RegExp) => assert.throws(() => parse(raw), (e: Error) => e instanceof InvalidMessageError && pattern.test(e.message));
const curve = (auc: number) => ({ values: [], auc });

describe("check messages (faithfulness, sanity check, layer sweep)", () => {
    it("accepts a check of a view and drops unknown fields", () => {
        assert.deepEqual(parse({ type: "check", id: 7, check: "metrics", tab: "gradCam", layer: "features.3", target: 2, options: { method: "grad-cam++", evil: 1 }, x: 1 }), {
            type: "check",
            id: 7,
            check: "metrics",
            tab: "gradCam",
            layer: "features.3",
            target: 2,
            options: { method: "grad-cam++" },
        });
        assert.deepEqual(parse({ type: "check", id: 8, check: "metrics", tab: "lime", options: { samples: 300, seed: 4 } }), {
            type: "check",
            id: 8,
            check: "metrics",
            tab: "lime",
            options: { samples: 300, seed: 4 },
        });
        assert.deepEqual(parse({ type: "check", id: 9, check: "layerSweep", tab: "gradCam", options: {} }), { type: "check", id: 9, check: "layerSweep", tab: "gradCam", options: {} });
    });

    it("rejects checks of the wrong view, unknown checks, layers and classes", () => {
        rejects({ type: "check", id: 1, check: "vibes", tab: "gradCam", layer: "features.3" }, /check must be one of metrics, sanity, layerSweep/);
        rejects({ type: "check", id: 1, check: "metrics", tab: "featureMaps", layer: "features.3" }, /tab of metrics must be one of gradCam, lime, shap/);
        rejects({ type: "check", id: 1, check: "sanity", tab: "featureMaps" }, /tab of sanity must be one of gradCam, lime, shap/);
        rejects({ type: "check", id: 1, check: "layerSweep", tab: "shap" }, /tab of layerSweep must be one of gradCam/);
        rejects({ type: "check", id: 1, check: "metrics", tab: "gradCam" }, /metrics of the gradCam view needs a layer/);
        rejects({ type: "check", id: 1, check: "sanity", tab: "gradCam" }, /sanity of the gradCam view needs a layer/);
        rejects({ type: "check", id: 1, check: "metrics", tab: "gradCam", layer: "../../etc" }, /Unknown layer/);
        rejects({ type: "check", id: 1, check: "metrics", tab: "lime", target: 10 }, /target must be an integer from 0 to 9/);
        rejects({ type: "check", id: -1, check: "metrics", tab: "lime" }, /id must be an integer/);
        rejects({ type: "check", id: 1, check: "metrics", tab: "lime", options: { samples: 1 } }, /options.samples/);
    });
});

describe("checkRequest", () => {
    const msg = (m: Omit<ViewCheckMessage, "type" | "id">): CheckMessage => ({ type: "check", id: 1, ...m });
    it("asks explain/metrics for the method, layer, class and options the view was made with", () => {
        assert.deepEqual(checkRequest(msg({ check: "metrics", tab: "gradCam", layer: "features.3", target: 2, options: { method: "grad-cam++", opacity: 0.3, colormap: "gray" } }), "/i.png", "m"), {
            method: "explain/metrics",
            params: { model: "m", image: "/i.png", method: "grad-cam++", layer: "features.3", target: 2 },
        });
        assert.deepEqual(checkRequest(msg({ check: "metrics", tab: "lime", options: { samples: 300, seed: 4, segments: 20 } }), "/i.png", "m"), {
            method: "explain/metrics",
            params: { model: "m", image: "/i.png", method: "lime", samples: 300, seed: 4, segments: 20 },
        });
        assert.deepEqual(checkRequest(msg({ check: "metrics", tab: "shap", options: { method: "kernel", samples: 100 } }), "/i.png", "m").params["method"], "kernel-shap");
        assert.deepEqual(checkRequest(msg({ check: "metrics", tab: "shap", layer: "features.3", options: { method: "gradient", samples: 100, segments: 9 } }), "/i.png", "m").params, {
            model: "m",
            image: "/i.png",
            method: "gradient-shap",
            layer: "features.3",
            samples: 100,
        });
        assert.equal(checkRequest(msg({ check: "metrics", tab: "shap", options: {} }), "/i.png", "m").params["method"], "kernel-shap");
    });

    it("asks explain/sanity at the view's layer and explain/layerSweep at no layer", () => {
        assert.deepEqual(checkRequest(msg({ check: "sanity", tab: "gradCam", layer: "features.3", options: {} }), "/i.png", "m"), {
            method: "explain/sanity",
            params: { model: "m", image: "/i.png", method: "grad-cam", layer: "features.3" },
        });
        assert.deepEqual(checkRequest(msg({ check: "layerSweep", tab: "gradCam", layer: "features.3", target: 5, options: { method: "grad-cam++" } }), "/i.png", "m"), {
            method: "explain/layerSweep",
            params: { model: "m", image: "/i.png", method: "grad-cam++", target: 5 },
        });
        // LIME's and SHAP's sanity check re-runs the method with the view's samples, seed and segments at each stage.
        assert.deepEqual(checkRequest(msg({ check: "sanity", tab: "lime", options: { samples: 300, seed: 2, segments: 12 } }), "/i.png", "m"), {
            method: "explain/sanity",
            params: { model: "m", image: "/i.png", method: "lime", samples: 300, seed: 2, segments: 12 },
        });
        assert.deepEqual(checkRequest(msg({ check: "sanity", tab: "shap", layer: "features.3", options: { method: "gradient", samples: 100, segments: 9 } }), "/i.png", "m").params, {
            model: "m",
            image: "/i.png",
            method: "gradient-shap",
            layer: "features.3",
            samples: 100,
        });
        assert.equal(checkRequest(msg({ check: "sanity", tab: "shap", options: { method: "kernel" } }), "/i.png", "m").params["method"], "kernel-shap");
    });
});

describe("metricsVerdict and checkView", () => {
    it("calls a map faithful only when deletion falls faster and insertion rises faster than a random map's", () => {
        const faithful = metricsVerdict({ deletion: curve(0.214), insertion: curve(0.7), randomDeletion: curve(0.48), randomInsertion: curve(0.41) });
        assert.equal(faithful.faithful, true);
        assert.equal(faithful.line, "Deletion AUC 0.21 vs random 0.48 · Insertion AUC 0.70 vs random 0.41 — more faithful than a random map");
        const partly = metricsVerdict({ deletion: curve(0.2), insertion: curve(0.3), randomDeletion: curve(0.48), randomInsertion: curve(0.41) });
        assert.equal(partly.faithful, false);
        assert.match(partly.line, /only partly faithful: insertion is no better than a random map's$/);
        const worse = metricsVerdict({ deletion: curve(0.5), insertion: curve(0.4), randomDeletion: curve(0.48), randomInsertion: curve(0.41) });
        assert.equal(worse.faithful, false);
        assert.match(worse.line, /no more faithful than a random map$/);
        // equal to random is not better than random
        assert.equal(metricsVerdict({ deletion: curve(0.48), insertion: curve(0.9), randomDeletion: curve(0.48), randomInsertion: curve(0.41) }).faithful, false);
    });

    it("turns the daemon's answers into what the panel shows", () => {
        const sanity = checkView("sanity", {
            png: "AAA",
            flagged: true,
            verdict: "The map hardly changed.",
            stages: [{ label: "original", rankCorrelation: 1 }, { layer: "classifier.6", label: "up to classifier.6", rankCorrelation: 0.873 }, { label: "all", rankCorrelation: null }],
        });
        assert.deepEqual(sanity, {
            check: "sanity",
            png: "AAA",
            verdict: "The map hardly changed.",
            flagged: true,
            stages: [{ label: "original", correlation: "ρ 1.00" }, { label: "up to classifier.6", correlation: "ρ 0.87" }, { label: "all", correlation: "flat map" }],
        });
        const sweep = checkView("layerSweep", { png: "BBB", target: "9", targetLabel: "Ankle boot", layers: [{ layer: { name: "features.0", displayName: "block1_conv1" } }] });
        assert.deepEqual(sweep.check === "layerSweep" && sweep.layers, [{ name: "features.0", displayName: "block1_conv1" }]);
        assert.throws(() => checkView("metrics", { deletion: curve(0) }), /has no image/);
    });
});
