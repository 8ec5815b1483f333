"""The replay origin's protocol: TimeGate, mementos, redirects to exact, TimeMaps, 404s.

`ArchiveServer.replay` answers `/<slug>/[<timestamp><modifier>/]<url>`:

- no timestamp: the URL is a Memento TimeGate. The capture closest to `Accept-Datetime`
  (the latest without one; 400 for a malformed one) is chosen and the answer is a 302
  to its URI-M with `Vary: accept-datetime` and a Link to the original and the TimeMap;
- a timestamp that is not the chosen capture's exact one, or a URL spelled differently
  from the capture's (another scheme, case, a fuzzy match): a 302 to the exact URI-M;
- otherwise the memento itself (`content`), with `Memento-Datetime` and a Link header
  naming the original, TimeGate, TimeMap and first/prev/next/last mementos;
- nothing usable: a 404 page naming the URL, with URLs captured nearby and a search link.

`ArchiveServer.timemap` answers `/<slug>/timemap/<link|json>/[<from>/]<url>`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from vellum.catalog import Collection
from vellum.errors import InvalidInput
from vellum.export.cdx_api import capture_fields
from vellum.index.cdxj import Capture
from vellum.index.store import IndexStore
from vellum.replay.content import Body, BodyCache, Inserts, build_body, to_response
from vellum.replay.diskcache import DiskTier
from vellum.replay.headers import HeaderContext
from vellum.replay.history import neighbours, timemap_page
from vellum.replay.lookup import Found, find_capture, iri_to_uri, read_found, same_url
from vellum.replay.memento import (
    LINK_FORMAT,
    MementoUris,
    Neighbours,
    link_timemap,
    memento_link,
    paging_link,
    parse_accept_datetime,
    timegate_link,
    timestamp_of,
)
from vellum.replay.memo import IndexMemo
from vellum.replay.notfound import nearest_urls, search_href
from vellum.replay.urlrewriter import UrlRewriter
from vellum.urls.timestamps import from_timestamp, http_date, is_timestamp
from vellum.urls.wayback import ReplayTarget, parse_replay_path, replay_path

__all__ = ["ArchiveServer", "NotArchived"]

NotArchived = Callable[[Collection, str, list[tuple[str, str]], str], Response]
"""Renders the 404 page: collection, URL, nearest (url, href) pairs, search href."""
InsertsFor = Callable[[Collection, Capture, str], Inserts | None]
"""The inserts of a capture's HTML replayed with a modifier (None: no insert)."""

_KEEP_TIMEMAP_CHARS = 64 * 1024  # larger TimeMaps are made again on each request
_TIMEMAP_PATH = re.compile(r"^timemap/(link|json)/(?:([0-9]{1,14})/)?(.*)$", re.DOTALL)


