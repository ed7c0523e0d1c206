// The LIME tab: which superpixels speak for the class and which against.
import { numberField } from "../controls";
import { options } from "../state";
import type { TabModule } from "./types";

export const lime: TabModule = {
    controls: (app) => {
        const o = options(app.model);
        return [
            numberField(app, "samples", "Samples", o.samples, 10, 100000, 10),
            numberField(app, "segments", "Segments", o.segments, 2, 10000, 1),
            numberField(app, "seed", "Seed", o.seed, 0, 2147483647, 1),
        ];
    },
};
