"""vellum.urls.surt must give the same keys as the `surt` package (pywb, cdxj-indexer)."""

from __future__ import annotations

from pathlib import Path

import pytest
import surt as peer  # the test-only peer; Vellum never imports it

from tests.surt_corpus import fixture_urls, garbage_urls, generated_hosts, generated_urls
from vellum.urls.surt import NO_KEY, surt, surt_host

FILEDESC = "filedesc:/x/y.arc.gz 0.0.0.0 20240101000000 text/plain 200"

# (url, key): checked against literals, so they mean something without the peer.
# Several are the package's quirks, kept on purpose so our keys match its keys.
EXAMPLES = [
    # The two outputs verified in STANDARDS.md §2.
    ("http://www.Example.com:8080/A/?b=2&a=1#f", "com,example:8080)/a?a=1&b=2"),
    ("http://example.com/foo/", "com,example)/foo"),
    # Not really URLs.
    ("", "-"),
    (FILEDESC, FILEDESC),  # an ARC file's header line is its own key
    ("dns:www.Example.com", "dns:www.example.com"),
    ("dns://www.example.com/", "com,example,www)/"),  # no www stripping for dns
    ("DNS:www.example.com", "DNS:www.example.com"),  # the scheme keeps its case
    ("mailto:Someone@Example.COM", "mailto:someone@example.com"),
    ("localhost:8080/x", "localhost:8080/x"),  # `localhost` is taken as the scheme
    ("<http://example.com/>", "<http)/example.com/>"),
    ("http://", "http:"),
    ("http:///", "http:/"),
    # Scheme, whitespace, repeated schemes, missing slashes.
    ("example.com/path", "com,example)/path"),
    ("//example.com/x", "com,example)/x"),
    ("http://http://example.com/", "com,example)/"),
    ("https://http://example.com/", "com,example)/"),
    ("http:////example.com/x", "com,example)/x"),
    ("  http://example.com/\n", "com,example)/"),
    ("http://exa\tmple.com/", "com,example)/"),
    ("ftp://ftp.Example.com/Pub/", "com,example,ftp)/pub"),
    ("http://EXAMPLE.com/A?B=C", "com,example)/a?b=c"),
    # Ports and userinfo.
    ("https://example.com:443/", "com,example)/"),
    ("http://example.com:443/", "com,example:443)/"),
    ("https://example.com:80/", "com,example:80)/"),
    ("HTTP://EXAMPLE.COM:80/", "com,example)/"),
    ("http://example.com:0/", "com,example)/"),
    ("http://example.com:/", "com,example)/"),
    ("http://user:pass@www.example.com/", "com,example)/"),
    ("http://:8080/x", "x:8080)/"),  # empty host: the first path segment stands in
    ("http://user@/x/y", "x)/y"),
    # IP addresses.
    ("http://127.0.0.1:8080/x", "1,0,0,127:8080)/x"),
    ("http://3232235777/", "1,1,168,192)/"),
    ("http://017.0.0.1/", "1,0,0,15)/"),  # octal
    ("http://1.2/", "2,0,0,1)/"),
    ("http://1.2.3.256/", "256,3,2,1)/"),  # not an address
    ("http://[::1]:8080/", "::1:8080)/"),
    ("http://[2001:DB8::1]/", "2001:db8::1)/"),
    ("http://foo[bar/x", "bar)/x"),
    # Host names.
    ("http://bücher.example/", "example,xn--bcher-kva)/"),
    ("http://b%C3%BCcher.example/", "example,xn--bcher-kva)/"),
    ("http://bücher..example/", "example,b%c3%bccher)/"),  # IDNA fails on the empty label
    ("http://example.com./", "com,example)/"),
    ("http://example..com/", "com,example)/"),
    ("https://www1234.com/", "com)/"),
    ("http://www.www.example.com/", "com,example,www)/"),  # only one www goes
    ("http://www2.example.com/", "com,example)/"),
    ("http://wwwx.example.com/", "com,example,wwwx)/"),
    # Paths.
    ("http://example.com/a/./b/../c//d/", "com,example)/a/c/d"),
    ("http://example.com/../x", "com,example)/../x"),
    ("http://example.com/%7Efoo/%7ebar", "com,example)/~foo/~bar"),
    ("http://example.com/a%2Fb", "com,example)/a/b"),
    ("http://example.com/caf%C3%A9", "com,example)/caf%c3%a9"),
    ("http://example.com/café", "com,example)/caf%c3%a9"),
    ("http://example.com/a b", "com,example)/a%20b"),
    ("http://example.com/%2541", "com,example)/a"),  # unescaped repeatedly
    ("http://example.com/%zz", "com,example)/%25zz"),
    ("http://example.com/%FF", "com,example)/%ff"),
    ("http://example.com/X;jsessionid=ABC", "com,example)/x;jsessionid=abc"),
    ("http://example.com/(S(abcdefghijklmnopqrstuvwx))/page.aspx", "com,example)/page.aspx"),
    ("http://example.com/" + "a" * 5000, "com,example)/" + "a" * 5000),
    # Queries and fragments.
    ("http://example.com/?", "com,example)/"),
    ("http://example.com/#frag", "com,example)/"),
    ("http://example.com/?&&", "com,example)/?&&"),
    ("http://example.com/?b&a=&a", "com,example)/?a&a=&b"),
    ("http://example.com/?q=a%20b", "com,example)/?q=a%20b"),
    ("http://example.com/?PHPSESSID=0123456789abcdef0123456789abcdef&x=1", "com,example)/?x=1"),
    ("http://example.com/?x=1&sid=0123456789abcdef0123456789abcdef", "com,example)/?&x=1"),
    ("http://example.com/?ASPSESSIONIDQQGGGNCU=ABCDEFGHIJKLMNOPQRSTUVWX&b=1", "com,example)/?b=1"),
    ("http://example.com/?CFID=123&CFTOKEN=456&z=1", "com,example)/?z=1"),
    # surt#20: the escaped '&' splits the value (STANDARDS.md §2, verified).
    ("http://example.com/?type=a+b+%26+c&grape=wine", "com,example)/?+c&grape=wine&type=a+b+"),
]

