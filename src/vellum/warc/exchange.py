"""One HTTP request and its response, as they went over the wire."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

_PARAMS = re.compile(r"[;\s]")


@dataclass(frozen=True)
class HttpExchange:
    """What the capture stage hands to storage: the messages as sent and received.

    Headers keep their wire order and spelling. `body` is the entity body with its
    Content-Encoding intact and any chunked transfer coding removed; when that happened
    the stored response headers say so as `X-Archive-Orig-Transfer-Encoding`.
    """

    url: str
    date: datetime  # when the request was sent (WARC-Date of both records)
    ip_address: str
    method: str
    request_target: str
    request_headers: list[tuple[str, str]]
    protocol: str  # "HTTP/1.1"
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes
    truncated: str | None = None  # WARC-Truncated reason ("length", "time", …)
    request_body: bytes = field(default=b"")

    def header(self, name: str) -> str | None:
        """The first response header with this name (case-insensitive), if any."""
        return first_header(self.response_headers, name)

    @property
    def mime(self) -> str:
        """The media type as an index records it: the Content-Type up to `;` or a space."""
        return media_type(self.header("Content-Type"))


def first_header(headers: list[tuple[str, str]], name: str) -> str | None:
    """The value of the first header called `name` (case-insensitive), if any."""
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


def media_type(content_type: str | None) -> str:
    """`text/html` from `text/html; charset=utf-8`, spelled as the server sent it."""
    return _PARAMS.split((content_type or "").strip(), maxsplit=1)[0]
