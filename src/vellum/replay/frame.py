"""Framed replay's two origins: which one a request reached, and what each may serve.

The UI origin serves the top page (banner and an iframe) and every page of the
service; the replay origin serves archived bytes and nothing else, so archived script
runs where it can neither read the UI's cookies nor touch the banner. `FrameSplit` is
the ASGI middleware that keeps each origin to its own kind of answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vellum.access import can_view, principal_from_request
from vellum.catalog import Catalog
from vellum.errors import InvalidInput, NotFound
from vellum.settings import Settings
from vellum.urls.wayback import ReplayTarget, parse_replay_path

__all__ = [
    "SANDBOX",
    "UI_HEADERS",
    "FrameSplit",
    "Origins",
    "capture_target",
    "check_origin",
    "default_origins",
]

# The iframe may run script and keep its own (replay-origin) storage, but never
# navigate the top window: no allow-top-navigation of any kind.
SANDBOX = (
    "allow-scripts allow-same-origin allow-forms allow-popups "
    "allow-popups-to-escape-sandbox allow-modals allow-downloads allow-pointer-lock "
    "allow-presentation"
)
# Every UI-origin answer: nothing may frame it (replay content least of all).
UI_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
_LOOPBACK = ("127.0.0.1", "localhost", "0.0.0.0", "::", "::1", "")
# Sec-Fetch-Dest values -> the modifier a stray request is replayed with.
_DEST_MODIFIER = {
    "document": "mp_",
    "iframe": "mp_",  # a page navigating inside a frame: wombat reports it to the top
    "frame": "mp_",
    "image": "im_",
    "script": "js_",
    "style": "cs_",
    "font": "im_",
    "video": "oe_",
    "audio": "oe_",
    "track": "oe_",
}


@dataclass(frozen=True)
class Origins:
    """The UI and replay origins; both "" when one origin serves everything."""

    ui: str = ""
    replay: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Origins:
        return cls(settings.ui_origin or "", settings.replay_origin or "")

    @property
    def split(self) -> bool:
        return bool(self.ui and self.replay)

    @property
    def replay_host(self) -> str:
        return urlsplit(self.replay).netloc

    @property
    def ui_host(self) -> str:
        return urlsplit(self.ui).netloc


def check_origin(value: str, what: str = "origin") -> str:
    """`value` as `scheme://host[:port]`, lower-cased; InvalidInput for anything else."""
    parts = urlsplit(value.strip())
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise InvalidInput(f"{what} must look like http://host:port, not {value!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def default_origins(host: str, ui_port: int, replay_port: int) -> Origins:
    """UI on localhost, replay on 127.0.0.1: two host names, no DNS set-up needed.

    For any other listening address both origins use that address (ports apart), which
    keeps scripts apart but not cookies: give a replay origin of its own in production.
    """
    if host in _LOOPBACK:
        return Origins(f"http://localhost:{ui_port}", f"http://127.0.0.1:{replay_port}")
    name = f"[{host}]" if ":" in host else host
    return Origins(f"http://{name}:{ui_port}", f"http://{name}:{replay_port}")


def capture_target(scope: Scope) -> tuple[str, str, ReplayTarget] | None:
    """(slug, rest, target) for a `/<slug>/<rest>` path, from the raw (undecoded) path."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    path = bytes(raw).split(b"?", 1)[0].decode("latin-1")
    slug, sep, rest = path[1:].partition("/")
    if not slug or not sep or not rest:
        return None
    query = scope.get("query_string", b"").decode("latin-1")
    if query:
        rest += "?" + query
    return slug, rest, parse_replay_path(rest)


