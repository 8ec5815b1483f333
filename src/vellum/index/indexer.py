"""Turn the records of a WARC or ARC file into index entries, as pywb's indexers do.

Response, resource and revisit records become captures (cdxj-indexer's
`--records response,revisit,resource --post-append`): a POST or PUT response is keyed
with its request body appended (see `vellum.index.postkey`), a record without a payload
digest gets a computed one, and `sha1:` is dropped from digests. Records that cannot be
indexed (no target URI, no usable date) and every bad spot the reader met are reported
as `Problem`s instead; indexing goes on after them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _quote
from pathlib import Path

from vellum.index.cdxj import Capture, index_digest
from vellum.index.postkey import append_method_query
from vellum.urls.surt import surt
from vellum.warc.entry import INDEXED_TYPES, Entry, Problem
from vellum.warc.reader import scan

__all__ = ["IndexedCapture", "captures_of", "index_warc"]

_MIME_END = re.compile(r"[;\s]")


@dataclass(frozen=True, order=True)
class IndexedCapture(Capture):
    """A Capture that also says what pywb's CDXJ says about a few records.

    `has_mime` is False for a record with no media type at all (its line then has no
    `mime` key, as cdxj-indexer writes it); `post` is `(requestBody, method)` for a POST
    or PUT capture, written as the `requestBody` and `method` keys.
    """

    has_mime: bool = True
    post: tuple[str | None, str] | None = None

    def to_line(self) -> str:
        """The CDXJ line, without the newline: keys in cdxj-indexer's order.

        The same text `json.dumps` gives for the dict of those keys, written directly.
        """
        parts = ['{"url": ', _quote(self.url)]
        if self.has_mime:
            parts += (', "mime": ', _quote(self.mime))
        if self.status:
            parts += (', "status": ', _quote(self.status))
        if self.digest:
            parts += (', "digest": ', _quote(self.digest))
        parts += (
            f', "length": "{self.length}", "offset": "{self.offset}", "filename": ',
            _quote(self.filename),
        )
        if self.post is not None:
            body, method = self.post
            parts += (', "requestBody": ', "null" if body is None else _quote(body))
            parts += (', "method": ', _quote(method), "}")
        else:
            parts.append("}")
        return f"{self.urlkey} {self.timestamp} {''.join(parts)}"

    @classmethod
    def from_line(cls, line: str) -> IndexedCapture:
        """Parse one CDXJ line (raises ValueError on a malformed one)."""
        urlkey, timestamp, blob = line.rstrip("\r\n").split(" ", 2)
        data = json.loads(blob)
        post = (data.get("requestBody"), data["method"]) if "method" in data else None
        return cls(
            urlkey=urlkey,
            timestamp=timestamp,
            url=data["url"],
            mime=data.get("mime") or "",
            status=data.get("status", ""),
            digest=data.get("digest", ""),
            length=int(data["length"]),
            offset=int(data["offset"]),
            filename=data["filename"],
            has_mime="mime" in data,
            post=post,
        )


def index_warc(
    path: Path, problems: list[Problem] | None = None, filename: str | None = None
) -> Iterator[IndexedCapture]:
    """Captures of one WARC or ARC file, in file order.

    Bad spots and records that cannot be indexed are appended to `problems` (when given)
    and otherwise passed over. `filename` is the name the index gives the file (its own
    name by default). Raises VellumError only if the file cannot be read at all.
    """
    return captures_of(scan(path), filename or path.name, problems)


def captures_of(
    items: Iterable[Entry | Problem], filename: str, problems: list[Problem] | None = None
) -> Iterator[IndexedCapture]:
    """Captures of the entries of one file (problems go to `problems`)."""
    held: Entry | None = None  # kept back one record: it may pair with the next one
    for item in items:
        if isinstance(item, Problem):
            if problems is not None:
                problems.append(item)
            continue
        if held is not None and _pairs(held, item):
            request, response = (held, item) if held.rec_type == "request" else (item, held)
            post = _post_key(request)
            for entry in (held, item):
                capture = _capture(entry, filename, post if entry is response else None, problems)
                if capture is not None:
                    yield capture
            held = None
            continue
        if held is not None:
            capture = _capture(held, filename, None, problems)
            if capture is not None:
                yield capture
        held = item
    if held is not None:
        capture = _capture(held, filename, None, problems)
        if capture is not None:
            yield capture


def _pairs(first: Entry, second: Entry) -> bool:
    """A request and its response next to each other (cdxj-indexer's `concur_req_resp`)."""
    return (
        first.target_uri == second.target_uri
        and second.concurrent_to == first.record_id
        and {first.rec_type, second.rec_type} == {"request", "response"}
    )


def _post_key(request: Entry) -> tuple[str, str | None, str] | None:
    """(text to append to the URL, requestBody, METHOD) for a POST or PUT request."""
    http = request.http
    if http is None or http.first.upper() not in ("POST", "PUT"):
        return None
    query, append = append_method_query(
        http.first,
        http.get("Content-Type"),
        http.get("Content-Length"),
        request.request_body or b"",
        request.target_uri or "",
    )
    return append, query, http.first.upper()


def _key(url: str) -> str:
    try:
        return surt(url)
    except Exception:
        return url


def _capture(
    entry: Entry,
    filename: str,
    post: tuple[str, str | None, str] | None,
    problems: list[Problem] | None,
) -> IndexedCapture | None:
    rec_type = entry.rec_type
    if rec_type not in INDEXED_TYPES:
        return None
    if rec_type == "resource" and entry.content_type == "application/warc-fields":
        return None
    url = entry.target_uri
    reason = None
    if url is None:
        reason = f"skipped a {rec_type} record without a WARC-Target-URI"
    elif entry.timestamp is None:
        reason = (
            f"skipped a {rec_type} record without a WARC-Date"
            if entry.date is None
            else f"skipped a {rec_type} record with a bad WARC-Date {entry.date!r}"
        )
    if reason is not None or url is None or entry.timestamp is None:
        if problems is not None and reason is not None:
            problems.append(Problem(entry.offset, reason))
        return None
    http = entry.http
    if rec_type == "revisit":
        mime: str | None = "warc/revisit"
    elif rec_type == "response":
        mime = http.get("Content-Type") if http is not None else None
    else:
        mime = entry.content_type
    if mime:
        mime = _MIME_END.split(mime, 1)[0].strip()
    status = http.status if http is not None and rec_type != "resource" else ""
    # What IndexedCapture(...) makes, without the frozen dataclass's per-field setattr
    # (a third of the cost of a capture; the indexer makes one per record).
    capture: IndexedCapture = object.__new__(IndexedCapture)
    capture.__dict__.update(
        urlkey=_key(url + post[0]) if post is not None else _key(url),
        timestamp=entry.timestamp,
        url=url,
        mime=mime or "",
        status=status,
        digest=index_digest(entry.payload_digest or ""),
        length=entry.length,
        offset=entry.offset,
        filename=filename,
        original=None,
        has_mime=mime is not None,
        post=(post[1], post[2]) if post is not None else None,
    )
    return capture
