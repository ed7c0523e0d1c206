import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contentSecurityPolicy, escapeHtml, newNonce, webviewHtml } from "../../src/webviewHtml";

// What VS Code's webview.cspSource looks like: the webview's own origin, the one remote-looking source allowed.
const cspSource = "https://*.vscode-cdn.net";
const nonce = "bm9uY2Uxbm9uY2Uybm9uY2Uz";

/** The policy as directive → sources. */
function parse(csp: string): Map<string, string[]> {
    return new Map(csp.split(";").map((d) => d.trim()).filter(Boolean).map((d) => {
        const [name, ...sources] = d.split(/\s+/);
        return [name!, sources];
    }));
}

describe("the webviews' Content-Security-Policy", () => {
    const policy = parse(contentSecurityPolicy(cspSource, nonce));

    it("allows nothing by default", () => {
        assert.deepEqual(policy.get("default-src"), ["'none'"]);
    });

    it("runs scripts only by nonce: no inline code, no eval", () => {
        assert.deepEqual(policy.get("script-src"), [`'nonce-${nonce}'`]);
        for (const [name, sources] of policy) {
            for (const bad of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'", "'strict-dynamic'"]) {
                assert.ok(!sources.includes(bad), `${name} allows ${bad}`);
            }
        }
    });

    it("names no remote host: only the webview's own origin, data: images and 'none'", () => {
        for (const [name, sources] of policy) {
            for (const s of sources) {
                const allowed = s === cspSource || s === "'none'" || s === `'nonce-${nonce}'` || (name === "img-src" && s === "data:");
                assert.ok(allowed, `${name} allows ${s}`);
            }
        }
    });

    it("is the policy of the page, whose one script carries the nonce and which has no inline script or style", () => {
        const html = webviewHtml({ cspSource, nonce, script: "https://x.vscode-cdn.net/media/panel.js", style: "https://x.vscode-cdn.net/media/panel.css", title: "a<b>.pth", placeholder: "Loading…" });
        const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
        assert.equal(meta?.[1], contentSecurityPolicy(cspSource, nonce));
        const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
        assert.equal(scripts.length, 1);
        assert.match(scripts[0]![1]!, new RegExp(`nonce="${nonce}" src="https://x\\.vscode-cdn\\.net/media/panel\\.js"`));
        assert.equal(scripts[0]![2], "", "an inline script");
        assert.doesNotMatch(html, /<style\b|\sstyle=|\son\w+=/i);
        assert.match(html, /<title>a&#60;b&#62;.pth<\/title>/);
    });

    it("takes a fresh nonce each render", () => {
        const a = newNonce();
        assert.match(a, /^[A-Za-z0-9+/]{22}==$/);
        assert.notEqual(a, newNonce());
        assert.equal(escapeHtml(`"'&`), "&#34;&#39;&#38;");
    });
});
