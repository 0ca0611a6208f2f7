#!/usr/bin/env python3
"""Writes the seed corpus of image_load_fuzz into tests/fuzz/image_load/.

Small files (under 2 KB) of every format and flavour the image/mask readers
take, plus hostile ones: a PNG declaring 30000x30000 (a decompression bomb's
header), a palette PNG with indices past its palette, a BigTIFF. Deterministic:
running it again rewrites the same bytes. Needs python3 with Pillow and numpy.

    python3 tests/fuzz/make_image_seeds.py
"""
import io
import pathlib
import struct
import zlib

import numpy as np
from PIL import Image

OUT = pathlib.Path(__file__).resolve().parent / "image_load"


def ramp(h, w, channels, dtype=np.uint8):
    top = np.iinfo(dtype).max
    y, x = np.mgrid[0:h, 0:w]
    planes = [((x * 37 + y * 11 + 53 * c) % 256) * (top // 255) for c in range(channels)]
    a = np.stack(planes, -1).astype(dtype)
    return a[..., 0] if channels == 1 else a


def pil_bytes(image, fmt, **kw):
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(width, height, depth, colour, raw, plte=None, interlace=0):
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace))
    if plte is not None:
        out += chunk(b"PLTE", plte)
    return out + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def bomb_png():
    # 30000x30000 RGB: the header and the first rows of zeros, the rest cut off.
    width = height = 30000
    rows = (b"\x00" + b"\x00" * (width * 3)) * 4
    head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return head + chunk(b"IDAT", zlib.compress(rows, 9)[:400])


def palette_png(indices, entries):
    plte = bytes(v for k in range(entries) for v in (k * 40 % 256, 255 - k * 30 % 256, k * 90 % 256))
    raw = b"".join(b"\x00" + bytes(row) for row in indices)
    return png(indices.shape[1], indices.shape[0], 8, 3, raw, plte)


def big_tiff(h, w):
    # BigTIFF (version 43), little-endian, one uncompressed 8-bit grey strip.
    pixels = ramp(h, w, 1).tobytes()
    tags = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
            (273, 16, 1, 0), (277, 3, 1, 1), (278, 3, 1, h), (279, 16, 1, len(pixels))]
    ifd_at = 16
    data_at = ifd_at + 8 + 20 * len(tags) + 8
    out = b"II" + struct.pack("<HHHQ", 43, 8, 0, ifd_at) + struct.pack("<Q", len(tags))
    for tag, kind, count, value in tags:
        value = data_at if tag == 273 else value
        out += struct.pack("<HHQQ", tag, kind, count, value)
    return out + struct.pack("<Q", 0) + pixels


def seeds():
    yield "grey.png", pil_bytes(Image.fromarray(ramp(8, 8, 1)), "PNG")
    yield "rgb.png", pil_bytes(Image.fromarray(ramp(8, 8, 3)), "PNG")
    yield "rgba.png", pil_bytes(Image.fromarray(ramp(8, 8, 4), "RGBA"), "PNG")
    yield "grey16.png", pil_bytes(Image.fromarray(ramp(8, 8, 1, np.uint16)), "PNG")
    yield "rgb16.png", png(4, 4, 16, 2, b"".join(b"\x00" + ramp(4, 4, 3, np.uint16)[y].astype(">u2").tobytes() for y in range(4)))
    yield "grey_alpha.png", png(4, 4, 8, 4, b"".join(b"\x00" + ramp(4, 4, 2)[y].tobytes() for y in range(4)))
    yield "binary_mask.png", pil_bytes(Image.fromarray((ramp(8, 8, 1) > 127).astype(np.uint8) * 255), "PNG")
    yield "palette.png", palette_png(ramp(8, 8, 1) % 4, 4)
    yield "palette_past_end.png", palette_png(ramp(8, 8, 1) % 7, 4)
    yield "palette_2bit_interlaced.png", png(8, 8, 2, 3, b"".join(b"\x00\x1b\x6c" for _ in range(8)),
                                            bytes(range(12)), interlace=1)
    yield "rgb.jpg", pil_bytes(Image.fromarray(ramp(16, 16, 3)), "JPEG", quality=50)
    yield "grey.jpg", pil_bytes(Image.fromarray(ramp(16, 16, 1)), "JPEG", quality=50)
    yield "progressive.jpg", pil_bytes(Image.fromarray(ramp(16, 16, 3)), "JPEG", quality=50, progressive=True)
    yield "rgb.bmp", pil_bytes(Image.fromarray(ramp(6, 5, 3)), "BMP")
    yield "grey.bmp", pil_bytes(Image.fromarray(ramp(6, 5, 1)), "BMP")
    yield "grey.tif", pil_bytes(Image.fromarray(ramp(8, 8, 1)), "TIFF")
    yield "rgb_deflate.tif", pil_bytes(Image.fromarray(ramp(8, 8, 3)), "TIFF", compression="tiff_adobe_deflate")
    yield "grey16_be.tif", pil_bytes(Image.fromarray(ramp(8, 8, 1, np.uint16)), "TIFF")
    yield "float.tif", pil_bytes(Image.fromarray(ramp(4, 4, 1).astype(np.float32) / 255), "TIFF")
    yield "big.tif", big_tiff(8, 8)
    yield "bomb_30000x30000.png", bomb_png()


def main():
    OUT.mkdir(exist_ok=True)
    for name, data in seeds():
        assert len(data) < 2048, f"{name}: {len(data)} bytes"
        (OUT / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
