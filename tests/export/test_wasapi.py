"""WASAPI v1 over a real server: a plain client pages, filters, downloads and runs jobs."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.export.conftest import (
    FIRST,
    FIRST_CRAWL,
    SECOND,
    SECOND_CRAWL,
    Resource,
    add_crawl,
    stepping_clock,
    write_warc,
)
from vellum.catalog import Catalog
from vellum.index.importer import Importer
from vellum.index.indexer import index_warc
from vellum.replay.app import create_app
from vellum.replay.server import bind_pair, make_server, with_origins
from vellum.settings import Settings


@dataclass
class Service:
    origin: str
    settings: Settings
    catalog: Catalog
    partner_token: str  # organization PRV, owner of the private collection
    other_token: str  # organization EPF


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """`web` (public): a crawl's file and five imported ones; `closed` (private): one file."""
    tmp = tmp_path_factory.mktemp("wasapi")
    settings = Settings(data_dir=tmp / "data")
    catalog = Catalog(settings.catalog_path, clock=stepping_clock(FIRST))
    catalog.create_organization("Example Partner Foundation", "EPF")
    catalog.create_organization("Private Partner", "PRV")
    catalog.create_collection("web", "EPF", "EPF web site")
    catalog.create_collection("closed", "PRV", "Closed", public=False)
    settings.warc_dir("web").mkdir(parents=True)
    add_crawl(
        settings,
        catalog,
        "web",
        write_warc(settings.warc_dir("web") / "crawl-one.warc.gz", FIRST, FIRST_CRAWL),
    )
    sources = tmp / "sources"
    sources.mkdir()
    imported = []
    for n in range(5):
        when = SECOND + timedelta(days=n)
        page = Resource(
            f"http://example.test/imported/{n}.html",
            "text/html",
            f"<html><title>Imported {n}</title><p>{n}</p></html>".encode(),
        )
        imported.append(write_warc(sources / f"import-{n}.warc.gz", when, [page]))
    Importer(settings, catalog, workers=1).run("web", imported)
    secret = write_warc(sources / "secret.warc.gz", SECOND, SECOND_CRAWL)
    Importer(settings, catalog, workers=1).run("closed", [secret])
    partner = catalog.create_api_token("PRV")
    other = catalog.create_api_token("EPF")
    ui_sock, replay_sock = bind_pair("127.0.0.1", 0, 0)
    framed = with_origins(settings, "127.0.0.1", ui_sock, replay_sock)
    server = make_server(create_app(framed, catalog))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [ui_sock, replay_sock]}, daemon=True
    )
    thread.start()
    while not server.started:
        time.sleep(0.02)
    assert framed.ui_origin
    yield Service(framed.ui_origin, settings, catalog, partner, other)
    server.should_exit = True
    thread.join(10)
    ui_sock.close()
    replay_sock.close()
    catalog.close()


