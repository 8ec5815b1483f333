"""Tests for vellum.replay.rewrite.html."""

from __future__ import annotations

import re

import pytest

from tests.conftest import SHARED
from vellum.replay.rewrite import HtmlRewriter, rewrite_css, rewrite_html
from vellum.replay.rewrite.html import escape_attr, unescape_attr
from vellum.replay.urlrewriter import UrlRewriter
from vellum.urls.embedded import meta_refresh_url_span, srcset_url_spans

R = UrlRewriter("/web/", "20240101000000", "http://example.com/dir/page.html")
P = "/web/20240101000000"
E = "http://example.com"


class IdentityRewriter(UrlRewriter):
    """Leaves every URL as it is: rewriting must then give back the input."""

    def rewrite(self, url: str, modifier: str = "") -> str:
        return url

    def with_base(self, base_url: str) -> UrlRewriter:
        return self


def rw(html: str, head: str = "", body: str = "") -> str:
    return rewrite_html(html, R, head, body)


CASES = [
    # links and their modifiers
    ('<a href="/x">x</a>', f'<a href="{P}/{E}/x">x</a>'),
    ("<a href='x.html'>x</a>", f"<a href='{P}/{E}/dir/x.html'>x</a>"),
    ("<a href=x.html>x</a>", f"<a href={P}/{E}/dir/x.html>x</a>"),
    ('<area shape=rect href="//other.org/">', f'<area shape=rect href="{P}/http://other.org/">'),
    (
        '<link rel="stylesheet" href="s.css">',
        f'<link rel="stylesheet" href="{P}cs_/{E}/dir/s.css">',
    ),
    (
        '<link href="s.css" rel="alternate stylesheet">',
        f'<link href="{P}cs_/{E}/dir/s.css" rel="alternate stylesheet">',
    ),
    ('<link rel="icon" href="/f.ico">', f'<link rel="icon" href="{P}im_/{E}/f.ico">'),
    (
        '<link rel="shortcut icon" href="/f.ico">',
        f'<link rel="shortcut icon" href="{P}im_/{E}/f.ico">',
    ),
    (
        '<link rel="apple-touch-icon" href="/t.png">',
        f'<link rel="apple-touch-icon" href="{P}im_/{E}/t.png">',
    ),
    ('<link rel="canonical" href="/c">', f'<link rel="canonical" href="{P}/{E}/c">'),
    (
        "<link rel=preload as=style href=p.css>",
        f"<link rel=preload as=style href={P}cs_/{E}/dir/p.css>",
    ),
    (
        "<link rel=preload as=script href=p.js>",
        f"<link rel=preload as=script href={P}js_/{E}/dir/p.js>",
    ),
    ("<link rel=modulepreload href=m.js>", f"<link rel=modulepreload href={P}js_/{E}/dir/m.js>"),
    (
        '<link rel=preload as=image imagesrcset="a.png 1x, b.png 2x">',
        f'<link rel=preload as=image imagesrcset="{P}im_/{E}/dir/a.png 1x,'
        f' {P}im_/{E}/dir/b.png 2x">',
    ),
    ('<img src="i.png" alt="">', f'<img src="{P}im_/{E}/dir/i.png" alt="">'),
    ('<img src="i.png" />', f'<img src="{P}im_/{E}/dir/i.png" />'),
    (
        '<img srcset="a.png 1x, b.png 2x" src=a.png>',
        f'<img srcset="{P}im_/{E}/dir/a.png 1x, {P}im_/{E}/dir/b.png 2x" src={P}im_/{E}/dir/a.png>',
    ),
    (
        '<img srcset="a.png 1x,b.png 480w,\n  c.png 2x">',
        f'<img srcset="{P}im_/{E}/dir/a.png 1x,{P}im_/{E}/dir/b.png 480w,\n'
        f'  {P}im_/{E}/dir/c.png 2x">',
    ),
    (
        '<picture><source srcset="w.webp" type="image/webp"><source src=v.mp4></picture>',
        f'<picture><source srcset="{P}im_/{E}/dir/w.webp" type="image/webp">'
        f"<source src={P}im_/{E}/dir/v.mp4></picture>",
    ),
    ('<input type=image src="b.png">', f'<input type=image src="{P}im_/{E}/dir/b.png">'),
    ('<script src="j.js"></script>', f'<script src="{P}js_/{E}/dir/j.js"></script>'),
    ('<iframe src="f.html"></iframe>', f'<iframe src="{P}if_/{E}/dir/f.html"></iframe>'),
    ('<frame src="f.html">', f'<frame src="{P}if_/{E}/dir/f.html">'),
    ('<embed src="e.swf">', f'<embed src="{P}oe_/{E}/dir/e.swf">'),
    ('<object data="o.swf"></object>', f'<object data="{P}oe_/{E}/dir/o.swf"></object>'),
    (
        '<video src="v.mp4" poster="p.jpg"><track src="t.vtt"></video>',
        f'<video src="{P}oe_/{E}/dir/v.mp4" poster="{P}im_/{E}/dir/p.jpg">'
        f'<track src="{P}oe_/{E}/dir/t.vtt"></video>',
    ),
    ('<audio src="a.mp3"></audio>', f'<audio src="{P}oe_/{E}/dir/a.mp3"></audio>'),
    ('<form action="/s" method=get>', f'<form action="{P}/{E}/s" method=get>'),
    ('<button formaction="/b">', f'<button formaction="{P}/{E}/b">'),
    ('<body background="bg.gif">', f'<body background="{P}im_/{E}/dir/bg.gif">'),
    (
        '<table background="t.gif"><td background="d.gif">',
        f'<table background="{P}im_/{E}/dir/t.gif"><td background="{P}im_/{E}/dir/d.gif">',
    ),
    ('<blockquote cite="/q">', f'<blockquote cite="{P}/{E}/q">'),
    ('<img longdesc="d.html">', f'<img longdesc="{P}/{E}/dir/d.html">'),
    # meta refresh: only the URL part
    (
        '<meta http-equiv="refresh" content="5; url=/next">',
        f'<meta http-equiv="refresh" content="5; url={P}/{E}/next">',
    ),
    (
        "<meta http-equiv=Refresh content=\"0;URL='/n'\">",
        f"<meta http-equiv=Refresh content=\"0;URL='{P}/{E}/n'\">",
    ),
    ('<meta http-equiv="refresh" content="30">', '<meta http-equiv="refresh" content="30">'),
    ('<meta name="x" content="/not-a-url">', '<meta name="x" content="/not-a-url">'),
    # style attributes and blocks
    (
        "<div style=\"background:url('b.png')\">",
        f"<div style=\"background:url('{P}im_/{E}/dir/b.png')\">",
    ),
    (
        '<div style="background:url(&quot;b.png&quot;)">',
        f'<div style="background:url(&quot;{P}im_/{E}/dir/b.png&quot;)">',
    ),
    (
        "<style>@import 'i.css';\nbody{background:url(b.png)}</style>",
        f"<style>@import '{P}cs_/{E}/dir/i.css';\n"
        f"body{{background:url({P}im_/{E}/dir/b.png)}}</style>",
    ),
    (
        '<style>a::before{content:"<a href=x>"}</style>',
        '<style>a::before{content:"<a href=x>"}</style>',
    ),
    # script content passes unchanged, src is rewritten
    (
        "<script>var s = '<img src=\"x.png\">'; if (a<b && c>d) {}</script>",
        "<script>var s = '<img src=\"x.png\">'; if (a<b && c>d) {}</script>",
    ),
    # integrity removed, wherever it is
    (
        '<script src="j.js" integrity="sha384-abc" crossorigin="anonymous"></script>',
        f'<script src="{P}js_/{E}/dir/j.js" crossorigin="anonymous"></script>',
    ),
    (
        '<link integrity="sha384-abc" rel=stylesheet href=s.css>',
        f"<link rel=stylesheet href={P}cs_/{E}/dir/s.css>",
    ),
    (
        '<link rel=stylesheet href=s.css integrity="sha384-abc">',
        f"<link rel=stylesheet href={P}cs_/{E}/dir/s.css>",
    ),
    ('<script integrity="x"src=j.js></script>', f"<script src={P}js_/{E}/dir/j.js></script>"),
    # CSP meta dropped, other metas kept
    (
        "<meta charset=utf-8>"
        '<meta http-equiv="Content-Security-Policy" content="default-src \'self\'"><p>',
        "<meta charset=utf-8><p>",
    ),
    # untouched schemes and fragments
    ('<a href="#top">', '<a href="#top">'),
    ('<a href="javascript:void(0)">', '<a href="javascript:void(0)">'),
    ('<a href="mailto:a@b.c">', '<a href="mailto:a@b.c">'),
    ('<img src="data:image/gif;base64,R0lGOD==">', '<img src="data:image/gif;base64,R0lGOD==">'),
    ('<a href="ftp://ftp.example.com/">', '<a href="ftp://ftp.example.com/">'),
    ('<a href="">', '<a href="">'),
    ("<a href>", "<a href>"),
    # entities: unescaped before rewriting, escaped after
    ('<a href="/a?x=1&amp;y=2">', f'<a href="{P}/{E}/a?x=1&amp;y=2">'),
    ('<a href="/a?x=1&y=2">', f'<a href="{P}/{E}/a?x=1&amp;y=2">'),
    ('<a href="/a?x=1&region=2&copy=3">', f'<a href="{P}/{E}/a?x=1&amp;region=2&amp;copy=3">'),
    ('<a href="/a?q=&quot;x&quot;">', f'<a href="{P}/{E}/a?q=&quot;x&quot;">'),
    ("<a href='/it&#39;s'>", f"<a href='{P}/{E}/it&#39;s'>"),
    ('<a href="&#x2F;slash">', f'<a href="{P}/{E}/slash">'),
    # uppercase tags and attributes: case kept
    ('<A HREF="/X">X</A>', f'<A HREF="{P}/{E}/X">X</A>'),
    ("<IMG SRC=i.png>", f"<IMG SRC={P}im_/{E}/dir/i.png>"),
    # SVG
    (
        '<svg><image xlink:href="i.png" width=1 /><use xlink:href="#icon"/></svg>',
        f'<svg><image xlink:href="{P}im_/{E}/dir/i.png" width=1 /><use xlink:href="#icon"/></svg>',
    ),
    ('<svg><image href="i.png"/></svg>', f'<svg><image href="{P}im_/{E}/dir/i.png"/></svg>'),
    ('<svg><a xlink:href="/p">p</a></svg>', f'<svg><a xlink:href="{P}/{E}/p">p</a></svg>'),
    # duplicates: all rewritten
    ('<a href="/a" href="/b">', f'<a href="{P}/{E}/a" href="{P}/{E}/b">'),
    # unquoted values stay unquoted when they can
    ("<a href=/a?q=x&amp;y=1>", f"<a href={P}/{E}/a?q=x&amp;y=1>"),
    # text-only content: no rewriting inside title/textarea
    ('<textarea><a href="/x"></textarea>', '<textarea><a href="/x"></textarea>'),
    ("<title><img src=x></title>", "<title><img src=x></title>"),
    # already rewritten: left alone
    (f'<a href="{P}/{E}/x">', f'<a href="{P}/{E}/x">'),
]


