"""The bundled demo site and the HTTP server that serves it."""

from __future__ import annotations

import gzip
import http.client
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from protego import Protego
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from vellum.demo.site_server import SITE_ROOT, DemoSite, accepts_gzip

SEED_NAME = "seed/000_8997d71b800f7a11.txt"
SEED_CANDIDATES = [
    Path("/work/shared") / SEED_NAME,
    Path(__file__).resolve().parents[2] / "shared" / SEED_NAME,  # CI: shared/ beside the clone
]

Response = tuple[int, http.client.HTTPMessage, bytes]


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    with DemoSite() as running:
        yield running


def fetch(
    site: DemoSite, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> Response:
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, resp.headers, body
    finally:
        conn.close()


def normalize(text: str) -> str:
    return " ".join(text.split())  # str.split() also splits on no-break spaces


def visible_text(html: bytes) -> str:
    body = HTMLParser(html.decode("utf-8")).body
    assert body is not None
    return normalize(body.text(separator=" "))


def site_pages() -> list[Path]:
    return sorted(SITE_ROOT.rglob("*.html"))


# -- content -------------------------------------------------------------------------------


def test_aimf_page_contains_the_seed_text_in_order(site: DemoSite) -> None:
    seed = next((p for p in SEED_CANDIDATES if p.is_file()), None)
    if seed is None:
        pytest.skip(f"seed text not found at any of {[str(p) for p in SEED_CANDIDATES]}")
    lines = seed.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("UNESCO.ORG"))
    end = next(i for i, line in enumerate(lines) if line.strip() == "Archives")
    assert lines.index("AIMF - Association internationale des maires francophones") > start
    expected = [normalize(line) for line in lines[start : end + 1] if normalize(line)]
    # The seed joins the two toolbar links on one line; on the page they are two links.
    expected = [part for line in expected for part in _split_toolbar(line)]

    status, _, body = fetch(site, "/partners/aimf.html")
    assert status == 200
    text = visible_text(body)
    position = 0
    for line in expected:
        found = text.find(line, position)
        assert found >= 0, f"missing (or out of order) on the AIMF page: {line!r}"
        position = found + len(line)


def _split_toolbar(line: str) -> list[str]:
    if line == "Email this page Printable version":
        return ["Email this page", "Printable version"]
    return [line]


def test_aimf_page_links_and_encoding(site: DemoSite) -> None:
    _, headers, body = fetch(site, "/partners/aimf.html")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "métropoles où le français".encode() in body
    tree = HTMLParser(body.decode("utf-8"))
    assert tree.css_first('meta[charset="utf-8"]') is not None
    hrefs = [a.attributes.get("href") for a in tree.css("a")]
    assert "mailto:sp@aimf.asso.fr" in hrefs
    assert "http://www.aimf.asso.fr" in hrefs
    assert hrefs.count("print/aimf.html") == 2
    email_links = [a for a in tree.css("a") if a.text(strip=True) == "Email this page"]
    assert len(email_links) == 2
    assert all((a.attributes.get("href") or "").startswith("mailto:?") for a in email_links)
    resources = tree.css_first(".resources")
    assert resources is not None
    assert [a.text(strip=True) for a in resources.css("a")] == [
        "Who's who?",
        "Partners",
        "Publications",
        "UNESCO Chairs",
        "Archives",
    ]


def test_partner_list_links_at_least_seven_partners(site: DemoSite) -> None:
    status, _, body = fetch(site, "/partners/")
    assert status == 200
    tree = HTMLParser(body.decode("utf-8"))
    slugs = {
        href
        for a in tree.css("a")
        if (href := a.attributes.get("href") or "")
        and re.fullmatch(r"[a-z0-9-]+\.html", href)
        and href != "index.html"
    }
    assert len(slugs) >= 7
    assert "aimf.html" in slugs
    for slug in sorted(slugs):
        status, _, page = fetch(site, f"/partners/{slug}")
        assert status == 200, slug
        text = visible_text(page)
        for label in ("Institution Type", "Street", "City", "Country", "E-Mail", "Website (URL)"):
            assert label in text, (slug, label)
        if slug != "aimf.html":
            assert "fictional" in text or "fictif" in text, slug
        status, _, _ = fetch(site, f"/partners/print/{slug}")
        assert status == 200, f"print/{slug}"


