"""The fidelity suite's "live" web site: one tricky page per replay problem.

Two servers on 127.0.0.1: the main site and a second host (another port, so another
origin) for cross-host frames. Every resource is listed in `RESOURCES` so the suite
can capture what only script requests by fetching it directly.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brotli

from tests.fidelity.images import png

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")


@dataclass(frozen=True)
class FidelityPage:
    """A page of the suite: its path, and text its script must put on the page."""

    name: str
    path: str
    script_text: tuple[str, ...] = ()


@dataclass
class Resource:
    body: bytes
    content_type: str
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    encoding: str = ""  # "gzip" or "br": sent compressed
    chunked: bool = False
    ranges: bool = False


def _page(title: str, body: str, head: str = "", charset: str = "utf-8") -> str:
    return (
        f'<!doctype html><html><head><meta charset="{charset}"><title>{title}</title>'
        '<link rel="stylesheet" href="/css/base.css">'
        f"{head}</head><body><h1>{title}</h1>{body}</body></html>"
    )


PAGES: list[FidelityPage] = [
    FidelityPage("relative URLs", "/relative/index.html"),
    FidelityPage("protocol-relative URLs", "/protocol-relative.html"),
    FidelityPage("base href", "/base-href.html"),
    FidelityPage("srcset", "/srcset.html"),
    FidelityPage("picture and source srcset", "/picture.html"),
    FidelityPage("inline CSS url()", "/inline-css.html"),
    FidelityPage("style attribute url()", "/style-attr.html"),
    FidelityPage("external CSS with @import", "/external-css.html"),
    FidelityPage("CSS image-set()", "/image-set.html"),
    FidelityPage("web font", "/web-font.html", ("Set in a web font",)),
    FidelityPage("image added by script", "/script-image.html", ("image added",)),
    FidelityPage("fetch JSON", "/fetch.html", ("fetched: forty-two",)),
    FidelityPage("XHR JSON", "/xhr.html", ("xhr: seven",)),
    FidelityPage("fetch with an absolute URL", "/fetch-absolute.html", ("absolute: yes",)),
    FidelityPage("XHR with an absolute URL", "/xhr-absolute.html", ("xhr absolute: seven",)),
    FidelityPage("absolute image URL set by script", "/script-image-absolute.html", ("set",)),
    FidelityPage("document.write", "/document-write.html", ("written by script",)),
    FidelityPage("iframe, same host", "/iframe-same.html"),
    FidelityPage("iframe, cross host", "/iframe-cross.html"),
    FidelityPage("301 redirect", "/redirect-301"),
    FidelityPage("302 redirect", "/redirect-302"),
    FidelityPage("meta refresh", "/meta-refresh.html"),
    FidelityPage("JS location assignment", "/js-location.html"),
    FidelityPage("root-relative JS navigation", "/js-location-root.html"),
    FidelityPage("history.pushState", "/push-state.html", ("state pushed",)),
    FidelityPage("service worker", "/service-worker.html", ("service worker registered",)),
    FidelityPage("ES module, static import", "/module-static.html", ("static module: ok",)),
    FidelityPage("ES module, dynamic import", "/module-dynamic.html", ("dynamic module: ok",)),
    FidelityPage("windows-1252 page", "/cp1252.html"),
    FidelityPage("gzip-encoded page", "/gzip.html"),
    FidelityPage("brotli-encoded page", "/brotli.html"),
    FidelityPage("chunked transfer", "/chunked.html"),
    FidelityPage("video with Range requests", "/video.html", ("video ready",)),
    FidelityPage("POST form", "/form.html"),
    FidelityPage("lazy-loaded images", "/lazy.html", ("lazy image loaded",)),
    FidelityPage("cookie set and read back", "/cookie.html", ("cookie: flavour=oat",)),
    FidelityPage("SVG image and use", "/svg.html"),
    FidelityPage("preload with imagesrcset", "/preload.html"),
]

_SCRIPT_TEXT = "<p id=out>waiting</p>"


def build_resources(self_origin: str, cross_origin: str, video: bytes) -> dict[str, Resource]:
    """Every resource of the main site, by path (the cross host has its own)."""
    host = self_origin.split("://", 1)[1]
    html = "text/html; charset=utf-8"
    r: dict[str, Resource] = {}

    def page(path: str, title: str, body: str, head: str = "") -> None:
        r[path] = Resource(_page(title, body, head).encode(), html)

    def image(path: str, w: int, h: int, rgb: tuple[int, int, int]) -> None:
        r[path] = Resource(png(w, h, rgb), "image/png")

    r["/css/base.css"] = Resource(
        b"body{font:16px/1.4 sans-serif;margin:16px;background:#fdfdf8}"
        b"h1{font-size:20px;margin:0 0 8px}.box{width:120px;height:60px;display:inline-block;"
        b"margin:4px;border:1px solid #333}",
        "text/css",
    )
    image("/img/red.png", 120, 60, (200, 40, 40))
    image("/img/green.png", 120, 60, (40, 160, 60))
    image("/img/blue.png", 120, 60, (40, 60, 200))
    image("/img/blue2x.png", 240, 120, (40, 60, 220))
    image("/img/orange.png", 120, 60, (240, 150, 30))
    image("/img/purple.png", 120, 60, (130, 50, 160))
    image("/img/teal.png", 120, 60, (20, 140, 140))
    image("/img/bg.png", 40, 40, (230, 210, 120))
    image("/img/poster.png", 160, 90, (90, 90, 90))
    image("/sub/img/base.png", 120, 60, (10, 120, 200))
    image("/relative/img/rel.png", 120, 60, (180, 100, 20))

    page(
        "/relative/index.html",
        "Relative URLs",
        '<img src="img/rel.png"> <img src="../img/green.png"> <img src="./../img/red.png">'
        '<p><a href="../srcset.html">next</a></p>',
    )
    page(
        "/protocol-relative.html",
        "Protocol-relative URLs",
        f'<img src="//{host}/img/blue.png"><link rel="stylesheet" href="//{host}/css/extra.css">'
        '<div class="extra box"></div>',
    )
    r["/css/extra.css"] = Resource(b".extra{background:url(/img/orange.png)}", "text/css")
    page("/base-href.html", "Base href", '<img src="img/base.png">', '<base href="/sub/">')
    page(
        "/srcset.html",
        "srcset",
        '<img src="/img/red.png" srcset="/img/blue.png 1x, /img/blue2x.png 2x" width="120">',
    )
    page(
        "/picture.html",
        "Picture",
        '<picture><source srcset="/img/teal.png" media="(min-width: 10px)">'
        '<img src="/img/red.png"></picture>',
    )
    page(
        "/inline-css.html",
        "Inline CSS",
        '<div class="box inl"></div>',
        "<style>.inl{background:url('/img/purple.png')}</style>",
    )
    page(
        "/style-attr.html",
        "Style attribute",
        '<div class="box" style="background-image: url(&quot;/img/green.png&quot;)"></div>',
    )
    page(
        "/external-css.html",
        "External CSS",
        '<div class="box ext"></div><div class="box imp"></div>',
        '<link rel="stylesheet" href="/css/ext.css">',
    )
    r["/css/ext.css"] = Resource(
        b'@import "imported.css";\n.ext{background:url(../img/bg.png) repeat}', "text/css"
    )
    r["/css/imported.css"] = Resource(b".imp{background:url('/img/teal.png')}", "text/css")
    page(
        "/image-set.html",
        "image-set",
        '<div class="box iset"></div>',
        '<style>.iset{background-image:image-set("/img/orange.png" 1x, "/img/blue2x.png" 2x)}'
        "</style>",
    )
    page(
        "/web-font.html",
        "Web font",
        '<p class="wf" style="font-family:FidelityFont;font-size:28px">Set in a web font</p>',
        "<style>@font-face{font-family:FidelityFont;src:url(/fonts/mono.ttf) "
        'format("truetype")}</style>',
    )
    r["/fonts/mono.ttf"] = Resource(FONT.read_bytes(), "font/ttf")
    page(
        "/script-image.html",
        "Script image",
        _SCRIPT_TEXT + "<script>var i=new Image();i.src='/img/purple.png';"
        "i.onload=function(){document.getElementById('out').textContent='image added'};"
        "document.body.appendChild(i);</script>",
    )
    page(
        "/fetch.html",
        "Fetch",
        _SCRIPT_TEXT + "<script>fetch('/data/info.json').then(r=>r.json()).then(d=>{"
        "document.getElementById('out').textContent='fetched: '+d.answer})</script>",
    )
    r["/data/info.json"] = Resource(b'{"answer": "forty-two"}', "application/json")
    page(
        "/xhr.html",
        "XHR",
        _SCRIPT_TEXT + "<script>var x=new XMLHttpRequest();x.open('GET','data/xhr.json');"
        "x.onload=function(){document.getElementById('out').textContent="
        "'xhr: '+JSON.parse(x.responseText).n};x.send();</script>",
    )
    r["/data/xhr.json"] = Resource(b'{"n": "seven"}', "application/json")
    page(
        "/fetch-absolute.html",
        "Fetch absolute",
        _SCRIPT_TEXT + f"<script>fetch('{self_origin}/data/abs.json').then(r=>r.json())"
        ".then(d=>{document.getElementById('out').textContent='absolute: '+d.v})</script>",
    )
    r["/data/abs.json"] = Resource(b'{"v": "yes"}', "application/json")
    page(
        "/xhr-absolute.html",
        "XHR absolute",
        _SCRIPT_TEXT + f"<script>var x=new XMLHttpRequest();x.open('GET','{self_origin}"
        "/data/xhr.json');x.onload=function(){document.getElementById('out').textContent="
        "'xhr absolute: '+JSON.parse(x.responseText).n};x.send();</script>",
    )
    page(
        "/script-image-absolute.html",
        "Absolute image by script",
        _SCRIPT_TEXT + f"<img id=i><script>var i=document.getElementById('i');"
        "i.onload=function(){document.getElementById('out').textContent='set'};"
        f"i.setAttribute('src','{self_origin}/img/orange.png')</script>",
    )
    page(
        "/document-write.html",
        "document.write",
        "<script>document.write('<p>written by script</p><img src=\"/img/green.png\">')</script>",
    )
    page("/iframe-same.html", "Same-host iframe", '<iframe src="/frames/inner.html"></iframe>')
    page("/frames/inner.html", "Inner", '<img src="/img/teal.png">')
    page(
        "/iframe-cross.html",
        "Cross-host iframe",
        f'<iframe src="{cross_origin}/cross.html" width="300" height="150"></iframe>',
    )
    r["/redirect-301"] = Resource(b"", html, 301, [("Location", "/redirected-301.html")])
    r["/redirect-302"] = Resource(b"", html, 302, [("Location", f"{self_origin}/r302.html")])
    page("/redirected-301.html", "After a 301", '<img src="/img/red.png">')
    page("/r302.html", "After a 302", '<img src="/img/blue.png">')
    page(
        "/meta-refresh.html",
        "Meta refresh",
        "<p>refreshing</p>",
        '<meta http-equiv="refresh" content="0; url=refreshed.html">',
    )
    page("/refreshed.html", "Refreshed", '<img src="/img/orange.png">')
    page("/js-location.html", "JS location", "<script>location.href='moved.html'</script>")
    page("/moved.html", "Moved by script", '<img src="/img/purple.png">')
    page(
        "/js-location-root.html",
        "JS location root",
        "<script>window.location.assign('/moved-root.html')</script>",
    )
    page("/moved-root.html", "Moved to the root", '<img src="/img/teal.png">')
    page(
        "/push-state.html",
        "pushState",
        _SCRIPT_TEXT + "<script>history.pushState({a:1},'','pushed-state.html');"
        "document.getElementById('out').textContent='state pushed'</script>",
    )
    page(
        "/service-worker.html",
        "Service worker",
        _SCRIPT_TEXT + "<script>navigator.serviceWorker.register('sw.js').then(function(){"
        "document.getElementById('out').textContent='service worker registered'},"
        "function(e){document.getElementById('out').textContent='failed: '+e})</script>",
    )
    r["/sw.js"] = Resource(
        b"self.addEventListener('install',function(){self.skipWaiting()});",
        "application/javascript",
    )
    page(
        "/module-static.html",
        "Static module",
        _SCRIPT_TEXT + '<script type="module" src="/js/main.mjs"></script>',
    )
    r["/js/main.mjs"] = Resource(
        b"import {word} from './dep.mjs';"
        b"document.getElementById('out').textContent='static module: '+word;",
        "text/javascript",
    )
    r["/js/dep.mjs"] = Resource(b"export const word = 'ok';", "text/javascript")
    page(
        "/module-dynamic.html",
        "Dynamic module",
        _SCRIPT_TEXT + "<script type=module>import('/js/dyn.mjs').then(m=>{"
        "document.getElementById('out').textContent='dynamic module: '+m.word})</script>",
    )
    r["/js/dyn.mjs"] = Resource(b"export const word = 'ok';", "text/javascript")
    r["/cp1252.html"] = Resource(
        _page(
            "Windows-1252",
            "<p>Caf\u00e9 cr\u00e8me \u2013 \u201cquoted\u201d \u20ac5</p>",
            charset="windows-1252",
        ).encode("cp1252"),
        "text/html; charset=windows-1252",
    )
    r["/gzip.html"] = Resource(
        _page("Gzip", '<img src="/img/green.png"><p>compressed with gzip</p>').encode(),
        html,
        encoding="gzip",
    )
    r["/brotli.html"] = Resource(
        _page("Brotli", '<img src="/img/blue.png"><p>compressed with brotli</p>').encode(),
        html,
        encoding="br",
    )
    r["/chunked.html"] = Resource(
        _page("Chunked", "<p>" + "sent in chunks " * 40 + "</p>").encode(), html, chunked=True
    )
    page(
        "/video.html",
        "Video",
        _SCRIPT_TEXT + '<video id=v src="/media/clip.webm" poster="/img/poster.png" '
        'preload="auto" width="160" height="90" muted></video>'
        "<script>var v=document.getElementById('v');function ok(){"
        "document.getElementById('out').textContent='video ready'}"
        "if(v.readyState>=1)ok();else v.addEventListener('loadedmetadata',ok)</script>",
    )
    r["/media/clip.webm"] = Resource(video, "video/webm", ranges=True)
    page(
        "/form.html",
        "POST form",
        '<form method="post" action="/submit"><input name="q" value="hello">'
        '<button type="submit">Send</button></form>',
    )
    page("/submit", "Submitted", "<p>thank you</p>")
    page(
        "/lazy.html",
        "Lazy images",
        _SCRIPT_TEXT + '<img loading="lazy" src="/img/red.png" width="120" height="60">'
        '<img class="lazy" data-src="/img/teal.png" width="120" height="60">'
        "<script>var l=document.querySelector('img.lazy');new IntersectionObserver("
        "function(es,o){es.forEach(function(e){if(e.isIntersecting){l.onload=function(){"
        "document.getElementById('out').textContent='lazy image loaded'};"
        "l.src=l.dataset.src;o.disconnect()}})}).observe(l)</script>",
    )
    r["/cookie.html"] = Resource(
        _page(
            "Cookie",
            _SCRIPT_TEXT + "<script>var c=document.cookie.split('; ').filter(function(x){"
            "return x.indexOf('flavour=')===0});"
            "document.getElementById('out').textContent='cookie: '+c.join(',')</script>",
        ).encode(),
        html,
        headers=[("Set-Cookie", "flavour=oat; Path=/")],
    )
    page(
        "/svg.html",
        "SVG",
        '<svg width="260" height="70" xmlns="http://www.w3.org/2000/svg" '
        'xmlns:xlink="http://www.w3.org/1999/xlink"><image href="/img/orange.png" '
        'x="0" y="0" width="120" height="60"/><image xlink:href="/img/teal.png" x="130" '
        'y="0" width="120" height="60"/></svg>',
    )
    page(
        "/preload.html",
        "Preload",
        '<img src="/img/blue.png" srcset="/img/blue.png 1x, /img/blue2x.png 2x" width="120">',
        '<link rel="preload" as="image" href="/img/blue.png" '
        'imagesrcset="/img/blue.png 1x, /img/blue2x.png 2x">',
    )
    return r


def cross_resources() -> dict[str, Resource]:
    """The second host: a page framed by the main site's cross-host iframe page."""
    return {
        "/cross.html": Resource(
            b'<!doctype html><html><body style="margin:0;background:#eef">'
            b'<p>from the other host</p><img src="/img/dot.png"></body></html>',
            "text/html; charset=utf-8",
        ),
        "/img/dot.png": Resource(png(60, 30, (200, 0, 120)), "image/png"),
    }


