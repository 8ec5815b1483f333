"""Tests for vellum.capture.links."""

from __future__ import annotations

import pytest

from tests.conftest import SHARED
from vellum.capture.links import Links, decode_html, extract_css_links, extract_html_links

BASE = "http://example.com/dir/page.html"
E = "http://example.com"


def links(html: str, base: str = BASE) -> Links:
    return extract_html_links(html.encode("utf-8"), base)


@pytest.mark.parametrize(
    ("html", "pages", "resources"),
    [
        # navigation
        ('<a href="/a">', [f"{E}/a"], []),
        ("<a href=b.html>", [f"{E}/dir/b.html"], []),
        ('<map><area href="../c"></map>', [f"{E}/c"], []),
        ('<iframe src="f.html"></iframe><frameset><frame src="g.html">', [f"{E}/dir/f.html"], []),
        ('<meta http-equiv="refresh" content="0; url=/next">', [f"{E}/next"], []),
        ("<meta http-equiv=Refresh content=\"5;URL='r.html'\">", [f"{E}/dir/r.html"], []),
        ('<meta http-equiv="refresh" content="30">', [], []),
        ('<form action="/search"><input name=q></form>', [f"{E}/search"], []),
        ('<form action="/g" method="GET"></form>', [f"{E}/g"], []),
        ('<form action="/p" method="post"></form>', [], []),
        ('<form action="/p" method="POST"></form>', [], []),
        ('<form action="/x" method="bogus"></form>', [f"{E}/x"], []),
        ("<form><input></form>", [], []),
        ('<link rel="canonical" href="/canon">', [f"{E}/canon"], []),
        ('<link rel="alternate" hreflang="fr" href="/fr/">', [f"{E}/fr/"], []),
        (
            '<link rel="next" href="p2"><link rel="prev" href="p0">',
            [f"{E}/dir/p2", f"{E}/dir/p0"],
            [],
        ),
        # resources
        ('<link rel="stylesheet" href="s.css">', [], [f"{E}/dir/s.css"]),
        ('<link rel="alternate stylesheet" href="alt.css">', [], [f"{E}/dir/alt.css"]),
        ('<link rel="Shortcut Icon" href="/favicon.ico">', [], [f"{E}/favicon.ico"]),
        ('<link rel="apple-touch-icon" href="/t.png">', [], [f"{E}/t.png"]),
        ('<link rel="manifest" href="/m.json">', [], [f"{E}/m.json"]),
        ('<link rel="preload" as="font" href="/f.woff2">', [], [f"{E}/f.woff2"]),
        ('<link rel="prefetch" href="/n.js">', [], [f"{E}/n.js"]),
        ('<link rel="modulepreload" href="/m.mjs">', [], [f"{E}/m.mjs"]),
        (
            '<link rel="preload" as="image" imagesrcset="a.png 1x, b.png 2x">',
            [],
            [f"{E}/dir/a.png", f"{E}/dir/b.png"],
        ),
        # unknown rels are ignored
        ('<link rel="preconnect" href="https://cdn.example.net">', [], []),
        ('<link rel="dns-prefetch" href="//cdn.example.net">', [], []),
        ('<link rel="pingback" href="/xmlrpc.php"><link rel="EditURI" href="/rsd">', [], []),
        ('<link href="/norel">', [], []),
        ('<img src="i.png">', [], [f"{E}/dir/i.png"]),
        (
            '<img src="a.png" srcset="a.png 1x, a@2x.png 2x">',
            [],
            [f"{E}/dir/a.png", f"{E}/dir/a@2x.png"],
        ),
        (
            '<picture><source srcset="w.webp 1x,w2.webp 2x" type="image/webp">'
            '<source src="v.mp4"></picture>',
            [],
            [f"{E}/dir/w.webp", f"{E}/dir/w2.webp", f"{E}/dir/v.mp4"],
        ),
        ('<script src="/j.js"></script>', [], [f"{E}/j.js"]),
        (
            '<video src="v.mp4" poster="p.jpg"><track src="t.vtt"></video><audio src="a.ogg">',
            [],
            [f"{E}/dir/v.mp4", f"{E}/dir/p.jpg", f"{E}/dir/t.vtt", f"{E}/dir/a.ogg"],
        ),
        (
            '<object data="o.swf"></object><embed src="e.swf">',
            [],
            [f"{E}/dir/o.swf", f"{E}/dir/e.swf"],
        ),
        (
            '<input type="image" src="go.png"><input type="text" src="no.png">',
            [],
            [f"{E}/dir/go.png"],
        ),
        ('<body background="bg.gif">', [], [f"{E}/dir/bg.gif"]),
        (
            '<table background="t.gif"><tr><td background="d.gif">',
            [],
            [f"{E}/dir/t.gif", f"{E}/dir/d.gif"],
        ),
        ("<div style=\"background:url('s.png')\"></div>", [], [f"{E}/dir/s.png"]),
        (
            "<style>@import 'i.css'; @import url(j.css); b{background:url(\"b.png\")}</style>",
            [],
            [f"{E}/dir/i.css", f"{E}/dir/j.css", f"{E}/dir/b.png"],
        ),
        (
            '<svg><image xlink:href="x.png"/><image href="y.png"/><use href="/s.svg#i"/>'
            '<use xlink:href="#local"/><a xlink:href="/svg-link">a</a></svg>',
            [f"{E}/svg-link"],
            [f"{E}/dir/x.png", f"{E}/dir/y.png", f"{E}/s.svg"],
        ),
        ('<svg><filter><feImage href="fe.png"/></filter></svg>', [], [f"{E}/dir/fe.png"]),
        # filtering and normalization
        ('<a href="/a#frag">', [f"{E}/a"], []),
        ('<a href="#top">', [], []),
        ('<a href="javascript:void(0)"><a href="JavaScript:x()">', [], []),
        ('<a href="mailto:a@b.c"><a href="tel:+123"><a href="about:blank">', [], []),
        ('<img src="data:image/gif;base64,R0lGOD==">', [], []),
        ('<a href="ftp://ftp.example.com/"><a href="news:x">', [], []),
        ('<a href="">', [], []),
        ("<a href>", [], []),
        ('<a href="   /spaces   ">', [f"{E}/spaces"], []),
        ('<a href="/a?x=1&amp;y=2&region=3">', [f"{E}/a?x=1&y=2&region=3"], []),
        ('<a href="//other.org/x">', ["http://other.org/x"], []),
        ('<a href="https://secure.example.com/">', ["https://secure.example.com/"], []),
        ('<a href="http://[::1/">', [], []),
        ('<A HREF="/UPPER">', [f"{E}/UPPER"], []),
        ('<a href="/d"><a href="/d#x"><a href="/d">', [f"{E}/d"], []),
        # a URL can be both a page and a resource
        ('<a href="i.png"><img src="i.png">', [f"{E}/dir/i.png"], [f"{E}/dir/i.png"]),
    ],
)
def test_extract_html_links(html: str, pages: list[str], resources: list[str]) -> None:
    found = links(html)
    assert found.pages == pages
    assert found.resources == resources


