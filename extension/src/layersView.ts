// The Layers tree view: the active model → its blocks → its layers (layerModel.ts holds the data).
import * as vscode from "vscode";
import {
    buildLayerTree,
    childrenOf,
    contextValueFor,
    findLayer,
    formatShape,
    iconFor,
    isSpatial,
    parentOf,
    tooltipFor,
    type LayerNode,
    type ModelNode,
    type TreeNode,
} from "./layerModel";
import type { ModelDetails } from "./protocol";

export class LayerTreeItem extends vscode.TreeItem {
    constructor(readonly node: TreeNode) {
        super(labelOf(node), node.type === "layer" ? vscode.TreeItemCollapsibleState.None : vscode.TreeItemCollapsibleState.Expanded);
        this.id = node.id;
        this.contextValue = contextValueFor(node);
        this.tooltip = new vscode.MarkdownString(tooltipFor(node));
        switch (node.type) {
            case "model":
                this.description = `${node.model.id} · ${formatShape(node.model.inputShape)}`;
                this.iconPath = new vscode.ThemeIcon("circuit-board");
                break;
            case "block":
                this.description = `${node.layers.length} layers`;
                this.iconPath = new vscode.ThemeIcon("layers");
                break;
            case "layer":
                this.description = formatShape(node.layer.outputShape);
                this.iconPath = new vscode.ThemeIcon(iconFor(node.layer.kind));
                // Only layers with [channels, height, width] maps have something to show; a dense layer's tooltip says so.
                if (isSpatial(node.layer)) this.command = { command: "cnnInterpret.showLayer", title: "Show Layer in Panel", arguments: [node.layer.name] };
                this.accessibilityInformation = { label: `${node.layer.displayName}, ${node.layer.kind}, output ${formatShape(node.layer.outputShape)}` };
                break;
        }
    }
}

function labelOf(node: TreeNode): string {
    switch (node.type) {
        case "model":
            return node.model.displayName;
        case "block":
            return node.name;
        case "layer":
            return node.layer.displayName;
    }
}

export class LayersProvider implements vscode.TreeDataProvider<TreeNode> {
    private root: ModelNode | undefined;
    private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
    readonly onDidChangeTreeData = this.changed.event;

    setModel(model: ModelDetails | undefined): void {
        this.root = model ? buildLayerTree(model) : undefined;
        this.changed.fire(undefined);
    }

    get model(): ModelDetails | undefined {
        return this.root?.model;
    }

    find(layer: string): LayerNode | undefined {
        return this.root ? findLayer(this.root, layer) : undefined;
    }

    getTreeItem(node: TreeNode): vscode.TreeItem {
        return new LayerTreeItem(node);
    }

    getChildren(node?: TreeNode): TreeNode[] {
        if (!node) return this.root ? [this.root] : [];
        return childrenOf(node);
    }

    getParent(node: TreeNode): TreeNode | undefined {
        return parentOf(node);
    }

    dispose(): void {
        this.changed.dispose();
    }
}
