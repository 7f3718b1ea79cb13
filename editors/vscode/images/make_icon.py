"""Draws images/icon.png (128x128 RGBA, no dependencies): two offset rounded squares ("tandem") holding
typed text, a ghost-text suggestion and a cursor. Run: python3 images/make_icon.py"""
import struct
import zlib

W = H = 128
BG = (0, 0, 0, 0)
FRONT = (52, 120, 246, 255)   # blue
BACK = (126, 87, 194, 255)    # purple
GHOST = (255, 255, 255, 150)
WHITE = (255, 255, 255, 255)


def inside_rounded(x, y, x0, y0, x1, y1, r):
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def blend(dst, src):
    a = src[3] / 255
    out_a = a + dst[3] / 255 * (1 - a)
    if out_a == 0:
        return BG
    rgb = [round((src[i] * a + dst[i] * dst[3] / 255 * (1 - a)) / out_a) for i in range(3)]
    return (*rgb, round(out_a * 255))


def pixel(x, y):
    # 4x4 supersampling for smooth edges.
    acc = [0, 0, 0, 0]
    for sy in range(4):
        for sx in range(4):
            px, py = x + (sx + 0.5) / 4, y + (sy + 0.5) / 4
            c = BG
            if inside_rounded(px, py, 8, 8, 92, 92, 18):
                c = blend(c, BACK)
            if inside_rounded(px, py, 36, 36, 120, 120, 18):
                c = blend(c, FRONT)
            # Typed text (solid) and a suggestion (ghost) on two lines, and a cursor bar.
            if 50 <= px <= 78 and 58 <= py <= 66 or 50 <= px <= 70 and 80 <= py <= 88:
                c = blend(c, WHITE)
            if 82 <= px <= 106 and 58 <= py <= 66 or 74 <= px <= 100 and 80 <= py <= 88:
                c = blend(c, GHOST)
            if 48 <= px <= 51 and 96 <= py <= 108:
                c = blend(c, WHITE)
            for i in range(4):
                acc[i] += c[i] * (c[3] / 255 if i < 3 else 1)
    alpha = acc[3] / 16
    if alpha == 0:
        return BG
    return tuple(round(acc[i] / 16 * 255 / alpha) for i in range(3)) + (round(alpha),)


rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(W)) for y in range(H))


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 6, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
open(__file__.rsplit("/", 1)[0] + "/icon.png", "wb").write(png)
print(len(png), "bytes")
