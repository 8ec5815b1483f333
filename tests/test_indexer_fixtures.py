"""The indexer against cdxj-indexer on every WARC and ARC fixture, and on files made here.

For every file in ../shared/fixtures, Vellum's CDXJ must equal cdxj-indexer's
(`--records response,revisit,resource --post-append`, sorted) line for line, except for
the deliberate differences listed below (and in the README, "Where data lives").
"""

from __future__ import annotations

import gc
import gzip
import io
import json
import mmap
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import astuple
from pathlib import Path

import pytest
from cdxj_indexer.main import write_cdx_index
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.conftest import SHARED
from vellum.demo.site_server import DemoSite
from vellum.index.indexer import IndexedCapture, index_warc
from vellum.warc.careful import MemberScan
from vellum.warc.entry import Problem
from vellum.warc.reader import read_record, scan

# cdxj-indexer (the peer) leaves its SpooledTemporaryFile sort buffers for the GC to close.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

FIXTURES = SHARED / "fixtures"
ENDINGS = (".warc", ".warc.gz", ".arc", ".arc.gz", ".bad")
ALL_FIXTURES = (
    sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*") if p.name.endswith(ENDINGS))
    if FIXTURES.is_dir()
    else []
)
EMPTY_SHA1 = "3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"

# Deliberate differences on every file:
#  1. digests without `sha1:` (pywb's form; other algorithms keep their prefix);
#  2. records that carry no WARC-Payload-Digest get the SHA-1 of their payload, as
#     cdxj-indexer computes it without --post-append: with --post-append it reads the
#     payload before digesting it and writes the SHA-1 of nothing (3I42H3S6…);
#  3. AMF request bodies (Flash remoting) are keyed as binary (`__wb_post_data=`), not
#     decoded (no fixture has one).
# Fixtures on which cdxj-indexer fails, and what Vellum indexes instead
# (urlkey, timestamp, status, mime, offset, length):
PEER_FAILS: dict[str, tuple[str, list[tuple[str, str, str, str, int, int]]]] = {
    "warcio/example-wrong-chunks.warc.gz": (
        "its writer put the response's head and its body in two gzip members; "
        "cdxj-indexer stops, Vellum reads the record across both",
        [("com,example)/", "20181102185511", "200", "text/html", 0, 1130)],
    ),
    "webarchive-commons/IAH-20080430204825-00000-blackbook-truncated.arc": (
        "no newline after the filedesc record (ARC allows none): cdxj-indexer takes the "
        "next record's line for one and stops",
        [
            ("dns:www.archive.org", "20080430204825", "", "", 1399, 116),
            ("org,archive)/", "20080430204826", "200", "text/html", 2376, 748),
            (
                "org,archive)/images/go-button-gateway.gif",
                "20080430204829",
                "200",
                "image/gif",
                34252,
                1521,
            ),
            ("org,archive)/images/logoc.jpg", "20080430204829", "200", "image/jpeg", 32203, 2049),
            ("org,archive)/images/star.png", "20080430204830", "200", "image/png", 35773, 647),
            ("org,archive)/index.php", "20080430204826", "200", "text/html", 3124, 29079),
            ("org,archive)/robots.txt", "20080430204825", "200", "text/plain", 1515, 861),
            (
                "org,archive)/services/collection-rss.php",
                "20080430204830",
                "200",
                "text/xml",
                36420,
                50928,
            ),
        ],
    ),
    "webarchive-commons/link-extraction-test.warc": (
        "one record's Content-Length counts the CRLF CRLF after its block, so cdxj-indexer "
        "skips the next record's first line and stops; Vellum takes the record that starts "
        "right there, and reports the last one (it has no WARC-Target-URI)",
        [
            (
                "com,example)/data-href.examples.html",
                "20170221210510",
                "200",
                "text/html",
                5119,
                3363,
            ),
            (
                "com,example)/fb-social-plugins.html",
                "20170222093302",
                "200",
                "text/html",
                8486,
                2072,
            ),
            ("com,example)/fb-video.html", "20170220165850", "200", "text/html", 3595, 1523),
            (
                "com,example)/html4.html",
                "20170220140056",
                "200",
                "application/xhtml+xml",
                258,
                1433,
            ),
            (
                "com,example)/link-extraction-test-html5-video.html",
                "20170220213503",
                "200",
                "text/html",
                1696,
                1106,
            ),
            ("com,example)/poor_html5.html", "20170221155040", "200", "text/html", 2807, 788),
        ],
    ),
}
WHOLE_FILE_GZIP = {
    "pywb/example-bad.warc.gz.bad",
    "warcio/example-bad.warc.gz.bad",
    "warcio/example-bad-non-chunked.warc.gz",
}
# The bad spots Vellum reports in fixtures: (offset, words of the reason).
PROBLEMS = {
    **{name: [(0, "more than one record")] for name in WHOLE_FILE_GZIP},
    "pywb/example.warc": [(4764, "garbage after a record")],
    "warcio/example-trunc.warc": [(2560, "garbage after a record")],
    "warcio/example-space-in-url.arc": [(151, "truncated record")],
    "webarchive-commons/link-extraction-test.warc": [(10562, "without a WARC-Target-URI")],
}