def _handler(resources: Callable[[], dict[str, Resource]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.do_GET()

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            res = resources().get(path)
            if res is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = res.body
            status = res.status
            headers = [("Content-Type", res.content_type), *res.headers]
            if res.encoding == "gzip":
                body = gzip.compress(body, mtime=0)
                headers.append(("Content-Encoding", "gzip"))
            elif res.encoding == "br":
                body = brotli.compress(body)
                headers.append(("Content-Encoding", "br"))
            if res.ranges:
                headers.append(("Accept-Ranges", "bytes"))
                wanted = self.headers.get("Range", "")
                if wanted.startswith("bytes="):
                    first, _, last = wanted[6:].partition("-")
                    start = int(first or 0)
                    end = min(int(last) if last else len(body) - 1, len(body) - 1)
                    headers.append(("Content-Range", f"bytes {start}-{end}/{len(body)}"))
                    body = body[start : end + 1]
                    status = 206
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            if res.chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i in range(0, len(body), 200):
                    piece = body[i : i + 200]
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    return Handler


class LiveSite:
    """The main site and the second host, served from threads."""

    def __init__(self, video: bytes) -> None:
        self._video = video
        self._resources: dict[str, Resource] = {}
        self._cross = cross_resources()
        self.main = ThreadingHTTPServer(("127.0.0.1", 0), _handler(lambda: self._resources))
        self.other = ThreadingHTTPServer(("127.0.0.1", 0), _handler(lambda: self._cross))
        self.main.daemon_threads = self.other.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.main.server_address[1]}"
        self.cross_origin = f"http://127.0.0.1:{self.other.server_address[1]}"
        self._resources = build_resources(self.origin, self.cross_origin, video)
        self._threads = [
            threading.Thread(target=s.serve_forever, daemon=True) for s in (self.main, self.other)
        ]

    def urls(self) -> list[str]:
        """Every URL of both hosts."""
        return [self.origin + p for p in self._resources] + [
            self.cross_origin + p for p in self._cross
        ]

    def __enter__(self) -> LiveSite:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for s in (self.main, self.other):
            s.shutdown()
            s.server_close()
