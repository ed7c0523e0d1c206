// The Layers tree as data: model → blocks (LayerInfo.group, in forward order) → layers, with stable ids
// and parent links. No `vscode` import (the tree provider in layersView.ts wraps it; unit tests read it).
import type { LayerInfo, ModelDetails } from "./protocol";

export interface ModelNode {
    readonly type: "model";
    readonly id: string;
    readonly model: ModelDetails;
    readonly blocks: BlockNode[];
}

export interface BlockNode {
    readonly type: "block";
    readonly id: string;
    readonly name: string;
    readonly parent: ModelNode;
    readonly layers: LayerNode[];
    readonly parameterCount: number;
}

export interface LayerNode {
    readonly type: "layer";
    readonly id: string;
    readonly layer: LayerInfo;
    readonly parent: BlockNode;
    /** Position in forward order over the whole model. */
    readonly index: number;
}

export type TreeNode = ModelNode | BlockNode | LayerNode;

/** Ids stay the same across reloads of the same model, so VS Code keeps expansion and selection. */
export function buildLayerTree(model: ModelDetails): ModelNode {
    const blocks: { type: "block"; id: string; name: string; parent: ModelNode; layers: LayerNode[]; parameterCount: number }[] = [];
    const root: ModelNode = { type: "model", id: `model:${model.id}`, model, blocks };
    const byName = new Map<string, (typeof blocks)[number]>();
    model.layers.forEach((layer, index) => {
        let block = byName.get(layer.group);
        if (!block) {
            block = { type: "block", id: `block:${model.id}/${layer.group}`, name: layer.group, parent: root, layers: [], parameterCount: 0 };
            byName.set(layer.group, block);
            blocks.push(block);
        }
        block.layers.push({ type: "layer", id: `layer:${model.id}/${layer.name}`, layer, parent: block, index });
        block.parameterCount += layer.parameterCount;
    });
    return root;
}

export function childrenOf(node: TreeNode): TreeNode[] {
    switch (node.type) {
        case "model":
            return node.blocks;
        case "block":
            return node.layers;
        case "layer":
            return [];
    }
}

export function parentOf(node: TreeNode): TreeNode | undefined {
    return node.type === "model" ? undefined : node.parent;
}

/** A layer by stable name or display name. */
export function findLayer(root: ModelNode, name: string): LayerNode | undefined {
    for (const block of root.blocks) for (const l of block.layers) if (l.layer.name === name || l.layer.displayName === name) return l;
    return undefined;
}

/** A [C,H,W] output: feature maps, Grad-CAM and SHAP-at-a-layer apply. */
export function isSpatial(layer: LayerInfo): boolean {
    return layer.outputShape.length === 3;
}

export function isConv(layer: LayerInfo): boolean {
    return /^Conv/i.test(layer.kind);
}

/** `16×28×28` */
export function formatShape(shape: readonly number[]): string {
    return shape.join("×");
}

/** `14,728` */
export function formatCount(n: number): string {
    return n.toLocaleString("en-US");
}

/** A codicon per layer kind. */
export function iconFor(kind: string): string {
    if (/^Conv/i.test(kind)) return "symbol-array";
    if (/Pool/i.test(kind)) return "fold-down";
    if (/ReLU|GELU|Sigmoid|Tanh|SiLU|Softmax/i.test(kind)) return "pulse";
    if (/Linear|Dense/i.test(kind)) return "symbol-constant";
    if (/Norm/i.test(kind)) return "symbol-operator";
    if (/Dropout/i.test(kind)) return "circle-slash";
    if (/Flatten|Reshape/i.test(kind)) return "list-flat";
    return "symbol-misc";
}

/** For `view/item/context` menus: `layer`, plus `spatial` and `conv` when they apply. */
export function contextValueFor(node: TreeNode): string {
    if (node.type !== "layer") return node.type;
    return ["layer", isSpatial(node.layer) ? "spatial" : "", isConv(node.layer) ? "conv" : ""].filter(Boolean).join(" ");
}

/** The tooltip's lines (markdown). */
export function tooltipFor(node: TreeNode): string {
    switch (node.type) {
        case "model":
            return [
                `**${node.model.displayName}** (\`${node.model.id}\`)`,
                `input ${formatShape(node.model.inputShape)} · ${node.model.classes.length} classes`,
                `${formatCount(node.model.parameterCount)} parameters`,
            ].join("\n\n");
        case "block":
            return `**${node.name}**: ${node.layers.length} layers, ${formatCount(node.parameterCount)} parameters`;
        case "layer": {
            const l = node.layer;
            return [
                `**${l.displayName}** \`${l.name}\``,
                `${l.kind} → ${formatShape(l.outputShape)}`,
                `${formatCount(l.parameterCount)} parameters`,
                ...(isSpatial(l) ? [] : ["A dense layer: it has no [channels, height, width] maps to show in the panel."]),
            ].join("\n\n");
        }
    }
}

/** The layer the panel shows first: the first convolution (else the first spatial layer, else the first). */
export function defaultLayer(model: ModelDetails): LayerInfo | undefined {
    return model.layers.find(isConv) ?? model.layers.find(isSpatial) ?? model.layers[0];
}