def test_every_page_is_utf8_styled_and_branded() -> None:
    for page in site_pages():
        rel = page.relative_to(SITE_ROOT)
        tree = HTMLParser(page.read_text(encoding="utf-8"))
        assert tree.css_first('meta[charset="utf-8"]') is not None, rel
        icons = [n.attributes.get("href") or "" for n in tree.css('link[rel="icon"]')]
        assert icons and icons[0].endswith("img/logo.png"), rel
        logos = [n for n in tree.css("img") if (n.attributes.get("src") or "").endswith("logo.png")]
        assert logos and logos[0].attributes.get("alt") == "UNESCO", rel
        sheets = [n.attributes.get("href") or "" for n in tree.css('link[rel="stylesheet"]')]
        wanted = "print.css" if rel.parts[:2] == ("partners", "print") else "portal.css"
        assert any(s.endswith(f"css/{wanted}") for s in sheets), rel


def test_every_relative_link_resolves_to_a_file() -> None:
    broken: list[str] = []
    for page in site_pages():
        tree = HTMLParser(page.read_text(encoding="utf-8"))
        for node in tree.css("[href], [src]"):
            for attr in ("href", "src"):
                ref = node.attributes.get(attr)
                if ref is not None and not _resolves(page, ref):
                    broken.append(f"{page.relative_to(SITE_ROOT)}: {attr}={ref!r}")
    for sheet in sorted(SITE_ROOT.rglob("*.css")):
        css = sheet.read_text(encoding="utf-8")
        refs = re.findall(r"""url\(\s*["']?([^"')]+)["']?\s*\)""", css)
        refs += re.findall(r"""@import\s+["']([^"']+)["']""", css)
        assert refs or sheet.name == "fonts.css", sheet
        broken += [f"{sheet.name}: {ref!r}" for ref in refs if not _resolves(sheet, ref)]
    assert not broken


def _resolves(source: Path, ref: str) -> bool:
    parts = urlsplit(ref)
    if parts.scheme in ("mailto", "http", "https") or ref.startswith("#"):
        return True  # e-mail links and external sites are not ours to check
    if parts.scheme or parts.netloc or ref.startswith("/"):
        return False  # the site is served at an unknown host: links must be relative
    target = (source.parent / parts.path).resolve()
    if not target.is_relative_to(SITE_ROOT.resolve()):
        return False
    return (target / "index.html").is_file() if ref.endswith("/") else target.is_file()