@pytest.mark.parametrize(("html", "expected"), CASES)
def test_rewrites(html: str, expected: str) -> None:
    assert rw(html) == expected


@pytest.mark.parametrize(("html", "expected"), CASES)
def test_streaming_one_char_at_a_time(html: str, expected: str) -> None:
    r = HtmlRewriter(R)
    out = "".join(r.feed(c) for c in html) + r.close()
    assert out == expected


def test_base_href() -> None:
    html = (
        '<head><link rel=stylesheet href="a.css"><base href="/other/">'
        '<base href="http://ignored.example/"></head><a href="x">'
    )
    assert rw(html) == (
        f'<head><link rel=stylesheet href="{P}cs_/{E}/dir/a.css"><base href="{P}/{E}/other/">'
        f'<base href="{P}/http://ignored.example/"></head><a href="{P}/{E}/other/x">'
    )


def test_base_href_relative_and_absolute() -> None:
    assert rw('<base href="http://cdn.example.org/s/"><img src="i.png">') == (
        f'<base href="{P}/http://cdn.example.org/s/"><img src="{P}im_/http://cdn.example.org/s/i.png">'
    )


def test_style_block_split_across_chunks() -> None:
    html = "<style>body{background:url(bg.png)}</style>"
    r = HtmlRewriter(R)
    out = r.feed(html[:27]) + r.feed(html[27:]) + r.close()
    assert out == f"<style>body{{background:url({P}im_/{E}/dir/bg.png)}}</style>"


