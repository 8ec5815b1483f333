"""Decode archived text without losing a byte, and encode it back the same way."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from vellum.warc.encoding import charset_of

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str
    errors: str  # the error handler that makes encode(decode(x)) == x

    def encode(self, text: str) -> bytes:
        return text.encode(self.charset, self.errors)


def decode_text(body: bytes, content_type: str | None, sniff_html: bool = False) -> Decoded:
    """Decode with the BOM, else the header's charset, else a <meta> charset, else UTF-8.

    Bytes that do not decode are carried as surrogates and written back unchanged.
    """
    charset = None
    for bom, name in _BOMS:
        if body.startswith(bom):
            charset = name
            break
    charset = charset or charset_of(content_type)
    if charset is None and sniff_html:
        match = _META_CHARSET.search(body[:4096])
        if match:
            charset = match.group(1).decode("ascii").lower()
    try:
        codec = codecs.lookup(charset or "utf-8").name
    except LookupError:
        codec = "utf-8"
    if codec in ("utf-16", "utf-16-le", "utf-16-be"):
        return Decoded(body.decode(codec, "replace"), codec, "strict")
    return Decoded(body.decode(codec, "surrogateescape"), codec, "surrogateescape")
