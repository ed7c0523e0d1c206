// Just enough of the zip format to read a .vsix (what @vscode/vsce writes: deflate or stored entries, no
// zip64, no encryption): the central directory, and an entry's first bytes or all of it.
import * as zlib from "node:zlib";

export interface ZipEntry {
    name: string;
    compressedSize: number;
    size: number;
    /** Unix permission bits when the archive recorded them (vsce does), else 0. */
    mode: number;
    /** The first `bytes` bytes of the entry (fewer when it is shorter). */
    head(bytes: number): Buffer;
    read(): Buffer;
}

export function readZip(zip: Buffer): ZipEntry[] {
    // The end of central directory record: 22 bytes plus a comment of up to 64 KiB, at the end.
    let eocd = -1;
    for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at--) {
        if (zip.readUInt32LE(at) === 0x06054b50) {
            eocd = at;
            break;
        }
    }
    if (eocd < 0) throw new Error("not a zip file (no end of central directory)");
    const count = zip.readUInt16LE(eocd + 10);
    let at = zip.readUInt32LE(eocd + 16);
    if (count === 0xffff || at === 0xffffffff) throw new Error("zip64 archives are not supported");
    const entries: ZipEntry[] = [];
    for (let i = 0; i < count; i++) {
        if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory entry ${i}`);
        const method = zip.readUInt16LE(at + 10);
        const compressedSize = zip.readUInt32LE(at + 20);
        const size = zip.readUInt32LE(at + 24);
        const nameLength = zip.readUInt16LE(at + 28);
        const extraLength = zip.readUInt16LE(at + 30);
        const commentLength = zip.readUInt16LE(at + 32);
        const madeBy = zip.readUInt16LE(at + 4) >> 8;
        const external = zip.readUInt32LE(at + 38);
        const local = zip.readUInt32LE(at + 42);
        const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
        at += 46 + nameLength + extraLength + commentLength;

        const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
        const data = zip.subarray(dataAt, dataAt + compressedSize);
        if (method !== 0 && method !== 8) throw new Error(`${name}: compression method ${method} is not supported`);
        entries.push({
            name,
            compressedSize,
            size,
            mode: madeBy === 3 ? (external >>> 16) & 0o7777 : 0,
            head: (bytes) =>
                method === 0
                    ? data.subarray(0, bytes)
                    : zlib.inflateRawSync(data.subarray(0, Math.min(data.length, bytes * 4 + 1024)), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, bytes),
            read: () => (method === 0 ? Buffer.from(data) : zlib.inflateRawSync(data)),
        });
    }
    return entries;
}
