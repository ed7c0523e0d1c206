// Pictures that use the room they have: the daemon's PNGs scaled to the panel's width (and at most three
// quarters of its height), pixels kept sharp, so a 28×28 input reads as clearly as a 224×224 one.
import { h } from "./dom";

/** A PNG's size from its header (the IHDR chunk: bytes 16–23), read from the first base64 characters only. */
export function pngSize(base64: string): { width: number; height: number } | undefined {
    let bytes: string;
    try {
        bytes = atob(base64.slice(0, 32));
    } catch {
        return undefined;
    }
    if (bytes.length < 24 || bytes.slice(1, 4) !== "PNG") return undefined;
    const u32 = (at: number) => ((bytes.charCodeAt(at) << 24) >>> 0) + (bytes.charCodeAt(at + 1) << 16) + (bytes.charCodeAt(at + 2) << 8) + bytes.charCodeAt(at + 3);
    return { width: u32(16), height: u32(20) };
}

export function dataUri(png: string): string {
    return `data:image/png;base64,${png}`;
}

/**
 * The picture's width ÷ height, as the CSS variable --ratio of img.fit (panel.css): its width is the panel's,
 * or 75% of the panel's height × the ratio when that is less.
 */
export function fitted(size: { width: number; height: number } | undefined): { "--ratio": string } | undefined {
    if (!size || size.width <= 0 || size.height <= 0) return undefined;
    return { "--ratio": (size.width / size.height).toFixed(4) };
}

/** The view's picture, fitted (class "fit": image-rendering pixelated). */
export function picture(id: string, png: string, alt: string, extra: Record<string, string | undefined> = {}): HTMLImageElement {
    const style = fitted(pngSize(png));
    return h("img", { id, class: "fit", src: dataUri(png), alt, ...extra, ...(style ? { style } : {}) });
}