# Where we DELIBERATELY differ: only inputs on which the package raises.
DELIBERATE_DIFFERENCES = [
    (" ", "-", AttributeError),  # blank after stripping
    ("http://example.com:abc/", "com,example:abc)/", ValueError),  # port not a number
    ("http://example.com:99999/", "com,example:99999)/", ValueError),  # port over 65535
    ("http://" + "4" * 5000 + "/", "28,199,113,28)/", ValueError),  # int() 4300-digit limit
    ("http://\ud800.example/", "example,%ed%a0%80)/", UnicodeEncodeError),  # lone surrogate
    ("http://\udcff.example/", "example,%ff)/", UnicodeEncodeError),  # surrogateescape'd byte
]


@pytest.mark.parametrize(("url", "key"), EXAMPLES)
def test_examples(url: str, key: str) -> None:
    assert surt(url) == key


@pytest.mark.parametrize(("url", "key"), EXAMPLES)
def test_examples_match_the_package(url: str, key: str) -> None:
    assert peer.surt(url) == key


@pytest.mark.parametrize(("url", "key", "raised"), DELIBERATE_DIFFERENCES)
def test_we_return_a_key_where_the_package_raises(
    url: str, key: str, raised: type[Exception]
) -> None:
    assert surt(url) == key
    with pytest.raises(raised):
        peer.surt(url)


def _compare(urls: list[str]) -> tuple[int, list[str], list[str]]:
    """(number compared, mismatches, URLs the package fails on) over `urls`."""
    compared, mismatches, peer_fails = 0, [], []
    for url in urls:
        ours = surt(url)  # must never raise
        assert ours.isascii() or url.startswith("filedesc")
        try:
            expected = peer.surt(url)
        except (AttributeError, ValueError):  # see DELIBERATE_DIFFERENCES
            peer_fails.append(url)
            continue
        compared += 1
        if ours != expected:
            mismatches.append(f"{url!r}: ours {ours!r}, surt {expected!r}")
    return compared, mismatches, peer_fails


def test_generated_corpus_matches_the_package() -> None:
    urls = generated_urls() + garbage_urls()
    compared, mismatches, peer_fails = _compare(urls)
    assert not mismatches, f"{len(mismatches)} of {compared} differ:\n" + "\n".join(mismatches[:20])
    assert compared >= 10_000
    assert len(peer_fails) < len(urls) // 4  # bad ports, blanks; checked never to raise above


def test_fixture_warc_urls_match_the_package(fixtures_dir: Path) -> None:
    urls = fixture_urls(fixtures_dir)
    assert len(urls) > 1000  # target URIs and the links in the archived HTML
    compared, mismatches, peer_fails = _compare(urls)
    assert not mismatches, f"{len(mismatches)} of {compared} differ:\n" + "\n".join(mismatches[:20])
    assert not peer_fails


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("www.Example.com", "com,example"),
        ("example.com.", "com,example"),
        ("bücher.example", "example,xn--bcher-kva"),
        ("127.0.0.1", "1,0,0,127"),
        ("[::1]", "::1"),
        ("www1234.com", "com"),
        ("", ""),
        (".", ""),
    ],
)
def test_surt_host(host: str, key: str) -> None:
    assert surt_host(host) == key


def test_surt_host_agrees_with_surt() -> None:
    hosts = [h for h in generated_hosts() if "[" not in h or h.startswith("[")]
    for host in hosts:
        key = surt(f"http://{host}/")
        expected = key[: key.rindex(")")] if key.endswith(")/") else ""
        assert surt_host(host) == expected, host


def test_no_key() -> None:
    assert NO_KEY == "-" == surt("") == surt("\t \n")