def _peer_run(path: Path, post_append: bool) -> list[str]:
    out = io.StringIO()
    opts = {"sort": True, "records": "response,revisit,resource", "post_append": post_append}
    try:
        write_cdx_index(out, [str(path)], opts)
    finally:
        gc.collect()  # close the peer's sort buffers while the warning filter applies
    return out.getvalue().splitlines()


def peer_lines(path: Path) -> list[str]:
    """cdxj-indexer's lines, with the deliberate differences 1 and 2 applied."""
    plain = {}
    for line in _peer_run(path, post_append=False):
        data = json.loads(line.split(" ", 2)[2])
        plain[data["offset"]] = data.get("digest", "")
    lines = []
    for line in _peer_run(path, post_append=True):
        key, ts, blob = line.split(" ", 2)
        data = json.loads(blob)
        if data.get("digest") == "sha1:" + EMPTY_SHA1:
            data["digest"] = plain.get(data["offset"], data["digest"])
        if data.get("digest", "").startswith("sha1:"):
            data["digest"] = data["digest"][5:]
        lines.append(f"{key} {ts} {json.dumps(data)}")
    return sorted(lines, key=str.encode)


def ours(path: Path, problems: list[Problem] | None = None) -> list[str]:
    return sorted((c.to_line() for c in index_warc(path, problems)), key=str.encode)


def _short(c: IndexedCapture) -> tuple[str, str, str, str, int, int]:
    return (c.urlkey, c.timestamp, c.status, c.mime, c.offset, c.length)


def _fixture(name: str) -> Path:
    if not FIXTURES.is_dir():
        pytest.skip("../shared/fixtures is not present next to the repository")
    return FIXTURES / name


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_fixture_equals_cdxj_indexer(name: str) -> None:
    path = _fixture(name)
    problems: list[Problem] = []
    lines = ours(path, problems)
    if name in PEER_FAILS:
        with pytest.raises(Exception):  # noqa: B017 - the peer fails in several ways
            _peer_run(path, post_append=True)
        captures = sorted(index_warc(path), key=lambda c: c.to_line().encode())
        assert [_short(c) for c in captures] == PEER_FAILS[name][1]
    elif name in WHOLE_FILE_GZIP:
        with pytest.raises(Exception, match="recompress"):
            _peer_run(path, post_append=True)
        assert lines == []
    else:
        assert lines == peer_lines(path)
    expected = PROBLEMS.get(name, [])
    assert [p.offset for p in problems] == [offset for offset, _ in expected]
    for problem, (_, words) in zip(problems, expected, strict=True):
        assert words in problem.reason


@pytest.mark.parametrize("name", [n for n in ALL_FIXTURES if n.endswith(".warc.gz")])
def test_fast_reader_equals_careful_reader(name: str) -> None:
    path = _fixture(name)
    fast = [astuple(item) for item in scan(path)]
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        careful = [astuple(item) for item in MemberScan(buf, 0)]
    assert fast == careful


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_every_capture_reads_back(name: str) -> None:
    path = _fixture(name)
    for capture in index_warc(path):
        record = read_record(path, capture.offset, capture.length)
        assert record.url == capture.url
        if record.status is not None and capture.mime != "warc/revisit":
            assert str(record.status) == capture.status


# files made here by real tools


def _wget_warc(site: DemoSite, tmp_path: Path, *paths: str) -> Path:
    if shutil.which("wget") is None:
        pytest.fail("wget (the Debian package) is not installed: run `make system-deps`")
    target = tmp_path / "wget"
    urls = [site.url.rstrip("/") + p for p in paths]
    subprocess.run(
        ["wget", "--quiet", f"--warc-file={target}", "--delete-after", "-P", str(tmp_path), *urls],
        check=False,
        cwd=tmp_path,
        timeout=60,
    )
    return tmp_path / "wget.warc.gz"


