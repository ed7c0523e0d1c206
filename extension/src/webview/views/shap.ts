// The SHAP tab: KernelSHAP over superpixels, or GradientSHAP on the pixels or at a layer.
import { choice, layerPicker, numberField } from "../controls";
import { options, usesLayer } from "../state";
import type { TabModule } from "./types";

export const shap: TabModule = {
    controls: (app, tab) => {
        const o = options(app.model);
        return [
            choice(app, "method", "Method", [["kernel", "KernelSHAP"], ["gradient", "GradientSHAP"]], o.method),
            usesLayer(app.model, tab) ? layerPicker(app, tab) : undefined,
            numberField(app, "samples", "Samples", o.samples, 10, 100000, 10),
            o.method !== "gradient" ? numberField(app, "segments", "Segments", o.segments, 2, 10000, 1) : undefined,
            numberField(app, "seed", "Seed", o.seed, 0, 2147483647, 1),
        ];
    },
};
