"""UI-origin routes of framed replay: the top page (banner and iframe) and banner updates.

`/<slug>/<timestamp>/<url>` (no modifier) on the UI origin is the top page: the banner,
and an iframe showing `/<slug>/<timestamp>mp_/<url>` from the replay origin. As the
reader navigates inside the frame, wombat posts the new URL to the top page, which
checks the message's origin, fetches the new banner from `/api/replay/banner` and
updates the address bar.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

from vellum import __version__
from vellum.access import can_view, principal_from_request
from vellum.catalog import Catalog, Collection
from vellum.errors import NotFound
from vellum.index.cdxj import Capture
from vellum.index.store import IndexStore
from vellum.replay.banner import BannerView, archive_href, banner_view
from vellum.replay.frame import SANDBOX, Origins, capture_target
from vellum.replay.lookup import same_url
from vellum.replay.resolve import closest
from vellum.urls.surt import surt
from vellum.urls.wayback import repair_url
from vellum.web.grants import Grants, frame_src
from vellum.web.layout import page_templates

__all__ = ["BANNER_PATH", "frame_csp", "routes"]

BANNER_PATH = "/api/replay/banner"
_TIMESTAMP = re.compile(r"^[0-9]{14}$")
_MAX_URL = 8192


def frame_csp(origins: Origins) -> str:
    """The top page's policy: our own script and style only; the frame from replay."""
    frame_src = origins.replay or "'self'"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; frame-src {frame_src}; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


class _FrameRoute(Route):
    """`/<slug>/<timestamp>/<url>`: matches only a capture path with no modifier."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is Match.NONE:
            return match, child
        found = capture_target(scope)
        if found is None:
            return Match.NONE, {}
        target = found[2]
        if not target.timestamp or target.modifier or target.listing:
            return Match.NONE, {}
        return match, child


NotArchived = Callable[[Request], Awaitable[Response]]
"""The replay handler, answering for a URL with no capture (its 404 page, or a redirect)."""


def routes(
    catalog: Catalog,
    origins: Origins,
    index: Callable[[str], IndexStore],
    not_archived: NotArchived | None = None,
    grants: Grants | None = None,
) -> list[BaseRoute]:
    """The UI routes of framed replay, to go before the app's `/{slug}` routes.

    `not_archived` answers for a URL that has no capture at all (the replay handler: a
    404 page with nearby URLs, or a redirect to a fuzzy match); without it the top page
    itself says the page is not archived. With `grants`, the frame of a private
    collection first passes by the replay origin's grant endpoint (see web/grants.py).
    """
    ui = _FrameUI(catalog, origins, index, not_archived, grants)
    return [
        Route(BANNER_PATH, ui.banner_fragment),
        _FrameRoute("/{slug}/{rest:path}", ui.frame_page),
    ]


class _FrameUI:
    def __init__(
        self,
        catalog: Catalog,
        origins: Origins,
        index: Callable[[str], IndexStore],
        not_archived: NotArchived | None,
        grants: Grants | None = None,
    ) -> None:
        self._catalog = catalog
        self._grants = grants
        self._origins = origins
        self._index = index
        self._not_archived = not_archived
        self._templates = page_templates(catalog)

    async def frame_page(self, request: Request) -> Response:
        """The top page: banner and the archived page in a frame from the replay origin."""
        response = await run_in_threadpool(self._frame_page, request)
        if response is None:
            assert self._not_archived is not None
            return await self._not_archived(request)
        return response

    def _frame_page(self, request: Request) -> Response | None:
        found = capture_target(request.scope)
        assert found is not None  # the route matched it
        slug, _, target = found
        collection = self._collection(slug)
        if collection is None:
            return self._page(
                "not_found.html",
                404,
                heading="No such collection",
                message="This collection does not exist.",
                collection=None,
            )
        versions = self._versions(slug, target.url)
        if not versions and self._not_archived is not None:
            return None
        # A revisit is a version too: the replay origin serves it from its original.
        ranked = closest(versions, target.url, target.timestamp)
        capture = ranked[0] if ranked else None
        if capture is not None and (
            capture.timestamp != target.timestamp or not same_url(capture.url, target.url)
        ):
            return RedirectResponse(archive_href(slug, capture.timestamp, capture.url), 302)
        banner = (
            None
            if capture is None
            else banner_view(
                collection.organization.name, collection.title, slug, capture, versions
            )
        )
        url = capture.url if capture else target.url
        timestamp = capture.timestamp if capture else target.timestamp
        frame_src = self._frame_src(request, collection, archive_href(slug, timestamp, url, "mp_"))
        html = self._templates.get_template("frame.html").render(
            version=__version__,
            banner=banner,
            collection=collection,
            url=url,
            frame_src=frame_src,
            sandbox=SANDBOX,
            replay_origin=self._origins.replay,
            banner_path=BANNER_PATH,
        )
        return HTMLResponse(
            html,
            status_code=200 if capture else 404,
            headers={"Content-Security-Policy": frame_csp(self._origins)},
        )

    def banner_fragment(self, request: Request) -> Response:
        """The banner of one capture as an HTML fragment (what the top page swaps in)."""
        params = request.query_params
        slug = params.get("collection", "")
        timestamp = params.get("timestamp", "")
        url = params.get("url", "")
        if not slug or not url:
            return _bad("give collection, timestamp and url")
        if not _TIMESTAMP.match(timestamp):
            return _bad("timestamp must be 14 digits")
        if len(url) > _MAX_URL or not url.lower().startswith(("http://", "https://")):
            return _bad("url must be an http(s) URL of at most 8192 characters")
        collection = self._collection(slug)
        if collection is None or not can_view(
            principal_from_request(request, self._catalog), collection
        ):
            return PlainTextResponse("no such collection\n", status_code=404)
        versions = self._versions(slug, repair_url(url))
        capture = next((c for c in versions if c.timestamp == timestamp), None)
        if capture is None:
            return PlainTextResponse("no such capture\n", status_code=404)
        view = banner_view(collection.organization.name, collection.title, slug, capture, versions)
        return self._fragment(view)

    # helpers

    def _frame_src(self, request: Request, collection: Collection, path: str) -> str:
        """The frame's URL; for a private collection, by way of a replay grant."""
        if collection.public or self._grants is None or not self._origins.split:
            return self._origins.replay + path
        user = principal_from_request(request, self._catalog).user
        if user is None:
            return self._origins.replay + path
        return frame_src(self._grants, self._origins.replay, collection.slug, user, path)

    def _fragment(self, banner: BannerView) -> Response:
        html = self._templates.get_template("_banner.html").render(banner=banner)
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    def _versions(self, slug: str, url: str) -> list[Capture]:
        try:
            key = surt(url)
        except ValueError:  # not a URL we could have archived (e.g. a bad IPv6 host)
            return []
        return sorted(
            (c for c in self._index(slug).captures(url) if c.urlkey == key),
            key=lambda c: c.timestamp,
        )

    def _collection(self, slug: str) -> Collection | None:
        try:
            return self._catalog.get_collection(slug)
        except NotFound:
            return None

    def _page(self, template: str, status: int, **context: Any) -> HTMLResponse:
        html = self._templates.get_template(template).render(version=__version__, **context)
        return HTMLResponse(html, status_code=status)


def _bad(reason: str) -> Response:
    return PlainTextResponse(f"{reason}\n", status_code=400)
