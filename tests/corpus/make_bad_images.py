#!/usr/bin/python3
"""The bad-image corpus: every kind of file a user may right-click, made with Pillow (Debian's python3-pil).

Run: /usr/bin/python3 tests/corpus/make_bad_images.py   (writes tests/corpus/images/, about 60 small files)
Each file's name says what it is. tests/CnnInterpret.Tests/Hardening/BadImageCorpusTests.cs sends every one
through the real daemon for every view: each must give a result or a clear error, and the daemon must live on.
"""
import io
import os
import pathlib
import random
import struct
import zlib

from PIL import Image

out = pathlib.Path(__file__).resolve().parent / "images"
out.mkdir(exist_ok=True)
for old in out.iterdir():
    old.unlink()
rng = random.Random(7)


def photo(w=64, h=48, mode="RGB"):
    """A small picture with structure (gradients and a disc), not noise."""
    img = Image.new("RGB", (w, h))
    px = img.load()
    for y in range(h):
        for x in range(w):
            inside = (x - w / 2) ** 2 + (y - h / 2) ** 2 < (min(w, h) / 3) ** 2
            px[x, y] = (255 * x // w, 255 * y // h, 200 if inside else 40)
    return img.convert(mode) if mode != "RGB" else img


def save(name, img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    (out / name).write_bytes(buf.getvalue())
    return buf.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


# Good but unusual images: each must give a result.
whole = {
    "png": save("ok-rgb.png", photo(), "PNG"),
    "jpeg": save("ok-rgb.jpg", photo(), "JPEG", quality=90),
    "gif": save("ok-animated.gif", photo().convert("P"), "GIF", save_all=True,
                append_images=[photo().transpose(Image.FLIP_LEFT_RIGHT).convert("P")], duration=100, loop=0),
    "webp": save("ok-rgb.webp", photo(), "WEBP", quality=80),
}
save("ok-rgb.bmp", photo(), "BMP")
save("ok-gray.png", photo(mode="L"), "PNG")
save("ok-16bit-gray.png", photo(mode="L").convert("I;16"), "PNG")
save("ok-rgba-transparent.png", photo(mode="RGBA"), "PNG")
rgba = photo(mode="RGBA")
rgba.putalpha(Image.linear_gradient("L").resize(rgba.size))
save("ok-rgba-gradient-alpha.png", rgba, "PNG")
pal = photo().convert("P", palette=Image.ADAPTIVE, colors=16)
save("ok-palette-transparent.png", pal, "PNG", transparency=0)
save("ok-cmyk.jpg", photo(mode="CMYK"), "JPEG")
save("ok-grayscale.jpg", photo(mode="L"), "JPEG")
save("ok-1x1.png", Image.new("RGB", (1, 1), (200, 30, 30)), "PNG")
save("ok-1x1.jpg", Image.new("RGB", (1, 1), (30, 200, 30)), "JPEG")
save("ok-1x1.gif", Image.new("P", (1, 1)), "GIF")
save("ok-tall-3x500.png", photo(3, 500), "PNG")
save("ok-wide-500x3.png", photo(500, 3), "PNG")
for orientation in (3, 6, 8):
    exif = Image.Exif()
    exif[0x0112] = orientation
    save(f"ok-exif-orientation-{orientation}.jpg", photo(), "JPEG", exif=exif.tobytes())
(out / "ok-jpeg-named.png").write_bytes(whole["jpeg"])
(out / "ok-png-named.jpg").write_bytes(whole["png"])
save("ok-lossless.webp", photo(), "WEBP", lossless=True)
save("ok-tiff.tiff", photo(), "TIFF")

# Truncated at many offsets: each must be refused as incomplete, never explained half-blank.
big = photo(200, 150)
whole["png-big"] = save("ok-big.png", big, "PNG", compress_level=0)
for fmt, data in whole.items():
    ext = {"png": "png", "png-big": "png", "jpeg": "jpg", "gif": "gif", "webp": "webp"}[fmt]
    for fraction in (0.05, 0.3, 0.6, 0.9, 0.99):
        cut = max(1, int(len(data) * fraction))
        (out / f"bad-truncated-{fmt}-{int(fraction * 100)}pct.{ext}").write_bytes(data[:cut])
(out / "bad-truncated-bmp-half.bmp").write_bytes((out / "ok-rgb.bmp").read_bytes()[: (out / "ok-rgb.bmp").stat().st_size // 2])

# Not images at all, or hostile headers.
(out / "bad-empty.png").write_bytes(b"")
(out / "bad-empty.jpg").write_bytes(b"")
for ext in ("png", "jpg", "gif", "webp", "bmp"):
    (out / f"bad-random-bytes.{ext}").write_bytes(bytes(rng.getrandbits(8) for _ in range(4096)))
(out / "bad-text.png").write_text("This is a text file with an image extension.\n")
(out / "bad-notes.txt").write_text("just text\n")
(out / "bad-drawing.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle cx="32" cy="32" r="20"/></svg>\n')
(out / "bad-html.jpg").write_text("<html><body>404 Not Found</body></html>\n")
signature = b"\x89PNG\r\n\x1a\n"
# A PNG declaring 60000×60000 whose pixel data is a small zlib stream that would inflate to 10.8 GB: a decompression bomb.
row = b"\x00" + b"\x00" * (60000 * 3)
bomb = zlib.compressobj(9)
idat = bomb.compress(row * 64) + bomb.flush(zlib.Z_SYNC_FLUSH)
(out / "bad-bomb-60000x60000.png").write_bytes(
    signature + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))
(out / "bad-png-header-only-60000x60000.png").write_bytes(signature + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)))
(out / "bad-png-zero-width.png").write_bytes(signature + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0)) + png_chunk(b"IEND", b""))
# A JPEG whose frame header says 65000×65000 (patch the SOF0 dimensions of a real JPEG).
jpeg = bytearray(whole["jpeg"])
sof = jpeg.find(b"\xff\xc0")
jpeg[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)
(out / "bad-huge-dimensions-65000x65000.jpg").write_bytes(bytes(jpeg))
# A GIF whose logical screen claims 65535×65535.
gif = bytearray(whole["gif"])
gif[6:10] = struct.pack("<HH", 65535, 65535)
(out / "bad-huge-screen-65535x65535.gif").write_bytes(bytes(gif))
# Corrupted in the middle (bytes flipped, length kept).
for fmt, ext in (("png", "png"), ("jpeg", "jpg")):
    data = bytearray(whole[fmt])
    for i in range(len(data) // 3, len(data) // 3 + 40):
        data[i] ^= 0xA5
    (out / f"bad-corrupted-middle.{ext}").write_bytes(bytes(data))

print(f"wrote {len(list(out.iterdir()))} files to {out}")