def test_document_order_across_element_types() -> None:
    html = """<html><head><link rel=stylesheet href=a.css><script src=b.js></script>
    <style>x{background:url(c.png)}</style></head>
    <body><img src=d.png><a href=p1.html>1</a><img src=e.png style="background:url(f.png)">
    <a href=p2.html>2</a><iframe src=p3.html></iframe></body></html>"""
    found = links(html)
    assert found.pages == [f"{E}/dir/p1.html", f"{E}/dir/p2.html", f"{E}/dir/p3.html"]
    assert found.resources == [
        f"{E}/dir/a.css",
        f"{E}/dir/b.js",
        f"{E}/dir/c.png",
        f"{E}/dir/d.png",
        f"{E}/dir/e.png",
        f"{E}/dir/f.png",
    ]


def test_base_href() -> None:
    html = (
        '<head><base href="/other/"><base href="http://ignored.example/"></head>'
        '<a href="x"><img src="i.png"><style>a{b:url(s.png)}</style>'
    )
    found = links(html)
    assert found.pages == [f"{E}/other/x"]
    assert found.resources == [f"{E}/other/i.png", f"{E}/other/s.png"]


def test_base_href_absolute_and_invalid() -> None:
    assert links('<base href="https://cdn.example.org/s/"><a href=x>').pages == [
        "https://cdn.example.org/s/x"
    ]
    # a base that is not http(s) is ignored
    assert links('<base href="javascript:x"><a href=x>').pages == [f"{E}/dir/x"]
    # a base without href does not count
    assert links('<base target=_blank><base href="/b/"><a href=x>').pages == [f"{E}/b/x"]


def test_malformed_html() -> None:
    html = "<p>unclosed <a href=one.html>one <div><a href='two.html' <img src=i.png <b>"
    found = links(html)
    assert f"{E}/dir/one.html" in found.pages
    assert links("").pages == []
    assert links("no markup at all") == Links(pages=[], resources=[])
    assert links("<a href='/\x00x'>").pages  # does not raise


