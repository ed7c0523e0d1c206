// NumPy's .npy format (version 1.0) for float32 arrays, so exported numbers open with numpy.load.
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html

/** A .npy file holding little-endian float32 `data` (raw bytes) with `shape`. */
export function npyFloat32(data: Uint8Array, shape: readonly number[]): Uint8Array {
    const count = shape.reduce((a, b) => a * b, 1);
    if (data.byteLength !== count * 4) throw new Error(`npy: ${data.byteLength} bytes do not hold a float32 array of shape [${shape.join(", ")}].`);
    const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
    let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
    // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n
    const total = Math.ceil((10 + header.length + 1) / 64) * 64;
    header = header.padEnd(total - 10 - 1, " ") + "\n";
    const out = new Uint8Array(total + data.byteLength);
    out.set([0x93, ...Buffer.from("NUMPY", "latin1"), 1, 0, header.length & 0xff, header.length >> 8], 0);
    out.set(Buffer.from(header, "latin1"), 10);
    out.set(data, total);
    return out;
}
