"""CDX server API parameters and output formats (no index needed)."""

from __future__ import annotations

import json

import pytest

from vellum.errors import InvalidInput
from vellum.export.cdx_api import format_lines, parse_filter, parse_query
from vellum.index.cdxj import Capture
from vellum.index.query import CdxQuery, FieldFilter, MatchType

CAPTURE = Capture(
    urlkey="org,example)/a",
    timestamp="20151229231410",
    url="http://example.org/a",
    mime="text/html",
    status="200",
    digest="G7HRM7BGOKSKMSXZAHMUQTTV53QOFSMK",
    length=1228,
    offset=784,
    filename="x.warc.gz",
)


def q(**params: str | list[str]) -> tuple[CdxQuery, str]:
    return parse_query({k: v if isinstance(v, list) else [v] for k, v in params.items()})


def test_defaults_and_wildcards() -> None:
    query, output = parse_query({"url": ["example.org/a"]})
    assert (query.url, query.match_type, output) == ("example.org/a", MatchType.EXACT, "cdxj")
    prefix, _ = q(url="http://example.org/path/*")
    assert prefix.url == "http://example.org/path/"
    assert prefix.match_type is MatchType.PREFIX
    domain, _ = q(url="*.example.org")
    assert domain.url == "example.org" and domain.match_type is MatchType.DOMAIN
    host, _ = q(url="example.org", matchType="host")
    assert host.match_type is MatchType.HOST


def test_all_parameters() -> None:
    query, output = q(
        url="example.org",
        **{"from": "2014"},
        to="2015",
        sort="reverse",
        limit="5",
        fl="urlkey,timestamp",
        filter=["=mime:text/html", "!~status:5.."],
        collapseTime="8",
        output="json",
    )
    assert output == "json"
    assert query.from_ts == "2014" and query.to_ts == "2015"
    assert query.reverse and query.limit == 5 and query.collapse_time == 8
    assert query.fields == ("urlkey", "timestamp")
    assert query.filters == (
        FieldFilter("mime", "text/html", "exact", False),
        FieldFilter("status", "5..", "regex", True),
    )
    closest, _ = q(url="example.org", sort="closest", closest="20150101")
    assert closest.closest == "20150101"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "url parameter is required"),
        ({"url": "x", "matchType": "fuzzy"}, "matchType must be one of"),
        ({"url": "x", "from": "2015-01"}, "from must be a timestamp"),
        ({"url": "x", "limit": "-1"}, "limit must be a positive"),
        ({"url": "x", "output": "xml"}, "output must be one of"),
        ({"url": "x", "fl": "urlkey,size"}, "unknown field in fl: size"),
        ({"url": "x", "filter": "nocolon"}, "invalid filter"),
        ({"url": "x", "filter": "~url:("}, "invalid regular expression"),
        ({"url": "x", "sort": "closest"}, "sort=closest needs closest"),
        ({"url": "x/*", "sort": "closest", "closest": "2015"}, "needs a limit"),
    ],
)
def test_bad_parameters(params: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_query({k: [v] for k, v in params.items()})


def test_filter_forms() -> None:
    assert parse_filter("mime:html") == FieldFilter("mime", "html", "contains", False)
    assert parse_filter("!=status:200") == FieldFilter("status", "200", "exact", True)
    assert parse_filter("~url:.*\\.php$") == FieldFilter("url", ".*\\.php$", "regex", False)


def test_output_formats() -> None:
    (cdxj,) = format_lines([CAPTURE], "cdxj")
    assert cdxj == CAPTURE.to_line() + "\n"
    (line,) = format_lines([CAPTURE], "json")
    assert json.loads(line) == {
        "urlkey": "org,example)/a",
        "timestamp": "20151229231410",
        "url": "http://example.org/a",
        "mime": "text/html",
        "status": "200",
        "digest": "G7HRM7BGOKSKMSXZAHMUQTTV53QOFSMK",
        "length": "1228",
        "offset": "784",
        "filename": "x.warc.gz",
    }
    (text,) = format_lines([CAPTURE], "text", fields=["urlkey", "timestamp", "status"])
    assert text == "org,example)/a 20151229231410 200\n"
    (some,) = format_lines([CAPTURE], "cdxj", fields=["urlkey", "timestamp", "url"])
    assert some == 'org,example)/a 20151229231410 {"url": "http://example.org/a"}\n'
    (link,) = format_lines([CAPTURE], "link", replay_prefix="http://h/c/")
    assert link == (
        '<http://h/c/20151229231410/http://example.org/a>; rel="memento"; '
        'datetime="Tue, 29 Dec 2015 23:14:10 GMT"\n'
    )
