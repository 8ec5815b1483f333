"""Item 4: headers and bodies — renamed and rewritten headers, codings, ranges, revisits."""

from __future__ import annotations

import gzip

from tests.replay_proto.conftest import PAGE, REV_BODY, SITE, SLUG, T1, T2, T3, VIDEO, Proto
from vellum.replay.content import Body, Treatment, to_response
from vellum.replay.headers import rewrite_cookie, rewrite_link
from vellum.replay.ranges import ByteRange, Unsatisfiable, parse_range
from vellum.replay.urlrewriter import UrlRewriter


def test_repeated_headers_stay_repeated_and_are_scoped(proto: Proto) -> None:
    r = proto.client.get(f"/{SLUG}/{T1}mp_/{SITE}/page.html")
    cookies = r.headers.get_list("set-cookie")
    assert cookies == ["a=1; HttpOnly; Path=/proto/", "b=2; Path=/proto/"]
    names = [k.lower() for k, _ in r.headers.multi_items()]
    for dropped in ("content-security-policy", "strict-transport-security", "connection"):
        assert dropped not in names
        assert f"x-archive-orig-{dropped}" in names
    assert r.headers["x-archive-orig-x-custom"] == "kept renamed"
    assert r.headers["refresh"] == f"5; url=/{SLUG}/{T1}mp_/{SITE}/next.html"
    assert r.headers["content-location"] == f"/{SLUG}/{T1}mp_/{SITE}/page.html"
    archived_link, memento = r.headers.get_list("link")
    assert archived_link == (
        f'</{SLUG}/{T1}cs_/{SITE}/style.css>; rel="preload"; as="style", '
        f"</{SLUG}/{T1}js_/http://cdn.test/x.js>; rel=preload; as=script"
    )
    assert 'rel="original"' in memento


def test_cookie_and_link_rewriting_units() -> None:
    assert rewrite_cookie("s=1; Domain=.x.org; Path=/a; Secure; SameSite=None", "/c/", True) == (
        "s=1; Secure; SameSite=None; Path=/c/"
    )
    assert rewrite_cookie("s=1; expires=Wed, 01 Jan 2031 00:00:00 GMT", "/c/", False) == (
        "s=1; expires=Wed, 01 Jan 2031 00:00:00 GMT; Path=/c/"
    )
    rw = UrlRewriter("/c/", T1, "http://x.org/dir/page")
    assert rewrite_link('<a,b.css>; rel="stylesheet", <../i.png>; rel="icon"', rw) == (
        f'</c/{T1}cs_/http://x.org/dir/a,b.css>; rel="stylesheet", '
        f'</c/{T1}im_/http://x.org/i.png>; rel="icon"'
    )


def test_content_encoding_decoded_when_rewriting_kept_with_id(proto: Proto) -> None:
    for name, coding in (("gz.html", "gzip"), ("br.html", "br")):
        page = proto.client.get(f"/{SLUG}/{T1}mp_/{SITE}/{name}")
        assert "content-encoding" not in page.headers
        assert page.headers["x-archive-orig-content-encoding"] == coding
        assert f'href="/{SLUG}/{T1}/{SITE}/other.html"' in page.text
        raw = proto.client.get(
            f"/{SLUG}/{T1}id_/{SITE}/{name}", headers={"accept-encoding": "identity"}
        )
        assert raw.headers["content-encoding"] == coding
    stored = proto.client.stream("GET", f"/{SLUG}/{T1}id_/{SITE}/gz.html")
    with stored as response:
        assert gzip.decompress(b"".join(response.iter_raw())) == PAGE


def test_range_requests_on_media(proto: Proto) -> None:
    url = f"/{SLUG}/{T1}oe_/{SITE}/video.mp4"
    whole = proto.client.get(url)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    assert whole.content == VIDEO
    part = proto.client.get(url, headers={"range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(VIDEO)}"
    assert part.content == VIDEO[100:200]
    tail = proto.client.get(url, headers={"range": "bytes=-24"})
    assert tail.status_code == 206 and tail.content == VIDEO[-24:]
    beyond = proto.client.get(url, headers={"range": "bytes=5000-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(VIDEO)}"
    several = proto.client.get(url, headers={"range": "bytes=0-9,20-29"})
    assert several.status_code == 206
    assert several.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert VIDEO[0:10] in several.content and VIDEO[20:30] in several.content
    assert b"Content-Range: bytes 20-29/1024" in several.content
    ignored = proto.client.get(url, headers={"range": "pages=1-2"})
    assert ignored.status_code == 200 and ignored.content == VIDEO


def test_parse_range_units() -> None:
    assert parse_range("bytes=0-", 10) == [ByteRange(0, 9)]
    assert parse_range("bytes=5-100", 10) == [ByteRange(5, 9)]
    assert parse_range("bytes=9-3", 10) is None  # malformed: ignored
    assert parse_range("bytes=10-", 10) is Unsatisfiable.RANGE
    assert parse_range("bytes=0-1", 10, if_range='"etag"') is None
    assert parse_range("bytes=" + ",".join(["0-1"] * 17), 10) is None


def test_revisits_resolve_to_their_original(proto: Proto) -> None:
    # Same URL, revisit with its own headers: its headers, the original's payload.
    same = proto.client.get(f"/{SLUG}/{T2}id_/{SITE}/rev.html")
    assert same.status_code == 200 and same.content == REV_BODY
    assert same.headers["x-archive-orig-x-version"] == "two"
    assert same.headers["memento-datetime"] == "Fri, 01 Jan 2021 00:00:00 GMT"
    # Same URL, revisit without HTTP headers: the original's headers and payload.
    bare = proto.client.get(f"/{SLUG}/{T3}id_/{SITE}/rev.html")
    assert bare.content == REV_BODY and bare.headers["x-archive-orig-x-version"] == "one"
    assert bare.headers["memento-datetime"] == "Sat, 01 Jan 2022 00:00:00 GMT"
    # Another URL, found through WARC-Refers-To-Target-URI and -Date.
    copy = proto.client.get(f"/{SLUG}/{T2}id_/{SITE}/copy.html")
    assert copy.status_code == 200 and copy.content == REV_BODY
    # A revisit whose original is not in the collection is not replayed.
    assert proto.client.get(f"/{SLUG}/{T2}id_/{SITE}/orphan.html").status_code == 404


def test_hostile_archived_headers_cannot_inject_or_break_the_answer() -> None:
    body = Body(
        200,
        (
            ("X-Archive-Orig-Evil", "a\r\nSet-Cookie: stolen=1\x00"),
            ("Bad Name", "dropped"),
            ("Content-Type", "text/plain"),
        ),
        b"x",
        Treatment.RAW,
    )
    response = to_response(body, [], None, None)
    names = [k for k, _ in response.raw_headers]
    assert b"bad name" not in names and names.count(b"set-cookie") == 0
    assert (b"x-archive-orig-evil", b"a  Set-Cookie: stolen=1") in response.raw_headers
