// Compare: the pinned view on the left, the current one on the right, one zoom for both and linked scrolling.
// The panes are kept across updates (dom.ts), so their scroll positions and the zoom survive every message.
import type { App } from "./app";
import { button } from "./controls";
import { h } from "./dom";
import { dataUri, pngSize } from "./picture";
import { currentTab, shownPng, type Pinned, type View } from "./state";

const MAX_ZOOM = 16;

/** The zoom at which the wider image is about 360 pixels: what Compare starts with. */
export function startZoom(pngs: string[]): number {
    const width = Math.max(0, ...pngs.map((p) => pngSize(p)?.width ?? 0));
    return width > 0 ? Math.max(1, Math.floor(360 / width)) : 1;
}

export function compare(app: App, pinned: Pinned, view: View | undefined): HTMLElement {
    const m = app.model;
    const tab = currentTab(m);
    const zoom = m.zoom;
    const pane = (id: string, png: string, caption: string, alt: string, captionId?: string) => {
        const width = pngSize(png)?.width;
        return h("figure", { class: "pane", "data-key": `pane-${id}`, on: { scroll: linkScroll } },
            h("img", { class: "zoomed", id, src: dataUri(png), alt, ...(width ? { style: { width: `${width * zoom}px` } } : {}) }),
            h("figcaption", { id: captionId, text: caption }));
    };
    const png = tab ? shownPng(m, tab.id, view) : undefined;
    const right = view && png && view.key !== pinned.key
        ? pane("view-img", png, `${tab?.title ?? ""}: ${view.caption ?? ""}`, `${tab?.title ?? ""}: ${view.caption ?? ""}`, "caption")
        : h("div", { class: "pane placeholder", text: "Now change the tab, layer, method, class or image: the next view appears here." });
    const panes = h("div", {
        class: "compare",
        id: "compare",
        on: {
            wheel: (e) => {
                if (!e.ctrlKey) return;
                e.preventDefault();
                setZoom(app, m.zoom + (e.deltaY < 0 ? 1 : -1));
            },
        },
    }, pane("compare-left", pinned.png, `${pinned.title}: ${pinned.caption}`, `Pinned: ${pinned.title}: ${pinned.caption}`), right);
    const slider = h("input", { id: "zoom", type: "range", min: 1, max: MAX_ZOOM, step: 1, value: zoom, on: { input: (e) => setZoom(app, Number((e.currentTarget as HTMLInputElement).value)) } });
    const bar = h("div", { class: "toolbar" },
        h("span", { class: "field" }, h("label", { for: "zoom", text: "Zoom (both; or Ctrl+wheel)" }), slider, h("span", { id: "zoom-value", class: "muted", text: `${zoom}×` })),
        button("Close compare", "secondary", () => app.update((x) => { delete x.pinned; })));
    return h("div", { id: "compare-view" }, bar, panes);
}

function setZoom(app: App, z: number): void {
    app.model.zoom = Math.max(1, Math.min(MAX_ZOOM, Math.round(z)));
    app.render();
}

let syncing = false;

/** Linked scrolling: a pane scrolled to a fraction of its size carries the other to the same fraction. */
function linkScroll(e: Event): void {
    const pane = e.currentTarget;
    if (syncing || !(pane instanceof HTMLElement)) return;
    syncing = true;
    const fx = pane.scrollLeft / Math.max(1, pane.scrollWidth - pane.clientWidth);
    const fy = pane.scrollTop / Math.max(1, pane.scrollHeight - pane.clientHeight);
    for (const other of Array.from(pane.parentElement?.querySelectorAll<HTMLElement>("figure.pane") ?? [])) {
        if (other === pane) continue;
        other.scrollLeft = fx * (other.scrollWidth - other.clientWidth);
        other.scrollTop = fy * (other.scrollHeight - other.clientHeight);
    }
    requestAnimationFrame(() => {
        syncing = false;
    });
}
