"""Text extraction for the search index: HTML with resiliparse, PDF with pypdf, plain text.

Archived payloads are hostile input. Each document is bounded: at most
`Limits.max_bytes` of its payload is read, markup nested deeper than
`Limits.max_depth` skips the main-content heuristic (which is quadratic in depth),
PDFs stop after `Limits.max_pdf_pages` pages or `Limits.seconds`, and the text kept is
cut at `Limits.max_chars`. A payload that cannot be extracted still yields an
`Extracted` (with `error` set), so its capture stays findable by URL.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
import time
import warnings
from dataclasses import dataclass
from html import unescape

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding
from resiliparse.parse.html import HTMLTree
from resiliparse.parse.lang import detect_fast

from vellum.warc.encoding import charset_of

__all__ = ["Extracted", "Limits", "extract", "kind_of"]

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_PDF_TYPES = ("application/pdf", "application/x-pdf")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9]*)")
_LINK = re.compile(rb"<a\s[^>]*href\s*=", re.I)
_VOID = frozenset(
    b"area base br col embed hr img input link meta param source track wbr p li".split()
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HEAD_CHARS = 65536  # the head is looked for in this much of the page
_BODY = re.compile(r"<body[\s>]", re.I)
_HTML_OPEN = re.compile(r"<html\b[^>]*>", re.I)
_META = re.compile(r"<meta\b[^>]*>", re.I)
_ATTRIBUTE = re.compile(r"""\s([^\s"'<>/=]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_CONTROLS = bytes(b for b in range(32) if not 9 <= b <= 13)
_LANG_RANK = 1200  # resiliparse: ranks above this are usually wrong guesses


@dataclass(frozen=True)
class Limits:
    """Bounds on the work spent on one document."""

    max_bytes: int = 8 * 1024 * 1024
    max_chars: int = 1_000_000
    max_depth: int = 1000
    max_pdf_pages: int = 200
    seconds: float = 5.0


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Extracted:
    """What a payload says: title, full visible text, main text, description, language.

    `boilerplate` is the visible text outside the main content: `text` with `main` cut
    out when the main content is one stretch of it (the usual case), else all of `text`.
    The index reads `main` and `boilerplate`, so the main text is tokenized once.
    """

    title: str = ""
    text: str = ""
    main: str = ""
    boilerplate: str = ""
    description: str = ""
    lang: str = ""
    outlinks: int = 0
    error: str | None = None  # why nothing (or less) was extracted


def kind_of(mime: str) -> str:
    """`html`, `pdf`, `text` or `other`, from a MIME type without parameters."""
    if mime in _HTML_TYPES:
        return "html"
    if mime in _PDF_TYPES:
        return "pdf"
    if mime.startswith("text/") and mime not in ("text/css", "text/javascript"):
        return "text"
    return "other"


def extract(payload: bytes, content_type: str | None, limits: Limits = DEFAULT_LIMITS) -> Extracted:
    """Extract what a payload says; never raises for what the payload holds."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    kind = kind_of(mime)
    if kind == "other":
        return Extracted()
    payload = payload[: limits.max_bytes]
    try:
        if kind == "pdf":
            return _pdf(payload, limits)
        if _looks_binary(payload):
            return Extracted(error=f"binary data labelled {mime}")
        text = decode(payload, content_type, html=kind == "html")
        if kind == "html":
            return _html(text, payload, limits)
        text = _squeeze(text)[: limits.max_chars]
        return Extracted(text=text, main=text, lang=_detect_lang(text))
    except Exception as exc:  # hostile input must not stop indexing; the URL stays findable
        return Extracted(error=f"extraction failed: {type(exc).__name__}: {exc}"[:300])


def decode(payload: bytes, content_type: str | None, html: bool = False) -> str:
    """Decode text whose declared charset may be wrong.

    A BOM wins; then UTF-8 if the bytes are valid UTF-8 (pages declaring Latin-1 while
    sending UTF-8 are common); then the declared charset (header, else `<meta>`) if the
    bytes decode with it; then the charset uchardet detects.
    """
    for bom, name in _BOMS:
        if payload.startswith(bom):
            return bytes_to_str(payload, name, errors="replace")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = charset_of(content_type)
    if declared is None and html:
        match = _META_CHARSET.search(payload[:4096])
        if match:
            declared = match.group(1).decode("ascii").lower()
    if declared:
        try:
            return payload.decode(codecs.lookup(declared).name)
        except (LookupError, UnicodeDecodeError):
            pass
    detected = detect_encoding(payload) or "cp1252"
    return bytes_to_str(payload, detected, errors="replace", fallback_encodings=["cp1252"])


def _html(text: str, raw: bytes, limits: Limits) -> Extracted:
    started = time.monotonic()
    tree = HTMLTree.parse(text)
    title = _squeeze(tree.title or "")[:1000]
    description, declared_lang = _head_facts(text)
    full = extract_plain_text(tree, preserve_formatting=False, list_bullets=False)
    full = full[: limits.max_chars]
    error = None
    if _nesting_depth(raw, limits.max_depth) > limits.max_depth:
        main, error = full, f"markup nested deeper than {limits.max_depth}: main text not separated"
    elif time.monotonic() - started > limits.seconds:
        main, error = full, "time limit reached: main text not separated"
    else:
        main = extract_plain_text(
            tree, preserve_formatting=False, main_content=True, list_bullets=False
        )[: limits.max_chars]
    lang = _normal_lang(declared_lang) or _detect_lang(main or full or title)
    return Extracted(
        title=title,
        text=full,
        main=main,
        boilerplate=_outside(full, main),
        description=description,
        lang=lang,
        outlinks=len(_LINK.findall(raw)),
        error=error,
    )


def _pdf(payload: bytes, limits: Limits) -> Extracted:
    from pypdf import PdfReader  # imported here: pypdf is only needed for PDFs

    started = time.monotonic()
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged PDFs are routine here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = PdfReader(io.BytesIO(payload), strict=False)
        title = ""
        try:
            meta = reader.metadata
            title = _squeeze(str(meta.title)) if meta is not None and meta.title else ""
        except Exception:
            title = ""
        parts: list[str] = []
        size = 0
        error = None
        for number, page in enumerate(reader.pages):
            if number >= limits.max_pdf_pages or time.monotonic() - started > limits.seconds:
                error = f"PDF cut after {number} pages (limits)"
                break
            page_text = page.extract_text() or ""
            parts.append(page_text)
            size += len(page_text)
            if size >= limits.max_chars:
                break
    text = _squeeze(" ".join(parts))[: limits.max_chars]
    return Extracted(title=title, text=text, main=text, lang=_detect_lang(text), error=error)


def _head_facts(text: str) -> tuple[str, str]:
    """The meta description and the `<html lang>` of a page, read from its markup.

    Regular expressions over the start of the page: a CSS query on the parsed tree
    costs more than the rest of the head handling together.
    """
    body = _BODY.search(text, 0, _HEAD_CHARS)
    head = text[: body.start() if body else _HEAD_CHARS]
    description = lang = ""
    tag = _HTML_OPEN.search(head)
    if tag:
        lang = _attributes(tag.group(0)).get("lang", "")
    for meta in _META.finditer(head):
        attributes = _attributes(meta.group(0))
        if attributes.get("name", "").strip().lower() == "description":
            description = _squeeze(unescape(attributes.get("content", "")))[:2000]
            break
    return description, lang


def _attributes(tag: str) -> dict[str, str]:
    """The attributes of one start tag, names lowercased (the first of a name wins)."""
    out: dict[str, str] = {}
    for name, double, single, bare in _ATTRIBUTE.findall(tag):
        out.setdefault(name.lower(), double or single or bare)
    return out


def _outside(full: str, main: str) -> str:
    """The text of `full` around `main`; all of `full` if `main` is not one stretch of it."""
    if main == full:
        return ""
    at = full.find(main) if main else -1
    if at < 0:
        return full
    return f"{full[:at].rstrip()} {full[at + len(main) :].lstrip()}".strip()


def _looks_binary(payload: bytes) -> bool:
    """NUL bytes or many control characters at the start: not text, whatever the label."""
    head = payload[:2048]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROLS))
    return controls > len(head) // 20


def _nesting_depth(raw: bytes, limit: int) -> int:
    """The deepest element nesting, roughly (void elements and <p>/<li> not counted)."""
    if raw.count(b"<") < 2 * limit:
        return 0  # too few tags to nest deeper than the limit: skip the scan
    depth = deepest = 0
    for match in _TAG.finditer(raw):
        if match.group(2).lower() in _VOID:
            continue
        if match.group(1):
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def _detect_lang(text: str) -> str:
    sample = text[:3000]
    if len(sample.strip()) < 20:
        return ""
    lang, rank = detect_fast(sample)
    return lang if rank <= _LANG_RANK else ""


def _normal_lang(tag: str) -> str:
    """`fr` from `fr-FR`, `FR`, `fr_fr`; empty for what is no language tag."""
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else ""


def _squeeze(text: str) -> str:
    return " ".join(text.split())