def call(
    url: str,
    token: str | None = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """A plain HTTP request: (status, headers, body), errors included."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.data = urllib.parse.urlencode(data).encode()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get_json(url: str, token: str | None = None) -> Any:
    status, _, body = call(url, token)
    assert status == 200, (url, status, body)
    return json.loads(body)


def all_files(first_url: str, token: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Follow `next` from the first page to the last, as the spec says a client does."""
    files: list[dict[str, Any]] = []
    url: str | None = first_url
    pages = 0
    while url:
        page = get_json(url, token)
        pages += 1
        assert page["count"] >= len(page["files"])
        files += page["files"]
        if page["next"] is None:
            assert len(files) == page["count"]
        url = page["next"]
    return files, pages


def test_client_pages_through_and_verifies_downloads(service: Service) -> None:
    files, pages = all_files(f"{service.origin}/wasapi/v1/webdata?page_size=2")
    assert pages == 3
    assert len(files) == 6
    names = sorted(f["filename"] for f in files)
    assert names == ["crawl-one.warc.gz"] + [f"import-{n}.warc.gz" for n in range(5)]
    for f in files:
        assert (
            f["filetype"] == "warc" and f["collection"] == service.catalog.get_collection("web").id
        )
        assert f["account"] == service.catalog.get_collection("web").organization.id
        status, _, body = call(f["locations"][0])
        assert status == 200
        assert len(body) == f["size"]
        assert hashlib.sha1(body).hexdigest() == f["checksums"]["sha1"]
        assert hashlib.md5(body).hexdigest() == f["checksums"]["md5"]
    crawled = next(f for f in files if f["filename"] == "crawl-one.warc.gz")
    assert crawled["crawl"] == 1 and crawled["crawl-start"] is not None
    assert crawled["crawl-time"] == "2015-12-29T23:14:10Z"  # its first capture
    imported = next(f for f in files if f["filename"] == "import-2.warc.gz")
    assert imported["crawl"] is None and imported["crawl-start"] is None
    assert imported["crawl-time"] == "2020-06-03T08:00:00Z"
    page = get_json(f"{service.origin}/wasapi/v1/webdata?page_size=2&page=2")
    assert page["previous"].endswith("page=1") and page["next"].endswith("page=3")
    assert page["includes-extra"] is False


def test_range_requests(service: Service) -> None:
    files, _ = all_files(f"{service.origin}/wasapi/v1/webdata?filename=import-0.warc.gz")
    whole = (service.settings.warc_dir("web") / "import-0.warc.gz").read_bytes()
    status, headers, body = call(files[0]["locations"][0], headers={"Range": "bytes=10-19"})
    assert status == 206
    assert body == whole[10:20]
    assert headers["content-range"] == f"bytes 10-19/{len(whole)}"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filename=import-%3F.warc.gz;crawl-*", 6),
        ("filename=import-1*;import-3*", 2),
        ("filename=import", 0),  # globs match the whole name
        ("filetype=warc", 6),
        ("filetype=wat", 0),
        ("collection=web", 6),
        ("collection=web&collection=closed", 6),  # closed stays invisible
        ("crawl=1", 1),
        ("crawl-time-after=2020-06-02", 4),  # inclusive
        ("crawl-time-before=2020-06-02T08:00:00Z", 2),  # exclusive
        ("crawl-time-after=2020-06-02T08:00:00&crawl-time-before=2020-06-04", 2),
        ("crawl-start-after=2015-01-01", 1),
        ("crawl-start-before=2015-01-01", 0),
    ],
)
def test_filters(service: Service, query: str, expected: int) -> None:
    page = get_json(f"{service.origin}/wasapi/v1/webdata?{query}")
    assert page["count"] == expected


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("page=0", "page must be a whole number of at least 1, not '0'"),
        ("page=two", "page must be a whole number of at least 1, not 'two'"),
        ("page=9", "page 9 is past the last page (1)"),
        ("page_size=5000", "page_size must be at most 2000, not 5000"),
        ("crawl-time-after=yesterday", "crawl-time-after must be an RFC 3339 date"),
        ("crawl-start-before=2020-13-01", "crawl-start-before must be an RFC 3339 date"),
        ("crawl=x", "crawl must be a whole number"),
        ("colection=web", "unknown parameter 'colection'"),
        ("page=1&page=2", "parameter 'page' given more than once"),
    ],
)
def test_malformed_parameters_are_400(service: Service, query: str, reason: str) -> None:
    status, _, body = call(f"{service.origin}/wasapi/v1/webdata?{query}")
    assert status == 400
    assert reason in json.loads(body)["detail"]


def test_private_collection_needs_its_token(service: Service) -> None:
    url = f"{service.origin}/wasapi/v1/webdata?collection=closed"
    assert get_json(url)["count"] == 0
    assert get_json(url, service.other_token)["count"] == 0
    files = get_json(url, service.partner_token)["files"]
    assert [f["filename"] for f in files] == ["secret.warc.gz"]
    location = files[0]["locations"][0]
    assert call(location)[0] == 404
    assert call(location, service.other_token)[0] == 404
    status, _, body = call(location, service.partner_token)
    assert status == 200 and hashlib.sha1(body).hexdigest() == files[0]["checksums"]["sha1"]
    assert call(location.replace("secret", "nothing"), service.partner_token)[0] == 404
    assert get_json(f"{service.origin}/wasapi/v1/webdata", service.partner_token)["count"] == 7


