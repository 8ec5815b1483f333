"""Fuzzing with hypothesis: the WARC reader and the SURT code on whatever comes.

Properties: the reader (`scan`, `index_warc`) never raises anything but VellumError and
never hangs, on random bytes and on good files broken at random; every capture it gives
lies inside the file. `surt` never raises, and equals the `surt` package wherever the
package gives an answer.
"""

from __future__ import annotations

import atexit
import contextlib
import gzip
import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from unittest import mock

import surt as peer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED
from vellum.errors import VellumError
from vellum.index.indexer import index_warc
from vellum.urls.surt import surt
from vellum.warc.entry import Entry, Problem
from vellum.warc.reader import scan

FIXTURES = SHARED / "fixtures"
SEEDS = [
    FIXTURES / "warcio" / "example.warc.gz",
    FIXTURES / "warcio" / "example.warc",
    FIXTURES / "pywb" / "example.arc.gz",
    FIXTURES / "cdxj-indexer" / "post-test.warc.gz",
]
WORK = Path(tempfile.mkdtemp(prefix="vellum-fuzz-"))
atexit.register(shutil.rmtree, WORK, True)
HANG_SECONDS = 10


class Hang(Exception):
    """The reader took far too long on a small input."""


@contextlib.contextmanager
def no_hang(seconds: int = HANG_SECONDS) -> Iterator[None]:
    def alarm(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def read_all(data: bytes, name: str) -> None:
    """Scan and index `data` as file `name`; check what comes out."""
    path = WORK / name
    path.write_bytes(data)
    with no_hang():
        try:
            items = list(scan(path))
            problems: list[Problem] = []
            captures = list(index_warc(path, problems))
        except VellumError:
            return
    for item in items:
        assert isinstance(item, Entry | Problem)
        assert 0 <= item.offset <= len(data)
    for capture in captures:
        assert capture.offset >= 0 and capture.offset + capture.length <= len(data)
        capture.to_line()


NAMES = st.sampled_from(["f.warc.gz", "f.warc", "f.arc", "f.arc.gz"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=3000), name=NAMES)
def test_reader_on_random_bytes(data: bytes, name: str) -> None:
    read_all(data, name)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2000), name=NAMES)
def test_reader_on_random_gzip(data: bytes, name: str) -> None:
    read_all(gzip.compress(b"WARC/1.0\r\n" + data), name)


def _mutate(draw: st.DrawFn, data: bytes) -> bytes:
    """Break `data` in up to four places: cut, delete, insert, flip, repeat."""
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["cut", "delete", "insert", "flip", "repeat"]))
        if op == "cut":
            data = data[:at]
        elif op == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 200)) :]
        elif op == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
        elif op == "flip":
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        else:
            data = data[:at] + data[at : at + 300] + data[at:]
    return data


@st.composite
def broken_files(draw: st.DrawFn) -> tuple[bytes, str]:
    seed = draw(st.sampled_from([p for p in SEEDS if p.exists()] or [None]))
    if seed is None:
        return draw(st.binary(max_size=500)), "f.warc"
    return _mutate(draw, seed.read_bytes()), seed.name


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken=broken_files())
def test_reader_on_broken_good_files(broken: tuple[bytes, str]) -> None:
    read_all(*broken)


# SURT


def _offline_gethostbyname_ex(host: str) -> tuple[str, list[str], list[str]]:
    """What a resolver says of a digit-and-dot host, without asking DNS."""
    try:
        return host, [], [socket.inet_ntoa(socket.inet_aton(host))]
    except OSError:
        raise socket.gaierror(socket.EAI_NONAME, "not found") from None


LABEL = st.from_regex(r"[a-zA-Z0-9-]{1,12}", fullmatch=True)
HOSTS = st.one_of(
    st.lists(LABEL, min_size=1, max_size=4).map(".".join),
    st.lists(LABEL, min_size=1, max_size=3).map(lambda labels: "www." + ".".join(labels)),
    st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,4}){0,3}", fullmatch=True),
    st.text(min_size=1, max_size=15),  # anything, Unicode included (IDNA)
    st.just("[::1]"),
)
SEGMENT = st.one_of(
    st.from_regex(r"[a-zA-Z0-9._~!$&'()*+,;=:@-]{0,10}", fullmatch=True),
    st.from_regex(r"(%[0-9a-fA-F]{2}|%25|[a-z]){1,6}", fullmatch=True),
    st.text(max_size=8),
)
PARAM = st.tuples(SEGMENT, SEGMENT).map(lambda kv: f"{kv[0]}={kv[1]}")
URLS = st.builds(
    lambda scheme, user, host, port, path, query, fragment: (
        f"{scheme}{user}{host}{port}/{'/'.join(path)}{query}{fragment}"
    ),
    st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "", "//", "dns:"]),
    st.sampled_from(["", "user@", "user:pw@"]),
    HOSTS,
    st.sampled_from(["", ":80", ":443", ":8080", ":0"]),
    st.lists(SEGMENT, max_size=4),
    st.one_of(st.just(""), st.lists(PARAM, max_size=4).map(lambda ps: "?" + "&".join(ps))),
    st.sampled_from(["", "#frag", "#"]),
)


@settings(max_examples=1500, deadline=None)
@given(url=st.one_of(URLS, st.text(max_size=60)))
def test_surt_never_raises_and_equals_the_package(url: str) -> None:
    ours = surt(url)  # must not raise
    assert isinstance(ours, str)
    with mock.patch.object(socket, "gethostbyname_ex", _offline_gethostbyname_ex):
        try:
            expected = peer.surt(url)
        except Exception:
            return
    assert ours == expected
