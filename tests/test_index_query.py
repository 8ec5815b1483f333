"""Every query type against a small hand-checked index, the same for every store layout.

The expected answers below are written out by hand from the table of captures (the
distances for "closest" are worked out in the comments), not computed by the code under
test. The stores: plain CDXJ segments, ZipNum shards with two-line blocks (so that keys
straddle blocks), and one WARC still unsealed (read from its journal).
"""

from __future__ import annotations

import json
import random
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from vellum.index.cdxj import Capture
from vellum.index.query import CdxQuery, FieldFilter, MatchType, execute, key_range
from vellum.index.segments import CdxjSegment, MemoryRun, SortedRun, Window
from vellum.index.store import SegmentedIndex, StoreOptions

W1 = "A-20150101000000-00001-h.warc.gz"
W2 = "A-20160101000000-00002-h.warc.gz"
W3 = "A-20170101000000-00003-h.warc.gz"
REV = "warc/revisit"

# (url, timestamp, mime, status, digest, warc); the offset is the row number.
TABLE = [
    ("http://example.com/", "20150101120000", "text/html", "200", "D1", W1),  # 0
    ("https://www.example.com/", "20150601000000", "text/html", "200", "D2", W1),  # 1
    ("http://example.com/", "20160101000000", REV, "", "D2", W2),  # 2: original is 1
    ("http://example.com/", "20160301000000", "text/html", "200", "D3", W2),  # 3
    ("http://example.com/", "20170101000000", REV, "", "D3", W3),  # 4: original is 3
    ("http://example.com/", "20170601000000", REV, "", "D9", W3),  # 5: no original
    ("http://example.com/", "20180101000000", "text/html", "200", "D10", W3),  # 6
    ("http://example.com/a", "20150101120000", "text/html", "200", "D4", W1),  # 7
    ("http://example.com/a/", "20150101120000", "text/html", "301", "D5", W1),  # 8: same key+ts
    ("http://example.com/a/b", "20160101000000", "image/png", "200", "D6", W2),  # 9
    ("http://example.com/a/b?x=1", "20160101000001", "text/html", "404", "D7", W2),  # 10
    ("http://example.com/about", "20150101000000", "text/html", "200", "D8", W1),  # 11
    ("http://sub.example.com/x", "20150101000000", "text/html", "200", "E1", W1),  # 12
    ("http://deep.sub.example.com/", "20160101000000", "text/html", "200", "E2", W2),  # 13
    ("http://examplefoo.com/", "20150101000000", "text/html", "200", "E3", W1),  # 14
    ("http://example.com:8080/", "20150101000000", "text/html", "200", "E4", W1),  # 15
    ("http://example.org/", "20150101000000", "text/html", "200", "E5", W1),  # 16
    ("http://example.com/r", "20100101000000", "text/html", "200", "D11", W1),  # 17
    ("http://example.com/r", "20150101000000", REV, "", "D11", W1),  # 18: original is 20
    ("http://example.com/r", "20150101000005", REV, "", "D11", W2),  # 19: original is 20
    ("http://example.com/r", "20150101000010", "text/html", "200", "D11", W3),  # 20
    ("http://example.com/t", "20150101000000", "text/html", "200", "D12", W2),  # 21
    ("http://example.com/t", "20150101000020", "text/html", "200", "D13", W3),  # 22
]
SURTS = {
    "http://example.com/": "com,example)/",
    "https://www.example.com/": "com,example)/",
    "http://example.com/a": "com,example)/a",
    "http://example.com/a/": "com,example)/a",
    "http://example.com/a/b": "com,example)/a/b",
    "http://example.com/a/b?x=1": "com,example)/a/b?x=1",
    "http://example.com/about": "com,example)/about",
    "http://sub.example.com/x": "com,example,sub)/x",
    "http://deep.sub.example.com/": "com,example,sub,deep)/",
    "http://examplefoo.com/": "com,examplefoo)/",
    "http://example.com:8080/": "com,example:8080)/",
    "http://example.org/": "org,example)/",
    "http://example.com/r": "com,example)/r",
    "http://example.com/t": "com,example)/t",
}