class ArchiveServer:
    """Serves archived content of every collection (see the module doc)."""

    def __init__(
        self,
        index: Callable[[str], IndexStore],
        index_dir: Callable[[str], Path],
        warc_dir: Callable[[str], Path],
        not_archived: NotArchived,
        inserts: InsertsFor,
        disk: DiskTier | None = None,
    ) -> None:
        self._index = index
        self._index_dir = index_dir
        self._warc_dir = warc_dir
        self._memos: dict[str, IndexMemo] = {}
        self._not_archived = not_archived
        self._inserts = inserts
        self._bodies = BodyCache(disk=disk)

    # the replay route

    def replay(self, request: Request, collection: Collection, target: ReplayTarget) -> Response:
        slug = collection.slug
        store = self._index(slug)
        timegate = not target.timestamp
        when = target.timestamp
        if timegate:
            asked = request.headers.get("accept-datetime")
            if asked is not None:
                try:
                    when = timestamp_of(parse_accept_datetime(asked))
                except InvalidInput as exc:
                    return PlainTextResponse(f"{exc}\n", status_code=400)
        warcs = self._warc_dir(slug)
        memo = self._memo(slug)
        found = memo.get(
            ("find", target.url, when),
            lambda: find_capture(store, target.url, when, lambda name: warcs / name),
        )
        if found is None:
            return self._missing(collection, store, target.url)
        capture = found.capture
        location = iri_to_uri(replay_path(slug, capture.timestamp, capture.url, target.modifier))
        if timegate:
            uris = MementoUris(f"{request.base_url}{slug}/", iri_to_uri(target.url))
            response = Response(status_code=302)
            response.headers["Location"] = location
            response.headers["Vary"] = "accept-datetime"
            response.headers["Link"] = timegate_link(uris)
            return response
        if target.timestamp != capture.timestamp or not same_url(target.url, capture.url):
            response = Response(status_code=302)
            response.headers["Location"] = location
            return response
        return self._memento(request, collection, store, found, target.modifier)

    def cached(
        self, request: Request, collection: Collection, target: ReplayTarget
    ) -> Response | None:
        """`replay`'s answer for a memento when all it needs is in memory, else None.

        Called on the event loop before handing the request to a thread: it never waits
        on the index or a WARC file (it reads only the memos and the body cache).
        """
        if len(target.timestamp) != 14 or target.listing:
            return None
        slug = collection.slug
        memo = self._memo(slug)
        found = memo.peek(("find", target.url, target.timestamp))
        if not isinstance(found, Found):
            return None
        capture = found.capture
        if capture.timestamp != target.timestamp or not same_url(target.url, capture.url):
            return None
        near = memo.peek(("near", capture.urlkey, capture.timestamp))
        if not isinstance(near, Neighbours):
            return None
        secure = request.url.scheme == "https"
        inserts = self._inserts(collection, capture, target.modifier)
        body = self._bodies.peek(_body_key(slug, capture, target.modifier, secure, inserts))
        if body is None:
            return None
        return self._answer(request, slug, capture, body, near)

    def _answer(
        self, request: Request, slug: str, capture: Capture, body: Body, near: Neighbours
    ) -> Response:
        uris = MementoUris(f"{request.base_url}{slug}/", iri_to_uri(capture.url))
        extra = [
            ("Memento-Datetime", http_date(from_timestamp(capture.timestamp))),
            ("Link", memento_link(uris, near)),
        ]
        return to_response(
            body, extra, request.headers.get("range"), request.headers.get("if-range")
        )

    def _memo(self, slug: str) -> IndexMemo:
        memo = self._memos.get(slug)
        if memo is None:
            memo = self._memos[slug] = IndexMemo(self._index_dir(slug))
        memo.refresh()
        return memo

    def _memento(
        self,
        request: Request,
        collection: Collection,
        store: IndexStore,
        found: Found,
        modifier: str,
    ) -> Response:
        slug = collection.slug
        capture = found.capture
        secure = request.url.scheme == "https"
        inserts = self._inserts(collection, capture, modifier)
        key = _body_key(slug, capture, modifier, secure, inserts)
        warcs = self._warc_dir(slug)

        def build() -> Body:
            rewriter = UrlRewriter(f"/{slug}/", capture.timestamp, capture.url)

            def ctx(as_stored: bool) -> HeaderContext:
                return HeaderContext(rewriter, modifier, f"/{slug}/", secure, as_stored)

            record = read_found(found, lambda name: warcs / name)
            return build_body(record, capture, modifier, rewriter, ctx, inserts)

        body = self._bodies.get_or_build(key, build)
        return self._answer(request, slug, capture, body, self._neighbours(slug, store, capture))

    def _neighbours(self, slug: str, store: IndexStore, capture: Capture) -> Neighbours:
        memo = self._memos[slug]  # refreshed by `replay` for this request
        key = ("near", capture.urlkey, capture.timestamp)
        return memo.get(key, lambda: neighbours(store, capture))

    def _missing(self, collection: Collection, store: IndexStore, url: str) -> Response:
        nearby = [(u, iri_to_uri(f"/{collection.slug}/{u}")) for u in nearest_urls(store, url)]
        return self._not_archived(collection, url, nearby, search_href(url))

    # TimeMaps

    def timemap(self, request: Request, collection: Collection, rest: str) -> Response:
        """`rest` is what follows `/<slug>/`: `timemap/<format>/[<from>/]<url>`."""
        match = _TIMEMAP_PATH.match(rest)
        if not match:
            return PlainTextResponse(
                "a TimeMap is /<collection>/timemap/link/<url> or /timemap/json/<url>\n",
                status_code=400,
            )
        fmt, start, raw_url = match.groups()
        if not raw_url:
            return PlainTextResponse("the TimeMap of which URL? none given\n", status_code=400)
        url = parse_replay_path(raw_url).url
        start = start or ""
        if start and not is_timestamp(start):
            return PlainTextResponse("a TimeMap page starts at a timestamp\n", status_code=400)
        store = self._index(collection.slug)
        base = f"{request.base_url}{collection.slug}/"
        memo = self._memo(collection.slug)
        key = ("timemap", fmt, url, start, base)
        answer = memo.get(
            key,
            lambda: _timemap_text(store, fmt, url, start, base),
            keep=lambda a: a is None or len(a[0]) < _KEEP_TIMEMAP_CHARS,
        )
        if answer is None:
            return PlainTextResponse(f"{url} has no captures in this collection\n", status_code=404)
        text, media, paging = answer
        response = Response(text, media_type=media)
        if paging:
            response.headers["Link"] = paging
        return response


def _body_key(
    slug: str, capture: Capture, modifier: str, secure: bool, inserts: Inserts | None
) -> tuple[object, ...]:
    """What a rewritten answer depends on: the record, the modifier, scheme and inserts."""
    return (slug, capture.filename, capture.offset, modifier, secure, inserts)


def _timemap_text(
    store: IndexStore, fmt: str, url: str, start: str, base: str
) -> tuple[str, str, str | None] | None:
    """A TimeMap page as (text, media type, paging Link header), or None if none."""
    page = timemap_page(store, url, start)
    if page is None:
        return None
    uris = MementoUris(base, iri_to_uri(url))
    if fmt == "link":
        text = "".join(link_timemap(uris, page))
        media = LINK_FORMAT
    else:
        text = "".join(json.dumps(capture_fields(c)) + "\n" for c in page.captures)
        media = "application/x-ndjson"
    return text, media, paging_link(uris, fmt, page)
