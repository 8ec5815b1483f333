"""For every form of the service: who is logged in, and a CSRF-checked read of the form.

A page with a form puts the session's token in a hidden `csrf_token` field
(`(await current_session(request, catalog)).csrf`); its POST handler calls
`await posted_form(request, catalog)`, which raises FormError (403 for a missing or
wrong token, with the reason for people) before the handler changes anything.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from vellum.auth.forms import CSRF_COOKIE, FormError, check_csrf, read_form
from vellum.auth.sessions import SESSION_COOKIE, LoginSession, Sessions
from vellum.catalog import Catalog


async def current_session(request: Request, catalog: Catalog) -> LoginSession | None:
    """The live log-in session of this request, or None."""
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if not session_id:
        return None
    return await run_in_threadpool(Sessions(catalog).get, session_id)


async def posted_form(
    request: Request, catalog: Catalog
) -> tuple[LoginSession | None, dict[str, str]]:
    """The session and the fields of a posted form whose CSRF token is right; else FormError."""
    session = await current_session(request, catalog)
    fields = await read_form(request)
    check_csrf(expected_token(request, session), fields)
    return session, fields


def expected_token(request: Request, session: LoginSession | None) -> str | None:
    """The token this browser's forms must carry: its session's, else its CSRF cookie's."""
    if session is not None:
        return session.csrf
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return cookie if 20 <= len(cookie) <= 100 else None


__all__ = ["FormError", "current_session", "expected_token", "posted_form"]
