// The HTML shell of the extension's webviews (the panel, the model-file view) and its Content-Security-Policy.
// No `vscode` import, so a unit test can hold the policy to its promise: local files and one nonce'd script only.
import * as crypto from "node:crypto";

/** A fresh nonce for each render: the only way a script runs in our webviews. */
export function newNonce(): string {
    return crypto.randomBytes(16).toString("base64");
}

/**
 * Nothing by default; images from the extension (and the daemon's base64 PNGs as data: URIs), styles and fonts
 * from the extension only, scripts only with `nonce`. `cspSource` is the webview's own origin (webview.cspSource).
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
    return [
        "default-src 'none'",
        `img-src ${cspSource} data:`,
        `style-src ${cspSource}`,
        `font-src ${cspSource}`,
        `script-src 'nonce-${nonce}'`,
    ].join("; ");
}

export interface WebviewPage {
    cspSource: string;
    nonce: string;
    /** asWebviewUri of the script and the stylesheet. */
    script: string;
    style: string;
    title: string;
    /** Shown until the script has rendered. */
    placeholder: string;
}

/** The page: the policy, one stylesheet, one script; the script renders everything into #app. */
export function webviewHtml(page: WebviewPage): string {
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(page.cspSource, page.nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(page.style)}">
<title>${escapeHtml(page.title)}</title>
</head>
<body>
<main id="app" aria-busy="true"><p class="placeholder">${escapeHtml(page.placeholder)}</p></main>
<script nonce="${page.nonce}" src="${escapeHtml(page.script)}"></script>
</body>
</html>`;
}

export function escapeHtml(s: string): string {
    return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
