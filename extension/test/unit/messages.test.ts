import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { caption, defaultLayers, explainRequest, gridCells, progressMessage, viewImages } from "../../src/explainRequests";
import { InvalidMessageError, parseWebviewMessage, scoreCount, TABS } from "../../src/messages";
import { npyFloat32 } from "../../src/npy";
import { modelAllowed } from "../../src/trust";

const context = { layers: new Set(["features.0", "features.3", "classifier.0"]), scoreCount: 10 };
const parse = (raw: unknown) => parseWebviewMessage(raw, context);
const rejects = (raw: unknown, pattern: RegExp) => assert.throws(() => parse(raw), (e: Error) => e instanceof InvalidMessageError && pattern.test(e.message));

describe("parseWebviewMessage", () => {
    it("accepts each well-formed message and drops unknown fields", () => {
        assert.deepEqual(parse({ type: "ready", extra: 1 }), { type: "ready" });
        assert.deepEqual(parse({ type: "explain", id: 3, tab: "featureMaps", layer: "features.3", page: 1, options: { colormap: "gray", evil: "x" } }), {
            type: "explain",
            id: 3,
            tab: "featureMaps",
            layer: "features.3",
            page: 1,
            options: { colormap: "gray" },
        });
        assert.deepEqual(parse({ type: "explain", id: 4, tab: "lime", target: 9, options: { samples: 200, seed: 7 } }), {
            type: "explain",
            id: 4,
            tab: "lime",
            target: 9,
            options: { samples: 200, seed: 7 },
        });
        assert.deepEqual(parse({ type: "cancel", id: 4 }), { type: "cancel", id: 4 });
        assert.deepEqual(parse({ type: "layerSelected", layer: "classifier.0" }), { type: "layerSelected", layer: "classifier.0" });
        assert.deepEqual(parse({ type: "export", tab: "gradCam", format: "npy" }), { type: "export", tab: "gradCam", format: "npy" });
        assert.deepEqual(parse({ type: "export", tab: "gradCam", format: "png", picture: "heatmap" }), { type: "export", tab: "gradCam", format: "png", picture: "heatmap" });
        assert.deepEqual(parse({ type: "command", command: "showLogs" }), { type: "command", command: "showLogs" });
    });

    it("switches or fetches only a model the panel offered", () => {
        const offered = { ...context, offered: new Set(["resnet18-imagenet", "vgg16"]) };
        assert.deepEqual(parseWebviewMessage({ type: "useModel", model: "resnet18-imagenet" }, offered), { type: "useModel", model: "resnet18-imagenet" });
        assert.deepEqual(parseWebviewMessage({ type: "fetchWeights", model: "vgg16", url: "http://x" }, offered), { type: "fetchWeights", model: "vgg16" });
        assert.throws(() => parseWebviewMessage({ type: "useModel", model: "/tmp/evil.pth" }, offered), /did not offer the model "\/tmp\/evil.pth"/);
        assert.throws(() => parseWebviewMessage({ type: "fetchWeights", model: ["vgg16"] }, offered), InvalidMessageError);
        rejects({ type: "useModel", model: "vgg16" }, /did not offer/);
    });

    it("rejects what is not a message", () => {
        for (const raw of [null, undefined, 42, "ready", [], { kind: "ready" }, { type: 5 }]) rejects(raw, /object with a string 'type'/);
        rejects({ type: "eval", code: "1" }, /Unknown message type "eval"/);
    });

    it("rejects layers the model does not have, so no made-up name reaches the daemon", () => {
        rejects({ type: "explain", id: 1, tab: "featureMaps", layer: "features.99" }, /Unknown layer "features.99"/);
        rejects({ type: "layerSelected", layer: { toString: "features.0" } }, /Unknown layer/);
        rejects({ type: "explain", id: 1, tab: "gradCam" }, /gradCam view needs a layer/);
    });

    it("takes targets up to the model's scores: its classes, or its last layer's channels when it has no classifier", () => {
        const layer = (outputShape: number[]) => ({ outputShape });
        assert.equal(scoreCount({ classes: ["a", "b", "c"], layers: [layer([8, 4, 4]), layer([3])] }), 3);
        const featureExtractor = { classes: [], layers: [layer([64, 7, 7]), layer([512, 1, 1])] }; // resnet18-imagenet
        assert.equal(scoreCount(featureExtractor), 512);
        const context = { layers: new Set(["features.0"]), scoreCount: scoreCount(featureExtractor) };
        assert.equal((parseWebviewMessage({ type: "explain", id: 1, tab: "lime", target: 90 }, context) as { target?: number }).target, 90);
        assert.throws(() => parseWebviewMessage({ type: "explain", id: 1, tab: "lime", target: 512 }, context), /target must be an integer from 0 to 511/);
    });

    it("checks numbers: integers in range, no NaN, no strings", () => {
        rejects({ type: "explain", id: -1, tab: "lime" }, /id must be an integer/);
        rejects({ type: "explain", id: 1.5, tab: "lime" }, /id must be an integer/);
        rejects({ type: "explain", id: "1", tab: "lime" }, /id must be an integer/);
        rejects({ type: "explain", id: 1, tab: "lime", target: 10 }, /target must be an integer from 0 to 9/);
        rejects({ type: "explain", id: 1, tab: "featureMaps", layer: "features.0", page: -2 }, /page must be/);
        rejects({ type: "explain", id: 1, tab: "shap", options: { samples: 0 } }, /options.samples/);
        rejects({ type: "explain", id: 1, tab: "gradCam", layer: "features.0", options: { opacity: Number.NaN } }, /options.opacity/);
        rejects({ type: "explain", id: 1, tab: "gradCam", layer: "features.0", options: { opacity: 1.5 } }, /options.opacity/);
    });

    it("accepts only known enums", () => {
        rejects({ type: "explain", id: 1, tab: "deepDream" }, /tab must be one of featureMaps, filterPatterns, gradCam, lime, shap/);
        rejects({ type: "explain", id: 1, tab: "featureMaps", layer: "features.0", options: { colormap: "plasma" } }, /options.colormap/);
        for (const colormap of ["viridis", "gray", "jet", "turbo"]) assert.equal((parse({ type: "explain", id: 1, tab: "gradCam", layer: "features.0", options: { colormap } }) as { options: { colormap?: string } }).options.colormap, colormap);
        rejects({ type: "export", tab: "lime", format: "exe" }, /format must be one of png, json, npy/);
        rejects({ type: "export", tab: "lime", format: "png", picture: "../x" }, /picture must be a picture's id/);
        rejects({ type: "command", command: "workbench.action.terminal.new" }, /command must be one of/);
    });

    it("has the five tabs, in order", () => {
        assert.deepEqual(TABS.map((t) => t.title), ["Feature maps", "Filter patterns", "Grad-CAM", "LIME", "SHAP"]);
    });
});

describe("gridCells", () => {
    const grid = { columns: 16, rows: 1, left: 4, top: 4, cellWidth: 56, cellHeight: 56, stepX: 58, stepY: 58, scale: 2 };
    it("tells the panel where each feature map is and what to say of it, top position included", () => {
        const result = {
            shape: [16, 28, 28], grid,
            stats: [{ channel: 3, min: -0.25, max: 2.5, mean: 0.12345, std: 0.5, topY: 7, topX: 20 }],
        };
        assert.deepEqual(gridCells("featureMaps", result), {
            layout: grid, mapHeight: 28, mapWidth: 28,
            cells: [{
                channel: 3,
                figures: [
                    { label: "Min", value: "-0.25" }, { label: "Max", value: "2.5" }, { label: "Mean", value: "0.1235" }, { label: "Std", value: "0.5" },
                    { label: "Top at", value: "row 7, column 20" },
                ],
                top: { y: 7, x: 20 },
            }],
        });
    });
    it("gives filter patterns their activations, and nothing for a view without a grid or a daemon that does not lay it out", () => {
        const cells = gridCells("filterPatterns", { grid, patternShape: [1, 28, 28], patterns: [{ channel: 0, activationBefore: 0.1, activationAfter: 4, fromCache: true }] });
        assert.deepEqual(cells?.cells[0]?.figures.map((f) => f.value), ["0.1", "4", "yes"]);
        assert.equal(gridCells("featureMaps", { shape: [16, 28, 28], stats: [] }), undefined);
        assert.equal(gridCells("lime", { grid }), undefined);
    });
});

describe("progressMessage", () => {
    it("forwards the picture so far: a LIME/SHAP partial map, or the grid of the filter patterns finished so far", () => {
        const pattern = { channel: 3, activationBefore: 0.1, activationAfter: 2, fromCache: false };
        assert.deepEqual(progressMessage(7, { kind: "report", message: "batch 1/4", percentage: 25, patterns: { patterns: [pattern], png: "R1JJRA==" } }),
            { type: "progress", id: 7, message: "batch 1/4", percentage: 25, partialPng: "R1JJRA==" });
        assert.deepEqual(progressMessage(8, { kind: "report", percentage: 40, partial: { samples: 400, total: 1000, png: "TUFQ" } }),
            { type: "progress", id: 8, percentage: 40, partialPng: "TUFQ" });
        assert.deepEqual(progressMessage(9, { kind: "report", message: "step 2/30", percentage: 1 }), { type: "progress", id: 9, message: "step 2/30", percentage: 1 });
    });
});

describe("explainRequest", () => {
    const request = (raw: object) => explainRequest(parse({ type: "explain", id: 1, ...raw }) as never, "/img/boot.png", "fashion-vgg");

    it("builds explain/featureMaps with the layer, page and display options only", () => {
        assert.deepEqual(request({ tab: "featureMaps", layer: "features.3", page: 2, options: { colormap: "gray", scaling: "shared", samples: 50, method: "kernel" } }), {
            method: "explain/featureMaps",
            params: { model: "fashion-vgg", image: "/img/boot.png", layer: "features.3", page: 2, colormap: "gray", scaling: "shared" },
        });
    });

    it("asks filter patterns of the layer, without the image (they do not depend on it)", () => {
        assert.deepEqual(request({ tab: "filterPatterns", layer: "features.0", options: { preset: "classic", seed: 4 } }), {
            method: "explain/filterPatterns",
            params: { model: "fashion-vgg", layer: "features.0", page: 0, preset: "classic", seed: 4 },
        });
    });

    it("passes the target class as a number to Grad-CAM, LIME and SHAP, and leaves out what is unset", () => {
        assert.deepEqual(request({ tab: "gradCam", layer: "features.3", target: 9, options: { method: "grad-cam++", opacity: 0.3, samples: 5000 } }), {
            method: "explain/gradCam",
            params: { model: "fashion-vgg", image: "/img/boot.png", layer: "features.3", target: 9, method: "grad-cam++", opacity: 0.3 },
        });
        assert.deepEqual(request({ tab: "lime", target: 2, options: { seed: 3, samples: 200, segments: 30, method: "grad-cam" } }), {
            method: "explain/lime",
            params: { model: "fashion-vgg", image: "/img/boot.png", target: 2, samples: 200, seed: 3, segments: 30 },
        });
        assert.deepEqual(request({ tab: "lime", options: {} }).params, { model: "fashion-vgg", image: "/img/boot.png" });
    });

    it("sends SHAP's layer only for GradientSHAP, and segments only for KernelSHAP", () => {
        assert.deepEqual(request({ tab: "shap", layer: "features.3", options: { method: "kernel", segments: 20 } }).params, {
            model: "fashion-vgg",
            image: "/img/boot.png",
            method: "kernel",
            segments: 20,
        });
        assert.deepEqual(request({ tab: "shap", layer: "features.3", options: { method: "gradient", segments: 20, samples: 64 } }).params, {
            model: "fashion-vgg",
            image: "/img/boot.png",
            method: "gradient",
            layer: "features.3",
            samples: 64,
        });
        // GradientSHAP without a layer: on the input image's pixels.
        assert.deepEqual(request({ tab: "shap", options: { method: "gradient", samples: 128 } }).params, {
            model: "fashion-vgg",
            image: "/img/boot.png",
            method: "gradient",
            samples: 128,
        });
    });
});

describe("defaultLayers", () => {
    const l = (name: string, kind: string, outputShape: number[]) => ({ name, displayName: name, kind, group: "g", outputShape, parameterCount: 0, isSpatial: outputShape.length === 3 });
    const model = (...layers: ReturnType<typeof l>[]) => ({ id: "m", displayName: "m", inputShape: [1, 8, 8], classes: ["a"], parameterCount: 0, weightsSha256: "", layers });

    it("starts maps and patterns at the first convolution, Grad-CAM and GradientSHAP at the last convolution's ReLU", () => {
        const vgg = model(l("c1", "Conv2d", [4, 8, 8]), l("r1", "ReLU", [4, 8, 8]), l("c2", "Conv2d", [4, 4, 4]), l("r2", "ReLU", [4, 4, 4]), l("p", "MaxPool2d", [4, 2, 2]), l("fc", "Linear", [1]));
        assert.deepEqual(defaultLayers(vgg), { featureMaps: "c1", filterPatterns: "c1", gradCam: "r2", shap: "r2" });
    });

    it("falls back to the last convolution, then to any spatial layer", () => {
        assert.deepEqual(defaultLayers(model(l("c1", "Conv2d", [4, 8, 8]), l("bn", "BatchNorm2d", [4, 8, 8]))).gradCam, "c1");
        assert.deepEqual(defaultLayers(model(l("p", "MaxPool2d", [1, 4, 4]), l("fc", "Linear", [1]))), { featureMaps: "p", filterPatterns: "p", gradCam: "p", shap: "p" });
    });
});

describe("caption", () => {
    const layer = { name: "features.10", displayName: "block3_conv1", kind: "Conv2d", group: "block3", outputShape: [128, 7, 7], parameterCount: 1 };

    it("says which layer, channels and page of feature maps are shown", () => {
        const text = caption("featureMaps", { layer, channels: Array.from({ length: 64 }, (_, i) => i + 64), page: 1, pageCount: 2 });
        assert.equal(text, "block3_conv1 (features.10) · channels 64–127 of 128 · page 2/2");
    });

    it("names the target and the method of Grad-CAM, LIME and SHAP", () => {
        assert.equal(
            caption("gradCam", { method: "grad-cam", layer, target: "9", targetLabel: "Ankle boot", score: 12.345 }),
            "Grad-CAM of Ankle boot (9) at block3_conv1 (features.10) · score 12.35",
        );
        assert.equal(
            caption("gradCam", { method: "grad-cam", layer, target: "9", targetLabel: "Ankle boot", score: 1, empty: true, hint: "The map is zero everywhere." }),
            "Grad-CAM of Ankle boot (9) at block3_conv1 (features.10) · score 1.00 · The map is zero everywhere.",
        );
        assert.equal(
            caption("lime", { target: "9", targetLabel: "Ankle boot", samples: 1000, segments: 18, seed: 0, r2: 0.81, stability: 1, cancelled: true, topPositive: [], topNegative: [] }),
            "LIME for Ankle boot (9) · 1000 samples, 18 segments, seed 0 · R² 0.81 · stability 1.00 · cancelled: from the samples scored so far",
        );
        assert.match(
            caption("lime", { target: "9", targetLabel: "Ankle boot", samples: 100, segments: 18, seed: 0, r2: 0.5, stability: 0.5, cancelled: false, topPositive: [], topNegative: [] }),
            / · stability 0\.50: the ranking is not settled, try more samples$/,
        );
        assert.equal(
            caption("shap", {
                method: "kernel", samples: 262144, exact: true, seed: 0, cancelled: false,
                targets: [{ target: "9", label: "Ankle boot", efficiencyGap: 0.0001 }, { target: "7", label: "Sneaker", efficiencyGap: 0 }],
            }),
            "KernelSHAP for Ankle boot (9) and Sneaker (7) · 262144 samples (exact), seed 0 · Σ values − (f(x) − f(baseline)) = 0.000",
        );
    });
});

describe("the pictures of a view", () => {
    it("lists the top positive and negative LIME segments in the caption", () => {
        assert.equal(
            caption("lime", { target: "9", targetLabel: "Ankle boot", samples: 1000, segments: 18, seed: 0, r2: 0.81, stability: 1, cancelled: false, topPositive: [4, 11, 2], topNegative: [7] }),
            "LIME for Ankle boot (9) · 1000 samples, 18 segments, seed 0 · R² 0.81 · stability 1.00 · top segments for: 4, 11, 2 · against: 7",
        );
    });

    it("offers Overlay/Heatmap for Grad-CAM and Weights/Top superpixels/Segments for LIME, the default first", () => {
        assert.deepEqual(viewImages("gradCam", { png: "O", heatmapPng: "H" }), [
            { id: "overlay", label: "Overlay", png: "O" },
            { id: "heatmap", label: "Heatmap", png: "H" },
        ]);
        assert.deepEqual(viewImages("lime", { png: "W", topPng: "T", segmentsPng: "S" }).map((i) => [i.id, i.label, i.png]), [
            ["weights", "Weights", "W"],
            ["top", "Top superpixels", "T"],
            ["segments", "Segments", "S"],
        ]);
    });

    it("offers no switch when a result has one picture (another tab, or an older daemon)", () => {
        assert.deepEqual(viewImages("gradCam", { png: "O" }), []);
        assert.deepEqual(viewImages("lime", { png: "W", topPng: "", segmentsPng: 5 }), []);
        assert.deepEqual(viewImages("featureMaps", { png: "F", heatmapPng: "H" }), []);
    });
});

describe("npyFloat32", () => {
    it("writes a version 1.0 header padded to 64 bytes, then the data", () => {
        const data = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
        const npy = npyFloat32(data, [2, 3]);
        assert.deepEqual([...npy.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
        const headerLength = npy[8]! | (npy[9]! << 8);
        assert.equal((10 + headerLength) % 64, 0);
        const header = Buffer.from(npy.subarray(10, 10 + headerLength)).toString("latin1");
        assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
        assert.deepEqual([...new Float32Array(npy.slice(10 + headerLength).buffer)], [1, 2, 3, 4, 5, 6]);
        assert.match(Buffer.from(npyFloat32(new Uint8Array(8), [2])).toString("latin1"), /'shape': \(2,\)/);
        assert.throws(() => npyFloat32(new Uint8Array(7), [2]), /do not hold/);
    });
});

describe("workspace trust", () => {
    it("runs built-in models anywhere and model files only in a trusted workspace", () => {
        for (const builtIn of ["fashion-vgg", "vgg16", "resnet18-imagenet"]) assert.ok(modelAllowed(builtIn, false), builtIn);
        for (const file of ["/ws/model.onnx", "models/net.pth", "C:\\m\\net.pt", "net.safetensors", "vgg16@/ws/w.pth", "/ws/ckpt#resnet18"]) {
            assert.equal(modelAllowed(file, false), false, file);
            assert.equal(modelAllowed(file, true), true, file);
        }
    });
});
