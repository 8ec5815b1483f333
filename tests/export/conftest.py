"""A collection made of WARCs written by warcio: two crawls, a revisit, pages with text."""

from __future__ import annotations

import base64
import gc
import gzip
import hashlib
import io
import itertools
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from vellum.catalog import Catalog
from vellum.index.cdxj import Capture
from vellum.index.importer import register_warc_file
from vellum.index.indexer import index_warc
from vellum.index.store import open_index
from vellum.settings import Settings
from vellum.warc.reader import read_record

VELLUM = [sys.executable, "-m", "vellum"]
BIN = Path(sys.executable).parent
SITE = "http://example.test/"
FIRST = datetime(2015, 12, 29, 23, 14, 10, tzinfo=UTC)
SECOND = datetime(2020, 6, 1, 8, 0, 0, tzinfo=UTC)


def stepping_clock(start: datetime) -> Callable[[], datetime]:
    """A clock that moves one second each time it is read."""
    ticks = itertools.count()
    return lambda: start + timedelta(seconds=next(ticks))


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VELLUM, "--data", str(data), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )


def page(title: str, text: str, links: str = "") -> bytes:
    return (
        f"<!doctype html><html><head><title>{title}</title>"
        f'<link rel="stylesheet" href="/style.css"><script>var hidden = "no";</script></head>'
        f"<body><h1>{title}</h1><p>{text}</p>{links}</body></html>"
    ).encode()


@dataclass(frozen=True)
class Resource:
    url: str
    mime: str
    body: bytes


FIRST_CRAWL = [
    Resource(
        SITE,
        "text/html",
        page("Home", "Welcome to the partner directory.", '<a href="/partners/aimf.html">AIMF</a>'),
    ),
    Resource(
        SITE + "partners/aimf.html",
        "text/html",
        page("AIMF", "Association internationale des maires francophones."),
    ),
    Resource(SITE + "partners/list.html", "text/html", page("Partners", "All partners.")),
    Resource(SITE + "style.css", "text/css", b"body { color: #123; }"),
    Resource(SITE + "logo.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
]
SECOND_CRAWL = [
    Resource(
        SITE + "partners/new.html", "text/html", page("New partner", "A partner added in 2020.")
    ),
]


def write_warc(
    path: Path,
    when: datetime,
    resources: list[Resource],
    revisits: list[tuple[Resource, datetime]] = (),
    gzipped: bool = True,
) -> Path:
    """A WARC written by warcio: warcinfo, then response + request per resource, revisits."""
    _write_warc(path, when, resources, revisits, gzipped)
    gc.collect()  # warcio's digest buffers are closed by the GC: let it happen here
    return path


def _write_warc(
    path: Path,
    when: datetime,
    resources: list[Resource],
    revisits: Sequence[tuple[Resource, datetime]],
    gzipped: bool,
) -> None:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=gzipped)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        for r in resources:
            http = StatusAndHeaders(
                "200 OK",
                [("Content-Type", r.mime), ("Content-Length", str(len(r.body)))],
                protocol="HTTP/1.1",
            )
            response = writer.create_warc_record(
                r.url,
                "response",
                payload=io.BytesIO(r.body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": stamp},
            )
            req = StatusAndHeaders(
                "GET / HTTP/1.1", [("Host", "example.test")], is_http_request=True
            )
            request = writer.create_warc_record(
                r.url, "request", http_headers=req, warc_headers_dict={"WARC-Date": stamp}
            )
            for record in (response, request):
                writer.write_record(record)
                record.raw_stream.close()  # warcio's temporary buffer
        for r, original_date in revisits:
            digest = "sha1:" + base64.b32encode(hashlib.sha1(r.body).digest()).decode()
            http = StatusAndHeaders("200 OK", [("Content-Type", r.mime)], protocol="HTTP/1.1")
            revisit = writer.create_revisit_record(
                r.url,
                digest,
                r.url,
                original_date.strftime("%Y-%m-%dT%H:%M:%SZ"),
                http_headers=http,
                warc_headers_dict={"WARC-Date": stamp},
            )
            writer.write_record(revisit)
            revisit.raw_stream.close()


def add_crawl(settings: Settings, catalog: Catalog, slug: str, warc: Path) -> int:
    """Record a crawl whose WARC file is `warc` in warcs/, as the crawler does."""
    collection = catalog.get_collection(slug)
    crawl = catalog.start_crawl(collection, [SITE], 1)
    store = open_index(settings.index_dir(slug), settings.warc_dir(slug))
    store.append(warc.name, index_warc(warc))
    store.seal(warc.name)
    store.close()
    register_warc_file(catalog, slug, warc)
    catalog.finish_crawl(crawl.id, "finished", 1, 0, warc.stat().st_size)
    return crawl.id


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[Settings, Catalog, str]]:
    """Collection `web`: crawl 1 (2015, five resources), crawl 2 (2020, a new page and
    a revisit of the home page, whose payload is in crawl 1's file)."""
    settings = Settings(data_dir=tmp_path / "data")
    catalog = Catalog(settings.catalog_path, clock=stepping_clock(FIRST))
    catalog.create_organization("Example Partner Foundation", "EPF")
    catalog.create_collection("web", "EPF", "EPF web site", "The foundation's site")
    warcs = settings.warc_dir("web")
    warcs.mkdir(parents=True)
    first = write_warc(warcs / "crawl-one.warc.gz", FIRST, FIRST_CRAWL)
    add_crawl(settings, catalog, "web", first)
    second = write_warc(
        warcs / "crawl-two.warc.gz", SECOND, SECOND_CRAWL, revisits=[(FIRST_CRAWL[0], FIRST)]
    )
    add_crawl(settings, catalog, "web", second)
    yield settings, catalog, "web"
    catalog.close()


