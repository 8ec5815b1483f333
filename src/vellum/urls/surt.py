"""SURT keys for the CDXJ index, equal to those of the Python `surt` package.

pywb and cdxj-indexer key their indexes with `surt.surt(url)` (defaults: the
Google canonicaliser, then the IA one, no scheme, no trailing comma). Vellum
must produce the same keys, so this module reproduces that behaviour exactly,
quirks included (see STANDARDS.md §2, "Pitfalls"), without the package.

The package works on the URL's UTF-8 bytes, because percent-decoding can give
bytes that are not UTF-8. We work on a "byte string": a `str` holding one
character per byte (the bytes decoded as Latin-1), because str operations are
several times faster than bytes ones in CPython. Unicode-aware methods
(`lower`, `isdigit`, `strip()` without arguments) are only used where the text
is ASCII. Every part of a key is percent-escaped before it is assembled, so a
key is ASCII and needs no decoding.
"""

from __future__ import annotations

import operator
import re
import socket

__all__ = ["NO_KEY", "surt", "surt_host"]

NO_KEY = "-"
"""The key of an empty (or blank) URL."""

# --- percent-encoding ------------------------------------------------------

# Escaping keeps printable ASCII except '#' and '%', and writes upper-case hex.
_ESCAPES = {c: f"%{c:02X}" for c in range(256) if not 0x21 <= c <= 0x7E or chr(c) in "#%"}
_ESCAPE_SEQ = re.compile(r"%[0-9A-Fa-f]{2}")
_HEX_DIGITS = "0123456789ABCDEFabcdef"
_DECODED = {f"%{hi}{lo}": chr(int(hi + lo, 16)) for hi in _HEX_DIGITS for lo in _HEX_DIGITS}


def _decode_one(match: re.Match[str]) -> str:
    return _DECODED[match.group()]


def _unescape(text: str) -> str:
    """Decode %XX escapes over and over until none is left: `%2541` → `A`."""
    while "%" in text:
        text, count = _ESCAPE_SEQ.subn(_decode_one, text)
        if not count:
            break
    return text


def _escape(text: str) -> str:
    """Percent-escape the bytes of a byte string that `_ESCAPES` names, '%' included."""
    if (
        text.isascii()
        and text.isprintable()  # for ASCII: no control characters
        and " " not in text
        and "#" not in text
        and "%" not in text
    ):
        return text
    return text.translate(_ESCAPES)


# --- host ------------------------------------------------------------------

# A host that needs no decoding, IDNA, dot tidying or escaping, and is no IPv4
# number (it ends in a non-digit).
_PLAIN_HOST = re.compile(r"[a-zA-Z0-9_-]+(?:\.[a-zA-Z0-9_-]+)*(?<![0-9])", re.ASCII)
_DOTTED_DECIMAL = re.compile(r"[1-9][0-9]*(?:\.[0-9]+){0,3}", re.ASCII)
_DOTTED_OCTAL = re.compile(r"0[0-7]*(?:\.[0-7]+){0,3}", re.ASCII)
_WWW_LABEL = re.compile(r"www[0-9]*\.", re.ASCII)


