"""The replay web application: collection pages, capture listings and archived pages."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
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
from vellum.access.exclusions import AccessRules, View
from vellum.access.middleware import CollectionGate
from vellum.access.restricted import restricted
from vellum.auth.web import routes as auth_routes
from vellum.catalog import Catalog, Collection
from vellum.errors import InvalidInput, NotFound
from vellum.export.cdx_api import CONTENT_TYPES, format_lines, parse_query
from vellum.export.wasapi import routes as wasapi_routes
from vellum.index.cdxj import Capture
from vellum.index.store import IndexStore, open_index
from vellum.replay.catalog_view import catalog_view
from vellum.replay.content import Inserts
from vellum.replay.diskcache import DiskTier
from vellum.replay.frame import FrameSplit, Origins
from vellum.replay.frame_insert import FRAMED_MODIFIERS, frame_insert
from vellum.replay.serving import ArchiveServer
from vellum.replay.ui import routes as frame_routes
from vellum.search.web import routes as search_routes
from vellum.settings import Settings
from vellum.urls.wayback import ReplayTarget, parse_replay_path
from vellum.web.admin import routes as admin_routes
from vellum.web.grants import GrantReader, Grants
from vellum.web.grants import routes as grant_routes
from vellum.web.jobs import routes as job_routes
from vellum.web.layout import CurrentRequest, current_request, page_templates
from vellum.web.portal import Portal


def create_app(settings: Settings, catalog: Catalog) -> Starlette:
    """The ASGI app serving every collection in the catalog."""
    catalog = catalog_view(catalog, settings.catalog_path)  # lookups kept while unchanged
    replay = _Replay(settings, catalog)
    static = StaticFiles(directory=str(Path(__file__).parent / "static"))

    def gone(connection: HTTPConnection) -> Response:
        # The very answer a collection that does not exist gets on the same route.
        if connection.url.path.split("/")[2:3] == ["cdx"]:
            return PlainTextResponse("no such collection\n", status_code=404)
        return replay._not_found("No such collection", "This collection does not exist.")

    return Starlette(
        middleware=[
            Middleware(GrantReader, grants=replay.grants, catalog=catalog),
            Middleware(FrameSplit, origins=Origins.from_settings(settings), catalog=catalog),
            Middleware(CurrentRequest),
            Middleware(CollectionGate, catalog=catalog, not_found=gone),
        ],
        routes=[
            Route("/", replay.portal.home),
            Mount("/static", app=static, name="static"),
            *auth_routes(settings, catalog),
            *grant_routes(replay.grants, settings.replay_origin or ""),
            *job_routes(settings, catalog),  # seeds and crawl jobs, under /admin/
            *admin_routes(settings, catalog),
            *frame_routes(
                catalog,
                Origins.from_settings(settings),
                replay.visible_index,
                replay.replay,
                grants=replay.grants,
            ),
            *wasapi_routes(settings, catalog),
            *search_routes(settings, catalog),
            Route("/{slug}", replay.collection_redirect),
            Route("/{slug}/", replay.portal.collection_page),
            Route("/{slug}/cdx", replay.cdx),
            Route("/{slug}/timemap/{rest:path}", replay.timemap),
            Route("/{slug}/{rest:path}", replay.replay),
        ],
    )


class _Replay:
    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self._settings = settings
        self._catalog = catalog
        self._indexes: dict[str, IndexStore] = {}
        self._templates = page_templates(catalog)
        self.portal = Portal(settings, catalog, self._index)
        self.grants = Grants(settings.data_dir)
        self.access = AccessRules.of(catalog, settings)
        # Under an embargo, a visitor who is not a member is served from the index as
        # the embargo lets it be seen, by a server of its own (its memos are its own).
        self._embargoed = ArchiveServer(
            self._embargoed_index,
            settings.index_dir,
            settings.warc_dir,
            self._not_archived,
            self._inserts,
        )
        self._origins = Origins.from_settings(settings)
        self._server = ArchiveServer(
            self._unexcluded_index,
            settings.index_dir,
            settings.warc_dir,
            self._not_archived,
            self._inserts,
            disk=DiskTier.for_data_dir(settings.data_dir),
        )

    # pages of the archive itself

    def collection_redirect(self, request: Request) -> Response:
        collection = self._collection(request.path_params["slug"])
        if collection is None:
            return self._not_found("No such collection", "This collection does not exist.")
        return RedirectResponse(f"/{collection.slug}/", status_code=301)

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
        view = self.access.for_request(request, collection)
        lines = format_lines(
            view.filter(self._index(collection.slug).query(query)), output, query.fields, prefix
        )
        return StreamingResponse(
            iterate_in_threadpool(lines), media_type=CONTENT_TYPES[output].split(";")[0]
        )

    # archived content

    async def replay(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        collection = self._collection(slug)
        if collection is None:
            return self._not_found("No such collection", "This collection does not exist.")
        target = parse_replay_path(_after_slug(request, slug))
        view = self.access.for_request(request, collection)
        if view.hides_url(target.url):
            return self._excluded(collection, target.url)
        if view.cutoff:
            return await run_in_threadpool(self._replay, request, collection, target, view)
        # A memento already in memory is answered here; anything that reads the index or
        # a WARC file goes to a worker thread, so it never holds up the event loop.
        answer = self._server.cached(request, collection, target)
        if answer is not None:
            return answer
        return await run_in_threadpool(self._replay, request, collection, target, view)

    def _replay(
        self, request: Request, collection: Collection, target: ReplayTarget, view: View
    ) -> Response:
        if target.listing:
            index = restricted(self._index(collection.slug), view)
            captures = index.captures(target.url)
            return self.portal.calendar(collection, target.url, captures, target.timestamp)
        server = self._embargoed if view.cutoff else self._server
        return server.replay(request, collection, target)

    def timemap(self, request: Request) -> Response:
        """TimeMaps: `/<slug>/timemap/link/<url>` and `/<slug>/timemap/json/<url>`."""
        slug = request.path_params["slug"]
        collection = self._collection(slug)
        if collection is None:
            return self._not_found("No such collection", "This collection does not exist.")
        rest = _after_slug(request, slug)
        view = self.access.for_request(request, collection)
        asked = _TIMEMAP_URL.match(rest)
        url = parse_replay_path(asked.group(1)).url if asked and asked.group(1) else ""
        if url and view.hides_url(url):
            return PlainTextResponse(f"{url} has no captures in this collection\n", 404)
        server = self._embargoed if view.cutoff else self._server
        return server.timemap(request, collection, rest)

    def _inserts(self, collection: Collection, capture: Capture, modifier: str) -> Inserts | None:
        """The head insert of archived HTML in a frame: wombat, set up for this capture."""
        if modifier not in FRAMED_MODIFIERS:
            return None
        insert = frame_insert(
            self._origins,
            collection.slug,
            capture.url,
            capture.timestamp,
            capture.timestamp,
            modifier,
        )
        return Inserts(insert, "")

    def _not_archived(
        self, collection: Collection, url: str, nearest: list[tuple[str, str]], search: str
    ) -> Response:
        return self._render(
            "not_found.html",
            status=404,
            heading="Not in this archive",
            message=f"{url} has not been archived in the {collection.title} collection.",
            collection=collection,
            url=url,
            nearest=[{"url": u, "href": h} for u, h in nearest],
            search_href=search,
        )

    def _versions(self, collection: Collection, url: str, captures: list[Capture]) -> Response:
        return self.portal.calendar(collection, url, captures)

    def _excluded(self, collection: Collection, url: str) -> Response:
        # The same words for every excluded URL: the reason is for curators only.
        return self._render(
            "not_found.html",
            status=404,
            heading="This page is not available",
            message=f"{url} is not available in the {collection.title} collection.",
            collection=collection,
            url=url,
            nearest=[],
            search_href="",
        )

    # helpers

    def visible_index(self, slug: str) -> IndexStore:
        """A collection's index as the asker of the current request may see it."""
        store = self._index(slug)
        collection = self._collection(slug)
        if collection is None:
            return store
        return restricted(store, self.access.for_request(current_request(), collection))

    def _unexcluded_index(self, slug: str) -> IndexStore:
        """A collection's index without its take-downs (nearby URLs, fuzzy matches)."""
        store = self._index(slug)
        collection = self._collection(slug)
        if collection is None:
            return store
        return restricted(store, View(self.access.rules(collection), ""))

    def _embargoed_index(self, slug: str) -> IndexStore:
        store = self._index(slug)
        collection = self._collection(slug)
        if collection is None:
            return store
        return restricted(store, self.access.for_request(None, collection))

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


_TIMEMAP_URL = re.compile(r"^timemap/(?:link|json)/(?:[0-9]{1,14}/)?(.*)$", re.DOTALL)


def _after_slug(request: Request, slug: str) -> str:
    """What follows `/<slug>/`, verbatim: the raw path (not decoded) and the query."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    rest = raw_path.decode("latin-1")[len(slug) + 2 :]
    if request.url.query:
        rest += "?" + request.url.query
    return rest
