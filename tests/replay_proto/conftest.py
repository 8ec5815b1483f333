"""A collection written with warcio record by record, each record one replay trick."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import brotli
import pytest
from starlette.testclient import TestClient
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from vellum.catalog import Catalog
from vellum.index.importer import Importer
from vellum.replay.app import create_app
from vellum.settings import Settings

SLUG = "proto"
SITE = "http://site.test"
T1, T2, T3 = "20200101000000", "20210101000000", "20220101000000"
VIDEO = bytes(range(256)) * 4  # 1024 bytes
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
PAGE = (
    b'<html><head><title>Page</title></head><body><a href="/other.html">other</a>'
    b"<p>page body</p></body></html>"
)
REV_BODY = b"<html><body><p>revisited payload</p></body></html>"


def _date(ts: str) -> str:
    return f"{ts[0:4]}-{ts[4:6]}-{ts[6:8]}T{ts[8:10]}:{ts[10:12]}:{ts[12:14]}Z"


class Warc:
    """Writes records into one .warc.gz with warcio."""

    def __init__(self, out: io.BufferedWriter) -> None:
        self.writer = WARCWriter(out, gzip=True)

    def response(
        self,
        url: str,
        ts: str,
        body: bytes,
        headers: list[tuple[str, str]],
        status: str = "200 OK",
    ) -> str:
        """Write a response; returns its payload digest."""
        http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
        record = self.writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": _date(ts)},
        )
        self.writer.write_record(record)
        record.raw_stream.close()  # warcio buffers in a temporary file it leaves open
        return str(record.rec_headers.get_header("WARC-Payload-Digest"))

    def revisit(
        self,
        url: str,
        ts: str,
        digest: str,
        refers_url: str | None,
        refers_ts: str | None,
        headers: list[tuple[str, str]] | None,
        status: str = "200 OK",
    ) -> None:
        http = StatusAndHeaders(status, headers, protocol="HTTP/1.1") if headers else None
        record = self.writer.create_revisit_record(
            url,
            digest,
            refers_url,
            _date(refers_ts) if refers_ts else None,
            http_headers=http,
            warc_headers_dict={"WARC-Date": _date(ts)},
        )
        if refers_url is None:
            record.rec_headers.remove_header("WARC-Refers-To-Target-URI")
            record.rec_headers.remove_header("WARC-Refers-To-Date")
        self.writer.write_record(record)
        record.raw_stream.close()


def write_site(path: Path) -> None:
    """Every trick the tests replay, in one WARC file."""
    html = [("Content-Type", "text/html; charset=utf-8")]
    with open(path, "wb") as f:
        w = Warc(f)
        page_headers = [
            *html,
            ("Set-Cookie", "a=1; Path=/; Domain=site.test; HttpOnly"),
            ("Set-Cookie", "b=2; Path=/x; Secure; SameSite=None"),
            ("Content-Security-Policy", "default-src 'self'"),
            ("Strict-Transport-Security", "max-age=31536000"),
            ("Connection", "keep-alive"),
            (
                "Link",
                '</style.css>; rel="preload"; as="style", '
                "<http://cdn.test/x.js>; rel=preload; as=script",
            ),
            ("Refresh", "5; url=/next.html"),
            ("Content-Location", "/page.html"),
            ("X-Custom", "kept renamed"),
        ]
        for ts in (T1, T2, T3):
            w.response(
                f"{SITE}/page.html", ts, PAGE.replace(b"page body", ts.encode()), page_headers
            )
        w.response(
            f"{SITE}/gz.html",
            T1,
            gzip.compress(PAGE),
            [*html, ("Content-Encoding", "gzip")],
        )
        w.response(
            f"{SITE}/br.html", T1, brotli.compress(PAGE), [*html, ("Content-Encoding", "br")]
        )
        w.response(
            f"{SITE}/old",
            T1,
            b"moved",
            [("Location", "/page.html")],
            status="301 Moved Permanently",
        )
        w.response(
            f"{SITE}/loop", T1, b"", [("Location", "https://site.test/loop")], status="301 Moved"
        )
        w.response("https://site.test/loop", T2, b"<p>loop target</p>", html)
        w.response(
            f"{SITE}/onlyloop", T1, b"", [("Location", f"{SITE}/onlyloop/")], status="302 Found"
        )
        w.response(f"{SITE}/video.mp4", T1, VIDEO, [("Content-Type", "video/mp4")])
        w.response(f"{SITE}/img.png", T1, PNG, [("Content-Type", "image/png")])
        digest = w.response(f"{SITE}/rev.html", T1, REV_BODY, [*html, ("X-Version", "one")])
        w.revisit(f"{SITE}/rev.html", T2, digest, None, None, [*html, ("X-Version", "two")])
        w.revisit(f"{SITE}/rev.html", T3, digest, None, None, None)
        w.revisit(f"{SITE}/copy.html", T2, digest, f"{SITE}/rev.html", T1, None)
        w.revisit(
            f"{SITE}/orphan.html", T2, "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", None, None, None
        )
        w.response(
            f"{SITE}/a+b//c?q=1+2", T1, b"plus and slashes", [("Content-Type", "text/plain")]
        )
        w.response(
            f"{SITE}/data.json?_=12345",
            T1,
            b'{"fresh": true}',
            [("Content-Type", "application/json")],
        )
        w.response(
            f"{SITE}/app.js", T1, b"var x = '<a>';", [("Content-Type", "application/javascript")]
        )
        w.response(f"{SITE}/jsonp", T1, b'cb({"a": "<b>"})', html)
        w.response(
            f"{SITE}/style.css",
            T1,
            b"body{background:url(/img.png)}",
            [("Content-Type", "text/css")],
        )
        w.response(
            f"{SITE}/plain.txt",
            T1,
            b"body{background:url(/img.png)}",
            [("Content-Type", "text/plain")],
        )
        for name in ("a", "b", "c"):
            w.response(f"{SITE}/docs/{name}.html", T1, b"<p>doc</p>", html)


@dataclass
class Proto:
    client: TestClient
    settings: Settings
    catalog: Catalog


@pytest.fixture(scope="package")
def proto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proto]:
    root = tmp_path_factory.mktemp("proto")
    settings = Settings(data_dir=root / "data")
    catalog = Catalog(settings.catalog_path)
    catalog.create_organization("Prototype Org", "PROTO")
    catalog.create_collection(SLUG, "PROTO", "Protocol tests", public=True)
    warc = root / "site.warc.gz"
    write_site(warc)
    report = Importer(settings, catalog, workers=1).run(SLUG, [warc])
    assert not report.failed
    with TestClient(create_app(settings, catalog), follow_redirects=False) as client:
        yield Proto(client, settings, catalog)
    catalog.close()
