// The Feature maps tab: a layer's channels as a grid (64 a page), each opened large with a click.
import { channelZoom, gridPicture } from "../channelZoom";
import { choice, layerPicker, pager } from "../controls";
import { layerOf, options } from "../state";
import type { TabModule } from "./types";

export const COLORMAP_CHOICES = [["viridis", "viridis"], ["gray", "gray"], ["jet", "jet"], ["turbo", "turbo"]] as const;

export const featureMaps: TabModule = {
    controls: (app, tab, view) => {
        const o = options(app.model);
        return [
            layerPicker(app, tab),
            ...pager(app, view),
            choice(app, "colormap", "Colormap", COLORMAP_CHOICES, o.colormap),
            choice(app, "scaling", "Scale", [["perChannel", "per channel"], ["shared", "shared"]], o.scaling),
        ];
    },
    picture: (app, tab, view, png, alt) => gridPicture(app, tab.id, png, alt, view.cells),
    below: (app, tab, view, png) => [channelZoom(app, tab.id, view, png, layerName(app))],
};

/** The display name of the current tab's layer. */
export function layerName(app: { model: Parameters<typeof layerOf>[0] }): string {
    const name = layerOf(app.model);
    return app.model.session?.model.layers.find((l) => l.name === name)?.displayName ?? name ?? "";
}
