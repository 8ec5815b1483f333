"""Replay grants: a member's view of a private collection inside the replay frame.

The log-in session is a cookie of the UI origin; the frame's content comes from the
replay origin (another host), which never sees it, and must not: archived script runs
there. So the UI's top page of a private collection, for someone allowed to see it,
points the frame at `/_grant/<slug>?t=<grant>&to=<capture>` on the replay origin. The
grant is HMAC-signed with a per-installation secret (`replay-grant.key` in the data
directory) and names the collection, the user and an expiry (two minutes). That
endpoint swaps it for a cookie holding a longer grant (an hour) and redirects to the
capture. The cookie is host-only to the replay origin, HttpOnly (archived script
cannot read it), scoped to `/<slug>/` (never sent to another collection) and
`SameSite=None; Secure; Partitioned` where the browser keeps such cookies (https or
loopback): the frame is a cross-site context below the UI page, where a Lax cookie is
not sent, and `Partitioned` (CHIPS) keeps it working where third-party cookies are
blocked, keyed to the UI's site.

`GrantReader` (ASGI middleware) checks the cookie on every request: a valid grant for
the collection of the request's path, whose user still exists and may still see the
collection, becomes the request's principal (`access.web.GRANT_SCOPE`), if the request
was not made by a page of another collection (see `_from_its_pages`). Anything else
(forged, expired, another collection's, a user since removed) is ignored: the request
is anonymous, and a private collection answers 404.

Limits: a private page that sends no Referer to its own origin (`<meta name=referrer
content=no-referrer>` or `origin`) loses its subresources for members; and a page of
another collection could still reach this one by a cross-site redirect through a site
of its own, into a frame, within the cookie's hour (a replay host per collection would
close that).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from vellum.access.policy import Principal
from vellum.access.web import GRANT_SCOPE
from vellum.catalog import Catalog
from vellum.catalog.users import Users
from vellum.clock import Clock, system_clock
from vellum.errors import NotFound, VellumError

__all__ = [
    "COOKIE_LIFETIME",
    "GRANT_COOKIE",
    "GRANT_PATH",
    "URL_LIFETIME",
    "Grant",
    "GrantReader",
    "Grants",
    "routes",
]

GRANT_PATH = "/_grant/"
GRANT_COOKIE = "vellum_grant"
KEY_FILE = "replay-grant.key"
URL_LIFETIME = timedelta(minutes=2)  # from the top page to the frame's first request
COOKIE_LIFETIME = timedelta(hours=1)
_TOKEN_MAX = 600
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Grant:
    """Who may see which collection until when (seconds since the epoch), for what use."""

    purpose: str  # "url" (in the frame's first URL) or "cookie"
    slug: str
    user: str
    expires: int


class Grants:
    """Issue and check signed grants with the installation's secret key."""

    def __init__(self, data_dir: Path, clock: Clock = system_clock) -> None:
        self._path = data_dir / KEY_FILE
        self._key: bytes | None = None  # read (or made) at first use
        self._clock = clock

    def issue(self, purpose: str, slug: str, user: str) -> str:
        """A signed grant for `user` to see `slug`, valid for its purpose's lifetime."""
        lifetime = URL_LIFETIME if purpose == "url" else COOKIE_LIFETIME
        expires = int((self._clock() + lifetime).timestamp())
        payload = "\n".join(("v1", purpose, slug, user, str(expires))).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def check(self, token: str, purpose: str) -> Grant | None:
        """The grant in `token` if its signature is ours, it is for `purpose` and unexpired."""
        if not token or len(token) > _TOKEN_MAX or token.count(".") != 1:
            return None
        body, mac = token.split(".")
        try:
            payload = _unb64(body)
            given = _unb64(mac)
        except ValueError:
            return None
        if not hmac.compare_digest(given, self._mac(payload)):
            return None
        parts = payload.decode("utf-8", "replace").split("\n")
        if len(parts) != 5 or parts[0] != "v1" or parts[1] != purpose or not parts[4].isdigit():
            return None
        grant = Grant(parts[1], parts[2], parts[3], int(parts[4]))
        return grant if grant.expires > self._clock().timestamp() else None

    def _mac(self, payload: bytes) -> bytes:
        if self._key is None:
            self._key = _load_key(self._path)
        return hmac.new(self._key, b"vellum replay grant\0" + payload, hashlib.sha256).digest()


def frame_src(grants: Grants, replay_origin: str, slug: str, user: str, capture_path: str) -> str:
    """The frame's first URL: the grant endpoint on the replay origin, then the capture."""
    query = urlencode({"t": grants.issue("url", slug, user), "to": capture_path})
    return f"{replay_origin}{GRANT_PATH}{slug}?{query}"