def test_wget_warc_equals_cdxj_indexer(demo_site: DemoSite, tmp_path: Path) -> None:
    warc = _wget_warc(demo_site, tmp_path, "/", "/partners/aimf.html", "/css/portal.css")
    with gzip.open(warc) as f:
        assert b"WARC-Target-URI: <http" in f.read()  # wget 1.19+ writes the brackets
    lines = ours(warc)
    assert len(lines) == 3 + 2  # three responses; wget's log and arguments (resources)
    assert all(json.loads(line.split(" ", 2)[2])["url"][0] != "<" for line in lines)
    assert lines == peer_lines(warc)


def _warcio_file(path: Path, gzipped: bool, write: Callable[[WARCWriter], None]) -> Path:
    with open(path, "wb") as out:
        write(WARCWriter(out, gzip=gzipped))
    gc.collect()  # warcio's digest buffers are closed by the GC: let it happen here
    return path


def _exchange(
    writer: WARCWriter,
    url: str,
    method: str = "GET",
    body: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
) -> None:
    target = url.split("/", 3)[3] if url.count("/") >= 3 else ""
    req_headers = StatusAndHeaders(
        f"{method} /{target} HTTP/1.1",
        [("Host", "example.org"), *(headers or []), ("Content-Length", str(len(body)))],
        is_http_request=True,
    )
    request = writer.create_warc_record(
        url, "request", payload=io.BytesIO(body), http_headers=req_headers
    )
    page = f"<html>{method} {url}</html>".encode()
    resp_headers = StatusAndHeaders(
        "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
    )
    response = writer.create_warc_record(
        url, "response", payload=io.BytesIO(page), http_headers=resp_headers
    )
    request.rec_headers.add_header("WARC-Concurrent-To", response.rec_headers["WARC-Record-ID"])
    writer.write_record(response)
    writer.write_record(request)


POSTS = [
    ("application/x-www-form-urlencoded", b"a=1&b=hello+world&c=%26"),
    ("application/json", b'{"query": {"q": "x", "page": 2}, "list": [1, 2, true]}'),
    ("text/plain", b"not json at all"),
    ("application/octet-stream", bytes(range(256))),
    (
        "multipart/form-data; boundary=XyZ",
        b'--XyZ\r\nContent-Disposition: form-data; name="title"\r\n\r\nA title\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\x00\x01binary\r\n--XyZ--\r\n",
    ),
]


@pytest.mark.parametrize("gzipped", [True, False])
def test_warcio_writer_posts_equal_cdxj_indexer(tmp_path: Path, gzipped: bool) -> None:
    def write(writer: WARCWriter) -> None:
        _exchange(writer, "http://example.org/page?x=1")
        for i, (content_type, body) in enumerate(POSTS):
            url = f"http://example.org/post/{i}"
            _exchange(writer, url, "POST", body, [("Content-Type", content_type)])
        _exchange(writer, "http://example.org/put", "PUT", b"k=v", [("Content-Type", "x")])
        _exchange(writer, "http://example.org/del", "DELETE")
        resource = writer.create_warc_record(
            "urn:test:notes",
            "resource",
            payload=io.BytesIO(b"notes"),
            warc_content_type="text/plain",
        )
        writer.write_record(resource)

    name = "made.warc.gz" if gzipped else "made.warc"
    warc = _warcio_file(tmp_path / name, gzipped, write)
    lines = ours(warc)
    assert lines == peer_lines(warc)
    keys = [line.split(" ", 1)[0] for line in lines]
    # `%26` decodes to `&`, and SURT then sorts an empty parameter first (as the peer).
    assert "org,example)/post/0?&__wb_method=post&a=1&b=hello%20world&c=" in keys
    assert "org,example)/post/1?__wb_method=post&list=1&list.2_=2&list.3_=true&page=2&q=x" in keys
    assert "org,example)/post/2?__wb_method=post&__wb_post_data=bm90igpzb24gyxqgywxs" in keys
    assert any(k.startswith("org,example)/post/3?__wb_method=post&__wb_post_data=") for k in keys)
    assert "org,example)/post/4?__wb_method=post&file=%00%01binary&title=a+title" in keys
    assert "org,example)/put?__wb_method=put&__wb_post_data=az12" in keys
    assert "org,example)/del" in keys  # only POST and PUT are keyed by their body
