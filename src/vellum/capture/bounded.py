"""Undo content codings with a ceiling, so a gzip bomb cannot exhaust memory."""

from __future__ import annotations

import zlib

import brotli

MAX_DECODED_BYTES = 20 * 1024 * 1024  # link extraction reads at most this much


def bounded_decode(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """`body` with its content codings removed, cut at `limit` bytes.

    Unknown or broken codings leave what could be decoded (or the body as it was).
    """
    if not content_encoding:
        return body[:limit]
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        try:
            if coding in ("gzip", "x-gzip"):
                body = zlib.decompressobj(31).decompress(body, limit)
            elif coding == "deflate":
                try:
                    body = zlib.decompressobj().decompress(body, limit)
                except zlib.error:  # raw deflate, as some servers send it
                    body = zlib.decompressobj(-zlib.MAX_WBITS).decompress(body, limit)
            elif coding == "br":
                body = brotli.Decompressor().process(body, output_buffer_limit=limit)[:limit]
            elif coding != "identity":
                return body[:limit]
        except (zlib.error, brotli.error):
            return body[:limit]
    return body[:limit]
