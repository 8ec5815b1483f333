"""The log-in pages: /login, /logout, /account and /account/password.

Sessions live in the catalog; the browser holds only a random id in an HttpOnly,
SameSite=Lax cookie (Secure over HTTPS). Every form carries a CSRF token.
"""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from vellum import __version__
from vellum.auth.forms import CSRF_COOKIE, CSRF_FIELD, FormError, check_csrf, new_token, read_form
from vellum.auth.guard import expected_token
from vellum.auth.sessions import SESSION_COOKIE, LoginSession, Sessions
from vellum.auth.throttle import LoginThrottle, ThrottlePolicy
from vellum.catalog import Catalog
from vellum.catalog.users import NAME_MAX, PASSWORD_MAX, Users, check_password
from vellum.clock import Clock, system_clock
from vellum.errors import InvalidInput
from vellum.settings import Settings
from vellum.web.layout import page_templates

_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
}


def routes(
    settings: Settings,
    catalog: Catalog,
    *,
    clock: Clock = system_clock,
    hasher: PasswordHasher | None = None,
    policy: ThrottlePolicy | None = None,
) -> list[BaseRoute]:
    """The log-in routes, to be placed before the `/{slug}` routes of the app."""
    pages = _AuthPages(catalog, clock, hasher, policy)
    return [
        Route("/login", pages.login, methods=["GET", "POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/account", pages.account, methods=["GET"]),
        Route("/account/password", pages.password, methods=["GET", "POST"]),
    ]


class _AuthPages:
    def __init__(
        self,
        catalog: Catalog,
        clock: Clock,
        hasher: PasswordHasher | None,
        policy: ThrottlePolicy | None,
    ) -> None:
        self._clock = clock
        self._users = Users(catalog, hasher, clock)
        self._sessions = Sessions(catalog, clock)
        self._throttle = LoginThrottle(catalog, clock, policy)
        self._templates = page_templates(catalog, "vellum.auth")

    # log-in

    async def login(self, request: Request) -> Response:
        session = await self._session(request)
        next_path = _safe_next(request.query_params.get("next", ""))
        if request.method == "GET":
            return self._login_form(request, session, next_path)
        try:
            fields = await read_form(request)
            check_csrf(expected_token(request, session), fields)
        except FormError as exc:
            return self._error(request, exc)
        next_path = _safe_next(fields.get("next", ""))
        name, password = fields.get("name", "").strip(), fields.get("password", "")
        problem = _login_problem(name, password)
        if problem:
            return self._login_form(request, session, next_path, name, problem, 400)
        address = request.client.host if request.client else "unknown"
        locked = await run_in_threadpool(self._throttle.locked_until, name, address)
        if locked is not None:
            return self._locked(request, session, next_path, name, locked)
        user = await run_in_threadpool(self._users.verify, name, password)
        if user is None:
            await run_in_threadpool(self._throttle.failed, name, address)
            message = "Wrong user name or password."
            return self._login_form(request, session, next_path, name, message, 400)
        await run_in_threadpool(self._throttle.succeeded, name)
        old = request.cookies.get(SESSION_COOKIE, "")
        if old:  # a new id at every log-in: no session fixation
            await run_in_threadpool(self._sessions.delete, old)
        session_id, _ = await run_in_threadpool(self._sessions.create, user)
        response = RedirectResponse(next_path, status_code=303, headers=_HEADERS)
        self._session_cookie(request, response, session_id)
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response

    def _login_form(
        self,
        request: Request,
        session: LoginSession | None,
        next_path: str,
        name: str = "",
        error: str = "",
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        token = expected_token(request, session) or new_token()
        response = self._render(
            "login.html",
            status,
            session=session,
            csrf=token,
            next=next_path,
            name=name[:NAME_MAX],
            error=error,
            name_max=NAME_MAX,
            password_max=PASSWORD_MAX,
        )
        response.headers.update(headers or {})
        if session is None and request.cookies.get(CSRF_COOKIE) != token:
            _set_cookie(request, response, CSRF_COOKIE, token, max_age=None, same_site="strict")
        return response

    def _locked(
        self,
        request: Request,
        session: LoginSession | None,
        next_path: str,
        name: str,
        until: datetime,
    ) -> Response:
        wait = max(1, int((until - self._clock()).total_seconds()))
        minutes = (wait + 59) // 60
        message = (
            "Too many failed log-ins for this account or from this address. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''} "
            f"(after {until:%H:%M} UTC)."
        )
        return self._login_form(
            request, session, next_path, name, message, 429, {"Retry-After": str(wait)}
        )

    # log-out

    async def logout(self, request: Request) -> Response:
        session = await self._session(request)
        response = RedirectResponse("/", status_code=303, headers=_HEADERS)
        if session is not None:
            try:
                check_csrf(session.csrf, await read_form(request))
            except FormError as exc:
                return self._error(request, exc)
            await run_in_threadpool(self._sessions.delete, request.cookies[SESSION_COOKIE])
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
        return response

    # account

    async def account(self, request: Request) -> Response:
        session = await self._session(request)
        if session is None:
            return _to_login("/account")
        return self._render("account.html", session=session, csrf=session.csrf)

    async def password(self, request: Request) -> Response:
        session = await self._session(request)
        if session is None:
            return _to_login("/account/password")
        if request.method == "GET":
            return self._password_form(session)
        try:
            fields = await read_form(request)
            check_csrf(session.csrf, fields)
        except FormError as exc:
            return self._error(request, exc)
        current, new = fields.get("current", ""), fields.get("new", "")
        if not current:
            return self._password_form(session, "Enter your current password.", 400)
        if new != fields.get("repeat", ""):
            return self._password_form(session, "The two new passwords are not the same.", 400)
        try:
            check_password(new)
        except InvalidInput as exc:
            return self._password_form(session, f"New password: {exc}.", 400)
        name = session.user.name
        address = request.client.host if request.client else "unknown"
        locked = await run_in_threadpool(self._throttle.locked_until, name, address)
        if locked is not None:
            return self._password_form(session, "Too many wrong passwords; try again later.", 429)
        if await run_in_threadpool(self._users.verify, name, current) is None:
            await run_in_threadpool(self._throttle.failed, name, address)
            return self._password_form(session, "Your current password is wrong.", 400)
        user = await run_in_threadpool(self._users.set_password, name, new)  # ends all sessions
        session_id, fresh = await run_in_threadpool(self._sessions.create, user)
        response = self._render(
            "message.html",
            heading="Password changed",
            message="Your password was changed. Every other session of yours was logged out.",
            session=fresh,
            csrf=fresh.csrf,
        )
        self._session_cookie(request, response, session_id)
        return response

    def _password_form(self, session: LoginSession, error: str = "", status: int = 200) -> Response:
        return self._render(
            "password.html",
            status,
            session=session,
            csrf=session.csrf,
            error=error,
            password_max=PASSWORD_MAX,
        )

    # helpers

    async def _session(self, request: Request) -> LoginSession | None:
        session_id = request.cookies.get(SESSION_COOKIE, "")
        if not session_id:
            return None
        return await run_in_threadpool(self._sessions.get, session_id)

    def _session_cookie(self, request: Request, response: Response, session_id: str) -> None:
        max_age = int(self._sessions.lifetime.total_seconds())
        _set_cookie(request, response, SESSION_COOKIE, session_id, max_age, "lax")

    def _error(self, request: Request, exc: FormError) -> Response:
        return self._render(
            "message.html",
            exc.status,
            heading="Form refused" if exc.status == 403 else "Form not accepted",
            message=exc.message,
            session=None,
        )

    def _render(self, template: str, status: int = 200, **context: object) -> HTMLResponse:
        context.setdefault("csrf_field", CSRF_FIELD)
        html = self._templates.get_template(template).render(version=__version__, **context)
        return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _login_problem(name: str, password: str) -> str:
    """Why these log-in fields cannot be checked at all, or ''."""
    if not name:
        return "Enter your user name."
    if len(name) > NAME_MAX:
        return f"A user name has at most {NAME_MAX} characters."
    if not password:
        return "Enter your password."
    if len(password) > PASSWORD_MAX:
        return f"A password has at most {PASSWORD_MAX} characters."
    return ""


def _safe_next(path: str) -> str:
    """Where to go after logging in: a path on this site only, never another host."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 2000:
        return "/"
    if any(ord(c) < 0x21 for c in path):
        return "/"
    return path


def _to_login(next_path: str) -> Response:
    return RedirectResponse(f"/login?next={next_path}", status_code=303, headers=_HEADERS)


def _set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    max_age: int | None,
    same_site: str,
) -> None:
    """A host-only cookie for the whole site: HttpOnly, SameSite, Secure over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite=same_site,  # type: ignore[arg-type]
    )