def test_unclosed_style_and_script_are_flushed() -> None:
    assert rw("<style>a{b:url(x.png)}") == f"<style>a{{b:url({P}im_/{E}/dir/x.png)}}"
    assert rw("<script>var a = 1 < 2;") == "<script>var a = 1 < 2;"


# -- inserts --------------------------------------------------------------------------

H = "<!--HEAD-->"
B = "<!--BODY-->"

INSERT_CASES = [
    (
        "<!DOCTYPE html><html><head><title>t</title></head><body class=x><p>hi</body></html>",
        f"<!DOCTYPE html><html><head>{H}<title>t</title></head>"
        f"<body class=x>{B}<p>hi</body></html>",
    ),
    (
        "<!DOCTYPE html>\n<html lang=en>\n<HEAD profile=x>\n<body>",
        f"<!DOCTYPE html>\n<html lang=en>\n<HEAD profile=x>{H}\n<body>{B}",
    ),
    # no <head>: before the first tag that is not <html>; no <body>: before body content
    (
        "<!-- c --><html><title>t</title><meta name=x><div>d</div>",
        f"<!-- c --><html>{H}<title>t</title><meta name=x>{B}<div>d</div>",
    ),
    ("<html><body>x</body></html>", f"<html>{H}<body>{B}x</body></html>"),
    ("<p>para", f"{H}{B}<p>para"),
    # text starts the body too
    ("<title>t</title>\n  Hello <b>x</b>", f"{H}<title>t</title>\n  {B}Hello <b>x</b>"),
    ("<head></head>&nbsp;x", f"<head>{H}</head>{B}&nbsp;x"),
    # tags and text inside head-only elements do not start the body
    (
        "<head><noscript><img src=p.gif></noscript><title>a <b> c</title></head><body>",
        f"<head>{H}<noscript><img src={P}im_/{E}/dir/p.gif></noscript><title>a <b> c</title>"
        f"</head><body>{B}",
    ),
    # no tags at all / nothing at all
    ("just text", f"{H}{B}just text"),
    ("", f"{H}{B}"),
    ("\n \n", f"\n \n{H}{B}"),
    ("\ufeff<!DOCTYPE html><p>", f"\ufeff<!DOCTYPE html>{H}{B}<p>"),
    # only a head
    (
        "<html><head><title>t</title></head></html>",
        f"<html><head>{H}<title>t</title></head></html>{B}",
    ),
    # the CSP meta that would have been first is still dropped
    ('<meta http-equiv="content-security-policy" content="x"><p>', f"{H}{B}<p>"),
    # frameset: the body insert goes inside it
    (
        "<html><head></head><frameset><frame src=a>",
        f"<html><head>{H}</head><frameset>{B}<frame src={P}if_/{E}/dir/a>",
    ),
    # inserts only once
    (
        "<head></head><head></head><body></body><body>",
        f"<head>{H}</head><head></head><body>{B}</body><body>",
    ),
]