class FrameSplit:
    """ASGI middleware: each request is answered as its origin allows.

    Replay origin: archived captures and static files only; a capture asked for without
    a modifier goes to its frame page (top-level) or its `mp_` form (in a frame); a
    path outside the archive that an archived page asked for is redirected into the
    archive by its Referer. UI origin: a capture asked for with a modifier goes to the
    replay origin; every answer forbids framing.
    """

    def __init__(self, app: ASGIApp, origins: Origins, catalog: Catalog) -> None:
        self._app = app
        self._origins = origins
        self._catalog = catalog

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope, send = _worker_script(scope, send)
        if scope["type"] != "http" or not self._origins.split:
            await self._app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "").lower()
        if host == self._origins.replay_host:
            response = self._replay_side(scope, headers)
            if response is None:
                if _accepts_secure(self._origins.replay):
                    send = _partitioned_cookies(send)
                await self._app(scope, receive, send)
                return
        elif urlsplit("//" + host).hostname == urlsplit(self._origins.replay).hostname:
            # A UI page on the replay host would share its cookies with archived script.
            response = RedirectResponse(self._origins.ui + _full_path(scope), 302)
        else:
            response = self._ui_side(scope)
            if response is None:
                await self._app(scope, receive, _with_headers(send, UI_HEADERS))
                return
        await response(scope, receive, send)

    # -- replay origin ---------------------------------------------------------------

    def _replay_side(self, scope: Scope, headers: Headers) -> Response | None:
        if scope["path"].startswith(("/static/", "/_grant/")):  # grants: web/grants.py
            return None
        dest = headers.get("sec-fetch-dest", "")
        found = capture_target(scope)
        if found is not None and self._is_visible(scope, found[0]):
            slug, rest, target = found
            if target.listing or rest.split("?", 1)[0] in ("", "cdx"):
                return RedirectResponse(self._origins.ui + _full_path(scope), 302)
            if target.timestamp and not target.modifier:
                if dest in ("", "document"):
                    return RedirectResponse(self._origins.ui + _full_path(scope), 302)
                modifier = _DEST_MODIFIER.get(dest, "mp_")
                # 307 keeps a form's POST a POST.
                return RedirectResponse(f"/{slug}/{target.timestamp}{modifier}/{target.url}", 307)
            return None
        into = self._from_referer(scope, headers)
        if into is not None:
            return RedirectResponse(into, 307)
        if dest in ("", "document") and scope["method"] in ("GET", "HEAD"):
            return RedirectResponse(self._origins.ui + _full_path(scope), 302)
        return PlainTextResponse("not an archived URL\n", status_code=404)

    def _from_referer(self, scope: Scope, headers: Headers) -> str | None:
        """The archive URL of a request that escaped rewriting, resolved by its Referer."""
        referer = headers.get("referer", "")
        if not referer.startswith(self._origins.replay + "/"):
            return None
        parts = urlsplit(referer)
        found = capture_target(
            {
                "path": parts.path,
                "raw_path": parts.path.encode("latin-1", "replace"),
                "query_string": parts.query.encode("latin-1", "replace"),
            }
        )
        # Public collections only: the request is outside the collection's path, where no
        # replay grant comes, and must not tell a private collection from no collection.
        if found is None or not found[2].timestamp or not self._is_public(found[0]):
            return None
        slug, _, ref = found
        try:
            url = urljoin(ref.url, _full_path(scope))
        except ValueError:
            return None
        # fetch/XHR ("empty") get the bytes as archived; anything unknown is a page.
        dest = headers.get("sec-fetch-dest", "")
        modifier = "id_" if dest == "empty" else _DEST_MODIFIER.get(dest, "mp_")
        return f"/{slug}/{ref.timestamp}{modifier}/{url}"

    # -- UI origin -------------------------------------------------------------------

    def _ui_side(self, scope: Scope) -> Response | None:
        found = capture_target(scope)
        if found is None:
            return None
        slug, _, target = found
        if target.timestamp and target.modifier and self._is_visible(scope, slug):
            return RedirectResponse(self._origins.replay + _full_path(scope), 302)
        return None

    def _is_visible(self, scope: Scope, slug: str) -> bool:
        """A collection this request may see: any other looks exactly like no collection."""
        try:
            collection = self._catalog.get_collection(slug)
        except NotFound:
            return False
        return collection.public or can_view(
            principal_from_request(HTTPConnection(scope), self._catalog), collection
        )

    def _is_public(self, slug: str) -> bool:
        try:
            return self._catalog.get_collection(slug).public
        except NotFound:
            return False


def _worker_script(scope: Scope, send: Send) -> tuple[Scope, Send]:
    """Wombat's worker modifiers (`sw_`, `wkr_`, ...) served as script (`js_`).

    A service worker cannot be redirected to, so the request is answered in place, and
    its script may control the collection's pages (`Service-Worker-Allowed`).
    """
    raw = bytes(scope.get("raw_path") or scope["path"].encode("utf-8"))
    match = _WORKER.match(raw)
    if match is None:
        return scope, send
    new_raw = match.group(1) + b"js_/" + raw[match.end() :]
    path = scope["path"]
    path_match = _WORKER.match(path.encode("utf-8"))
    if path_match is not None:
        path = (path_match.group(1) + b"js_/").decode("utf-8") + path[path_match.end() :]
    scope = {**scope, "raw_path": new_raw, "path": path}
    if match.group(2) == b"sw_":
        slug = match.group(1).split(b"/")[1].decode("latin-1")
        send = _with_headers(send, {"Service-Worker-Allowed": f"/{slug}/"})
    return scope, send


_WORKER = re.compile(rb"^(/[^/?]+/[0-9]{1,14})(sw_|wkr_|wkrm_|wkrf_)/")


def _accepts_secure(origin: str) -> bool:
    """True where browsers keep `Secure` cookies: https, or a loopback host."""
    parts = urlsplit(origin)
    return parts.scheme == "https" or parts.hostname in ("127.0.0.1", "localhost", "::1")


_SAMESITE_OR_SECURE = re.compile(rb";\s*(samesite|secure)(=[^;]*)?", re.IGNORECASE)


def _partitioned_cookies(send: Send) -> Send:
    """`send` making archived cookies third-party-proof (`SameSite=None; Partitioned`).

    The replay frame is cross-site to the UI page by default, where a cookie needs
    `SameSite=None; Secure` to be kept at all, and `Partitioned` where third-party
    cookies are blocked (see `frame_insert.FRAME_SHIM` for cookies set by script).
    """

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = []
            for name, value in message.get("headers", []):
                if bytes(name).lower() == b"set-cookie" and b"partitioned" not in value.lower():
                    value = _SAMESITE_OR_SECURE.sub(b"", bytes(value))
                    value += b"; Secure; SameSite=None; Partitioned"
                headers.append((name, value))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


def _full_path(scope: Scope) -> str:
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    path = bytes(raw).split(b"?", 1)[0].decode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def _with_headers(send: Send, extra: dict[str, str]) -> Send:
    """`send` adding `extra` to the response headers (a CSP is added even beside another)."""
    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {bytes(name).lower() for name, _ in headers}
            for name, value in encoded:
                if name == b"content-security-policy" or name not in present:
                    headers.append((name, value))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped
