// One channel of a grid (feature maps, filter patterns) opened large: a click on its cell shows it at the panel's
// width, cut from the grid picture the panel already has (no new request), with its figures and, for a feature
// map, a box around its top activating position. Arrow keys step through the channels, Escape closes.
import type { GridCells } from "../explainRequests";
import type { App } from "./app";
import { button } from "./controls";
import { h } from "./dom";
import { dataUri, fitted, pngSize } from "./picture";
import type { View } from "./state";

/** The cell under a point of the grid picture (in picture pixels), or none (a gap, a label, the legend). */
export function cellAt(cells: GridCells, x: number, y: number): number | undefined {
    const l = cells.layout;
    const col = Math.floor((x - l.left) / l.stepX);
    const row = Math.floor((y - l.top) / l.stepY);
    if (col < 0 || row < 0 || col >= l.columns) return undefined;
    if (x - l.left - col * l.stepX >= l.cellWidth || y - l.top - row * l.stepY >= l.cellHeight) return undefined;
    const index = row * l.columns + col;
    return index < cells.cells.length ? index : undefined;
}

function open(app: App, tab: string, index: number | undefined): void {
    app.update((m) => {
        if (index === undefined) delete m.ui.zoomed[tab];
        else m.ui.zoomed[tab] = index;
    });
}

/** The grid picture: a click on a cell opens its channel; Enter opens the one opened last (or the first). */
export function gridPicture(app: App, tab: string, png: string, alt: string, cells: GridCells | undefined): HTMLImageElement {
    const style = fitted(pngSize(png));
    return h("img", {
        id: "view-img",
        class: cells ? "fit cells" : "fit",
        src: dataUri(png),
        alt: cells ? `${alt}. Click a channel, or press Enter, to open it large.` : alt,
        tabindex: cells ? 0 : undefined,
        ...(style ? { style } : {}),
        on: cells
            ? {
                  click: (e) => {
                      const img = e.currentTarget as HTMLImageElement;
                      const scale = img.naturalWidth / (img.clientWidth || img.naturalWidth);
                      const index = cellAt(cells, e.offsetX * scale, e.offsetY * scale);
                      if (index !== undefined) open(app, tab, index);
                  },
                  keydown: (e) => {
                      if (e.key !== "Enter" && e.key !== " ") return;
                      e.preventDefault();
                      open(app, tab, app.model.ui.zoomed[tab] ?? 0);
                      document.getElementById("channel-zoom")?.focus();
                  },
              }
            : {},
    });
}

/** The channel opened large, when one is. */
export function channelZoom(app: App, tab: string, view: View, png: string, layerName: string): HTMLElement | undefined {
    const cells = view.cells;
    const index = app.model.ui.zoomed[tab];
    if (!cells || index === undefined) return undefined;
    const cell = cells.cells[index];
    const size = pngSize(png);
    if (!cell || !size) return undefined;
    const l = cells.layout;
    const left = l.left + (index % l.columns) * l.stepX;
    const top = l.top + Math.floor(index / l.columns) * l.stepY;
    const count = cells.cells.length;
    const step = (by: number) => open(app, tab, (index + by + count) % count);
    const what = tab === "filterPatterns" ? "Pattern of channel" : "Channel";
    const title = `${what} ${cell.channel} of ${layerName}`;
    // The whole grid inside a frame the shape of one cell, shifted so that the cell fills it: percentages of the
    // frame, so it scales with the panel and stays crisp (pixelated).
    const frame = h("div", { class: "zoom-frame", style: { "--ratio": (l.cellWidth / l.cellHeight).toFixed(4) } },
        h("img", {
            id: "zoom-img",
            src: dataUri(png),
            alt: `${title}, large`,
            style: { width: pct(size.width / l.cellWidth), left: pct(-left / l.cellWidth), top: pct(-top / l.cellHeight) },
        }),
        cell.top && cells.mapWidth > 0 && cells.mapHeight > 0
            ? h("span", {
                  class: "top-marker",
                  title: `Top activating position: row ${cell.top.y}, column ${cell.top.x}`,
                  style: { left: pct(cell.top.x / cells.mapWidth), top: pct(cell.top.y / cells.mapHeight), width: pct(1 / cells.mapWidth), height: pct(1 / cells.mapHeight) },
              })
            : undefined,
    );
    const stats = h("dl", { class: "zoom-stats", id: "zoom-stats" }, ...cell.figures.flatMap((f) => [h("dt", { text: f.label }), h("dd", { text: f.value })]));
    return h("section", {
        id: "channel-zoom",
        class: "zoom",
        tabindex: 0,
        role: "group",
        "aria-label": `${title}, large. Left and right arrow keys: previous and next channel; Escape: close.`,
        on: {
            keydown: (e) => {
                const by = e.key === "ArrowRight" || e.key === "ArrowDown" ? 1 : e.key === "ArrowLeft" || e.key === "ArrowUp" ? -1 : 0;
                if (by) step(by);
                else if (e.key === "Home") open(app, tab, 0);
                else if (e.key === "End") open(app, tab, count - 1);
                else if (e.key === "Escape") {
                    open(app, tab, undefined);
                    document.getElementById("view-img")?.focus();
                } else return;
                e.preventDefault();
            },
        },
    },
        h("div", { class: "toolbar" },
            h("h2", { id: "zoom-title", text: title }),
            h("span", { class: "muted", text: `${index + 1} of ${count} on this page` }),
            button("‹ Previous", "secondary small", () => step(-1), { id: "zoom-prev", "aria-label": "Previous channel" }),
            button("Next ›", "secondary small", () => step(1), { id: "zoom-next", "aria-label": "Next channel" }),
            button("Close", "secondary small", () => open(app, tab, undefined), { id: "zoom-close", "aria-label": "Close the large channel" })),
        h("div", { class: "zoom-body" }, frame, stats));
}

function pct(x: number): string {
    return `${(x * 100).toFixed(4)}%`;
}
