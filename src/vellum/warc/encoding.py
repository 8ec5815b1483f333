"""Undo HTTP content codings (gzip, deflate, br) of a stored payload."""

from __future__ import annotations

import zlib

import brotli


def decode_content(body: bytes, content_encoding: str | None) -> bytes:
    """The body with its content codings removed; unchanged if a coding is unknown or broken."""
    if not content_encoding:
        return body
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        try:
            if coding in ("gzip", "x-gzip"):
                body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
            elif coding == "deflate":
                try:
                    body = zlib.decompress(body)
                except zlib.error:  # raw deflate, as some servers send it
                    body = zlib.decompress(body, -zlib.MAX_WBITS)
            elif coding == "br":
                body = brotli.decompress(body)
            elif coding != "identity":
                return body
        except (zlib.error, brotli.error):
            return body
    return body


def charset_of(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type value, if any."""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'").lower()
    return None