def test_links_in_textarea_and_comments_are_not_links() -> None:
    html = "<textarea><a href=/t></textarea><!-- <a href=/c> --><script>'<a href=/s>'</script>"
    assert links(html) == Links(pages=[], resources=[])


# -- encodings ------------------------------------------------------------------------


def test_meta_charset_is_used() -> None:
    html = '<meta charset="iso-8859-1"><a href="/caf\xe9">'.encode("latin-1")
    assert extract_html_links(html, BASE).pages == [f"{E}/caf\u00e9"]


def test_http_equiv_charset_is_used() -> None:
    html = (
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
        '<a href="/\u0436">'
    ).encode("cp1251")
    assert extract_html_links(html, BASE).pages == [f"{E}/\u0436"]


def test_given_encoding_wins_over_meta() -> None:
    html = '<meta charset="utf-8"><a href="/\u0436">'.encode("koi8-r")
    assert extract_html_links(html, BASE, encoding="koi8-r").pages == [f"{E}/\u0436"]


def test_bad_bytes_and_unknown_encodings_do_not_raise() -> None:
    html = b'<meta charset="no-such-charset"><a href="/a\xff\xfe">'
    assert extract_html_links(html, BASE, encoding="also-unknown").pages == [f"{E}/a\ufffd\ufffd"]


def test_decode_html() -> None:
    assert decode_html(b"\xef\xbb\xbf<p>\xc3\xa9") == "<p>\u00e9"
    assert decode_html("<p>\u00e9".encode("utf-16")) == "<p>\u00e9"
    assert decode_html(b"<p>\xe9") == "<p>\ufffd"
    assert decode_html(b"<meta charset=latin1><p>\x80") == "<meta charset=latin1><p>\u20ac"
    assert decode_html(b'<meta charset="utf-16"><p>\xc3\xa9') == '<meta charset="utf-16"><p>\u00e9'
    assert decode_html(b"<p>\xe9", "iso-8859-1") == "<p>\u00e9"


# -- CSS ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("css", "urls"),
    [
        ("a{background:url(bg.png)}", [f"{E}/css/bg.png"]),
        (
            "a{background:url('q.png')} b{background:url(\"dq.png\")}",
            [f"{E}/css/q.png", f"{E}/css/dq.png"],
        ),
        (
            '@import "a.css"; @import url(b.css) screen; @import url("c.css");',
            [f"{E}/css/a.css", f"{E}/css/b.css", f"{E}/css/c.css"],
        ),
        (
            "a{b:image-set('x.png' 1x, url(y.png) 2x)} c{d:-webkit-image-set(\"z.png\" 1x)}",
            [f"{E}/css/x.png", f"{E}/css/y.png", f"{E}/css/z.png"],
        ),
        ("/* url(no.png) */ a{content:'url(no2.png)'}", []),
        ("a{b:url(data:image/png;base64,AA==)} c{filter:url(#f)}", []),
        ("a{b:url(/x.png#frag)} c{d:url(/x.png)}", [f"{E}/x.png"]),
        (
            "@font-face{src:url(../f/a.woff2) format('woff2'), url(../f/a.woff)}",
            [f"{E}/f/a.woff2", f"{E}/f/a.woff"],
        ),
        (r"a{b:url(sp\ ace.png)}", [f"{E}/css/sp ace.png"]),
        ("a{b:url(//cdn.example.net/i.png)}", ["http://cdn.example.net/i.png"]),
        ("", []),
    ],
)
def test_extract_css_links(css: str, urls: list[str]) -> None:
    assert extract_css_links(css, f"{E}/css/site.css") == urls


# -- a real archive -------------------------------------------------------------------

IANA = SHARED / "fixtures" / "pywb" / "iana.warc.gz"


@pytest.mark.skipif(not IANA.exists(), reason="pywb fixture not available")
def test_iana_home_page() -> None:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    with IANA.open("rb") as f:
        for record in ArchiveIterator(f, parse_http=True, record_types=WarcRecordType.response):
            if record.headers.get("WARC-Target-URI") == "http://www.iana.org/":
                body = record.reader.read()
                break
        else:
            pytest.fail("home page not in fixture")
    found = extract_html_links(body, "http://www.iana.org/", "utf-8")
    assert "http://www.iana.org/_css/2013.1/screen.css" in found.resources
    assert "http://www.iana.org/_js/2013.1/iana.js" in found.resources
    assert "http://www.iana.org/domains" in found.pages
    # the commented-out links are not there
    assert "http://www.iana.org/numbers/ipv4" not in found.pages
    assert all(u.startswith(("http://", "https://")) and "#" not in u for u in found.pages)
