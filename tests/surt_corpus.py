"""URLs for checking `vellum.urls.surt` against the `surt` package.

Shared by tests/test_surt.py and bench/bench_surt.py. `generated_urls` is
deterministic for a given seed; `fixture_urls` reads the real WARCs in
../shared/fixtures (target URIs plus the links found in their HTML).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from urllib.parse import urljoin

REPO = Path(__file__).resolve().parent.parent
FIXTURES = next(
    (p for p in (REPO.parent / "shared" / "fixtures", Path("/work/shared/fixtures")) if p.is_dir()),
    REPO.parent / "shared" / "fixtures",
)

SCHEMES = [
    "http://", "https://", "", "", "HTTP://", "Https://", "hTTp://", "ftp://", "FTP://",
    "dns:", "DNS:", "//", "http:///", "http:////", "http:", "https:/", "http://http://",
    "https://http://", "http://https://", "file:///", "ws://", "mailto:", "urn:", "data:",
    "javascript:", " http://", "\thttp://", "http\n://", "screenshot:", "x-y.z+1://",
]  # fmt: skip
USERINFO = ["", "", "", "", "user@", "user:pass@", "us%40er:p%3Ass@", ":@", "@", "a@b@"]
FIXED_HOSTS = [
    "example.com", "www.example.com", "WWW.Example.COM", "www2.example.org", "www1234.com",
    "wwwx.example.com", "www.www.example.com", "www.", "www", "ww.example.com", "www.com",
    "bücher.example", "BÜCHER.Example", "www.bücher.example", "xn--bcher-kva.example",
    "b%C3%BCcher.example", "b%c3%bccher.example", "例え.テスト", "faß.de", "ex%41mple.com",
    "example.com.", "example..com", ".example.com", "bücher..example", "a...b.com",
    "127.0.0.1", "1.2.3.4", "1.2", "1.2.3", "017.0.0.1", "0.1.2.777", "0.1.2.3", "00.1",
    "3232235777", "4294967296", "99999999999", "0", "08.1.1.1", "1.010.0.1", "999.1.1.1",
    "1.2.3.4.5", "1.255.255.256", "0x7f.0.0.1", "1.2.3.4%0a", "[::1]", "[2001:DB8::1]",
    "[fe80::1%25eth0]", "[::ffff:1.2.3.4]", "foo[bar", "localhost", "LOCALHOST", "", "%",
    "%zz.com", "a_b.example.com", "ex ample.com", "ex%2fample.com", "ex%20ample.com",
    "www.example.com%2e", "-bad-.com", "a" * 64 + ".com", "ü" * 40 + ".com", "%ff.com",
    "\u3002example.com", "example\uff0ecom", "☃.net", "www.☃.net", "ａｂｃ.com",
]  # fmt: skip
PORTS = ["", "", "", "", ":80", ":443", ":8080", ":", ":0", ":00080", ":65535", "::"]
FIXED_PATHS = [
    "", "/", "/a/b/", "//a//b", "/./a/../b", "/../x", "/../../x/..", "/a/./b/.", "/a/b/..",
    "/A%2FB", "/%7Efoo", "/%7efoo", "/caf%C3%A9", "/café", "/a b", "/a%20b", "/a+b",
    "/x;jsessionid=0123456789ABCDEF0123456789ABCDEF", "/%25", "/%2541", "/%zz", "/%", "/%%41",
    "/(S(abcdefghijklmnopqrstuvwx))/page.aspx", "/a/(abcdefghijklmnopqrstuvwx)/X.ASPX?q",
    "/(A(abcdefghijklmnopqrstuvwx)S(abcdefghijklmnopqrstuvwx))/d/p.aspx", "/%2e%2e/x",
    "/foo%23bar", "/foo%3Fbar", "/\x01\x7f", "/ü", "/%FF%FE", "/%C3", "/index.html",
    "/Index.HTML/", "/a//", "/.", "/..", "/a/%2E/b", "/%E2%98%83", "/\\back\\slash",
    "/~user/", "/a/b/c/d/e/f/g/h/../../..", "/x" * 300, "/%2F%2F", "/a%00b", "/?/",
]  # fmt: skip
FIXED_QUERIES = [
    "", "", "", "?", "?a=1", "?b=2&a=1", "?&&", "?&", "?a&a=&a=1&A=2", "?=v", "?a=1=2",
    "?PHPSESSID=0123456789abcdef0123456789abcdef", "?x=1&sid=0123456789ABCDEFabcdef0123456789",
    "?jsessionid=0123456789abcdef0123456789abcdef&z=1",
    "?a=1&jsessionid=0123456789abcdef0123456789abcdef",
    "?ASPSESSIONIDQQGGGNCU=ABCDEFGHIJKLMNOPQRSTUVWX&b=1", "?CFID=123&CFTOKEN=456&z=1",
    "?z=1&cfid=1&cftoken=2", "?type=a+b+%26+c&grape=wine", "?q=%2541", "?q=caf%C3%A9",
    "?q=ü", "?x=%zz", "?x=%", "?q=a%20b+c", "?q=%23frag", "?a=%3D&b=%26", "?Z=1&z=1&_=3",
    "?sid=short", "?sid=0123456789abcdef0123456789abcdef0", "?q=\x00", "?q=?", "?q=" + "x" * 3000,
]  # fmt: skip
PARAM_NAMES = ["a", "b", "B", "id", "q", "sort", "page", "utm_source", "x%26y", "sid", "PHPSESSID",
               "CFID", "", "a+b", "ü"]  # fmt: skip
PARAM_VALUES = ["", "1", "2", "abc", "a+b", "%26", "%3D", "%2526", "ü", "x y"]
FRAGMENTS = ["", "", "", "#", "#frag", "#a?b=1", "#%20", "#ü", "#/path"]
RAW_URLS = [
    "", " ", "?", "#", "/", "//", "///", "http://", "http:///", "https://", "dns:", "filedesc:",
    "filedesc://x.arc.gz 1.2.3.4 20240101000000", "dns:www.example.com", "mailto:a@b.c",
    "javascript:alert(1)", "data:text/plain,hi", "about:blank", "localhost:8080/x",
    "example.com:8080/x", "www.example.com/a", "<http://example.com/>", "http://a.com/a b/c d",
    "http:example.com", "http:/example.com", "https:example.com/x", "http://@", "http://:80",
    "http://:80/x", "http://[]/", "http://[::1", "http://user@/x/y", "%68ttp://x.com/",
    "http%3A%2F%2Fexample.com%2F", "HtTpS://WwW.ExAmPlE.CoM/PaTh?QuErY#FrAg", "\x0bhttp://x.y/",
    "http://x.y/\x0c", "http://x.y/\u00a0", "\u00a0http://x.y/", "http://1.2.3.4:8080",
    "https://www1234.com/", "http://www.Example.com:8080/A/?b=2&a=1#f", "http://example.com/foo/",
]  # fmt: skip

_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PATH_CHARS = _ALPHABET + "._~!$&'()*+,;=:@ \"<>[]{}|^`%üé€\x00\x1f"
_HEX = "0123456789abcdef"
_NON_ASCII = "üéßàøñçå中文日本語Россияא☃😀\u200b"


def _label(rng: random.Random) -> str:
    n = rng.choice([1, 2, 3, 5, 8, 12])
    text = "".join(rng.choice(_ALPHABET) for _ in range(n))
    if rng.random() < 0.08:
        text += rng.choice(_NON_ASCII)
    if rng.random() < 0.03:
        text = text.replace(text[0], f"%{ord(text[0]):02X}", 1)
    return text


def _number(rng: random.Random) -> str:
    forms = [str(rng.randrange(256)), str(rng.randrange(70000)), "0777", f"0{rng.randrange(100)}"]
    return rng.choice([*forms, "00"])


def _host(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(FIXED_HOSTS)
    if roll < 0.45:  # numbers that may or may not read as IPv4
        parts = rng.choice([1, 2, 3, 4, 4, 4, 5])
        return ".".join(_number(rng) for _ in range(parts))
    prefix = rng.choice(["", "", "www.", "WWW.", "www2.", "www10.", "w.", "www-1."])
    tld = rng.choice(["com", "org", "de", "co.uk", "example", "COM", "xn--p1ai", "рф"])
    labels = [_label(rng) for _ in range(rng.choice([1, 1, 2, 3]))]
    return prefix + ".".join(labels) + "." + tld + rng.choice(["", "", "", "."])


def _path(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(FIXED_PATHS)
    segments = []
    for _ in range(rng.randrange(5)):
        roll = rng.random()
        if roll < 0.1:
            segments.append(rng.choice([".", "..", "", "%2E", "%2e%2E"]))
        elif roll < 0.2:
            segments.append(f"%{rng.randrange(256):02{rng.choice('Xx')}}")
        else:
            n = rng.choice([1, 3, 6, 10])
            segments.append("".join(rng.choice(_PATH_CHARS) for _ in range(n)))
    tail = rng.choice(["", "", "/", ".html", ".aspx", ";jsessionid=ABC123"])
    return "/" + "/".join(segments) + tail


def _query(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4:
        return rng.choice(FIXED_QUERIES)
    params = []
    for _ in range(rng.randrange(1, 6)):
        name = rng.choice(PARAM_NAMES)
        value = rng.choice([*PARAM_VALUES, "".join(rng.choice(_HEX) for _ in range(32))])
        params.append(rng.choice([f"{name}={value}", name, f"{name}="]))
    return "?" + rng.choice(["&", "&", "&&", ";"]).join(params)


def generated_hosts(count: int = 2_000, seed: int = 11) -> list[str]:
    """`count` host names and addresses of the kinds `generated_urls` uses."""
    rng = random.Random(seed)
    return [_host(rng) for _ in range(count)]


def generated_urls(count: int = 12_000, seed: int = 20240101) -> list[str]:
    """`count` varied URLs (plus the fixed odd ones), the same for the same seed."""
    rng = random.Random(seed)
    urls = list(RAW_URLS)
    for _ in range(count):
        url = (
            rng.choice(SCHEMES)
            + rng.choice(USERINFO)
            + _host(rng)
            + rng.choice(PORTS)
            + _path(rng)
            + _query(rng)
            + rng.choice(FRAGMENTS)
        )
        if rng.random() < 0.02:  # mangle: drop a random slice
            i = rng.randrange(len(url) + 1)
            url = url[:i] + url[i + rng.randrange(1, 6) :]
        urls.append(url)
    return urls


# Fragments that stress the parser when glued together at random.
PIECES = [
    "http://", "https://", "HTTP://", "//", "/", "/", ":", "@", "[", "]", "?", "&", "=", "#", "%",
    "%2", "%25", "%41", "%2e", "%2F", "%C3%BC", "%ff", ".", "..", "./", "../", "www.", "www1.",
    "www", "0", "1", "7", "9", "255", "256", "08", "0x", "a", "B", "z", "ü", "☃", " ", "\t", "\n",
    "\x0b", "\x00", "\\", ";", "+", "jsessionid=", "sid=", "phpsessid=", "cfid=x&cftoken=y",
    "aspsessionidabcdefgh=", "0123456789abcdef0123456789abcdef", "abcdefghijklmnopqrstuvwx", "(",
    ")", "(S(", ".aspx", "dns:", "filedesc", "mailto:", "80", "443", "xn--", "。", "ß", "\udcff",
]  # fmt: skip


def garbage_urls(count: int = 5_000, seed: int = 7) -> list[str]:
    """`count` strings of URL-ish fragments glued at random (many are not URLs at all)."""
    rng = random.Random(seed)
    return ["".join(rng.choices(PIECES, k=rng.randrange(1, 25))) for _ in range(count)]


def _warc_files(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        if path.name.endswith((".warc", ".warc.gz")):
            yield path


_LINK = re.compile(rb"""(?:href|src|action)\s*=\s*["']([^"'<>]{1,2000})["']""", re.I)


def fixture_urls(directory: Path = FIXTURES) -> list[str]:
    """Target URIs of every record in the fixture WARCs, and the links in their HTML."""
    from fastwarc.warc import ArchiveIterator

    urls: list[str] = []
    for path in _warc_files(directory):
        try:
            with path.open("rb") as stream:
                for record in ArchiveIterator(stream, parse_http=False):
                    target = record.headers.get("WARC-Target-URI")
                    if not target:
                        continue
                    urls.append(target)
                    body = record.reader.read(2_000_000)
                    if b"<html" in body[:5000].lower():
                        for link in _LINK.findall(body):
                            text = link.decode("utf-8", "replace")
                            urls.append(text)
                            with suppress(ValueError):  # e.g. an unbalanced '[' in a host
                                urls.append(urljoin(target.strip("<>"), text))
        except Exception:  # a broken fixture: keep what was read before the damage
            continue
    return urls
