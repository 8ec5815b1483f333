"""One record in a buffer: its WARC (or ARC) head, and the Entry made from its block."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vellum.warc.entry import (
    INDEXED_TYPES,
    WANTED_TYPES,
    Entry,
    decode_request_body,
    is_body_request,
    normalize_target_uri,
    parses_http,
    payload_sha1,
)
from vellum.warc.headers import (
    WARC_VERSIONS,
    Buffer,
    HeadBlock,
    arc_date_to_timestamp,
    find_head_end,
    parse_head,
    quick_response_head,
    warc_date_to_timestamp,
)

__all__ = ["MAX_HEAD", "Head", "complete_entry", "http_of", "parse_record_head"]

MAX_HEAD = 1 << 16  # a WARC head (or an HTTP head) longer than this is not taken as one
_HASH_CHUNK = 1 << 20
_ARC_RESPONSE = "application/http;msgtype=response"

# What an ARC line must look like to be taken for one (warcio takes any five words).
_ARC_DATE = re.compile(r"[0-9]{12,20}")
_ARC_IP = re.compile(r"[0-9a-fA-F.:]+|-")
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(slots=True)
class Head:
    """The head of a record: its fields, where its block starts and how long it says it is.

    For ARC records the fields are those warcio gives when it converts them to WARC.
    `bad_length` holds a WARC Content-Length that is missing or not a number.
    """

    rec_type: str | None
    target_uri: str | None
    date: str | None
    timestamp: str | None
    record_id: str | None
    concurrent_to: str | None
    content_type: str | None
    payload_digest: str | None
    content_length: int
    body_start: int
    bad_length: str | None = None


def _first_line(buf: Buffer, pos: int, end: int) -> tuple[str, int] | None:
    nl = buf.find(b"\n", pos, end)
    if nl < 0:
        return None
    raw = buf[pos : nl + 1]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("iso-8859-1")
    return text.rstrip(), nl + 1


def parse_record_head(buf: Buffer, pos: int, end: int, partial: bool = False) -> Head | None:
    """The record head that starts at `pos`, or None if no WARC or ARC record starts there.

    With `partial`, a WARC version line is enough (to recognise a record from a peek).
    """
    first = _first_line(buf, pos, end)
    if first is None:
        return None
    line, after = first
    if line[:9].upper().startswith(WARC_VERSIONS):
        return _warc_head(buf, pos, end, partial)
    return _arc_head(buf, line, after, end)


def _warc_head(buf: Buffer, pos: int, end: int, partial: bool) -> Head | None:
    body_start = find_head_end(buf, pos, end)
    if body_start < 0:
        if not partial:
            return None
        body_start = end
    block, _ = parse_head(buf[pos:body_start])
    raw_length = block.get("Content-Length")
    bad: str | None = None
    try:
        length = int(raw_length) if raw_length is not None else -1
    except ValueError:
        length = -1
    if length < 0:
        bad, length = (raw_length if raw_length is not None else "(missing)"), 0
    date = block.get("WARC-Date")
    return Head(
        rec_type=block.get("WARC-Type"),
        target_uri=normalize_target_uri(block.get("WARC-Target-URI")),
        date=date,
        timestamp=warc_date_to_timestamp(date) if date is not None else None,
        record_id=block.get("WARC-Record-ID"),
        concurrent_to=block.get("WARC-Concurrent-To"),
        content_type=block.get("Content-Type"),
        payload_digest=block.get("WARC-Payload-Digest"),
        content_length=length,
        body_start=body_start,
        bad_length=bad,
    )


def _arc_head(buf: Buffer, line: str, after: int, end: int) -> Head | None:
    """An ARC v1 record line (`URL IP date type length`), converted as warcio converts it."""
    parts = line.rsplit(" ", 4)
    if len(parts) != 5 or not _ARC_DATE.fullmatch(parts[2]) or not _ARC_IP.fullmatch(parts[1]):
        return None
    uri = parts[0]
    filedesc = uri.startswith("filedesc://")
    if not _SCHEME.match(uri):
        return None
    body_start = after
    if filedesc:  # the version and field-list lines belong to the header
        for _ in range(2):
            nxt = _first_line(buf, body_start, end)
            if nxt is None:
                return None
            body_start = nxt[1]
    try:
        length = int(parts[4]) - (body_start - after)
    except ValueError:
        length = 0
    return Head(
        rec_type="warcinfo" if filedesc else "response",
        target_uri=None if filedesc else normalize_target_uri(uri),
        date=parts[2],
        timestamp=arc_date_to_timestamp(parts[2]),
        record_id=None,
        concurrent_to=None,
        content_type=parts[3] if filedesc else _ARC_RESPONSE,
        payload_digest=None,
        content_length=max(length, 0),
        body_start=body_start,
    )


def http_of(block: bytes, rec_type: str | None, uri: str | None) -> tuple[HeadBlock | None, int]:
    """The HTTP head at the start of a block (None if the record has none), and its length."""
    if not block or not parses_http(rec_type, uri):
        return None, 0
    if rec_type != "request":
        quick = quick_response_head(block)
        if quick is not None:
            return quick
    return parse_head(block)


def complete_entry(buf: Buffer, head: Head, offset: int, length: int, block_end: int) -> Entry:
    """The Entry of a record whose block is `buf[head.body_start:block_end]`."""
    if head.rec_type not in WANTED_TYPES:
        return Entry(offset, length, head.rec_type, None, None, None, None, None, None, None, None)
    start = head.body_start
    http: HeadBlock | None = None
    payload = start
    if block_end > start and parses_http(head.rec_type, head.target_uri):
        prefix = bytes(buf[start : min(block_end, start + MAX_HEAD)])
        if block_end - start > MAX_HEAD and find_head_end(prefix) < 0:
            prefix = bytes(buf[start:block_end])
        http, used = http_of(prefix, head.rec_type, head.target_uri)
        payload = start + used
        if head.rec_type == "request" and http is not None and not is_body_request(http):
            http = HeadBlock(http.first, "", ())  # all the fast reader keeps of a GET
    digest = head.payload_digest
    if digest is None and head.rec_type in INDEXED_TYPES:
        view = memoryview(buf)
        digest = payload_sha1(
            view[i : min(i + _HASH_CHUNK, block_end)]
            for i in range(payload, block_end, _HASH_CHUNK)
        )
        view.release()
    body: bytes | None = None
    if head.rec_type == "request" and http is not None and is_body_request(http):
        body = decode_request_body(http, bytes(buf[payload:block_end]))
    return Entry(
        offset=offset,
        length=length,
        rec_type=head.rec_type,
        target_uri=head.target_uri,
        date=head.date,
        timestamp=head.timestamp,
        record_id=head.record_id,
        concurrent_to=head.concurrent_to,
        content_type=head.content_type,
        payload_digest=digest,
        http=http,
        request_body=body,
    )
