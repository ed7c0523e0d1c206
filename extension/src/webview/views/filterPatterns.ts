// The Filter patterns tab: what input each channel of a layer responds to most (64 a page), each opened large.
import { channelZoom, gridPicture } from "../channelZoom";
import { choice, layerPicker, numberField, pager } from "../controls";
import { options } from "../state";
import { layerName } from "./featureMaps";
import type { TabModule } from "./types";

export const filterPatterns: TabModule = {
    controls: (app, tab, view) => {
        const o = options(app.model);
        return [
            layerPicker(app, tab),
            ...pager(app, view),
            choice(app, "preset", "Preset", [["readable", "readable"], ["classic", "classic"]], o.preset),
            numberField(app, "seed", "Seed", o.seed, 0, 2147483647, 1),
        ];
    },
    picture: (app, tab, view, png, alt) => gridPicture(app, tab.id, png, alt, view.cells),
    below: (app, tab, view, png) => [channelZoom(app, tab.id, view, png, layerName(app))],
};
