// Which built-in models to offer the user, and where their weights come from. No `vscode` import (unit-tested).
import type { Fit, ModelSummary } from "./protocol";

export interface ModelOffer {
    id: string;
    displayName: string;
}

export interface FitOffers {
    /** Models to switch to now: the daemon's suggestions. */
    use: ModelOffer[];
    /** Models that would suit the image once their weights are fetched (the daemon leaves them out of its suggestions). */
    fetch: ModelOffer[];
}

/** What the "does not suit the model" banner offers, from the daemon's verdict and its list of models. */
export function fitOffers(fit: Fit, models: readonly ModelSummary[]): FitOffers {
    const name = (id: string) => models.find((m) => m.id === id)?.displayName ?? id;
    return {
        use: fit.suggestions.map((id) => ({ id, displayName: name(id) })),
        // The daemon suggests the RGB models that can run; these are the RGB ones that could, after a fetch.
        fetch: models.filter((m) => m.state === "weights missing" && m.inputShape[0] === 3).map((m) => ({ id: m.id, displayName: m.displayName })),
    };
}

/**
 * The `url` of models/fetch for the setting cnnInterpret.models.mirrorUrl: none when it is empty (the published
 * address); a folder (ending in "/") gets the model's file name appended, so one mirror serves every model.
 */
export function mirrorUrl(setting: string | undefined, model: Pick<ModelSummary, "weightsFile">): string | undefined {
    const mirror = setting?.trim();
    if (!mirror) return undefined;
    return mirror.endsWith("/") && model.weightsFile ? mirror + model.weightsFile : mirror;
}

/**
 * A short name for a model id in the status bar. The daemon's id of a model from files is unique rather than short:
 * `vgg16@/home/me/w.pth`, `/home/me/net.onnx#resnet18`, each with `?settings=KEY` when a sidecar or the form set its
 * preprocessing. The status bar shows the built-in name and the file's name; the tooltip keeps the whole id.
 */
export function modelLabel(id: string): string {
    const settingsAt = id.indexOf("?settings=");
    const base = settingsAt < 0 ? id : id.slice(0, settingsAt);
    const fileName = (p: string) => p.split(/[\\/]/).pop() ?? p;
    const weightsAt = base.indexOf("@");
    const archAt = base.lastIndexOf("#");
    const builtInWithWeights = weightsAt > 0 && !/[\\/]/.test(base.slice(0, weightsAt)); // not an "@" inside a path
    const label = builtInWithWeights ? `${base.slice(0, weightsAt)} · ${fileName(base.slice(weightsAt + 1))}`
        : fileName(archAt > 0 ? base.slice(0, archAt) : base);
    return settingsAt < 0 ? label : `${label} (own settings)`;
}
