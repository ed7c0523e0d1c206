import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    buildLayerTree,
    childrenOf,
    contextValueFor,
    defaultLayer,
    findLayer,
    formatShape,
    iconFor,
    parentOf,
    tooltipFor,
    type TreeNode,
} from "../../src/layerModel";
import type { LayerInfo, ModelDetails } from "../../src/protocol";

const layer = (name: string, displayName: string, kind: string, group: string, outputShape: number[], parameterCount = 0): LayerInfo => ({
    name,
    displayName,
    kind,
    group,
    outputShape,
    parameterCount,
    isSpatial: outputShape.length === 3,
});

/** A small VGG: two blocks, then a classifier whose groups are not contiguous with the blocks' names. */
const tiny: ModelDetails = {
    id: "tiny",
    displayName: "Tiny VGG",
    inputShape: [1, 8, 8],
    classes: ["a", "b"],
    parameterCount: 80 + 584 + 130,
    weightsSha256: "x",
    layers: [
        layer("features.0", "block1_conv1", "Conv2d", "block1", [8, 8, 8], 80),
        layer("features.1", "block1_conv1_relu", "ReLU", "block1", [8, 8, 8]),
        layer("features.2", "block1_pool", "MaxPool2d", "block1", [8, 4, 4]),
        layer("features.3", "block2_conv1", "Conv2d", "block2", [8, 4, 4], 584),
        layer("avgpool", "avgpool", "AdaptiveAvgPool2d", "block2", [8, 1, 1]),
        layer("flatten", "flatten", "Flatten", "classifier", [8]),
        layer("classifier.0", "predictions", "Linear", "classifier", [2], 18),
    ],
};

describe("buildLayerTree", () => {
    const root = buildLayerTree(tiny);

    it("groups layers into blocks in forward order, keeping every layer once", () => {
        assert.deepEqual(root.blocks.map((b) => b.name), ["block1", "block2", "classifier"]);
        assert.deepEqual(root.blocks.map((b) => b.layers.map((l) => l.layer.name)), [
            ["features.0", "features.1", "features.2"],
            ["features.3", "avgpool"],
            ["flatten", "classifier.0"],
        ]);
        assert.deepEqual(root.blocks.flatMap((b) => b.layers.map((l) => l.index)), [0, 1, 2, 3, 4, 5, 6]);
    });

    it("sums the parameters of each block", () => {
        assert.deepEqual(root.blocks.map((b) => b.parameterCount), [80, 584, 18]);
    });

    it("gives stable, unique ids that survive a rebuild", () => {
        const ids = [root, ...root.blocks, ...root.blocks.flatMap((b) => b.layers)].map((n) => n.id);
        assert.equal(new Set(ids).size, ids.length);
        assert.ok(ids.includes("layer:tiny/features.3"));
        const again = buildLayerTree(structuredClone(tiny));
        assert.deepEqual([again, ...again.blocks, ...again.blocks.flatMap((b) => b.layers)].map((n) => n.id), ids);
    });

    it("links every child to its parent (what TreeView.reveal needs)", () => {
        const walk = (node: TreeNode): void => {
            for (const child of childrenOf(node)) {
                assert.equal(parentOf(child), node, `${child.id} → ${node.id}`);
                walk(child);
            }
        };
        walk(root);
        assert.equal(parentOf(root), undefined);
    });

    it("finds a layer by name or display name", () => {
        assert.equal(findLayer(root, "features.3")?.layer.displayName, "block2_conv1");
        assert.equal(findLayer(root, "block1_pool")?.layer.name, "features.2");
        assert.equal(findLayer(root, "features.99"), undefined);
    });
});

describe("tree item details", () => {
    const root = buildLayerTree(tiny);
    const conv = findLayer(root, "features.0")!;
    const dense = findLayer(root, "classifier.0")!;

    it("shows the output shape and marks what each layer can be explained with", () => {
        assert.equal(formatShape(conv.layer.outputShape), "8×8×8");
        assert.equal(contextValueFor(conv), "layer spatial conv");
        assert.equal(contextValueFor(findLayer(root, "features.2")!), "layer spatial");
        assert.equal(contextValueFor(dense), "layer");
        assert.equal(contextValueFor(root), "model");
        assert.equal(contextValueFor(root.blocks[0]!), "block");
    });

    it("picks icons by kind", () => {
        assert.equal(iconFor("Conv2d"), "symbol-array");
        assert.equal(iconFor("MaxPool2d"), "fold-down");
        assert.equal(iconFor("AdaptiveAvgPool2d"), "fold-down");
        assert.equal(iconFor("ReLU"), "pulse");
        assert.equal(iconFor("Linear"), "symbol-constant");
        assert.equal(iconFor("BatchNorm2d"), "symbol-operator");
        assert.equal(iconFor("Something"), "symbol-misc");
    });

    it("puts the parameter count in the tooltip", () => {
        assert.match(tooltipFor(findLayer(root, "features.3")!), /584 parameters/);
        assert.match(tooltipFor(root.blocks[1]!), /2 layers, 584 parameters/);
        assert.match(tooltipFor(root), /794 parameters/);
        assert.match(tooltipFor(findLayer(root, "flatten")!), /dense layer: it has no \[channels, height, width\] maps/);
        assert.doesNotMatch(tooltipFor(findLayer(root, "features.3")!), /dense layer/);
    });

    it("opens the panel on the first convolution", () => {
        assert.equal(defaultLayer(tiny)?.name, "features.0");
        assert.equal(defaultLayer({ ...tiny, layers: tiny.layers.slice(5) })?.name, "flatten");
    });
});