@pytest.mark.parametrize(("html", "expected"), INSERT_CASES)
def test_inserts(html: str, expected: str) -> None:
    assert rw(html, H, B) == expected
    r = HtmlRewriter(R, H, B)
    assert "".join(r.feed(c) for c in html) + r.close() == expected


# -- fidelity -------------------------------------------------------------------------

NOTHING_TO_REWRITE = """\ufeff<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"
  "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<?xml-stylesheet href="x"?>
<HTML xmlns="http://www.w3.org/1999/xhtml"><Head>
<meta charset='utf-8' >
<title>Caf&eacute; &amp; &#233; &#xE9; &copy 2024 &unknown; & &#; AT&T</title>
<!-- a comment with <a href="/x"> inside -- and dashes -->
<!--[if IE]><link rel=stylesheet href=ie.css><![endif]-->
<![CDATA[ raw <a href=x> ]]>
<!bogus comment>
<script type="text/javascript">
  // <![CDATA[
  if (a < b && b > c) { document.write("<a href='/x'>"); }
  var s = "</scr" + "ipt>";
  // ]]>
</script>
<style type="text/css">
  /* nothing */ body { color : red ; content: "url(x)" }
</style>
</Head>
<BODY  class = "a  b"   data-x='1' hidden>
<div id=main><p>Text with <b>bold</b>, <i>italics</i> & < lonely brackets >
<br/><br /><hr>
<input type="text" value="a &quot;quoted&quot; value" disabled>
<a name=anchor>no href</a> <a href="#frag">frag</a> <a href="javascript:void(0)">js</a>
<a href='mailto:someone@example.com'>mail</a> <img src="data:image/png;base64,iVBOR" alt="">
<table border=1><tr><td>cell</td></tr></table>
<p>Unclosed <span>tags <div>everywhere
</ p ></ div >
<math><mi>x</mi></math> <svg viewBox="0 0 10 10"><use xlink:href="#icon"/></svg>
</BODY></HTML>
"""


