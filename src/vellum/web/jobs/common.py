"""What the seed and job pages share: who may manage a collection, rendering, errors.

A collection's seeds and jobs are managed by the curators of its organization and by
site administrators. Anyone else — anonymous, a viewer, a curator of another
organization — gets the very 404 a collection that does not exist gets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from vellum import __version__
from vellum.auth.forms import CSRF_FIELD, FormError
from vellum.auth.guard import current_session
from vellum.auth.sessions import LoginSession
from vellum.catalog import Catalog, Collection
from vellum.errors import NotFound
from vellum.web.layout import page_templates

HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
}


class Denied(Exception):
    """Not found, or not this person's to manage: answered 404 either way."""


def may_manage(session: LoginSession | None, collection: Collection) -> bool:
    """Is this a site admin, or a curator of the organization owning the collection?"""
    if session is None:
        return False
    user = session.user
    return user.admin or any(
        m.role == "curator" and m.organization.id == collection.organization.id
        for m in user.memberships
    )


class Pages:
    """Rendering and the access check, for the page classes."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.templates = page_templates(catalog, "vellum.web.jobs")

    async def managed(self, request: Request, slug: str) -> tuple[LoginSession, Collection]:
        """The session and the collection, if this person manages it; else Denied."""
        session = await current_session(request, self.catalog)
        try:
            collection = await run_in_threadpool(self.catalog.get_collection, slug)
        except NotFound:
            raise Denied from None
        if session is None or not may_manage(session, collection):
            raise Denied
        return session, collection

    def render(
        self,
        template: str,
        session: LoginSession | None,
        status: int = 200,
        **context: object,
    ) -> HTMLResponse:
        html = self.templates.get_template(template).render(
            version=__version__,
            session=session,
            csrf=session.csrf if session else "",
            csrf_field=CSRF_FIELD,
            **context,
        )
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    def not_found(self, session: LoginSession | None = None) -> HTMLResponse:
        return self.render(
            "message.html",
            session,
            404,
            heading="Not found",
            message="There is no such page here.",
        )

    def form_error(self, session: LoginSession | None, exc: FormError) -> HTMLResponse:
        return self.render(
            "message.html", session, exc.status, heading="Form refused", message=exc.message
        )


Handler = Callable[[Request], Awaitable[Response]]


def guarded(method: Handler) -> Handler:
    """404 for whoever may not manage the collection; a form's refusal shown with its reason."""

    async def handle(request: Request) -> Response:
        self: Pages = method.__self__  # type: ignore[attr-defined]
        try:
            return await method(request)
        except Denied:
            return self.not_found(await current_session(request, self.catalog))
        except FormError as exc:
            return self.form_error(await current_session(request, self.catalog), exc)

    return handle
