"""Cutting the torn tail off a `.open` WARC (fast; the kill -9 test is in test_resume)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.crawl.conftest import warcio_check
from vellum.capture.recovery import recover_open_file
from vellum.warc.exchange import HttpExchange
from vellum.warc.writer import OPEN_SUFFIX, WarcFileWriter, exchange_records, metadata_record

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def exchange(i: int) -> HttpExchange:
    return HttpExchange(
        url=f"http://example.org/{i}",
        date=WHEN,
        ip_address="127.0.0.1",
        method="GET",
        request_target=f"/{i}",
        request_headers=[("Host", "example.org")],
        protocol="HTTP/1.1",
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "text/html")],
        body=f"<p>page {i}</p>".encode() * 50,
    )


def write(directory: Path, n: int) -> Path:
    writer = WarcFileWriter(directory, "t", {"operator": "test"})
    for i in range(n):
        ex = exchange(i)
        response, request = exchange_records(ex, f"<urn:uuid:r{i}>", f"<urn:uuid:q{i}>")
        meta = metadata_record(
            f"<urn:uuid:m{i}>", ex.url, WHEN, f"<urn:uuid:r{i}>", [("hopsFromSeed", "L")]
        )
        writer.write_group([response, request, meta])
    current = writer.current
    assert current is not None
    writer.abandon()  # killed: the file keeps its .open name
    return directory / (current[0] + OPEN_SUFFIX)


def test_torn_group_is_cut_and_file_renamed(tmp_path: Path) -> None:
    path = write(tmp_path, 5)
    whole = path.read_bytes()
    path.write_bytes(whole + whole[-700:-300])  # a torn member after five whole groups
    recovered = recover_open_file(path)
    assert not path.exists() and recovered.path.exists()
    assert recovered.path.read_bytes() == whole
    assert recovered.cut_bytes == 400
    assert [g.url for g in recovered.groups] == [f"http://example.org/{i}" for i in range(5)]
    assert all(g.path == "L" and g.status == 200 for g in recovered.groups)
    assert warcio_check([recovered.path]).returncode == 0


def test_group_without_its_metadata_is_cut(tmp_path: Path) -> None:
    path = write(tmp_path, 3)
    data = path.read_bytes()
    # drop the last metadata record: the last group is incomplete and goes as a whole
    from vellum.capture.recovery import members

    last = list(members(path))
    path.write_bytes(data[: last[-1].offset])
    recovered = recover_open_file(path)
    assert len(recovered.groups) == 2
    assert recovered.path.stat().st_size == last[-4].end


def test_file_without_warcinfo_is_deleted(tmp_path: Path) -> None:
    path = write(tmp_path, 1)
    path.write_bytes(path.read_bytes()[:20])
    recovered = recover_open_file(path)
    assert recovered.deleted and not path.exists() and not recovered.path.exists()