def test_identity_when_nothing_to_rewrite() -> None:
    assert rw(NOTHING_TO_REWRITE) == NOTHING_TO_REWRITE


def test_identity_one_char_at_a_time() -> None:
    r = HtmlRewriter(R)
    out = "".join(r.feed(c) for c in NOTHING_TO_REWRITE) + r.close()
    assert out == NOTHING_TO_REWRITE


WEIRD = [
    "<",
    "<a",
    "<a href=",
    '<a href="/x',
    "<a href='/x' <b>",
    "</",
    "</>",
    "</ a>",
    "<!",
    "<!-",
    "<!--",
    "<!-- unclosed comment <a href=/x>",
    "<!DOCTYPE",
    "<![",
    "<![]>",
    "<![if !supportLists]>x<![endif]>",
    "<![bogus[ x ]]>",
    "<![CDATA[ x",
    "<!DOCTYPE html [ <!ENTITY x 'y'> ]>",
    "<?php echo 1; ?>",
    "<?",
    "&",
    "&#",
    "&#x",
    "&am",
    "&#12345678901234567890;",
    "<a href=/x/>",
    "<img src=/x/ >",
    '<a href="/x"/>',
    '<a href="/x"title="t">',
    "<a =x href=/y>",
    "<a href==/x>",
    "<a href = '/x' >",
    "<a\nhref\n=\n'/x'\n>",
    "<a href=/x<b>",
    "<a b='c\"d' href=/x>",
    "<scrip<script>x</script>",
    "<script>",
    "<script>a</script",
    "<style>",
    "<style>a{b:url(",
    "<title>",
    "<textarea>unclosed <a href=/x>",
    "<a\x00href=/x>",
    "<a href='http://[::1/'>",
    "<base href='http://[::1/'><a href=x>",
    "<meta http-equiv=refresh content='0; url=http://[::1'>",
    "<img srcset=',,, ,'>",
    "<img srcset='a.png 1x,'>",
    "<svg><style>a{b:url(x.png)}</style></svg>",
    '<a href="\U0001f600.html">emoji</a>',
    "\x00\x01\x02<a href=x>\x7f",
]


@pytest.mark.parametrize("html", WEIRD)
def test_weird_input_never_raises(html: str) -> None:
    whole = rw(html, H, B)
    assert whole.count(H) == 1
    assert whole.count(B) == 1
    r = HtmlRewriter(R, H, B)
    assert "".join(r.feed(c) for c in html) + r.close() == whole
    # with nothing rewritten, the input comes back
    assert rewrite_html(html, IdentityRewriter("/", "1", E)) == html


