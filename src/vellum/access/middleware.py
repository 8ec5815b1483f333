"""One gate in front of every collection route: a private collection answers 404.

Routes under `/<slug>/...` (collection pages, replay, CDX, TimeMaps, exports) are
checked here, before any handler runs, so a new route cannot forget the check.
Routes that list across collections (search, WASAPI, the home page) filter with
`visible_collections` themselves.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from vellum.access.policy import can_view
from vellum.access.web import principal_from_request
from vellum.catalog import Catalog
from vellum.errors import NotFound

NotFoundPage = Callable[[HTTPConnection], Response]


class CollectionGate:
    """ASGI middleware: 404 for any `/<slug>/...` request the principal may not see."""

    def __init__(self, app: ASGIApp, catalog: Catalog, not_found: NotFoundPage) -> None:
        self._app = app
        self._catalog = catalog
        self._not_found = not_found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            slug = _first_segment(scope)
            if slug and not self._allowed(scope, slug):
                response = self._not_found(HTTPConnection(scope))
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)

    def _allowed(self, scope: Scope, slug: str) -> bool:
        try:
            collection = self._catalog.get_collection(slug)
        except NotFound:
            return True  # not a collection: the routes answer for themselves
        return can_view(principal_from_request(HTTPConnection(scope), self._catalog), collection)


def _first_segment(scope: Scope) -> str:
    raw = scope.get("raw_path") or scope["path"].encode("latin-1")
    return bytes(raw).lstrip(b"/").split(b"/", 1)[0].split(b"?", 1)[0].decode("latin-1")
