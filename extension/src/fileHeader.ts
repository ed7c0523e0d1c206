import * as fs from "node:fs";
import { HEADER_BYTES } from "./binaries";

/** A file's first {@link HEADER_BYTES} bytes (fewer when it is shorter), what `binaryKind` reads. Throws when it cannot be read. */
export function readHeader(file: string): Buffer {
    const fd = fs.openSync(file, "r");
    try {
        const buf = Buffer.alloc(HEADER_BYTES);
        return buf.subarray(0, fs.readSync(fd, buf, 0, HEADER_BYTES, 0));
    } finally {
        fs.closeSync(fd);
    }
}
