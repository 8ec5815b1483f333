"""Index keys of POST and PUT captures, the way pywb and cdxj-indexer (`--post-append`) make them.

A POST to `http://example.com/post` with the form body `a=1&b=2` is keyed as if it were
`http://example.com/post?__wb_method=post&a=1&b=2` (SURT lowercases it): replay can then
tell apart captures of one URL made with different request bodies. Bodies that are not
forms are turned into query strings too: JSON into its leaf values, multipart forms into
their fields, anything else into `__wb_post_data=<base64>`. Pure functions, mirroring
`cdxj_indexer/postquery.py` (the `multipart` and AMF decoders aside: see `form_fields`).
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import unquote_plus, urlencode

__all__ = ["MAX_QUERY_LENGTH", "append_method_query", "json_query", "query_from_body"]

MAX_QUERY_LENGTH = 4096
_DEFAULT_LENGTH = 8192  # read when the request says no Content-Length


def append_method_query(
    method: str, content_type: str | None, content_length: str | None, body: bytes, url: str
) -> tuple[str | None, str]:
    """The query taken from the body (or None) and the text to append to `url` for its key."""
    query: str | None = ""
    if method in ("POST", "PUT"):
        query = query_from_body(content_type, content_length, body)
    append = ("?" if "?" not in url else "&") + "__wb_method=" + method
    if query:
        append += "&" + query
    return query, append


def query_from_body(
    content_type: str | None, content_length: str | None, body: bytes
) -> str | None:
    """A request body as a query string (at most MAX_QUERY_LENGTH characters).

    None when the Content-Length is not a number (cdxj-indexer then keeps no query).
    """
    if content_length is None:
        length = _DEFAULT_LENGTH
    else:
        try:
            length = int(content_length)
        except ValueError:
            return None
    data = body[: max(length, 0)]
    mime = content_type or ""
    if mime.startswith("application/x-www-form-urlencoded"):
        try:
            query = unquote_plus(data.decode("utf-8"))
        except UnicodeDecodeError:
            query = _binary(data)
    elif mime.startswith("multipart/"):
        fields = form_fields(mime, data)
        query = _binary(data) if fields is None else urlencode(fields, True)
    elif mime.startswith("application/json"):
        try:
            query = json_query(data)
        except Exception:
            query = ""
    elif mime.startswith("text/plain"):
        try:
            query = json_query(data)
        except Exception:
            query = _binary(data)
    else:
        query = _binary(data)
    return query[:MAX_QUERY_LENGTH] if query else query


def _binary(data: bytes) -> str:
    return "__wb_post_data=" + base64.b64encode(data).decode("ascii")


def json_query(data: bytes) -> str:
    """The leaf values of a JSON document (or of JSON lines) as `name=value` pairs.

    A name met again gets a `.N_` suffix. Raises (ValueError, RecursionError) on bad JSON.
    """
    values: dict[str, str] = {}
    dupes: dict[str, int] = {}

    def key(name: str) -> str:
        if name not in values:
            return name
        dupes[name] = dupes.get(name, 1) + 1
        return f"{name}.{dupes[name]}_"

    def walk(obj: Any, name: str = "") -> None:
        if isinstance(obj, dict):
            for child_name, child in obj.items():
                walk(child, child_name)
        elif isinstance(obj, list):
            for child in obj:
                walk(child, name)
        elif name:
            values[key(name)] = str(obj)

    try:
        walk(json.loads(data))
    except json.JSONDecodeError:
        if b"\n" not in data:
            raise
        for line in data.split(b"\n"):
            walk(json.loads(line))
    return urlencode(values)


def form_fields(content_type: str, data: bytes) -> list[tuple[str, str | bytes]] | None:
    """The fields of a `multipart/form-data` body (file uploads as bytes), or None.

    A small parser for well-formed bodies; None (the body is then keyed as binary) when
    there is no boundary or the body does not parse. cdxj-indexer uses the `multipart`
    package here and fails on bodies it rejects.
    """
    if "boundary=" not in content_type:
        return None
    boundary = content_type.split("boundary=")[1]
    if boundary.startswith('"') and boundary.endswith('"') and len(boundary) > 1:
        boundary = boundary[1:-1]
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode("utf-8", "surrogateescape")
    pieces = data.split(delimiter)
    if len(pieces) < 3:
        return None
    fields: list[tuple[str, str | bytes]] = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            return fields
        if not piece.startswith(b"\r\n") or not piece.endswith(b"\r\n"):
            return None
        head_end = piece.find(b"\r\n\r\n", 2)
        if head_end < 0:
            return None
        name, filename = _disposition(piece[2:head_end])
        if name is None:
            return None
        raw = piece[head_end + 4 : -2]
        if filename is not None:
            fields.append((name, raw))
            continue
        try:
            fields.append((name, raw.decode("utf-8")))
        except UnicodeDecodeError:
            return None
    return None


def _disposition(head: bytes) -> tuple[str | None, str | None]:
    """`name` and `filename` from a part's Content-Disposition header."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None, None
    for line in text.split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip().lower() != "content-disposition":
            continue
        params: dict[str, str] = {}
        for item in value.split(";")[1:]:
            pname, eq, pvalue = item.strip().partition("=")
            if eq:
                pvalue = pvalue.strip()
                if len(pvalue) > 1 and pvalue[0] == pvalue[-1] == '"':
                    pvalue = pvalue[1:-1]
                params[pname.strip().lower()] = pvalue
        return params.get("name"), params.get("filename")
    return None, None