def test_weird_rewrites() -> None:
    assert rw("<a href=/x/>") == f"<a href={P}/{E}/x/>"
    assert rw('<a href="/x"title="t">') == f'<a href="{P}/{E}/x"title="t">'
    assert rw("<a href = '/x' >") == f"<a href = '{P}/{E}/x' >"
    assert rw("<a\nhref\n=\n'/x'\n>") == f"<a\nhref\n=\n'{P}/{E}/x'\n>"
    assert rw("<a b='c\"d' href=/x>") == f"<a b='c\"d' href={P}/{E}/x>"
    assert rw("<a href='http://[::1/'>") == "<a href='http://[::1/'>"
    assert rw("<a href=x>\n<!-- <a href=y> -->") == f"<a href={P}/{E}/dir/x>\n<!-- <a href=y> -->"


def test_unquoted_value_gets_quotes_when_needed() -> None:
    r = UrlRewriter("/my coll/", "20240101000000", E + "/")
    assert rewrite_html("<a href=/x>", r) == f'<a href="/my coll/20240101000000/{E}/x">'


def test_feed_returns_output_progressively() -> None:
    r = HtmlRewriter(R)
    first = r.feed('<p>Hello <a href="/x">x</a> and <img src="/i')
    assert first == f'<p>Hello <a href="{P}/{E}/x">x</a> and '
    rest = r.feed('.png">!') + r.close()
    assert rest == f'<img src="{P}im_/{E}/i.png">!'


def test_feed_after_close() -> None:
    r = HtmlRewriter(R)
    r.close()
    with pytest.raises(ValueError):
        r.feed("x")
    assert r.close() == ""


# -- helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "urls"),
    [
        ("a.png", ["a.png"]),
        ("a.png 1x, b.png 2x", ["a.png", "b.png"]),
        ("a.png 1x,b.png 2x", ["a.png", "b.png"]),
        ("a.png, b.png", ["a.png", "b.png"]),
        ("  a.png  1x ,  b.png 2x  ", ["a.png", "b.png"]),
        ("a.png 100w, b.png 200w", ["a.png", "b.png"]),
        # a comma not followed by whitespace belongs to the URL
        ("a.png,b.png", ["a.png,b.png"]),
        ("data:image/png;base64,AAAA 1x, b.png 2x", ["data:image/png;base64,AAAA", "b.png"]),
        ("/img?w=100,h=50 1x, /img?w=200,h=100 2x", ["/img?w=100,h=50", "/img?w=200,h=100"]),
        ("a.png (weird, descriptor) 1x, b.png", ["a.png", "b.png"]),
        ("a.png,,, b.png", ["a.png", "b.png"]),
        ("", []),
        (" , ", []),
    ],
)
def test_srcset(value: str, urls: list[str]) -> None:
    assert [value[a:b] for a, b in srcset_url_spans(value)] == urls


@pytest.mark.parametrize(
    ("content", "url"),
    [
        ("5; url=/next", "/next"),
        ("0;URL='/next'", "/next"),
        ('0; url="/next" ', "/next"),
        ("3, /next", "/next"),
        ("0 /next", "/next"),
        ("0;url = /next  ", "/next"),
        (".5;/x", "/x"),
        ("5", None),
        ("5;", None),
        ("url=/x", None),
        ("", None),
    ],
)
def test_meta_refresh(content: str, url: str | None) -> None:
    span = meta_refresh_url_span(content)
    assert (content[span[0] : span[1]] if span else None) == url


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("/a?x=1&amp;y=2", "/a?x=1&y=2"),
        ("/a?x=1&region=2", "/a?x=1&region=2"),
        ("/a?x=1&copy=2", "/a?x=1&copy=2"),
        ("&copy 2024", "\u00a9 2024"),
        ("&copy;", "\u00a9"),
        ("&amp", "&"),
        ("&ampx;", "&ampx;"),
        ("&#38;&#x26;&#X26", "&&&"),
        ("&#150;", "\u2013"),
        ("&#0;", "\ufffd"),
        ("&#12345678901234567890;", "\ufffd"),
        ("&nosuch;", "&nosuch;"),
        ("no refs", "no refs"),
    ],
)
def test_unescape_attr(raw: str, value: str) -> None:
    assert unescape_attr(raw) == value