def test_portal_css_imports_fonts_and_references_images() -> None:
    css = (SITE_ROOT / "css" / "portal.css").read_text(encoding="utf-8")
    assert re.search(r"""@import\s+url\(["']fonts\.css["']\)""", css)
    assert 'url("../img/header-bg.png")' in css
    for name in ("logo.png", "header-bg.png"):
        assert (SITE_ROOT / "img" / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_robots_txt_disallows_private(site: DemoSite) -> None:
    status, headers, body = fetch(site, "/robots.txt")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    robots = Protego.parse(body.decode("utf-8"))
    assert not robots.can_fetch(site.url + "private/secret.html", "vellum")
    assert robots.can_fetch(site.url + "partners/aimf.html", "vellum")
    _, _, home = fetch(site, "/")
    assert b'href="private/secret.html"' in home
    assert (SITE_ROOT / "private" / "secret.html").is_file()


# -- the server ------------------------------------------------------------------------------


def test_html_is_sent_chunked(site: DemoSite) -> None:
    status, headers, body = fetch(site, "/partners/aimf.html")
    assert status == 200
    assert headers["Transfer-Encoding"] == "chunked"
    assert headers["Content-Length"] is None
    assert body == (SITE_ROOT / "partners" / "aimf.html").read_bytes()


def test_chunked_framing_on_the_wire_and_keep_alive(site: DemoSite) -> None:
    expected = (SITE_ROOT / "partners" / "aimf.html").read_bytes()
    assert len(expected) > 2048  # several chunks
    with socket.create_connection(("127.0.0.1", site.port), timeout=10) as sock:
        stream = sock.makefile("rb")
        try:
            for _ in range(2):  # the same connection serves two requests
                sock.sendall(b"GET /partners/aimf.html HTTP/1.1\r\nHost: demo\r\n\r\n")
                assert stream.readline() == b"HTTP/1.1 200 OK\r\n"
                while stream.readline() not in (b"\r\n", b""):
                    pass
                sizes: list[int] = []
                body = b""
                while True:
                    size = int(stream.readline().strip(), 16)
                    sizes.append(size)
                    if size == 0:
                        assert stream.readline() == b"\r\n"
                        break
                    body += stream.read(size)
                    assert stream.read(2) == b"\r\n"
                assert body == expected
                assert len(sizes) > 2 and sizes[0] == 1024 and sizes[-1] == 0
        finally:
            stream.close()


def test_css_is_gzipped_only_when_accepted(site: DemoSite) -> None:
    original = (SITE_ROOT / "css" / "portal.css").read_bytes()
    status, headers, body = fetch(site, "/css/portal.css", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Content-Type"] == "text/css; charset=utf-8"
    assert int(headers["Content-Length"]) == len(body)
    assert gzip.decompress(body) == original

    for accept in ("identity", "br", "gzip;q=0"):
        status, headers, body = fetch(site, "/css/portal.css", headers={"Accept-Encoding": accept})
        assert status == 200
        assert headers["Content-Encoding"] is None, accept
        assert body == original


def test_accepts_gzip_parsing() -> None:
    assert accepts_gzip("gzip, deflate, br")
    assert accepts_gzip("br;q=1.0, gzip;q=0.8")
    assert accepts_gzip("*")
    assert not accepts_gzip(None)
    assert not accepts_gzip("identity")
    assert not accepts_gzip("gzip;q=0")


def test_other_files_have_content_length_and_common_headers(site: DemoSite) -> None:
    status, headers, body = fetch(site, "/img/logo.png")
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert int(headers["Content-Length"]) == len(body)
    assert body == (SITE_ROOT / "img" / "logo.png").read_bytes()
    for path in ("/img/logo.png", "/", "/css/portal.css", "/nothing-here"):
        _, headers, _ = fetch(site, path)
        assert headers["X-Demo-Server"] == "vellum-demo", path
        assert headers["Date"], path
    assert headers["Last-Modified"] is None  # a 404 has no file
    _, headers, _ = fetch(site, "/img/logo.png")
    assert headers["Last-Modified"].endswith(" GMT")


def test_every_site_file_is_served_unchanged(site: DemoSite) -> None:
    for path in sorted(p for p in SITE_ROOT.rglob("*") if p.is_file()):
        url = "/" + path.relative_to(SITE_ROOT).as_posix()
        status, _, body = fetch(site, url)
        assert status == 200, url
        assert body == path.read_bytes(), url


def test_head_sends_headers_without_body(site: DemoSite) -> None:
    status, headers, body = fetch(site, "/partners/aimf.html", method="HEAD")
    assert status == 200
    assert body == b""
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    status, headers, body = fetch(site, "/img/logo.png", method="HEAD")
    assert status == 200
    assert body == b""
    assert int(headers["Content-Length"]) == (SITE_ROOT / "img" / "logo.png").stat().st_size


def test_directories_serve_their_index(site: DemoSite) -> None:
    status, _, body = fetch(site, "/")
    assert status == 200
    assert body == (SITE_ROOT / "index.html").read_bytes()
    status, _, body = fetch(site, "/partners/?sort=name")
    assert status == 200
    assert body == (SITE_ROOT / "partners" / "index.html").read_bytes()
    status, headers, _ = fetch(site, "/partners")
    assert status == 301
    assert headers["Location"] == "/partners/"


def test_missing_file_is_404_with_html(site: DemoSite) -> None:
    status, headers, body = fetch(site, "/partners/unknown.html")
    assert status == 404
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"Not Found" in body
    assert int(headers["Content-Length"]) == len(body)


@pytest.mark.parametrize(
    "path",
    [
        "/../site_server.py",
        "/partners/../../site_server.py",
        "/%2e%2e/site_server.py",
        "/css/..%2f..%2fsite_server.py",
        "/..\\site_server.py",
    ],
)
def test_path_traversal_is_refused(site: DemoSite, path: str) -> None:
    status, _, body = fetch(site, path)
    assert status == 403
    assert b"DemoSite" not in body


def test_unsupported_method(site: DemoSite) -> None:
    status, headers, _ = fetch(site, "/", method="POST")
    assert status == 501
    assert headers["X-Demo-Server"] == "vellum-demo"


def test_delay_and_lifecycle() -> None:
    demo = DemoSite(delay=0.3)
    with pytest.raises(RuntimeError):
        _ = demo.url
    with demo:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", demo.url)
        started = time.monotonic()
        status, _, _ = fetch(demo, "/robots.txt")
        assert status == 200
        assert time.monotonic() - started >= 0.3
        demo.delay = 0.0
        started = time.monotonic()
        fetch(demo, "/robots.txt")
        assert time.monotonic() - started < 0.3
        port = demo.port
    assert not demo.running
    demo.stop()  # a second stop is harmless
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_stop_does_not_wait_for_kept_alive_or_delayed_requests() -> None:
    demo = DemoSite(delay=30)
    demo.start()
    with socket.create_connection(("127.0.0.1", demo.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: demo\r\n\r\n")
        time.sleep(0.1)
        started = time.monotonic()
        demo.stop()
        assert time.monotonic() - started < 5
        assert sock.recv(100) == b""  # hung up without answering