def wait_for(service: Service, token: str, jobtoken: str) -> dict[str, Any]:
    for _ in range(300):
        job = get_json(f"{service.origin}/wasapi/v1/jobs/{jobtoken}", token)
        if job["state"] in ("complete", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def submit(service: Service, token: str | None, **form: str) -> tuple[int, Any]:
    status, _, body = call(f"{service.origin}/wasapi/v1/jobs", token, data=form)
    return status, json.loads(body)


def result_files(service: Service, token: str, jobtoken: str) -> list[tuple[str, bytes]]:
    files, _ = all_files(f"{service.origin}/wasapi/v1/jobs/{jobtoken}/result?page_size=1", token)
    fetched = []
    for f in files:
        status, _, body = call(f["locations"][0], token)
        assert status == 200
        assert hashlib.sha1(body).hexdigest() == f["checksums"]["sha1"]
        assert hashlib.md5(body).hexdigest() == f["checksums"]["md5"]
        fetched.append((f["filename"], body))
    return fetched


def test_build_cdx_job(service: Service) -> None:
    status, job = submit(service, service.other_token, function="build-cdx", query="crawl=1")
    assert status == 201
    assert set(job) == {"jobtoken", "function", "query", "submit-time", "termination-time", "state"}
    assert job["state"] in ("queued", "running", "complete")
    done = wait_for(service, service.other_token, job["jobtoken"])
    assert done["state"] == "complete" and done["termination-time"]
    [(name, body)] = result_files(service, service.other_token, job["jobtoken"])
    assert name.endswith(".cdxj")
    warc = service.settings.warc_dir("web") / "crawl-one.warc.gz"
    expected = sorted(c.to_line().encode() for c in index_warc(warc))
    assert body.splitlines() == expected
    listed = get_json(f"{service.origin}/wasapi/v1/jobs", service.other_token)
    assert job["jobtoken"] in [j["jobtoken"] for j in listed["jobs"]]
    # another organization sees neither the job nor its results
    assert (
        call(f"{service.origin}/wasapi/v1/jobs/{job['jobtoken']}", service.partner_token)[0] == 404
    )
    assert (
        call(f"{service.origin}/wasapi/v1/jobs/{job['jobtoken']}/result", service.partner_token)[0]
        == 404
    )


def test_build_wat_job(service: Service) -> None:
    status, job = submit(
        service, service.other_token, function="build-wat", query="filename=crawl-one.warc.gz"
    )
    assert status == 201
    assert wait_for(service, service.other_token, job["jobtoken"])["state"] == "complete"
    [(name, body)] = result_files(service, service.other_token, job["jobtoken"])
    assert name == "crawl-one.wat.gz"
    envelopes = []
    for record in ArchiveIterator(io.BytesIO(body)):
        assert record.rec_type == "metadata"
        assert record.rec_headers.get_header("Content-Type") == "application/json"
        envelopes.append(json.loads(record.content_stream().read()))
    assert len(envelopes) == 1 + 2 * len(FIRST_CRAWL)  # warcinfo, responses, requests
    titles = [
        e["Envelope"]["Payload-Metadata"]["HTTP-Response-Metadata"]["HTML-Metadata"]["Head"]
        for e in envelopes
        if "HTML-Metadata" in e["Envelope"]["Payload-Metadata"].get("HTTP-Response-Metadata", {})
    ]
    assert {"Title": "AIMF"} in titles
    assert gzip.decompress(body)  # a gzipped WARC, record by record


def test_jobs_need_credentials_and_good_requests(service: Service) -> None:
    assert submit(service, None, function="build-cdx", query="")[0] == 401
    status, _, _ = call(f"{service.origin}/wasapi/v1/jobs")
    assert status == 401
    status, body = submit(service, service.other_token, function="build-wane", query="")
    assert status == 400 and "function must be one of build-cdx, build-wat" in body["detail"]
    status, body = submit(service, service.other_token, function="build-cdx")
    assert status == 400 and "query is required" in body["detail"]
    status, body = submit(
        service, service.other_token, function="build-cdx", query="crawl-time-after=soon"
    )
    assert status == 400 and "crawl-time-after must be an RFC 3339 date" in body["detail"]
    status, body = submit(
        service, service.other_token, function="build-cdx", query="collection=closed"
    )
    assert status == 400 and body["detail"] == "the query selects no WARC files"
    assert call(f"{service.origin}/wasapi/v1/jobs/nope", service.other_token)[0] == 404


def test_job_store_runs_jobs_and_survives_restarts(tmp_path: Path) -> None:
    from vellum.export.wasapi_jobs import JobStore

    store = JobStore(tmp_path / "jobs")
    gate = threading.Event()

    def slow(job: object, out: Path) -> None:
        gate.wait(10)
        (out / "x.cdxj").write_text("a\n")

    job = store.submit("build-cdx", "", [("web", "x.warc.gz")], "u", frozenset({1}), False, slow)
    assert store.get(job.jobtoken).state in ("queued", "running")
    gate.set()
    store.wait(10)
    done = store.get(job.jobtoken)
    assert done.state == "complete" and [f.filename for f in done.results] == ["x.cdxj"]
    store.close()
    # a restart marks a job still running as failed
    (tmp_path / "jobs" / "stuck").mkdir()
    (tmp_path / "jobs" / "stuck" / "job.json").write_text(
        (tmp_path / "jobs" / job.jobtoken / "job.json")
        .read_text()
        .replace('"complete"', '"running"')
        .replace(job.jobtoken, "stuck")
    )
    reopened = JobStore(tmp_path / "jobs")
    assert reopened.get("stuck").state == "failed"
    assert "interrupted" in (reopened.get("stuck").error or "")
    reopened.close()