def routes(grants: Grants, replay_origin: str) -> list[BaseRoute]:
    """`/_grant/<slug>`: swap a frame's grant for the collection's cookie (replay origin)."""
    replay_host = urlsplit(replay_origin).netloc

    def swap(request: Request) -> Response:
        slug = request.path_params["slug"]
        to = request.query_params.get("to", "")
        grant = grants.check(request.query_params.get("t", ""), "url")
        on_replay = not replay_host or request.headers.get("host", "").lower() == replay_host
        if grant is None or grant.slug != slug or not on_replay or not _inside(to, slug):
            return PlainTextResponse("no such collection\n", status_code=404)
        response = RedirectResponse(to, status_code=303, headers=_NO_STORE)
        cross_site = _keeps_secure(replay_origin, request)
        # Written by hand: Starlette's set_cookie has `Partitioned` only on Python 3.14+.
        attributes = [
            f"{GRANT_COOKIE}={grants.issue('cookie', slug, grant.user)}",
            f"Max-Age={int(COOKIE_LIFETIME.total_seconds())}",
            f"Path=/{slug}/",
            "HttpOnly",
            *(("Secure", "SameSite=None", "Partitioned") if cross_site else ("SameSite=Lax",)),
        ]
        response.headers.append("set-cookie", "; ".join(attributes))
        return response

    return [Route(GRANT_PATH + "{slug}", swap)]


_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class GrantReader:
    """ASGI middleware: a valid grant cookie for the path's collection sets its principal."""

    def __init__(self, app: ASGIApp, grants: Grants, catalog: Catalog) -> None:
        self._app = app
        self._grants = grants
        self._catalog = catalog

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and GRANT_COOKIE.encode() in _cookie_header(scope):
            principal = self._principal(HTTPConnection(scope))
            if principal is not None:
                scope[GRANT_SCOPE] = principal
        await self._app(scope, receive, send)

    def _principal(self, connection: HTTPConnection) -> Principal | None:
        grant = self._grants.check(connection.cookies.get(GRANT_COOKIE, ""), "cookie")
        slug = connection.url.path.lstrip("/").split("/", 1)[0]
        if grant is None or grant.slug != slug or not _from_its_pages(connection, slug):
            return None
        try:
            collection = self._catalog.get_collection(slug)
            user = Users(self._catalog).get(grant.user)
        except NotFound:
            return None
        if not (user.admin or collection.organization.id in user.organizations):
            return None  # no longer a member
        return Principal(user=user.name, organizations=frozenset({collection.organization.id}))


def _from_its_pages(connection: HTTPConnection, slug: str) -> bool:
    """Whether a request may use the grant of collection `slug`: not one made by a page
    of another collection on the replay origin.

    The cookie's path keeps it to `/<slug>/` URLs, but the browser sends it with any
    request to them, whoever makes it, and all collections share the replay origin: a
    page archived in another collection could fetch this one's pages and read them.
    So a same-origin request must come from a page of this collection (its Referer);
    cross-site ones are the frame's navigations from the UI page (and from nothing on
    the replay origin, which can only make same-origin requests to itself).
    """
    headers = connection.headers
    site = headers.get("sec-fetch-site", "")
    if site in ("", "none"):  # not a browser, or typed in by the user
        return True
    if site != "same-origin":
        return headers.get("sec-fetch-mode") == "navigate" and headers.get("sec-fetch-dest") in (
            "iframe",
            "frame",
            "document",
        )
    referer = urlsplit(headers.get("referer", ""))
    return referer.netloc == headers.get("host", "") and referer.path.startswith(f"/{slug}/")


def _inside(path: str, slug: str) -> bool:
    """True for a path of this collection on this host (never another site)."""
    return (
        path.startswith(f"/{slug}/")
        and "\\" not in path
        and len(path) <= 10_000
        and all(ord(c) > 0x20 for c in path)
    )


def _keeps_secure(origin: str, request: Request) -> bool:
    """Whether the browser keeps a `Secure` cookie from this origin (https or loopback)."""
    parts = urlsplit(origin or str(request.base_url))
    return parts.scheme == "https" or parts.hostname in _LOOPBACK


def _cookie_header(scope: Scope) -> bytes:
    return Headers(scope=scope).get("cookie", "").encode("latin-1")


def _load_key(path: Path) -> bytes:
    """The installation's grant key, made (32 random bytes, mode 0600) on first use."""
    if not path.exists():
        temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
            with contextlib.suppress(FileExistsError):  # another process's key wins
                os.link(temp, path)  # whole or not at all
        except OSError as exc:
            raise VellumError(f"cannot create {path}: {exc.strerror}") from None
        finally:
            temp.unlink(missing_ok=True)
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise VellumError(f"cannot read {path}: {exc.strerror}") from None
    if len(key) < 32:
        raise VellumError(f"{path} is damaged (shorter than 32 bytes): delete it to make a new one")
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None
