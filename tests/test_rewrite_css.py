"""Tests for vellum.replay.rewrite.css."""

from __future__ import annotations

import pytest

from vellum.replay.rewrite.css import rewrite_css
from vellum.replay.urlrewriter import UrlRewriter
from vellum.urls.embedded import css_unescape, css_urls

R = UrlRewriter("/web/", "20240101000000", "http://example.com/css/site.css")
IM = "/web/20240101000000im_/"
CS = "/web/20240101000000cs_/"


@pytest.mark.parametrize(
    ("css", "expected"),
    [
        # url() in every form
        ("a{background:url(bg.png)}", f"a{{background:url({IM}http://example.com/css/bg.png)}}"),
        (
            "a{background:url('bg.png')}",
            f"a{{background:url('{IM}http://example.com/css/bg.png')}}",
        ),
        (
            'a{background:url("bg.png")}',
            f'a{{background:url("{IM}http://example.com/css/bg.png")}}',
        ),
        (
            "a{background:URL(  /bg.png  ) no-repeat}",
            f"a{{background:URL(  {IM}http://example.com/bg.png  ) no-repeat}}",
        ),
        (
            'a{background:url( "../i/a b.png" )}',
            f'a{{background:url( "{IM}http://example.com/i/a b.png" )}}',
        ),
        (
            "a{background:url(//cdn.example.net/x.png)}",
            f"a{{background:url({IM}http://cdn.example.net/x.png)}}",
        ),
        # @import, both forms, keeps media queries and layers
        ('@import "base.css";', f'@import "{CS}http://example.com/css/base.css";'),
        ("@import 'base.css' screen;", f"@import '{CS}http://example.com/css/base.css' screen;"),
        (
            "@import url(base.css) print;",
            f"@import url({CS}http://example.com/css/base.css) print;",
        ),
        (
            '@IMPORT URL("/base.css") layer(x);',
            f'@IMPORT URL("{CS}http://example.com/base.css") layer(x);',
        ),
        # image-set, with strings and url(), prefixed or not; type() strings are not URLs
        (
            'a{background-image:image-set("a.png" 1x, "a-2x.png" 2x)}',
            f'a{{background-image:image-set("{IM}http://example.com/css/a.png" 1x,'
            f' "{IM}http://example.com/css/a-2x.png" 2x)}}',
        ),
        (
            "a{b:-webkit-image-set(url(a.png) 1x, 'b.avif' type(\"image/avif\") 2x)}",
            f"a{{b:-webkit-image-set(url({IM}http://example.com/css/a.png) 1x,"
            f" '{IM}http://example.com/css/b.avif' type(\"image/avif\") 2x)}}",
        ),
        # @font-face: several URLs on one line
        (
            "@font-face{src:url(f.woff2) format('woff2'),url(f.woff) format('woff')}",
            f"@font-face{{src:url({IM}http://example.com/css/f.woff2) format('woff2'),"
            f"url({IM}http://example.com/css/f.woff) format('woff')}}",
        ),
    ],
)
def test_rewrites(css: str, expected: str) -> None:
    assert rewrite_css(css, R) == expected


@pytest.mark.parametrize(
    "css",
    [
        "",
        "a { color: red }\n/* nothing */\n",
        "/* url(comment.png) @import 'x.css'; */ a{color:red}",
        'a::before{content:"url(not-a-url.png)"}',
        "a::before{content:'@import \"x.css\"'}",
        "a{background:url(data:image/png;base64,iVBORw0KGgo=)}",
        "a{background:url('#svg-filter')}",
        "a{background:url()}",
        "a{background:url(  )}",
        "a{behavior:url(javascript:alert(1))}",
        "a{b:myurl(x.png)}",
        "a{b:url(a b.png)}",  # invalid unquoted url(): left alone
        "/* unterminated comment url(x.png)",
        'a{content:"unterminated url(x.png)\n}',
    ],
)
def test_unchanged(css: str) -> None:
    assert rewrite_css(css, R) == css


def test_preserves_everything_else() -> None:
    css = (
        "/* header */\n@charset \"utf-8\";\n\n  @import url('a.css')  ;\n"
        'body {\n\tbackground :  url( "b.png" )  #fff ;\n}\n'
    )
    out = rewrite_css(css, R)
    assert out == (
        '/* header */\n@charset "utf-8";\n\n  @import url(\''
        + CS
        + "http://example.com/css/a.css')  ;\n"
        'body {\n\tbackground :  url( "' + IM + 'http://example.com/css/b.png" )  #fff ;\n}\n'
    )


def test_already_rewritten_is_left_alone() -> None:
    css = f"a{{background:url({IM}http://example.com/x.png)}}"
    assert rewrite_css(css, R) == css


def test_escapes() -> None:
    assert css_unescape(r"a\)b") == "a)b"
    assert css_unescape(r"\31 0.png") == "10.png"
    assert css_unescape("\\2F x") == "/x"
    css = r"a{background:url(we\(ird\).png)}"
    assert [css[t.start : t.end] for t in css_urls(css)] == [r"we\(ird\).png"]
    # the rewritten URL is escaped again for its context
    assert rewrite_css(css, R) == rf"a{{background:url({IM}http://example.com/css/we\(ird\).png)}}"
    css = 'a{background:url("q\\"uote.png")}'
    assert rewrite_css(css, R) == f'a{{background:url("{IM}http://example.com/css/q\\"uote.png")}}'


def test_css_urls_kinds_and_order() -> None:
    css = "@import 'a.css'; b{c:url(d.png)} e{f:image-set('g.png' 1x)}"
    assert [(css[t.start : t.end], t.kind, t.quote) for t in css_urls(css)] == [
        ("a.css", "import", "'"),
        ("d.png", "url", ""),
        ("g.png", "url", "'"),
    ]


def test_invalid_url_does_not_raise() -> None:
    css = "a{background:url(http://[::1/x.png)}"
    assert rewrite_css(css, R) == css
