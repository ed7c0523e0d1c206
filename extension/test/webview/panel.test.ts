// The panel's webview (src/webview/) in a DOM without VS Code: happy-dom's window, the real modules, messages
// as the extension sends them (built with the extension's own functions where it has them), and a host that
// records what the panel posts. What the issue asked of it: updates in place (a progress tick touches its bar
// only; typing, focus and pictures survive every message), the picture sent once, a channel opened large with its
// figures and stepped through with the arrow keys, every control named.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Window } from "happy-dom";
import type { ExtensionMessage, WebviewMessage } from "../../src/messages";
import { methodsState, panelMethods, panelTabs } from "../../src/methods";
import { progressMessage, type GridCells } from "../../src/explainRequests";
import type { MethodInfo } from "../../src/protocol";
import { App } from "../../src/webview/app";
import { cellAt } from "../../src/webview/channelZoom";
import { pngSize } from "../../src/webview/picture";

// The modules under test use the DOM's globals (when called, not when loaded), as they do in the webview.
const window = new Window({ url: "https://panel.test/" });
const globals = ["document", "Node", "Element", "HTMLElement", "HTMLInputElement", "HTMLSelectElement", "HTMLOptionElement", "HTMLImageElement", "MutationObserver", "requestAnimationFrame"] as const;
for (const name of globals) Object.assign(globalThis, { [name]: (window as unknown as Record<string, unknown>)[name] });


/** A PNG's first 33 bytes (signature and IHDR) for a w×h picture, base64: all the panel reads of a picture. */
function png(w: number, h: number, tag = 0): string {
    const b = Buffer.alloc(33);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
    b.writeUInt32BE(13, 8);
    b.write("IHDR", 12, "latin1");
    b.writeUInt32BE(w, 16);
    b.writeUInt32BE(h, 20);
    b[24] = 8;
    b[32] = tag; // tells pictures of one size apart
    return b.toString("base64");
}

const methods: MethodInfo[] = [
    { name: "grad-cam", displayName: "Grad-CAM", group: "cam", kind: "layer", signed: false, sampling: false, needsLayer: true, paper: "Selvaraju et al., ICCV 2017", options: [] },
    {
        name: "integrated-gradients", displayName: "Integrated gradients", group: "gradients", kind: "pixel", signed: true, sampling: false, needsLayer: false, paper: "Sundararajan et al., ICML 2017",
        options: [{ name: "steps", type: "integer", default: 50, description: "Points along the path.", minimum: 2, maximum: 1000 }],
    },
];
const state = methodsState({ methods, trustMethods: ["grad-cam"] });

function session(src?: string): ExtensionMessage {
    return {
        type: "session",
        image: { name: "boot.png", path: "/w/boot.png", ...(src ? { src } : {}) },
        model: {
            id: "fashion-vgg",
            displayName: "Fashion VGG",
            classes: ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
            layers: [
                { name: "features.0", displayName: "block1_conv1", kind: "Conv2d", group: "block1", shape: "16×28×28", spatial: true },
                { name: "features.1", displayName: "block1_conv1_relu", kind: "ReLU", group: "block1", shape: "16×28×28", spatial: true },
                { name: "classifier.6", displayName: "predictions", kind: "Linear", group: "classifier", shape: "10", spatial: false },
            ],
        },
        tabs: panelTabs(state),
        methods: panelMethods(state),
        layers: { featureMaps: "features.0", filterPatterns: "features.0", shap: "features.1", cam: "features.1" },
        defaults: {
            featureMaps: { colormap: "viridis", scaling: "perChannel" },
            lime: { samples: 1000, seed: 0 },
            shap: { method: "kernel", samples: 1000, seed: 0 },
            cam: { colormap: "turbo", opacity: 0.5 },
            gradients: { colormap: "turbo", opacity: 0.5 },
        },
        daemon: { version: "0.1.0", device: "cpu" },
    };
}

