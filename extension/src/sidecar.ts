// A model file's sidecar (FILE.json beside it: preset, mean, std, resize, crop, channels, labels or labelsFile),
// which the daemon reads on models/load, and how the model view describes the preprocessing in use.
// No `vscode` import (unit-tested).
import * as path from "node:path";
import type { Preprocessing } from "./protocol";

export const PRESETS = ["imagenet", "unit", "minus-one-to-one", "caffe"] as const;

/** What the model view's form sends: empty strings leave a field to the model's defaults. */
export interface SidecarForm {
    preset: string;
    /** "R,G,B" on the 0–1 scale, or one value. */
    mean: string;
    std: string;
    /** An absolute path, or empty. */
    labelsFile: string;
}

/** "0.485, 0.456, 0.406" → [0.485, 0.456, 0.406]; throws a message the form can show. */
export function parseTriple(text: string, name: string): number[] {
    const values = text.split(",").map((v) => v.trim()).filter((v) => v !== "").map(Number);
    if (!(values.length === 1 || values.length === 3) || values.some((v) => !Number.isFinite(v))) {
        throw new Error(`${name} must be three numbers R,G,B on the 0–1 scale (like 0.485, 0.456, 0.406) or one number.`);
    }
    if (name === "std" && values.some((v) => v <= 0)) throw new Error("std must be positive.");
    return values;
}

/**
 * The sidecar's new content: the form's fields replace their own (an empty one removes it), every other field of the
 * existing sidecar stays. A mean or std typed in the form wins over the preset, so the preset is dropped then only
 * when both are typed. The labels file is written relative to the sidecar's folder, as the daemon resolves it.
 */
export function updatedSidecar(existing: Record<string, unknown>, form: SidecarForm, sidecarPath: string): Record<string, unknown> {
    const next: Record<string, unknown> = { ...existing };
    const set = (key: string, value: unknown) => {
        if (value === undefined) delete next[key];
        else next[key] = value;
    };
    if (form.preset && !(PRESETS as readonly string[]).includes(form.preset)) throw new Error(`Unknown preset '${form.preset}'.`);
    set("preset", form.preset || undefined);
    set("mean", form.mean.trim() ? parseTriple(form.mean, "mean") : undefined);
    set("std", form.std.trim() ? parseTriple(form.std, "std") : undefined);
    if (form.labelsFile.trim()) {
        delete next["labels"]; // a sidecar gives labels or labelsFile, not both
        const relative = path.relative(path.dirname(sidecarPath), form.labelsFile.trim());
        next["labelsFile"] = relative.split(path.sep).join("/");
    } else delete next["labelsFile"];
    return next;
}

/** One row of the model view's preprocessing table. */
export interface PreprocessingRow {
    field: string;
    value: string;
    /** Where the value came from: a file's name, "flags", or the model's defaults. */
    source: string;
}

const numbers = (values: number[]) => values.map((v) => Number(v.toFixed(4)).toString()).join(", ");

/** The preprocessing as rows, each with its source (file paths shortened to their names). */
export function preprocessingRows(p: Preprocessing, classCount: number): PreprocessingRow[] {
    const source = (field: string) => {
        const s = p.sources[field];
        if (!s) return p.defaults;
        return s === "request" || s === "flags" ? "the load request" : path.basename(s.replace(/ \(from .*\)$/, ""));
    };
    return [
        { field: "preset", value: p.preset ?? "none", source: source("preset") },
        { field: "mean", value: numbers(p.mean), source: source("mean") },
        { field: "std", value: numbers(p.std), source: source("std") },
        { field: "resize", value: `${p.resize}`, source: source("resize") },
        { field: "crop", value: p.crop.join("×"), source: source("crop") },
        { field: "channels", value: p.channels, source: source("channels") },
        { field: "labels", value: classCount > 0 ? `${classCount} classes` : "none", source: source("labels") },
    ];
}
