"""The site's one layout: who is looking, for the navigation of every page.

Pages are rendered by several parts (portal, replay, search, admin, jobs, log-in), each
with its own Jinja environment (`page_templates`), but all extend `base.html` from the
replay templates. Its navigation needs the visitor's log-in session (name, role, the CSRF
token of the log-out form). Rather than thread that through every handler,
`CurrentRequest` (ASGI middleware) keeps the request in a context variable, and the
environment's `site_nav()` reads the session only when a page renders the navigation.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from vellum.auth.forms import CSRF_FIELD
from vellum.auth.sessions import SESSION_COOKIE, Sessions
from vellum.catalog import Catalog

__all__ = ["CurrentRequest", "SiteNav", "current_request", "page_templates", "site_nav"]

_REQUEST: ContextVar[HTTPConnection | None] = ContextVar("vellum_request", default=None)


@dataclass(frozen=True)
class SiteNav:
    """What the navigation shows: the logged-in user, if any, and what they may reach."""

    user: str | None = None
    admin_link: bool = False  # site admins and curators manage things under /admin/
    csrf: str = ""
    csrf_field: str = CSRF_FIELD


class CurrentRequest:
    """ASGI middleware: the request being answered, for `site_nav` to read."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        token = _REQUEST.set(HTTPConnection(scope))
        try:
            await self._app(scope, receive, send)
        finally:
            _REQUEST.reset(token)


def current_request() -> HTTPConnection | None:
    """The request being answered (set by `CurrentRequest`), or None outside one."""
    return _REQUEST.get()


def site_nav(catalog: Catalog, request: HTTPConnection | None = None) -> SiteNav:
    """The navigation for `request` (else the request being answered): anonymous if none."""
    request = request or _REQUEST.get()
    if request is None:
        return SiteNav()
    cached = request.scope.get("vellum.site_nav")
    if isinstance(cached, SiteNav):
        return cached
    nav = SiteNav()
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if session_id:
        session = Sessions(catalog).get(session_id)
        if session is not None:
            user = session.user
            curator = any(m.role == "curator" for m in user.memberships)
            nav = SiteNav(user.name, user.admin or curator, session.csrf)
    request.scope["vellum.site_nav"] = nav
    return nav


def page_templates(catalog: Catalog, package: str | None = None) -> Environment:
    """The templates of the site's pages: `package`'s own (in its `templates` folder), then
    replay's, whose base.html gives every page its header and navigation; `site_nav()`
    gives them the navigation of the page being rendered."""
    loaders = [PackageLoader("vellum.replay", "templates")]
    if package is not None:
        loaders.insert(0, PackageLoader(package, "templates"))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(default=True))
    env.globals["site_nav"] = lambda: site_nav(catalog)
    return env