def capture(row: int) -> Capture:
    url, ts, mime, status, digest, warc = TABLE[row]
    return Capture(SURTS[url], ts, url, mime, status, digest, 100 + row, row, warc)


LAYOUTS = {
    "segments": StoreOptions(background=False, merge_fanin=2, zipnum_min_lines=None),
    "zipnum": StoreOptions(background=False, merge_fanin=2, zipnum_min_lines=0, block_lines=2),
    "journal": StoreOptions(background=False, merge_fanin=8, zipnum_min_lines=None),
}


@pytest.fixture(params=sorted(LAYOUTS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SegmentedIndex]:
    layout = request.param
    index = SegmentedIndex(tmp_path / "indexes", tmp_path / "warcs", LAYOUTS[layout])
    rng = random.Random(4)
    for warc in (W1, W2, W3):
        rows = [capture(i) for i, row in enumerate(TABLE) if row[5] == warc]
        rng.shuffle(rows)  # entries arrive in record order, not key order
        index.append(warc, rows[: len(rows) // 2])
        index.append(warc, rows[len(rows) // 2 :])
        if layout != "journal" or warc != W3:
            index.seal(warc)
    yield index
    for journal in index._journals.values():  # leave W3 unsealed, as a crash would
        journal.close()
    index._journals.clear()
    index.close()


def ask(store: SegmentedIndex, url: str, **kwargs: object) -> list[tuple[str, str]]:
    return [(c.url, c.timestamp) for c in store.query(CdxQuery(url, **kwargs))]  # type: ignore[arg-type]


def rows(*numbers: int) -> list[tuple[str, str]]:
    return [(TABLE[n][0], TABLE[n][1]) for n in numbers]


def test_layout_is_what_it_says(store: SegmentedIndex) -> None:
    kinds = {run.kind for run in store.runs_on_disk()}
    assert kinds in ({"cdxj"}, {"zipnum"})
    assert sorted(c.offset for c in store.all()) == list(range(len(TABLE)))


def test_exact_oldest_first(store: SegmentedIndex) -> None:
    assert ask(store, "http://example.com/") == rows(0, 1, 2, 3, 4, 5, 6)
    assert ask(store, "https://WWW.example.com") == rows(0, 1, 2, 3, 4, 5, 6)
    assert ask(store, "http://example.com/nothing") == []


def test_same_key_and_second_are_both_kept(store: SegmentedIndex) -> None:
    # /a and /a/ share SURT and timestamp; the JSON decides the order (`a"` < `a/`).
    assert ask(store, "http://example.com/a") == rows(7, 8)
    assert [c.url for c in store.captures("http://example.com/a/")] == [
        "http://example.com/a",
        "http://example.com/a/",
    ]


def test_prefix(store: SegmentedIndex) -> None:
    # key prefix "com,example)/a": /a, /a/b, /a/b?x=1, /about (key order)
    assert ask(store, "http://example.com/a", match_type=MatchType.PREFIX) == rows(7, 8, 9, 10, 11)
    # a trailing slash is kept in the prefix: only what is under /a/
    assert ask(store, "http://example.com/a/", match_type="prefix") == rows(9, 10)


def test_host(store: SegmentedIndex) -> None:
    # com,example)/… only: not sub.example.com, not port 8080, not examplefoo.com
    expected = rows(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 17, 18, 19, 20, 21, 22)
    assert ask(store, "example.com", match_type=MatchType.HOST) == expected


def test_domain(store: SegmentedIndex) -> None:
    # the host, then com,example,sub)/x, then com,example,sub,deep)/ (')' < ',')
    expected = rows(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 17, 18, 19, 20, 21, 22, 12, 13)
    assert ask(store, "http://example.com/", match_type=MatchType.DOMAIN) == expected
    assert ask(store, "sub.example.com", match_type=MatchType.DOMAIN) == rows(12, 13)


def test_from_to(store: SegmentedIndex) -> None:
    assert ask(store, "http://example.com/", from_ts="2016", to_ts="2017") == rows(2, 3, 4, 5)
    # 201603 pads down to 20160301000000, so the capture at that second is included
    assert ask(store, "http://example.com/", from_ts="201603") == rows(3, 4, 5, 6)
    assert ask(store, "http://example.com/", to_ts="20150601") == rows(0, 1)
    assert ask(store, "example.com", match_type="host", from_ts="2016", to_ts="2016") == rows(
        2, 3, 9, 10
    )


def test_closest(store: SegmentedIndex) -> None:
    # target 20160201235959 (padded up). Distances: 20160301 29d, 20160101 32d,
    # 20150601 246d, 20170101 334d, 20150101120000 396d, 20170601 485d, 20180101 699d.
    assert ask(store, "http://example.com/", closest="20160201") == rows(3, 2, 1, 4, 0, 5, 6)
    assert ask(store, "http://example.com/", closest="20160201", limit=1) == rows(3)
    # past the last capture and before the first
    assert ask(store, "http://example.com/", closest="2030", limit=2) == rows(6, 5)
    assert ask(store, "http://example.com/", closest="2000", limit=2) == rows(0, 1)


def test_closest_ties(store: SegmentedIndex) -> None:
    # 10 s either side: the earlier comes first, as in pywb
    assert ask(store, "http://example.com/t", closest="20150101000010") == rows(21, 22)
    # one second shared by two captures: line order, from either side
    assert ask(store, "http://example.com/a", closest="2020") == rows(7, 8)
    assert ask(store, "http://example.com/a", closest="2010") == rows(7, 8)


def test_closest_within_bounds(store: SegmentedIndex) -> None:
    got = ask(store, "http://example.com/", closest="2018", from_ts="2016", to_ts="2016")
    assert got == rows(3, 2)


def test_closest_other_match_types_need_a_limit(store: SegmentedIndex) -> None:
    with pytest.raises(ValueError, match="limit"):
        CdxQuery("example.com", match_type=MatchType.HOST, closest="2016")
    # target 20160101235959: /a/b?x=1 is 86398 s away; / and /a/b at 20160101000000 are
    # both 86399 s away, and keep their key order
    got = ask(store, "example.com", match_type=MatchType.HOST, closest="20160101", limit=3)
    assert got == rows(10, 2, 9)


def test_reverse_and_limit(store: SegmentedIndex) -> None:
    assert ask(store, "http://example.com/", reverse=True, limit=2) == rows(6, 5)
    assert ask(store, "http://example.com/", limit=2) == rows(0, 1)
    assert ask(store, "http://example.com/", limit=0) == []
    assert ask(store, "http://example.com/a", match_type="prefix", reverse=True) == rows(
        11, 10, 9, 8, 7
    )


def test_filters(store: SegmentedIndex) -> None:
    def f(*specs: str) -> tuple[FieldFilter, ...]:
        return tuple(FieldFilter.parse(s) for s in specs)

    url = "http://example.com/"
    assert ask(store, url, filters=f("=status:200")) == rows(0, 1, 3, 6)
    assert ask(store, url, filters=f("!mime:revisit")) == rows(0, 1, 3, 6)
    assert ask(store, url, filters=f("~timestamp:201[67]0101")) == rows(2, 4)
    assert ask(store, url, filters=f("url:www")) == rows(1)
    assert ask(store, url, filters=f("!=digest:D2", "mime:warc")) == rows(4, 5)
    assert ask(store, url, filters=f(f"filename:{W3}")) == rows(4, 5, 6)
    host = {"match_type": MatchType.HOST}
    assert ask(store, "example.com", filters=f("=status:404"), **host) == rows(10)
    assert ask(store, "example.com", filters=f("~url:.*/a/"), **host) == rows(8, 9, 10)
    assert ask(store, "example.com", filters=f("=statuscode:301"), **host) == rows(8)
    assert ask(store, "example.com", filters=f("~.*D11"), **host) == rows(17, 18, 19, 20)


def test_collapse_time(store: SegmentedIndex) -> None:
    url = "http://example.com/"
    # first capture of each year
    assert ask(store, url, collapse_time=4) == rows(0, 2, 4, 6)
    # newest first, still the earliest of each year
    assert ask(store, url, collapse_time=4, reverse=True) == rows(6, 4, 2, 0)
    # per key: /a and /a/ are one key and one second; /a/b and /a/b?x=1 are two keys
    assert ask(store, "http://example.com/a", match_type="prefix", collapse_time=14) == rows(
        7, 9, 10, 11
    )
    # with closest 20170301235959: years' firsts 20170101 59d, 20180101 306d,
    # 20160101 425d, 20150101120000 790d
    assert ask(store, url, collapse_time=4, closest="20170301") == rows(4, 6, 2, 0)
    # the target's own month starts before it: its first, 20170601, is 15 days away
    assert ask(store, url, collapse_time=6, closest="20170615", limit=2) == rows(5, 4)
    # 2017's first is 364 days before 20171231235959; 2018's first is 1 s after it
    assert ask(store, url, collapse_time=4, closest="20171231") == rows(6, 4, 2, 0)


def test_revisits_resolved(store: SegmentedIndex) -> None:
    got = list(store.query(CdxQuery("http://example.com/", resolve_revisits=True)))
    originals = {c.timestamp: c.original for c in got}
    assert originals["20160101000000"] == capture(1)  # same key, digest D2, earlier
    assert originals["20170101000000"] == capture(3)
    assert originals["20170601000000"] is None  # D9 is nowhere
    assert all(originals[c.timestamp] is None for c in got if not c.is_revisit)
    got = list(store.query(CdxQuery("http://example.com/r", resolve_revisits=True)))
    # 20150101000000: the 2010 original is 5 years away, the one at ...10 is 10 s away.
    # 20150101000005: the revisit 5 s before is skipped; the original 5 s after wins.
    assert [(c.timestamp, c.original) for c in got] == [
        ("20100101000000", None),
        ("20150101000000", capture(20)),
        ("20150101000005", capture(20)),
        ("20150101000010", None),
    ]
    assert not any(c.original for c in store.query(CdxQuery("http://example.com/r")))


def test_fields_selection(store: SegmentedIndex) -> None:
    q = CdxQuery("http://example.com/a", fields=("timestamp", "original", "statuscode"))
    assert q.fields == ("timestamp", "url", "status")
    assert [c.select(q.fields) for c in store.query(q)] == [
        {"timestamp": "20150101120000", "url": "http://example.com/a", "status": "200"},
        {"timestamp": "20150101120000", "url": "http://example.com/a/", "status": "301"},
    ]


def test_captures_and_all_agree_with_table(store: SegmentedIndex) -> None:
    expected = sorted((capture(i).to_line() for i in range(len(TABLE))), key=str.encode)
    assert [c.to_line() for c in store.all()] == expected
    assert store.captures("http://example.org/") == [capture(16)]


# --- the query object ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status:200", FieldFilter("status", "200")),
        ("=status:200", FieldFilter("status", "200", "exact")),
        ("!=status:200", FieldFilter("status", "200", "exact", negate=True)),
        ("~url:.*\\.pdf$", FieldFilter("url", ".*\\.pdf$", "regex")),
        ("!~mimetype:text/.*", FieldFilter("mime", "text/.*", "regex", negate=True)),
        ("=original:http://a/b:c", FieldFilter("url", "http://a/b:c", "exact")),
        ("warc", FieldFilter("", "warc")),
    ],
)
def test_filter_parsing(text: str, expected: FieldFilter) -> None:
    assert FieldFilter.parse(text) == expected


@pytest.mark.parametrize("text", ["nosuchfield:x", "~url:(", "!=nope:1", "~["])
def test_bad_filters(text: str) -> None:
    with pytest.raises(ValueError):
        FieldFilter.parse(text)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": ""}, "url"),
        ({"url": "a", "from_ts": "2015-01"}, "from_ts"),
        ({"url": "a", "closest": "x"}, "closest"),
        ({"url": "a", "limit": -1}, "limit"),
        ({"url": "a", "collapse_time": 15}, "collapse"),
        ({"url": "a", "fields": ("nope",)}, "field"),
        ({"url": "a", "match_type": "everything"}, "everything"),
    ],
)
def test_bad_queries(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CdxQuery(**kwargs)  # type: ignore[arg-type]


FILE = "http://example.com/path/file.html"


@pytest.mark.parametrize(
    ("url", "match", "start", "end"),
    [
        # the ranges pywb's calc_search_range gives (its docstring), with exact keys
        # followed by the space before the timestamp
        (FILE, "exact", "com,example)/path/file.html ", "com,example)/path/file.html!"),
        (FILE, "prefix", "com,example)/path/file.html", "com,example)/path/file.htmm"),
        ("http://example.com/path/", "prefix", "com,example)/path/", "com,example)/path0"),
        ("http://example.com/path?", "prefix", "com,example)/path?", "com,example)/path@"),
        (FILE, "host", "com,example)/", "com,example*"),
        (FILE, "domain", "com,example)/", "com,example-"),
        ("com", "domain", "com,", "com-"),
    ],
)  # fmt: skip
def test_key_ranges_match_pywb(url: str, match: str, start: str, end: str) -> None:
    assert key_range(url, MatchType(match)) == (start.encode(), end.encode())


@pytest.mark.parametrize(
    "value",
    ["plain", 'quote " and \\ backslash', "é ü 中文", "\u2028", "\x00\x1f\x7f", "\ud800"],
)
def test_to_line_is_json_dumps(value: str) -> None:
    c = Capture("k", "20150101000000", value, value, value, value, 1, 2, value)
    fields = {"url": value, "mime": value, "status": value, "digest": value}
    fields.update(length="1", offset="2", filename=value)
    assert c.to_line() == f"k 20150101000000 {json.dumps(fields)}"
    assert Capture.from_line(c.to_line()) == c


# --- reading only what is needed -----------------------------------------------------------


class CountingRun:
    """A run that counts the lines its windows give out."""

    def __init__(self, inner: SortedRun) -> None:
        self.inner, self.read = inner, 0

    def window(self, start: bytes, end: bytes | None) -> Window | None:
        w = self.inner.window(start, end)
        return None if w is None else CountingWindow(w, self)


class CountingWindow:
    def __init__(self, inner: Window, run: CountingRun) -> None:
        self.inner, self.run = inner, run

    def lines(self, reverse: bool = False) -> Iterator[bytes]:
        for line in self.inner.lines(reverse):
            self.run.read += 1
            yield line

    def split(self, pivot: bytes) -> tuple[Window, Window]:
        a, b = self.inner.split(pivot)
        return CountingWindow(a, self.run), CountingWindow(b, self.run)


def many_captures(n: int, url: str = "http://big.example/page") -> list[bytes]:
    lines = []
    for i in range(n):
        day, sec = divmod(i, 86400)
        hms = f"{sec // 3600:02d}{sec // 60 % 60:02d}{sec % 60:02d}"
        ts = f"2015{1 + day // 28:02d}{1 + day % 28:02d}{hms}"
        c = Capture("example,big)/page", ts, url, "text/html", "200", "D", 1, i, "w.warc.gz")
        lines.append(c.to_line().encode())
    return sorted(lines)


def test_closest_seeks_instead_of_reading_every_capture(tmp_path: Path) -> None:
    path = tmp_path / "big.cdxj"
    path.write_bytes(b"\n".join(many_captures(20000)) + b"\n")
    run = CountingRun(CdxjSegment(path))
    q = CdxQuery("http://big.example/page", closest="201501010300", limit=1)
    (got,) = execute([run], q)
    assert got.timestamp == "20150101030059"
    assert run.read <= 4  # one line each way, plus what heapq.merge looks ahead


def test_results_stream_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.cdxj"
    path.write_bytes(b"\n".join(many_captures(60000)) + b"\n")
    runs: list[SortedRun] = [CdxjSegment(path), MemoryRun([])]
    q = CdxQuery("big.example", match_type=MatchType.DOMAIN, collapse_time=12)
    tracemalloc.start()
    try:
        count = sum(1 for _ in execute(runs, q))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 1000  # one per minute
    assert peak < 2_000_000  # a list of the 60,000 captures alone would take ~40 MB