def test_escape_attr() -> None:
    assert escape_attr("a&b\"c'd", '"') == "a&amp;b&quot;c'd"
    assert escape_attr("a&b\"c'd", "'") == 'a&amp;b"c&#39;d'
    assert escape_attr("/a?b=c&d", "") == "/a?b=c&amp;d"
    assert escape_attr("/a b", "") == '"/a b"'
    assert escape_attr("/a>b", "") == '"/a>b"'
    assert escape_attr("'a", "") == '"\'a"'
    assert escape_attr("", "") == '""'


# -- a real archive -------------------------------------------------------------------

IANA = SHARED / "fixtures" / "pywb" / "iana.warc.gz"
URL_ATTR = re.compile(r"""\s(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
OTHER_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.I)


def _iana_payloads() -> list[tuple[str, str, str]]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    found = []
    with IANA.open("rb") as f:
        for record in ArchiveIterator(f, parse_http=True, record_types=WarcRecordType.response):
            ctype = (record.http_headers.get("Content-Type") or "").lower()
            uri = record.headers.get("WARC-Target-URI")
            if "text/html" in ctype or "text/css" in ctype:
                found.append((uri, ctype, record.reader.read().decode("utf-8", "replace")))
    return found


@pytest.mark.skipif(not IANA.exists(), reason="pywb fixture not available")
def test_iana_archive() -> None:
    payloads = _iana_payloads()
    assert sum("text/html" in c for _, c, _ in payloads) >= 10
    assert sum("text/css" in c for _, c, _ in payloads) >= 2
    for uri, ctype, text in payloads:
        r = UrlRewriter("/iana/", "20140126200624", uri)
        if "text/css" in ctype:
            out = rewrite_css(text, r)
            assert out.count("/iana/20140126200624im_/") == text.count("url(")
            continue
        out = rewrite_html(text, r, "<!--HEAD-->", "<!--BODY-->")
        assert out.count("<!--HEAD-->") == 1
        assert out.count("<!--BODY-->") == 1
        # fidelity: with an identity rewriter the page comes back unchanged
        assert rewrite_html(text, IdentityRewriter("/", "1", uri)) == text
        # streaming in small chunks gives the same result
        h = HtmlRewriter(r, "<!--HEAD-->", "<!--BODY-->")
        chunks = [h.feed(text[i : i + 61]) for i in range(0, len(text), 61)]
        assert "".join(chunks) + h.close() == out
        markup = re.sub(r"<!--.*?-->|<script.*?</script>", "", out, flags=re.S | re.I)
        for m in URL_ATTR.finditer(markup):
            value = next(g for g in m.groups() if g is not None).strip()
            ok = value.startswith(("/iana/", "#")) or (
                OTHER_SCHEME.match(value) is not None
                and not value.lower().startswith(("http:", "https:"))
            )
            assert ok, (uri, value)


def test_malformed_marked_sections_do_not_stop_rewriting() -> None:
    # the standard library tokenizer raises AssertionError on these
    html = "<p><![]><a href=x><![bogus[ y ]]><img src=z>"
    assert rw(html) == f"<p><![]><a href={P}/{E}/dir/x><![bogus[ y ]]><img src={P}im_/{E}/dir/z>"


class ExplodingRewriter(UrlRewriter):
    def rewrite(self, url: str, modifier: str = "") -> str:
        if "boom" in url:
            raise RuntimeError("bug")
        return super().rewrite(url, modifier)


def test_unexpected_error_passes_the_rest_through(caplog: pytest.LogCaptureFixture) -> None:
    r = HtmlRewriter(ExplodingRewriter("/w/", "1", E + "/"), H, B)
    out = r.feed('<head><a href="/ok"><img src="/boom"><a href="/later">')
    out += r.feed('<a href="/after">') + r.close()
    assert out == (
        f'<head>{H}{B}<a href="/w/1/{E}/ok"><img src="/boom"><a href="/later"><a href="/after">'
    )
    assert "HTML rewriting failed" in caplog.text


def test_attribute_values_are_located_like_browsers_do() -> None:
    # "==" makes the value start with "=" (a parse error browsers tolerate)
    assert rw("<a href==x>") == f"<a href={P}/{E}/dir/=x>"
    # only ASCII whitespace separates attributes
    assert rw('<a title=x\u00a0href="/y">') == '<a title=x\u00a0href="/y">'
