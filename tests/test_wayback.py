import pytest

from vellum.replay.urlrewriter import UrlRewriter
from vellum.urls.wayback import ReplayTarget, parse_replay_path, replay_path


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("20151229231410/http://x.org/a?b=1", ReplayTarget("http://x.org/a?b=1", "20151229231410")),
        ("2015im_/https://x.org/y", ReplayTarget("https://x.org/y", "2015", "im_")),
        ("2015id_/http://x.org/", ReplayTarget("http://x.org/", "2015", "id_")),
        ("*/http://x.org/", ReplayTarget("http://x.org/", "", "", listing=True)),
        ("2015*/http://x.org/", ReplayTarget("http://x.org/", "2015", "", listing=True)),
        ("http://x.org/", ReplayTarget("http://x.org/")),
        ("http:/x.org/", ReplayTarget("http://x.org/")),
        ("x.org/a+b//c", ReplayTarget("http://x.org/a+b//c")),
        ("//x.org/", ReplayTarget("http://x.org/")),
        (
            "20151229231410/http://x.org/a%20b?q=a+b",
            ReplayTarget("http://x.org/a%20b?q=a+b", "20151229231410"),
        ),
    ],
)
def test_parse_replay_path(rest: str, expected: ReplayTarget) -> None:
    assert parse_replay_path(rest) == expected


def test_replay_path() -> None:
    assert replay_path("unesco", "20151229231410", "http://x/", "im_") == (
        "/unesco/20151229231410im_/http://x/"
    )


@pytest.mark.parametrize(
    ("found", "modifier", "expected"),
    [
        ("b.html", "", "/c/20151229231410/http://site.org/a/b.html"),
        ("/img/l.png", "im_", "/c/20151229231410im_/http://site.org/img/l.png"),
        ("//cdn.org/x.js", "js_", "/c/20151229231410js_/http://cdn.org/x.js"),
        ("https://other.org/", "", "/c/20151229231410/https://other.org/"),
        ("#top", "", "#top"),
        ("mailto:a@b.org", "", "mailto:a@b.org"),
        ("javascript:void(0)", "", "javascript:void(0)"),
        ("data:image/png;base64,AA==", "im_", "data:image/png;base64,AA=="),
        ("", "", ""),
        ("/c/20151229231410/http://site.org/", "", "/c/20151229231410/http://site.org/"),
    ],
)
def test_url_rewriter(found: str, modifier: str, expected: str) -> None:
    rewriter = UrlRewriter("/c/", "20151229231410", "http://site.org/a/index.html")
    assert rewriter.rewrite(found, modifier) == expected


def test_url_rewriter_base() -> None:
    rewriter = UrlRewriter("/c/", "1", "http://site.org/a/").with_base("/other/")
    assert rewriter.rewrite("x.png") == "/c/1/http://site.org/other/x.png"