def _ipv4(host: str) -> str | None:
    """Dotted-quad form of a host written as a number, or None if it is not one.

    A bare number is taken modulo 2**32. Other digit-and-dot forms (`1.2`,
    octal `017.0.0.1`) are read as the C library's inet_aton reads them, which
    is what the package's gethostbyname_ex call amounts to, minus the DNS
    query it then makes for strings inet_aton rejects (`1.2.3.256`).
    """
    if host.isascii() and host.isdigit():
        # 10**32 is a multiple of 2**32, so the last 32 digits fix the value
        # mod 2**32 (and int() never meets its 4300-digit limit).
        return socket.inet_ntoa((int(host[-32:]) & 0xFFFFFFFF).to_bytes(4, "big"))
    if _DOTTED_DECIMAL.fullmatch(host) or _DOTTED_OCTAL.fullmatch(host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


# The stdlib IDNA codec costs 15-40 µs a host, more than the rest of a key, so
# its answers are kept; hosts repeat a lot in a crawl. Emptied when full.
_IDNA_MEMO: dict[str, str] = {}
_IDNA_MEMO_SIZE = 2048


def _idna(host: str) -> str:
    """IDNA 2003 form of a non-ASCII host (byte string), or the host if it has none."""
    ascii_host = _IDNA_MEMO.get(host)
    if ascii_host is None:
        try:
            utf8 = host.encode("latin-1").decode("utf-8", "ignore")
            ascii_host = utf8.encode("idna").decode("ascii")
        except ValueError:  # UnicodeError: empty, over-long or prohibited label
            ascii_host = host
        if len(_IDNA_MEMO) >= _IDNA_MEMO_SIZE:
            _IDNA_MEMO.clear()
        _IDNA_MEMO[host] = ascii_host
    return ascii_host


def _canonical_host(host: str) -> str:
    """Decode, IDNA-encode, tidy dots, read IPv4 numbers, escape and lower-case a host."""
    if _PLAIN_HOST.fullmatch(host):
        return host.lower()
    host = _unescape(host)
    if not host.isascii():
        host = _idna(host)
    host = host.replace("..", ".").strip(".")
    ip = _ipv4(host)
    if ip is not None:
        return ip
    return _escape(host).lower()  # `%C3%BC` → `%c3%bc` too


def _drop_www(host: str) -> str:
    """Remove one leading `www.` / `wwwN.` label."""
    if host.startswith("www"):
        match = _WWW_LABEL.match(host)
        if match:
            return host[match.end() :]
    return host


def _reverse_labels(host: str) -> str:
    """`example.com` → `com,example`."""
    return ",".join(reversed(host.split(".")))


# --- path ------------------------------------------------------------------


def _resolve_dots(path: str | None) -> str:
    """Drop `.` segments and empty segments (but not a trailing one); apply `..`.

    A `..` with nothing left to remove is kept, and a later `..` removes it.
    The text before the first '/' is dropped (it is empty for real paths).
    """
    if not path:
        return "/"
    if path[0] == "/" and "//" not in path and "/." not in path:
        return path  # nothing to do, and by far the common case
    kept: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == ".":
            continue
        if segment == ".." and kept:
            kept.pop()
        else:
            kept.append(segment)
    if not kept:
        return "/"
    return "/" + "".join(s + "/" for s in kept[:-1] if s) + kept[-1]


# The two ASP.NET cookieless-session segments, after a '/': `(S(24 chars))/`
# (one or more letter(id) pairs) and `(24 chars)/`.
_ASPX_SEGMENTS = (
    re.compile(r"\((?:[a-z]\([0-9a-z]{24}\))+\)/", re.ASCII),
    re.compile(r"\([0-9a-z]{24}\)/", re.ASCII),
)


def _strip_path_session(path: str) -> str:
    r"""Remove an ASP.NET session segment from a lower-cased `.aspx` path.

    Each form in turn: the last segment followed, after at least one character
    and before any '?', by `.aspx`. That is what the package's regexes
    `(.*/)SEGMENT([^?]+\.aspx.*)` match, but they take quadratic time on long
    paths; going right to left, we look at each character about once.
    """
    for segment in _ASPX_SEGMENTS:
        # next_q: first '?' at or after `seen`; next_aspx: first `.aspx` after it.
        seen, next_q, next_aspx = len(path), -1, -1
        slash = path.rfind("/(")
        while slash >= 0:
            match = segment.match(path, slash + 1)
            if match:
                end = match.end()
                if end <= seen:  # always: the segments cannot overlap
                    found = path.find("?", end, seen)
                    next_q = next_q if found < 0 else found
                    found = path.find(".aspx", end + 1, seen + 5)
                    next_aspx = next_aspx if found < 0 else found
                else:
                    next_q, next_aspx = path.find("?", end), path.find(".aspx", end + 1)
                seen = end
                if next_aspx >= 0 and (next_q < 0 or next_aspx < next_q):
                    path = path[: slash + 1] + path[end:]
                    break
            slash = path.rfind("/(", 0, slash)
    return path


# --- query -----------------------------------------------------------------

# (substring, pattern) for each session-id parameter, in lower case. Each
# pattern removes only its last occurrence, and keeps the '&' before it.
_QUERY_SESSIONS = tuple(
    (literal, re.compile(r"(.*)" + body + r"(?:&(.*))?", re.ASCII))
    for literal, body in (
        ("jsessionid=", r"jsessionid=[0-9a-z]{32}"),
        ("phpsessid=", r"phpsessid=[0-9a-z]{32}"),
        ("sid=", r"sid=[0-9a-z]{32}"),
        ("aspsessionid", r"aspsessionid[a-z]{8}=[a-z]{24}"),
    )
)
# Sort parameters by name, then value; `a` sorts before `a=`, before `a=x`.
_PARAM_KEY = operator.methodcaller("partition", "=")


def _strip_cfid(query: str) -> str:
    """Remove the last `…cfid=X&cftoken=Y` (X, Y not empty), keeping what precedes it.

    The package uses a regex, `(.*)cfid=[^&]+&cftoken=[^&]+(?:&(.*))?`, which
    takes quadratic time on some queries; this finds the same match in one pass.
    """
    params = query.split("&")
    for i in range(len(params) - 2, -1, -1):
        token = params[i + 1]
        if len(token) > 8 and token.startswith("cftoken="):
            param = params[i]
            at = param.rfind("cfid=", 0, len(param) - 1)
            if at >= 0:
                before = "&".join(params[:i]) + "&" if i else ""
                return before + param[:at] + "&".join(params[i + 2 :])
    return query


def _canonical_query(query: str) -> str | None:
    """Lower-case, drop session ids and sort the parameters of an escaped query."""
    query = query.lower()
    if "sid=" in query or "sessionid" in query:
        for literal, pattern in _QUERY_SESSIONS:
            if literal in query:
                match = pattern.fullmatch(query)
                if match:
                    query = match.group(1) + (match.group(2) or "")
    if "&cftoken=" in query and "cfid=" in query:
        query = _strip_cfid(query)
    if "&" in query and len(query) > 1:
        query = "&".join(sorted(query.split("&"), key=_PARAM_KEY))
    return query or None


# --- the whole URL ---------------------------------------------------------

_WHITESPACE = " \t\n\r\x0b\x0c"  # what bytes.strip() strips
_URL = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?", re.S)
_REPEATED_HTTP = re.compile(r"(?:https?://)+(?=https?://)")  # all but the last
_DEFAULT_PORTS = {"http": 80, "https": 443}
_REMOVED = str.maketrans("", "", "\t\n\r")


def _byte_string(text: str) -> str:
    """The UTF-8 bytes of `text`, one character per byte (lone surrogates too)."""
    if text.isascii():
        return text
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            data = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            data = text.encode("utf-8", "surrogatepass")
    return data.decode("latin-1")


def _split_authority(netloc: str) -> tuple[str | None, int | None, str]:
    """(host or None, port number or None, port as written in the key) of a netloc.

    Userinfo is dropped and '[...]' brackets an IPv6 address, as in urllib.
    """
    hostinfo = netloc.rstrip(":").rpartition("@")[2]
    _, bracket, inside = hostinfo.partition("[")
    if bracket:
        name, _, after = inside.partition("]")
        text = after.partition(":")[2]
    else:
        name, _, text = hostinfo.partition(":")
    host = name or None
    if not text:
        return host, None, ""
    digits = text.lstrip("0") or "0"
    if text.isascii() and text.isdigit() and len(digits) <= 5 and int(digits) <= 65535:
        number = int(digits)  # port 0 counts as no port
        return (host, number, f":{number}") if number else (host, None, "")
    return host, None, ":" + _escape(_unescape(text)).lower()  # the package raises here


def _key(url: str) -> str:
    url = url.strip(_WHITESPACE)
    if "\t" in url or "\n" in url or "\r" in url:
        url = url.translate(_REMOVED)
    if not url:
        return NO_KEY  # the package raises AttributeError
    parts = _URL.match(url)
    if parts is None:
        parts = _URL.match("http://" + url)
    elif url.startswith("http", 7) or url.startswith("http", 8):
        repeated = _REPEATED_HTTP.match(url)  # http://https://x → https://x
        if repeated:
            parts = _URL.match(url, repeated.end())
    assert parts is not None  # a scheme, and everything after it optional
    scheme, netloc, path, query = parts.groups()

    host: str | None = None
    port: int | None = None
    port_key = ""
    if netloc:
        if ":" in netloc or "@" in netloc or "[" in netloc:
            host, port, port_key = _split_authority(netloc)
        else:
            host = netloc
    if host is None and path and scheme.startswith("http"):
        # http:////host/path and friends: the host is the first path segment.
        host, _, rest = path.lstrip("/").partition("/")
        path = "/" + rest

    # The Google canonicaliser.
    if query:
        query = _escape(_unescape(query))
    if host:
        host = _canonical_host(host)
    if path and "%" in path:
        path = _unescape(path)
    if host:
        path = _resolve_dots(path)
    if path:
        path = _escape(path)

    # The IA canonicaliser.
    if host and scheme != "dns":
        host = _drop_www(host)
    if port is not None and port == _DEFAULT_PORTS.get(scheme.lower()):
        port_key = ""
    if path:
        path = path.lower()
        if ".aspx" in path and "(" in path:
            path = _strip_path_session(path)
        if len(path) > 1 and path[-1] == "/":
            path = path[:-1]
    query = _canonical_query(query) if query else None

    key = _reverse_labels(host) + port_key + ")" if host else scheme + ":"
    if path:
        key += path
    elif query is not None:
        key += "/"
    if query is not None:
        key += "?" + query
    return key


def surt(url: str) -> str:
    """The SURT key of a URL, equal to `surt.surt(url)` with default arguments.

    `http://www.Example.com:8080/A/?b=2&a=1#f` → `com,example:8080)/a?a=1&b=2`.
    An empty URL gives `-`, and a URL starting with `filedesc` is returned
    unchanged. Unlike the package this never raises: a blank URL gives `-`, a
    port that is not a number up to 65535 is kept as written (`com,x:99999)/`),
    and lone surrogates are encoded with `surrogateescape` (or `surrogatepass`).
    """
    if not url:
        return NO_KEY
    if url.startswith("filedesc"):
        return url
    return _key(_byte_string(url))


def surt_host(host: str) -> str:
    """The host part of a SURT key, before the ')': `www.Example.com` → `com,example`.

    Takes a bare host name or IP address (IPv6 with or without brackets), no
    userinfo or port; equal to what `surt` puts before ')' for an http URL with
    that host. Returns "" when nothing of the host is left.
    """
    name = _byte_string(host).strip(_WHITESPACE).translate(_REMOVED)
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    canonical = _drop_www(_canonical_host(name)) if name else ""
    return _reverse_labels(canonical) if canonical else ""