/** Four 2×3 channels in two columns of 48×32 cells (scale 16), 4 pixels of margin, 2 of gap: as ChannelGrid lays them out. */
const cells: GridCells = {
    layout: { columns: 2, rows: 2, left: 4, top: 4, cellWidth: 48, cellHeight: 32, stepX: 50, stepY: 34, scale: 16 },
    mapHeight: 2,
    mapWidth: 3,
    cells: [0, 1, 2, 3].map((c) => ({ channel: c, figures: [{ label: "Max", value: String(c + 0.5) }], top: { y: 1, x: c % 3 } })),
};

let posted: WebviewMessage[];
let saved: unknown;
let app: App;
let root: HTMLElement;

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the element type it expects
const $ = <T extends Element = HTMLElement>(selector: string): T => {
    const el = root.querySelector(selector);
    assert.ok(el, `no ${selector} in the panel: ${root.textContent.slice(0, 300)}`);
    return el as unknown as T;
};
const last = <T extends WebviewMessage["type"]>(type: T) => posted.filter((m): m is Extract<WebviewMessage, { type: T }> => m.type === type).at(-1);
const click = (el: Element) => el.dispatchEvent(new window.MouseEvent("click", { bubbles: true }) as unknown as Event);
const key = (el: Element, k: string) => el.dispatchEvent(new window.KeyboardEvent("keydown", { key: k, bubbles: true }) as unknown as Event);

beforeEach(() => {
    document.body.innerHTML = '<main id="app" aria-busy="true"></main>';
    root = document.getElementById("app")!;
    posted = [];
    saved = undefined;
    app = new App({ postMessage: (m) => posted.push(m), getState: () => saved, setState: (s) => (saved = s) }, root);
    app.render();
});

