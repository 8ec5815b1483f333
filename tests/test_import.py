"""`vellum import`: copies, links, checksums, duplicates, and every kind of bad input."""

from __future__ import annotations

import gc
import gzip
import hashlib
import io
import os
import re
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.conftest import shared_dir
from vellum.catalog import Catalog
from vellum.errors import VellumError
from vellum.index import importer as importer_module
from vellum.index.importer import Importer, register_warc_file, warc_path
from vellum.index.indexer import index_warc
from vellum.index.store import open_index
from vellum.settings import Settings
from vellum.warc.reader import read_record

# warcio's writer leaves the SpooledTemporaryFiles of its digests for the GC to close.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

VELLUM = [sys.executable, "-m", "vellum"]
URLS = [f"http://example.org/page/{i}" for i in range(6)]
PROBLEM_LINE = re.compile(r"^(?P<file>.+):(?P<offset>\d+): (?P<reason>.+)$")


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VELLUM, "--data", str(data), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def make_warc(path: Path, gzipped: bool = True, urls: list[str] = URLS) -> Path:
    """A WARC written by warcio: a warcinfo record, then a response and a request per URL."""
    _write_warc(path, gzipped, urls)
    gc.collect()  # warcio's digest buffers are closed by the GC: let it happen here
    return path


def _write_warc(path: Path, gzipped: bool, urls: list[str]) -> None:
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=gzipped)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        for url in urls:
            body = f"<html><p>{url}</p>{'x' * 300}</html>".encode()
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            response = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=http
            )
            req = StatusAndHeaders(
                "GET / HTTP/1.1", [("Host", "example.org")], is_http_request=True
            )
            request = writer.create_warc_record(url, "request", http_headers=req)
            writer.write_record(response)
            writer.write_record(request)


