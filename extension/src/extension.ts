// Entry point: builds the one Ctx, registers the commands and the panel serializer, starts the daemon.
import * as vscode from "vscode";
import { createCommands } from "./commands";
import { Ctx, message } from "./ctx";
import { ModelFileEditor } from "./modelFileEditor";
import { ExplainPanel, type PanelState } from "./panel";

let ctx: Ctx | undefined;

export function activate(extension: vscode.ExtensionContext): void {
    ctx = new Ctx(extension);
    extension.subscriptions.push(ctx);
    ctx.registerCommands(createCommands());
    const c = ctx;
    extension.subscriptions.push(
        vscode.window.registerWebviewPanelSerializer(ExplainPanel.viewType, {
            deserializeWebviewPanel: (panel: vscode.WebviewPanel, state: unknown) => {
                ExplainPanel.revive(c, panel, state as PanelState | undefined);
                return Promise.resolve();
            },
        }),
        { dispose: () => ExplainPanel.current?.dispose() },
        vscode.window.registerCustomEditorProvider(ModelFileEditor.viewType, new ModelFileEditor(c), { supportsMultipleEditorsPerDocument: true }),
    );
    // Start in the background: activation must not wait for the daemon, and failures are shown by Ctx.
    void ctx.start().catch((e: unknown) => ctx?.log.error(message(e)));
}

export async function deactivate(): Promise<void> {
    await ctx?.client.dispose();
    ctx = undefined;
}