describe("the panel's webview", () => {
    it("asks for the first tab's view at its default layer, and shows the result fitted to the panel's width", () => {
        app.onMessage(session(`data:image/png;base64,${png(28, 28)}`));
        const ask = last("explain");
        assert.deepEqual(ask, { type: "explain", id: 1, tab: "featureMaps", layer: "features.0", page: 0, options: { colormap: "viridis", scaling: "perChannel" } });
        assert.equal($("#view").getAttribute("data-state"), "loading");
        app.onMessage({ type: "result", id: 1, tab: "featureMaps", png: png(806, 232), caption: "block1_conv1 (features.0)" });
        assert.equal($("#view").getAttribute("data-state"), "ready");
        const img = $<HTMLImageElement>("#view-img");
        // 806×232: the panel's width, or 75% of its height times 806/232 when that is less (panel.css).
        assert.equal(img.style.getPropertyValue("--ratio"), "3.4741");
        assert.equal($("#caption").textContent, "block1_conv1 (features.0)");
    });

    it("a progress tick changes the progress bar and nothing else", () => {
        app.onMessage(session());
        const view = $("#view");
        const changed = new Set<Node>();
        const observer = new MutationObserver((records) => records.forEach((r) => changed.add(r.target)));
        observer.observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
        for (let p = 10; p <= 50; p += 10) app.onMessage({ type: "progress", id: 1, message: `batch ${p / 10} of 10`, percentage: p });
        const records = observer.takeRecords();
        records.forEach((r) => changed.add(r.target));
        observer.disconnect();
        const bar = $("#view-progress");
        assert.ok(changed.size > 0, "the progress bar did not change");
        for (const target of changed) assert.ok(bar.contains(target), `a progress tick touched ${target instanceof Element ? target.outerHTML : target.nodeName} outside the bar`);
        assert.equal($<HTMLProgressElement>("#view-progress progress").value, 50);
        assert.equal($("#view-progress .progress-text").textContent, "batch 5 of 10");
        assert.equal($("#view"), view);
    });

    it("keeps what is typed into Samples, and its focus, while a LIME runs and when it ends", () => {
        app.onMessage(session());
        app.onMessage({ type: "result", id: 1, tab: "featureMaps", png: png(100, 50), caption: "maps" });
        click($("#tab-lime"));
        const ask = last("explain");
        assert.equal(ask?.tab, "lime");
        const samples = $<HTMLInputElement>("#opt-samples");
        assert.equal(samples.value, "1000");
        samples.focus();
        samples.value = "5000"; // typed, not yet committed
        for (let p = 0; p < 20; p++) app.onMessage({ type: "progress", id: ask.id, message: "scoring", percentage: p * 5, partialPng: png(224, 224, p) });
        app.onMessage({ type: "prediction", top: [{ index: 9, label: "Ankle boot", probability: 0.9, logit: 5 }] });
        app.onMessage({ type: "result", id: ask.id, tab: "lime", png: png(224, 224), caption: "LIME for Ankle boot (9)" });
        assert.equal($("#view").getAttribute("data-state"), "ready");
        assert.equal($<HTMLInputElement>("#opt-samples"), samples, "the input was replaced");
        assert.equal(samples.value, "5000");
        assert.equal(document.activeElement, samples);
        // Committing it asks again with the new count.
        samples.dispatchEvent(new window.Event("change") as unknown as Event);
        assert.equal(last("explain")?.options.samples, 5000);
    });

    it("draws the filter patterns finished so far as each batch's progress arrives, then the whole page", () => {
        app.onMessage(session());
        click($("#tab-filterPatterns"));
        const first = last("explain");
        assert.equal(first?.tab, "filterPatterns");
        app.onMessage({ type: "result", id: first.id, tab: "filterPatterns", png: png(106, 100, 1), caption: "page 1", cells });
        assert.ok($<HTMLImageElement>("#view-img").classList.contains("cells"));
        // Another preset: the old page stays on screen until the first batch of the new one is done.
        const preset = $<HTMLSelectElement>("#opt-preset");
        preset.value = "classic";
        preset.dispatchEvent(new window.Event("change") as unknown as Event);
        const ask = last("explain");
        assert.equal(ask?.options.preset, "classic");
        assert.equal($("#view").getAttribute("data-state"), "loading");
        // As the extension forwards the daemon's $/progress: the first batch's channels, then the first two batches'.
        const batch1 = png(56, 34, 2), batch2 = png(106, 34, 3);
        const patterns = (n: number) => Array.from({ length: n }, (_, channel) => ({ channel, activationBefore: 0, activationAfter: 1, fromCache: false }));
        app.onMessage(progressMessage(ask.id, { kind: "report", message: "step 30/30, batch 1/2", percentage: 50, patterns: { patterns: patterns(1), png: batch1 } }));
        const drawn = $<HTMLImageElement>("#view-img");
        assert.equal(drawn.getAttribute("src"), `data:image/png;base64,${batch1}`);
        // The old page's cells do not describe the partial grid: a click on it opens nothing.
        assert.ok(!drawn.classList.contains("cells"));
        click(drawn);
        assert.equal(root.querySelector("#channel-zoom"), null);
        app.onMessage(progressMessage(ask.id, { kind: "report", message: "step 1/30, batch 2/2", percentage: 51 })); // a tick without channels
        assert.equal(drawn.getAttribute("src"), `data:image/png;base64,${batch1}`);
        app.onMessage(progressMessage(ask.id, { kind: "report", message: "step 30/30, batch 2/2", percentage: 100, patterns: { patterns: patterns(2), png: batch2 } }));
        assert.equal($<HTMLImageElement>("#view-img"), drawn, "a later batch replaced the picture instead of updating it");
        assert.equal(drawn.getAttribute("src"), `data:image/png;base64,${batch2}`);
        assert.equal($("#view-progress .progress-text").textContent, "step 30/30, batch 2/2");
        app.onMessage({ type: "result", id: ask.id, tab: "filterPatterns", png: png(106, 100, 4), caption: "page 1, classic", cells });
        assert.equal($("#view").getAttribute("data-state"), "ready");
        assert.equal($<HTMLImageElement>("#view-img").getAttribute("src"), `data:image/png;base64,${png(106, 100, 4)}`);
        assert.ok($<HTMLImageElement>("#view-img").classList.contains("cells"));
    });

    it("keeps the picture it was sent once, and its elements, across a new session for the same image", () => {
        const src = `data:image/png;base64,${png(28, 28)}`;
        app.onMessage(session(src));
        const thumb = $<HTMLImageElement>("#thumb");
        assert.equal(thumb.getAttribute("src"), src);
        app.onMessage(session()); // another model, a restarted daemon: the extension does not send the picture again
        assert.equal($<HTMLImageElement>("#thumb"), thumb);
        assert.equal(thumb.getAttribute("src"), src);
    });

    it("finds the channel under a point of the grid: cells, not gaps or the legend", () => {
        assert.equal(cellAt(cells, 4, 4), 0);
        assert.equal(cellAt(cells, 51, 35), 0); // cell 0's last pixel
        assert.equal(cellAt(cells, 52, 4), undefined); // the gap after it (x 52–53; cell 1 starts at 54)
        assert.equal(cellAt(cells, 4, 36), undefined); // the gap under it
        assert.equal(cellAt(cells, 54, 4), 1);
        assert.equal(cellAt(cells, 101, 35), 1);
        assert.equal(cellAt(cells, 4, 38), 2);
        assert.equal(cellAt(cells, 60, 60), 3);
        assert.equal(cellAt(cells, 60, 75), undefined); // below the last row: the legend
        assert.equal(cellAt(cells, 2, 2), undefined); // the margin
        assert.deepEqual(pngSize(png(806, 232)), { width: 806, height: 232 });
        assert.equal(pngSize("bm90IGEgcG5n"), undefined);
    });

    it("opens a channel large with its figures and top position, steps with the arrow keys, closes with Escape", () => {
        app.onMessage(session());
        app.onMessage({ type: "result", id: 1, tab: "featureMaps", png: png(106, 100), caption: "maps", cells });
        const grid = $<HTMLImageElement>("#view-img");
        assert.match(grid.getAttribute("alt") ?? "", /Click a channel, or press Enter, to open it large/);
        assert.equal(grid.getAttribute("tabindex"), "0");
        key(grid, "Enter");
        const zoom = $("#channel-zoom");
        assert.equal($("#zoom-title").textContent, "Channel 0 of block1_conv1");
        assert.deepEqual([...zoom.querySelectorAll("dt, dd")].map((e) => e.textContent), ["Max", "0.5"]);
        key(zoom, "ArrowRight");
        key(zoom, "ArrowRight");
        key(zoom, "ArrowRight");
        assert.equal($("#channel-zoom"), zoom, "the zoomed view was rebuilt");
        assert.equal($("#zoom-title").textContent, "Channel 3 of block1_conv1");
        // Cell 3 is at (54, 38) in a 106×100 grid of 48×32 cells: the grid is 106/48 of the frame wide, shifted left by 54/48 and up by 38/32.
        const img = $<HTMLImageElement>("#zoom-img");
        assert.deepEqual([img.style.width, img.style.left, img.style.top], ["220.8333%", "-112.5000%", "-118.7500%"]);
        // Its largest value at row 1, column 0 of a 2×3 map: one map pixel, a third wide and half high.
        const marker = $(".top-marker");
        assert.deepEqual([marker.style.left, marker.style.top, marker.style.width, marker.style.height], ["0.0000%", "50.0000%", "33.3333%", "50.0000%"]);
        key(zoom, "ArrowRight");
        assert.equal($("#zoom-title").textContent, "Channel 0 of block1_conv1", "stepping on from the last channel wraps to the first");
        key(zoom, "Escape");
        assert.equal(root.querySelector("#channel-zoom"), null);
        // The zoomed channel is the user's: it comes back after a reload (setState).
        click($("#tab-lime"));
        assert.equal((saved as { tab: string }).tab, "lime");
    });

    it("draws a registry method's form from daemon/methods, offers turbo and jet for unsigned maps, with the legend", () => {
        app.onMessage(session());
        click($("#tab-cam"));
        const ask = last("attribute");
        assert.deepEqual(ask, { type: "attribute", id: 2, tab: "cam", method: "grad-cam", layer: "features.1", options: {}, colormap: "turbo", opacity: 0.5 });
        const colormaps = [...root.querySelectorAll("#opt-colormap option")].map((o) => o.getAttribute("value"));
        assert.deepEqual(colormaps, ["viridis", "gray", "jet", "turbo"]);
        assert.equal($<HTMLSelectElement>("#opt-colormap").value, "turbo");
        app.onMessage({ type: "result", id: 2, tab: "cam", png: png(224, 224), caption: "Grad-CAM of Ankle boot (9)", legendPng: png(256, 1) });
        assert.match($("#legend img").getAttribute("alt") ?? "", /Colour scale \(turbo\)/);
        const picked = $<HTMLSelectElement>("#opt-colormap");
        picked.value = "jet";
        picked.dispatchEvent(new window.Event("change") as unknown as Event);
        assert.equal(last("attribute")?.colormap, "jet");

        click($("#tab-gradients"));
        const steps = $<HTMLInputElement>("#method-form #mopt-steps");
        assert.equal(steps.value, "50");
        steps.value = "16";
        steps.dispatchEvent(new window.Event("change") as unknown as Event);
        assert.deepEqual(last("attribute")?.options, { steps: 16 });
        assert.equal(last("attribute")?.colormap, undefined, "a signed map takes no colormap");
    });

    it("keeps Compare's panes, their scroll and the zoom while the next views come", () => {
        app.onMessage(session());
        app.onMessage({ type: "result", id: 1, tab: "featureMaps", png: png(100, 50, 1), caption: "block1_conv1" });
        click($("#compare-btn"));
        assert.equal(app.model.zoom, 3, "360 pixels ÷ 100: 3× to start");
        const zoom = $<HTMLInputElement>("#zoom");
        zoom.value = "5";
        zoom.dispatchEvent(new window.Event("input") as unknown as Event);
        assert.equal($<HTMLImageElement>("#compare-left").style.width, "500px");
        const left = $("#compare figure.pane");
        left.scrollTop = 40;
        const layer = $<HTMLSelectElement>("#layer");
        layer.value = "features.1";
        layer.dispatchEvent(new window.Event("change") as unknown as Event);
        const ask = last("explain");
        assert.equal(ask?.layer, "features.1");
        app.onMessage({ type: "progress", id: ask.id, percentage: 50 });
        app.onMessage({ type: "result", id: ask.id, tab: "featureMaps", png: png(100, 50, 2), caption: "block1_conv1_relu" });
        assert.equal($("#compare figure.pane"), left);
        assert.equal(left.scrollTop, 40);
        assert.equal($<HTMLInputElement>("#zoom").value, "5");
        assert.deepEqual([...root.querySelectorAll("#compare img.zoomed")].map((i) => (i as HTMLImageElement).style.width), ["500px", "500px"]);
    });

    it("names every control: each button has text or a label, each input and select a label", () => {
        app.onMessage(session(`data:image/png;base64,${png(28, 28)}`));
        app.onMessage({ type: "prediction", top: [{ index: 9, label: "Ankle boot", probability: 0.9, logit: 5 }] });
        for (const tab of ["featureMaps", "filterPatterns", "cam", "gradients", "lime", "shap"]) {
            click($(`#tab-${tab}`));
            for (const b of root.querySelectorAll("button")) assert.ok((b.getAttribute("aria-label") ?? b.textContent).trim(), `${tab}: a button without a name: ${b.outerHTML}`);
            for (const c of root.querySelectorAll("input, select")) {
                const named = c.getAttribute("aria-label") || (c.id && root.querySelector(`label[for="${c.id}"]`)?.textContent.trim());
                assert.ok(named, `${tab}: an unlabelled control: ${c.outerHTML.slice(0, 120)}`);
            }
        }
    });
});