def members(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every gzip member."""
    spans = []
    pos = 0
    while pos < len(data):
        d = zlib.decompressobj(31)
        d.decompress(data[pos:])
        end = len(data) - len(d.unused_data)
        spans.append((pos, end))
        pos = end
    return spans


def response_member(data: bytes, url: str) -> tuple[int, int]:
    for start, end in members(data):
        text = gzip.decompress(data[start:end])
        if b"WARC-Type: response" in text and f"WARC-Target-URI: {url}\r".encode() in text:
            return start, end
    raise AssertionError(url)


def indexed_urls(settings: Settings, slug: str) -> set[str]:
    store = open_index(settings.index_dir(slug), settings.warc_dir(slug))
    try:
        return {c.url for c in store.all()}
    finally:
        store.close()


def problem_lines(stderr: str) -> list[tuple[str, int, str]]:
    found = []
    for line in stderr.splitlines():
        match = PROBLEM_LINE.match(line)
        if match and not line.startswith("error:"):
            found.append((match["file"], int(match["offset"]), match["reason"]))
    return found


@pytest.fixture
def data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    assert (
        run(data, "org", "create", "Example Partner Foundation", "--acronym", "EPF").returncode == 0
    )
    result = run(data, "collection", "create", "epf-web", "--org", "EPF", "--title", "EPF")
    assert result.returncode == 0
    return data


# the ordinary way


def test_import_copies_indexes_and_records_checksums(data: Path, tmp_path: Path) -> None:
    gz = make_warc(tmp_path / "site.warc.gz")
    plain = make_warc(tmp_path / "plain.warc", gzipped=False, urls=["http://example.org/plain"])
    arc = shared_dir() / "fixtures" / "pywb" / "example.arc.gz"
    result = run(data, "import", "epf-web", str(gz), str(plain), str(arc))
    assert result.returncode == 0, result.stderr
    assert f"Imported {gz} as site.warc.gz: 6 captures" in result.stdout
    assert f"Imported {arc} as example.arc.gz: 1 capture " in result.stdout
    assert "3 files" in result.stdout and "added to epf-web; 0 skipped" in result.stdout
    assert result.stderr == ""
    settings = Settings(data_dir=data)
    warcs = settings.warc_dir("epf-web")
    assert sorted(p.name for p in warcs.iterdir()) == [
        "example.arc.gz",
        "plain.warc",
        "site.warc.gz",
    ]
    catalog = Catalog(settings.catalog_path)
    try:
        rows = {f.filename: f for f in catalog.warc_files("epf-web")}
    finally:
        catalog.close()
    for source in (gz, plain, arc):
        row = rows[source.name]
        raw = source.read_bytes()
        assert (row.size, row.sha1, row.md5) == (
            len(raw),
            hashlib.sha1(raw).hexdigest(),
            hashlib.md5(raw).hexdigest(),
        )
        assert row.source == "import" and row.path is None
    store = open_index(settings.index_dir("epf-web"), warcs)
    try:
        lines = sorted(c.to_line() for c in store.all())
    finally:
        store.close()
    expected = sorted(c.to_line() for p in warcs.iterdir() for c in index_warc(p))
    assert lines == expected and len(lines) == 6 + 1 + 1


def test_same_file_twice_is_skipped(data: Path, tmp_path: Path) -> None:
    gz = make_warc(tmp_path / "site.warc.gz")
    copy = tmp_path / "elsewhere" / "renamed.warc.gz"
    copy.parent.mkdir()
    copy.write_bytes(gz.read_bytes())
    assert run(data, "import", "epf-web", str(gz)).returncode == 0
    again = run(data, "import", "epf-web", str(gz), str(copy))
    assert again.returncode == 0, again.stderr
    assert f"Skipped {gz}: already in collection 'epf-web' as site.warc.gz (same SHA-1)" in (
        again.stdout
    )
    assert f"Skipped {copy}: already in collection" in again.stdout
    assert "0 files" in again.stdout
    assert [p.name for p in Settings(data_dir=data).warc_dir("epf-web").iterdir()] == [
        "site.warc.gz"
    ]


def test_two_files_with_one_name_get_two_names(data: Path, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = make_warc(tmp_path / "a" / "crawl.warc.gz", urls=URLS[:2])
    two = make_warc(tmp_path / "b" / "crawl.warc.gz", urls=URLS[2:])
    result = run(data, "import", "epf-web", str(one), str(two))
    assert result.returncode == 0, result.stderr
    assert "as crawl.warc.gz" in result.stdout and "as crawl-2.warc.gz" in result.stdout
    assert indexed_urls(Settings(data_dir=data), "epf-web") == set(URLS)


def test_in_place_links_the_file_and_replay_finds_it(data: Path, tmp_path: Path) -> None:
    (tmp_path / "kept").mkdir()
    gz = make_warc(tmp_path / "kept" / "site.warc.gz")
    result = run(data, "import", "epf-web", "--in-place", str(gz))
    assert result.returncode == 0, result.stderr
    assert f"Linked {gz} as site.warc.gz: 6 captures" in result.stdout
    settings = Settings(data_dir=data)
    link = settings.warc_dir("epf-web") / "site.warc.gz"
    assert link.is_symlink() and link.resolve() == gz.resolve()
    catalog = Catalog(settings.catalog_path)
    try:
        (row,) = catalog.warc_files("epf-web")
    finally:
        catalog.close()
    assert row.path == gz.resolve()
    store = open_index(settings.index_dir("epf-web"), settings.warc_dir("epf-web"))
    try:
        capture = next(c for c in store.all() if c.url == URLS[3])
    finally:
        store.close()
    path = warc_path(settings, "epf-web", capture.filename)
    assert read_record(path, capture.offset, capture.length).body.startswith(b"<html><p>")
    gz.unlink()
    with pytest.raises(VellumError, match=r"imported in place from .*no longer there"):
        warc_path(settings, "epf-web", capture.filename)


def test_several_files_use_a_process_pool(
    tmp_path: Path, settings: Settings, catalog: Catalog
) -> None:
    catalog.create_organization("Example Partner Foundation", "EPF")
    catalog.create_collection("epf-web", "EPF", "EPF")
    files = [
        make_warc(
            tmp_path / f"part{i}.warc.gz", urls=[f"http://example.org/{i}/{k}" for k in range(3)]
        )
        for i in range(3)
    ]
    seen: list[int] = []

    class Progress:
        def start(self, total: int) -> None:
            seen.append(-total)

        def advance(self, done: int) -> None:
            seen.append(done)

    report = Importer(settings, catalog, workers=2).run("epf-web", files, progress=Progress())
    assert [f.filename for f in report.imported] == [
        "part0.warc.gz",
        "part1.warc.gz",
        "part2.warc.gz",
    ]
    assert not report.failed
    assert -seen[0] == sum(seen[1:]) == 2 * sum(p.stat().st_size for p in files)
    assert len(indexed_urls(settings, "epf-web")) == 9


def test_crawler_hook_records_checksums(
    tmp_path: Path, settings: Settings, catalog: Catalog
) -> None:
    catalog.create_organization("Example Partner Foundation", "EPF")
    catalog.create_collection("epf-web", "EPF", "EPF")
    warcs = settings.warc_dir("epf-web")
    warcs.mkdir(parents=True)
    warc = make_warc(warcs / "VELLUM-epf-web-1.warc.gz")
    row = register_warc_file(catalog, "epf-web", warc)
    raw = warc.read_bytes()
    assert (row.size, row.sha1, row.md5, row.source) == (
        len(raw),
        hashlib.sha1(raw).hexdigest(),
        hashlib.md5(raw).hexdigest(),
        "crawl",
    )
    assert register_warc_file(catalog, "epf-web", warc) == row
    assert catalog.find_warc_file_by_sha1(row.sha1, "epf-web") == row
    assert catalog.find_warc_file_by_sha1("0" * 40) is None


# bad input


def _truncate_last(data: bytes) -> bytes:
    start, end = members(data)[-2]  # the last response's member... cut inside it
    return data[: start + (end - start) // 2]


def _garbage_between(data: bytes) -> bytes:
    start, _ = response_member(data, URLS[2])
    return data[:start] + b"this is not gzip\r\n" * 3 + data[start:]


def _corrupt_member(data: bytes) -> bytes:
    start, end = response_member(data, URLS[2])
    broken = bytearray(data)
    for i in range(start + 40, end - 20):
        broken[i] ^= 0x55
    return bytes(broken)


def _cut_member_short(data: bytes) -> bytes:
    start, end = response_member(data, URLS[2])
    return data[: start + (end - start) // 2] + data[end:]


def _no_date(data: bytes) -> bytes:
    start, end = response_member(data, URLS[2])
    text = re.sub(rb"WARC-Date: [^\r]*\r\n", b"", gzip.decompress(data[start:end]))
    return data[:start] + gzip.compress(text) + data[end:]


def _angle_brackets(data: bytes) -> bytes:
    out = b""
    for start, end in members(data):
        text = gzip.decompress(data[start:end])
        text = re.sub(rb"WARC-Target-URI: ([^\r]*)\r\n", rb"WARC-Target-URI: <\1>\r\n", text)
        out += gzip.compress(text)
    return out


def _plain(data: bytes) -> bytes:
    return gzip.decompress(data)


def _length_too_long(data: bytes) -> bytes:
    text = gzip.decompress(data)
    at = text.index(f"WARC-Target-URI: {URLS[2]}\r\n".encode())
    at = text.rindex(b"WARC/1", 0, at)
    length = re.compile(rb"Content-Length: (\d+)\r\n")
    found = length.search(text, at)
    assert found is not None
    bigger = f"Content-Length: {int(found[1]) + 40}\r\n".encode()
    return text[: found.start()] + bigger + text[found.end() :]


def _length_too_short(data: bytes) -> bytes:
    text = gzip.decompress(data)
    at = text.rindex(b"WARC/1", 0, text.index(f"WARC-Target-URI: {URLS[2]}\r\n".encode()))
    found = re.compile(rb"Content-Length: (\d+)\r\n").search(text, at)
    assert found is not None
    smaller = f"Content-Length: {int(found[1]) - 40}\r\n".encode()
    return text[: found.start()] + smaller + text[found.end() :]


# name → (how to break a good .warc.gz, file name, URLs still indexed, problems: reason words)
BREAKAGES: dict[str, tuple[Callable[[bytes], bytes], str, list[str], list[str]]] = {
    "truncated last member": (_truncate_last, "x.warc.gz", URLS[:5], ["truncated gzip member"]),
    "garbage between records": (
        _garbage_between,
        "x.warc.gz",
        URLS,
        ["garbage between gzip members"],
    ),
    "corrupt gzip member": (
        _corrupt_member,
        "x.warc.gz",
        URLS[:2] + URLS[3:],
        ["corrupt gzip member"],
    ),
    "member cut short": (_cut_member_short, "x.warc.gz", URLS[:2] + URLS[3:], ["gzip member"]),
    "missing WARC-Date": (_no_date, "x.warc.gz", URLS[:2] + URLS[3:], ["without a WARC-Date"]),
    "angle brackets": (_angle_brackets, "x.warc.gz", URLS, []),
    "wrong Content-Length, too long": (
        _length_too_long,
        "x.warc",
        URLS[:2] + URLS[3:],
        ["runs into the next record"],
    ),
    "wrong Content-Length, too short": (
        _length_too_short,
        "x.warc",
        URLS,
        ["garbage after a record"],
    ),
    "uncompressed and good": (_plain, "x.warc", URLS, []),
}


@pytest.mark.parametrize("case", list(BREAKAGES))
def test_bad_input_keeps_every_good_record(data: Path, tmp_path: Path, case: str) -> None:
    breaker, name, kept, reasons = BREAKAGES[case]
    good = make_warc(tmp_path / "good.warc.gz").read_bytes()
    broken = tmp_path / name
    broken.write_bytes(breaker(good))
    result = run(data, "import", "epf-web", str(broken))
    assert "Traceback" not in result.stderr
    assert indexed_urls(Settings(data_dir=data), "epf-web") == set(kept)
    problems = problem_lines(result.stderr)
    assert [p[0] for p in problems] == [str(broken)] * len(reasons), result.stderr
    for (_, offset, reason), words in zip(problems, reasons, strict=True):
        assert words in reason
        assert 0 <= offset < broken.stat().st_size
    if reasons:
        assert result.returncode == 1
        assert result.stderr.splitlines()[-1].startswith("error: ")
        assert "everything else was imported" in result.stderr
    else:
        assert result.returncode == 0, result.stderr


def test_bad_spots_are_all_reported_not_just_the_first(data: Path, tmp_path: Path) -> None:
    good = _no_date(make_warc(tmp_path / "good.warc.gz").read_bytes())
    garbage_at, _ = response_member(good, URLS[2])
    false_at, _ = response_member(good, URLS[4])
    broken = (
        good[:garbage_at]
        + b"this is not gzip\r\n"
        + good[garbage_at:false_at]
        + b"\x1f\x8bNOT GZIP"  # looks like the start of a member, is not one
        + good[false_at:]
    )
    path = tmp_path / "many.warc.gz"
    path.write_bytes(broken)
    result = run(data, "import", "epf-web", str(path))
    assert result.returncode == 1
    problems = problem_lines(result.stderr)
    assert len(problems) == 3, result.stderr
    assert [p[1] for p in problems] == sorted(p[1] for p in problems)
    assert indexed_urls(Settings(data_dir=data), "epf-web") == set(URLS) - {URLS[2]}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"<html>not an archive</html>\n", "not a WARC or ARC file"),
        (gzip.compress(b"just some text\n" * 10), "not a WARC or ARC file"),
    ],
)
def test_files_that_are_no_archives_are_refused(
    data: Path, tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "thing.warc.gz"
    path.write_bytes(content)
    result = run(data, "import", "epf-web", str(path))
    assert result.returncode == 1
    assert problem_lines(result.stderr) == [(str(path), 0, reason)]
    assert not any(Settings(data_dir=data).warc_dir("epf-web").glob("*.warc*"))


def test_whole_file_gzip_is_refused_with_how_to_recompress(data: Path, tmp_path: Path) -> None:
    good = make_warc(tmp_path / "good.warc", gzipped=False)
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(good.read_bytes()))
    fixture = shared_dir() / "fixtures" / "warcio" / "example-bad.warc.gz.bad"
    result = run(data, "import", "epf-web", str(whole), str(fixture))
    assert result.returncode == 1
    problems = problem_lines(result.stderr)
    assert [(p[0], p[1]) for p in problems] == [(str(whole), 0), (str(fixture), 0)]
    assert f"warcio recompress {whole} whole-fixed.warc.gz" in problems[0][2]
    assert len(result.stderr.splitlines()) == 3  # two files, then the error line
    warcs = Settings(data_dir=data).warc_dir("epf-web")
    assert not any(warcs.glob("*.warc*"))


def test_a_failed_import_leaves_nothing_behind(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings: Settings, catalog: Catalog
) -> None:
    catalog.create_organization("Example Partner Foundation", "EPF")
    catalog.create_collection("epf-web", "EPF", "EPF")
    gz = make_warc(tmp_path / "site.warc.gz")

    def failing(*args: object, **kwargs: object) -> object:
        raise OSError("disk on fire")

    monkeypatch.setattr(importer_module, "index_warc", failing)
    with pytest.raises(OSError, match="disk on fire"):
        Importer(settings, catalog).run("epf-web", [gz])
    warcs = settings.warc_dir("epf-web")
    assert list(warcs.iterdir()) == []  # no copy, no staging directory
    assert catalog.warc_files("epf-web") == []
    assert indexed_urls(settings, "epf-web") == set()


def test_import_help_and_unknown_collection(data: Path, tmp_path: Path) -> None:
    helped = run(data, "import", "--help")
    assert helped.returncode == 0 and "--in-place" in helped.stdout
    gz = make_warc(tmp_path / "site.warc.gz")
    result = run(data, "import", "nope", str(gz))
    assert result.returncode != 0
    assert result.stderr.strip() == "error: no collection 'nope' (see 'vellum collection list')"


def test_recompress_imports_whole_file_gzip(data: Path, tmp_path: Path) -> None:
    good = make_warc(tmp_path / "good.warc", gzipped=False)
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(good.read_bytes()))
    result = run(data, "import", "epf-web", "--recompress", str(whole))
    assert result.returncode == 0, result.stderr
    assert f"Imported {whole} as whole-fixed.warc.gz: 6 captures" in result.stdout
    assert indexed_urls(Settings(data_dir=data), "epf-web") == set(URLS)
    again = run(data, "import", "epf-web", "--recompress", str(whole))
    assert "already in collection 'epf-web' as whole-fixed.warc.gz" in again.stdout
    both = run(data, "import", "epf-web", "--recompress", "--in-place", str(whole))
    assert both.returncode == 2
    assert both.stderr.strip() == (
        "error: files recompressed cannot stay in place: drop --in-place"
    )
