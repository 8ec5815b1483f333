"""What every admin page shares: who is asking, rendering, refusals and form errors."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from vellum import __version__
from vellum.auth.forms import CSRF_FIELD, FormError
from vellum.auth.guard import current_session, posted_form
from vellum.auth.sessions import LoginSession
from vellum.catalog import Catalog
from vellum.settings import Settings
from vellum.web.layout import page_templates

__all__ = ["NO_STORE", "AdminBase", "Asker"]

NO_STORE = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True)
class Asker:
    """The logged-in person on an admin page, and what they may manage."""

    session: LoginSession

    @property
    def name(self) -> str:
        return self.session.user.name

    @property
    def admin(self) -> bool:
        return self.session.user.admin

    @property
    def curated(self) -> frozenset[int]:
        """Ids of the organizations this person is curator of."""
        return frozenset(
            m.organization.id for m in self.session.user.memberships if m.role == "curator"
        )

    def manages(self, organization_id: int) -> bool:
        return self.admin or organization_id in self.curated

    @property
    def csrf(self) -> str:
        return self.session.csrf


class AdminBase:
    """Templates, the catalog and the checks every admin page starts with."""

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self.settings = settings
        self.catalog = catalog
        self._templates = page_templates(catalog, "vellum.web.admin")

    async def asker(self, request: Request) -> Asker | Response:
        """The logged-in person, or the answer for anyone else (log in / not found)."""
        session = await current_session(request, self.catalog)
        if session is None:
            target = quote(request.url.path, safe="/")
            return RedirectResponse(f"/login?next={target}", status_code=303, headers=NO_STORE)
        return Asker(session)

    async def form(self, request: Request) -> tuple[Asker, dict[str, str]] | Response:
        """The asker and the fields of a posted form with the right CSRF token, or a refusal."""
        try:
            session, fields = await posted_form(request, self.catalog)
        except FormError as exc:
            return self.refused(exc)
        if session is None:
            return self.message("Log in first", "Log in to use this form.", 403)
        return Asker(session), fields

    def refused(self, exc: FormError) -> Response:
        heading = "Form refused" if exc.status == 403 else "Form not accepted"
        return self.message(heading, exc.message, exc.status)

    def not_found(self) -> Response:
        return self.message("Not found", "There is no such page.", 404)

    def forbidden(self) -> Response:
        return self.message(
            "Administrators only", "Only a site administrator may manage this.", 403
        )

    def message(self, heading: str, message: str, status: int = 200, **extra: object) -> Response:
        extra.setdefault("asker", None)
        return self.render(
            "admin_message.html",
            status,
            heading=heading,
            message=message,
            failed=status >= 400,
            **extra,
        )

    def render(self, template: str, status: int = 200, **context: object) -> HTMLResponse:
        context.setdefault("csrf_field", CSRF_FIELD)
        html = self._templates.get_template(template).render(version=__version__, **context)
        return HTMLResponse(html, status_code=status, headers=NO_STORE)

    @staticmethod
    def redirect(path: str) -> Response:
        return RedirectResponse(path, status_code=303, headers=NO_STORE)
