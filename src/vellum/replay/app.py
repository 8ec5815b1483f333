"""The replay web application: collection pages, capture listings and archived pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import iterate_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import (
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from vellum import __version__
from vellum.access import principal_from_request, visible_collections
from vellum.access.middleware import CollectionGate
from vellum.catalog import Catalog, Collection
from vellum.errors import InvalidInput, NotFound
from vellum.export.cdx_api import CONTENT_TYPES, format_lines, parse_query
from vellum.index.cdxj import Capture
from vellum.index.query import CdxQuery
from vellum.index.store import IndexStore, open_index
from vellum.replay.banner import banner_html, head_insert
from vellum.replay.charset import decode_text
from vellum.replay.resolve import closest, html_pages
from vellum.replay.rewrite.css import rewrite_css
from vellum.replay.rewrite.html import rewrite_html
from vellum.replay.urlrewriter import UrlRewriter
from vellum.settings import Settings
from vellum.urls.surt import surt
from vellum.urls.timestamps import banner_date, from_timestamp, http_date, pad_high
from vellum.urls.wayback import ReplayTarget, parse_replay_path, replay_path
from vellum.warc.encoding import decode_content
from vellum.warc.reader import ArchivedRecord, read_record

# Archived headers that describe the stored message, not the one we send.
_DROPPED = {"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive"}
_PASSED = {"content-type"}
_HTML = ("text/html", "application/xhtml+xml")
_BANNER_MODIFIERS = ("", "mp_")
_NEAREST = 16  # captures read around the asked-for time before skipping revisits


@dataclass(frozen=True)
class PageRow:
    url: str
    latest_href: str
    latest_when: str
    versions_href: str
    count: int


def create_app(settings: Settings, catalog: Catalog) -> Starlette:
    """The ASGI app serving every collection in the catalog."""
    replay = _Replay(settings, catalog)
    static = StaticFiles(directory=str(Path(__file__).parent / "static"))

    def gone(connection: HTTPConnection) -> Response:
        # The very answer a collection that does not exist gets on the same route.
        if connection.url.path.split("/")[2:3] == ["cdx"]:
            return PlainTextResponse("no such collection\n", status_code=404)
        return replay._not_found("No such collection", "This collection does not exist.")

    return Starlette(
        middleware=[Middleware(CollectionGate, catalog=catalog, not_found=gone)],
        routes=[
            Route("/", replay.home),
            Mount("/static", app=static, name="static"),
            Route("/{slug}", replay.collection_redirect),
            Route("/{slug}/", replay.collection_page),
            Route("/{slug}/cdx", replay.cdx),
            Route("/{slug}/{rest:path}", replay.replay),
        ],
    )


class _Replay:
    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self._settings = settings
        self._catalog = catalog
        self._indexes: dict[str, IndexStore] = {}
        self._templates = Environment(
            loader=PackageLoader("vellum.replay", "templates"),
            autoescape=select_autoescape(default=True),
        )

    # pages of the archive itself

    def home(self, request: Request) -> Response:
        principal = principal_from_request(request, self._catalog)
        return self._render("home.html", collections=visible_collections(self._catalog, principal))

    def collection_redirect(self, request: Request) -> Response:
        collection = self._collection(request.path_params["slug"])
        if collection is None:
            return self._not_found("No such collection", "This collection does not exist.")
        return RedirectResponse(f"/{collection.slug}/", status_code=301)

    def collection_page(self, request: Request) -> Response:
        collection = self._collection(request.path_params["slug"])
        if collection is None:
            return self._not_found("No such collection", "This collection does not exist.")
        pages = html_pages(list(self._index(collection.slug).all()))
        rows = []
        for url in sorted(pages):
            versions = pages[url]
            latest = versions[-1]
            rows.append(
                PageRow(
                    url=url,
                    latest_href=replay_path(collection.slug, latest.timestamp, url),
                    latest_when=banner_date(from_timestamp(latest.timestamp)),
                    versions_href=f"/{collection.slug}/*/{url}",
                    count=len(versions),
                )
            )
        return self._render("collection.html", collection=collection, pages=rows)

    def cdx(self, request: Request) -> Response:
        """The CDX server API of one collection (pywb's parameters and output formats)."""
        collection = self._collection(request.path_params["slug"])
        if collection is None:
            return PlainTextResponse("no such collection\n", status_code=404)
        params: dict[str, list[str]] = {}
        for name, value in request.query_params.multi_items():
            params.setdefault(name, []).append(value)
        try:
            query, output = parse_query(params)
        except (InvalidInput, ValueError) as exc:
            return PlainTextResponse(f"{exc}\n", status_code=400)
        prefix = f"{request.base_url}{collection.slug}/"
        lines = format_lines(
            self._index(collection.slug).query(query), output, query.fields, prefix
        )
        return StreamingResponse(
            iterate_in_threadpool(lines), media_type=CONTENT_TYPES[output].split(";")[0]
        )

    # archived content

    def replay(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        collection = self._collection(slug)
        if collection is None:
            return self._not_found("No such collection", "This collection does not exist.")
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        rest = raw_path.decode("latin-1")[len(slug) + 2 :]
        if request.url.query:
            rest += "?" + request.url.query
        target = parse_replay_path(rest)
        store = self._index(slug)
        if target.listing:
            return self._versions(collection, target.url, store.captures(target.url))
        # Seek to the closest captures instead of reading every capture of the URL.
        when = pad_high(target.timestamp) if target.timestamp else "99991231235959"
        nearest = list(store.query(CdxQuery(target.url, closest=when, limit=_NEAREST)))
        ranked = [c for c in closest(nearest, target.url, target.timestamp) if not c.is_revisit]
        if not ranked and len(nearest) == _NEAREST:  # only revisits nearby: look further
            everything = store.captures(target.url)
            ranked = [
                c for c in closest(everything, target.url, target.timestamp) if not c.is_revisit
            ]
        if not ranked:
            return self._not_found(
                "Not in this archive",
                f"{target.url} has not been archived in the {collection.title} collection.",
                collection,
            )
        capture = _avoid_self_redirect(ranked, slug, self._warc_path)
        if target.timestamp != capture.timestamp or target.url != capture.url:
            return RedirectResponse(
                replay_path(slug, capture.timestamp, capture.url, target.modifier), status_code=302
            )
        record = read_record(
            self._warc_path(slug, capture.filename), capture.offset, capture.length
        )
        return self._archived_response(collection, capture, record, target)

    def _archived_response(
        self, collection: Collection, capture: Capture, record: ArchivedRecord, target: ReplayTarget
    ) -> Response:
        slug = collection.slug
        rewriter = UrlRewriter(f"/{slug}/", capture.timestamp, capture.url)
        headers = _replay_headers(record, capture)
        status = record.status or 200
        location = record.header("Location")
        if location and 300 <= status < 400:
            headers["Location"] = rewriter.rewrite(urljoin(capture.url, location), target.modifier)
        content_type = record.header("Content-Type") or capture.mime
        mime = capture.mime.lower()
        if target.modifier == "id_" or not (mime in _HTML or mime == "text/css"):
            encoding = record.header("Content-Encoding")
            if encoding:
                headers["Content-Encoding"] = encoding
            return Response(record.body, status_code=status, headers=headers)
        body = decode_content(record.body, record.header("Content-Encoding"))
        decoded = decode_text(body, content_type, sniff_html=mime in _HTML)
        if mime == "text/css" or target.modifier == "cs_":
            text = rewrite_css(decoded.text, rewriter)
        elif target.modifier in _BANNER_MODIFIERS:
            banner = banner_html(
                organization=collection.organization.name,
                collection_title=collection.title,
                captured=record.date,
                versions_href=f"/{slug}/*/{capture.url}",
                collection_href=f"/{slug}/",
            )
            text = rewrite_html(decoded.text, rewriter, head_insert(), banner)
        else:
            text = rewrite_html(decoded.text, rewriter)
        return Response(decoded.encode(text), status_code=status, headers=headers)

    def _versions(self, collection: Collection, url: str, captures: list[Capture]) -> Response:
        key = surt(url)
        rows = [
            {
                "href": replay_path(collection.slug, c.timestamp, c.url),
                "when": banner_date(from_timestamp(c.timestamp)),
                "status": c.status,
                "mime": c.mime,
            }
            for c in captures
            if c.urlkey == key
        ]
        return self._render("versions.html", collection=collection, url=url, versions=rows)

    # helpers

    def _collection(self, slug: str) -> Collection | None:
        try:
            return self._catalog.get_collection(slug)
        except NotFound:
            return None

    def _index(self, slug: str) -> IndexStore:
        if slug not in self._indexes:
            self._indexes[slug] = open_index(
                self._settings.index_dir(slug), self._settings.warc_dir(slug)
            )
        return self._indexes[slug]

    def _warc_path(self, slug: str, filename: str) -> Path:
        return self._settings.warc_dir(slug) / filename

    def _render(self, template: str, status: int = 200, **context: object) -> HTMLResponse:
        html = self._templates.get_template(template).render(version=__version__, **context)
        return HTMLResponse(html, status_code=status)

    def _not_found(
        self, heading: str, message: str, collection: Collection | None = None
    ) -> HTMLResponse:
        return self._render(
            "not_found.html", status=404, heading=heading, message=message, collection=collection
        )


def _replay_headers(record: ArchivedRecord, capture: Capture) -> dict[str, str]:
    """Headers for a replayed capture: its type, Memento facts, the rest renamed."""
    headers: dict[str, str] = {}
    for name, value in record.headers:
        lowered = name.lower()
        if lowered in _PASSED:
            headers[name] = value
        elif lowered not in _DROPPED and not lowered.startswith("x-archive-orig-"):
            headers[f"X-Archive-Orig-{name}"] = value
    headers["Memento-Datetime"] = http_date(from_timestamp(capture.timestamp))
    headers["Link"] = f'<{capture.url}>; rel="original"'
    return headers


def _avoid_self_redirect(
    ranked: list[Capture], slug: str, warc_path: Callable[[str, str], Path]
) -> Capture:
    """The best capture that is not a redirect to its own key (http→https, slash, www)."""
    for capture in ranked:
        if not capture.status.startswith("3"):
            return capture
        record = read_record(warc_path(slug, capture.filename), capture.offset, capture.length)
        location = record.header("Location")
        if not location or surt(urljoin(capture.url, location)) != capture.urlkey:
            return capture
    return ranked[0]
