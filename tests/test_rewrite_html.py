"""Tests for vellum.replay.rewrite.html."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from vellum.replay.rewrite import HtmlRewriter, rewrite_css, rewrite_html
from vellum.replay.rewrite.html import (
    escape_attr,
    meta_refresh_url_span,
    srcset_url_spans,
    unescape_attr,
)
from vellum.replay.urlrewriter import UrlRewriter

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
        f'<link rel=preload as=image imagesrcset="{P}im_/{E}/dir/a.png 1x, {P}im_/{E}/dir/b.png 2x">',
    ),
    ('<img src="i.png" alt="">', f'<img src="{P}im_/{E}/dir/i.png" alt="">'),
    ('<img src="i.png" />', f'<img src="{P}im_/{E}/dir/i.png" />'),
    (
        '<img srcset="a.png 1x, b.png 2x" src=a.png>',
        f'<img srcset="{P}im_/{E}/dir/a.png 1x, {P}im_/{E}/dir/b.png 2x" src={P}im_/{E}/dir/a.png>',
    ),
    (
        '<img srcset="a.png,b.png 480w,\n  c.png 2x">',
        f'<img srcset="{P}im_/{E}/dir/a.png,{P}im_/{E}/dir/b.png 480w,\n  {P}im_/{E}/dir/c.png 2x">',
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
        f"<style>@import '{P}cs_/{E}/dir/i.css';\nbody{{background:url({P}im_/{E}/dir/b.png)}}</style>",
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
        '<meta charset=utf-8><meta http-equiv="Content-Security-Policy" content="default-src \'self\'"><p>',
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
    # unquoted value that needs quotes after rewriting
    ("<a href=/a?q=x>", f"<a href={P}/{E}/a?q=x>"),
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
        f"<!DOCTYPE html><html><head>{H}<title>t</title></head><body class=x>{B}<p>hi</body></html>",
    ),
    (
        "<!DOCTYPE html>\n<html lang=en>\n<HEAD profile=x>\n<body>",
        f"<!DOCTYPE html>\n<html lang=en>\n<HEAD profile=x>{H}\n<body>{B}",
    ),
    # no <head>: before the first tag that is not <html>; no <body>: before body content
    (
        "<!-- c --><html><title>t</title><link rel=x href=y><div>d</div>",
        f"<!-- c --><html>{H}<title>t</title><link rel=x href=y>{B}<div>d</div>",
    ),
    ("<html><body>x</body></html>", f"<html>{H}<body>{B}x</body></html>"),
    ("<p>para", f"{H}{B}<p>para"),
    # text starts the body too
    ("<title>t</title>\n  Hello <b>x</b>", f"<title>t</title>\n  {H}{B}Hello <b>x</b>"),
    [0],
]
