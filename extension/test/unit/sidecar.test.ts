import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseTriple, preprocessingRows, updatedSidecar } from "../../src/sidecar";

describe("updatedSidecar", () => {
    it("replaces the form's fields, keeps the others, and writes the labels file relative to the sidecar", () => {
        const next = updatedSidecar({ preset: "unit", crop: [224, 224], labels: ["a", "b"] },
            { preset: "imagenet", mean: "", std: "0.5", labelsFile: "/work/models/names/flowers.txt" }, "/work/models/net.onnx.json");
        assert.deepEqual(next, { preset: "imagenet", crop: [224, 224], std: [0.5], labelsFile: "names/flowers.txt" });
    });
    it("removes a field the form leaves empty", () => {
        assert.deepEqual(updatedSidecar({ preset: "unit", mean: [0.5], labelsFile: "x.txt" }, { preset: "", mean: "", std: "", labelsFile: "" }, "/m/net.onnx.json"), {});
    });
    it("refuses what the daemon would refuse, with a message for the form", () => {
        assert.throws(() => updatedSidecar({}, { preset: "imagenette", mean: "", std: "", labelsFile: "" }, "/m/n.json"), /Unknown preset 'imagenette'/);
        assert.throws(() => parseTriple("0.5, 0.5", "mean"), /three numbers R,G,B/);
        assert.throws(() => parseTriple("0.5, 0, 0.5", "std"), /std must be positive/);
        assert.deepEqual(parseTriple(" 0.485, 0.456 ,0.406 ", "mean"), [0.485, 0.456, 0.406]);
    });
});

describe("preprocessingRows", () => {
    it("names each value's source: the sidecar or labels file by name, else the model's defaults", () => {
        const rows = preprocessingRows({
            preset: "imagenet", mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resize: 224, crop: [224, 224], channels: "rgb",
            defaults: "the ONNX input", sidecar: "/m/net.onnx.json",
            sources: { preset: "/m/net.onnx.json", mean: "/m/net.onnx.json", std: "/m/net.onnx.json", labels: "/m/flowers.txt (from /m/net.onnx.json)" },
        }, 5);
        assert.deepEqual(rows.map((r) => [r.field, r.value, r.source]), [
            ["preset", "imagenet", "net.onnx.json"],
            ["mean", "0.485, 0.456, 0.406", "net.onnx.json"],
            ["std", "0.229, 0.224, 0.225", "net.onnx.json"],
            ["resize", "224", "the ONNX input"],
            ["crop", "224×224", "the ONNX input"],
            ["channels", "rgb", "the ONNX input"],
            ["labels", "5 classes", "flowers.txt"],
        ]);
    });
});