def wacz_validate(path: Path) -> None:
    """py-wacz's own validator must accept the package."""
    result = subprocess.run(
        [str(BIN / "wacz"), "validate", "-f", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation succeeded" in result.stdout


def index_lines(zf: zipfile.ZipFile) -> list[bytes]:
    """The package's index lines, from index.cdxj or from the ZipNum blocks."""
    names = zf.namelist()
    if "indexes/index.cdxj" in names:
        return zf.read("indexes/index.cdxj").splitlines()
    assert zf.getinfo("indexes/index.cdx.gz").compress_type == zipfile.ZIP_STORED
    blob = zf.read("indexes/index.cdx.gz")
    idx = zf.read("indexes/index.idx").decode().splitlines()
    assert idx[0].startswith('!meta 0 {"format": "cdxj-gzip-1.0"')
    lines: list[bytes] = []
    for entry in idx[1:]:
        key, where = entry.split(" {", 1)
        place = json.loads("{" + where)
        block = gzip.decompress(blob[place["offset"] : place["offset"] + place["length"]])
        block_lines = block.splitlines()
        assert block_lines[0].startswith(key.encode() + b" ")  # the block's first key
        lines += block_lines
    assert len(gzip.decompress(blob).splitlines()) == len(lines)  # every block listed
    return lines


def check_package(path: Path, tmp: Path) -> dict[str, object]:
    """Our structural checks, then py-wacz's: returns what the package holds.

    Every file listed with the right size and SHA-256 and every listed file present;
    the digest file right; WARCs and `index.cdx.gz` stored; pages with url, ts, text;
    every record of every WARC indexed and every index line pointing at its record.
    """
    with zipfile.ZipFile(path) as zf:
        package = json.loads(zf.read("datapackage.json"))
        assert package["profile"] == "data-package"
        assert package["wacz_version"] == "1.1.1"
        listed = {r["path"]: r for r in package["resources"]}
        present = set(zf.namelist()) - {"datapackage.json", "datapackage-digest.json"}
        assert set(listed) == present
        for name, resource in listed.items():
            data = zf.read(name)
            assert resource["bytes"] == len(data), name
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest(), name
        digest = json.loads(zf.read("datapackage-digest.json"))
        expected = "sha256:" + hashlib.sha256(zf.read("datapackage.json")).hexdigest()
        assert digest["hash"] == expected
        pages = zf.read("pages/pages.jsonl").decode().splitlines()
        header = json.loads(pages[0])
        assert header["format"] == "json-pages-1.0"
        entries = [json.loads(line) for line in pages[1:]]
        for entry in entries:
            assert entry["url"] and entry["ts"].endswith("Z") and "text" in entry
        lines = index_lines(zf)
        extracted = tmp / f"unpacked-{path.stem}"
        extracted.mkdir()
        warcs = [n for n in zf.namelist() if n.startswith("archive/")]
        assert warcs
        indexed: list[bytes] = []
        for name in warcs:
            assert zf.getinfo(name).compress_type == zipfile.ZIP_STORED
            target = extracted / name.split("/", 1)[1]
            target.write_bytes(zf.read(name))
            indexed += [c.to_line().encode() for c in index_warc(target)]
        assert sorted(indexed) == lines  # every record indexed, sorted, nothing else
        for line in lines:
            capture = Capture.from_line(line.decode())
            record = read_record(extracted / capture.filename, capture.offset, capture.length)
            assert record.url == capture.url
    wacz_validate(path)
    return {"package": package, "pages": entries, "lines": lines, "digest": digest}
