"""Tiny PNG images made in the test itself (solid colours, with a stripe)."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A `width`x`height` RGB PNG of one colour, with a dark stripe across the top."""
    rows = []
    for y in range(height):
        colour = (20, 20, 20) if y < max(1, height // 8) else rgb
        rows.append(b"\x00" + bytes(colour) * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + _chunk(b"IEND", b"")
    )
