"""WACZ import: packages by Vellum and by py-wacz come in and replay; bad ones are refused."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.export.conftest import BIN, FIRST, FIRST_CRAWL, SITE, run, write_warc
from vellum.catalog import Catalog
from vellum.errors import InvalidInput
from vellum.export.signing import generate_key, load_signer
from vellum.export.wacz import WaczOptions, write_wacz
from vellum.index.wacz_import import _entry_chunks, _PageCounter, import_wacz
from vellum.replay.app import create_app
from vellum.settings import Settings

Web = tuple[Settings, Catalog, str]


@pytest.fixture
def package(web: Web, tmp_path: Path) -> Path:
    settings, catalog, slug = web
    catalog.create_collection("copy", "EPF", "A copy")
    generate_key(tmp_path / "key.pem")
    options = WaczOptions(signer=load_signer(tmp_path / "key.pem"))
    return write_wacz(settings, catalog, slug, tmp_path / "web.wacz", options=options).path


def replayed(settings: Settings, catalog: Catalog, path: str) -> bytes:
    with TestClient(create_app(settings, catalog), follow_redirects=False) as client:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.content


def test_round_trip(web: Web, package: Path) -> None:
    settings, catalog, _ = web
    done = import_wacz(settings, catalog, "copy", package)
    assert [f.filename for f in done.report.imported] == ["crawl-one.warc.gz", "crawl-two.warc.gz"]
    assert sum(f.captures for f in done.report.imported) == 7
    assert done.pages == 5 and done.page_files == ["web-pages.jsonl"]
    kept = settings.collection_dir("copy") / "pages" / "web-pages.jsonl"
    assert "Association internationale" in kept.read_text()
    for warc in catalog.warc_files("copy"):  # checksums recorded as for any import
        data = (settings.warc_dir("copy") / warc.filename).read_bytes()
        assert warc.sha1 == hashlib.sha1(data).hexdigest()
        assert warc.md5 == hashlib.md5(data).hexdigest() and warc.size == len(data)
    # the extracted copies were moved in: nothing is left where they were staged
    staged = [p for p in settings.collection_dir("copy").rglob("*") if "import" in p.name]
    assert staged == []
    body = replayed(settings, catalog, f"/copy/20151229231410id_/{SITE}partners/aimf.html")
    assert body == FIRST_CRAWL[1].body
    # the 2020 revisit of the home page replays the 2015 payload
    assert replayed(settings, catalog, f"/copy/20200601080000id_/{SITE}") == FIRST_CRAWL[0].body


def test_package_by_py_wacz(web: Web, tmp_path: Path) -> None:
    settings, catalog, _ = web
    catalog.create_collection("peer", "EPF", "Made by py-wacz")
    warc = write_warc(tmp_path / "peer.warc.gz", FIRST, FIRST_CRAWL)
    pages = tmp_path / "pages.jsonl"
    pages.write_text(
        '{"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}\n'
        + "".join(
            json.dumps({"url": r.url, "ts": "2015-12-29T23:14:10Z"}) + "\n" for r in FIRST_CRAWL[:3]
        )
    )
    made = subprocess.run(
        [str(BIN / "wacz"), "create", "-o", "peer.wacz", "-p", str(pages), str(warc)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    out = run(settings.data_dir, "import", "peer", str(tmp_path / "peer.wacz"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "Verified peer.wacz: every hash in datapackage.json matches" in lines
    assert "Imported " in out.stdout and ": 5 captures" in out.stdout
    assert "Kept 3 pages from peer.wacz in pages/peer-pages.jsonl" in out.stdout
    body = replayed(settings, catalog, f"/peer/20151229231410id_/{SITE}partners/aimf.html")
    assert body == FIRST_CRAWL[1].body


# bad packages: each refused naming the problem, nothing imported


def rewrite(
    source: Path, target: Path, change: Callable[[str, bytes], tuple[str, bytes] | None]
) -> Path:
    """A copy of a ZIP with each entry passed through `change` (None drops it)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            changed = change(info.filename, zin.read(info))
            if changed is not None:
                zout.writestr(changed[0], changed[1], compress_type=info.compress_type)
    return target


def flip_byte(name: str, data: bytes) -> tuple[str, bytes]:
    if name == "archive/crawl-two.warc.gz":
        data = data[:100] + bytes([data[100] ^ 1]) + data[101:]
    return name, data


def relist(extra: dict[str, bytes]) -> Callable[[str, bytes], tuple[str, bytes] | None]:
    """Add entries and list them, with right hashes, in a new datapackage (no digest)."""

    def change(name: str, data: bytes) -> tuple[str, bytes] | None:
        if name == "datapackage-digest.json":
            return None
        if name == "datapackage.json":
            package = json.loads(data)
            for path, content in extra.items():
                package["resources"].append(
                    {
                        "name": path.rsplit("/", 1)[-1],
                        "path": path,
                        "hash": "sha256:" + hashlib.sha256(content).hexdigest(),
                        "bytes": len(content),
                    }
                )
            return name, json.dumps(package).encode()
        return name, data

    return change


def add_entries(target: Path, entries: dict[str, bytes]) -> None:
    with zipfile.ZipFile(target, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


def tamper_digest(name: str, data: bytes) -> tuple[str, bytes]:
    if name == "datapackage.json":
        data = data.replace(b'"title": "EPF web site"', b'"title": "EPF web site!"')
    return name, data


def forge_signature(name: str, data: bytes) -> tuple[str, bytes]:
    if name == "datapackage-digest.json":
        digest = json.loads(data)
        raw = bytearray(base64.b64decode(digest["signedData"]["signature"]))
        raw[5] ^= 1
        digest["signedData"]["signature"] = base64.b64encode(bytes(raw)).decode()
        data = json.dumps(digest).encode()
    return name, data


def make_bad(kind: str, package: Path, tmp_path: Path) -> Path:
    target = tmp_path / f"{kind}.wacz"
    if kind == "wrong-hash":
        return rewrite(package, target, flip_byte)
    if kind == "no-datapackage":
        return rewrite(package, target, lambda n, d: None if n.startswith("datapack") else (n, d))
    if kind == "outside":
        evil = {"../evil.warc.gz": (package.parent / "web.wacz").read_bytes()[:200]}
        rewrite(package, target, relist(evil))
        add_entries(target, evil)
        return target
    if kind == "bomb":
        zeros = bytes(64 << 20)
        rewrite(package, target, relist({"pages/extraPages.jsonl": zeros}))
        add_entries(target, {"pages/extraPages.jsonl": zeros})
        return target
    if kind == "not-zip":
        target.write_bytes(b"WARC/1.1\r\nthis is not a zip\r\n")
        return target
    if kind == "digest":
        return rewrite(package, target, tamper_digest)
    if kind == "signature":
        return rewrite(package, target, forge_signature)
    if kind == "unlisted":
        rewrite(package, target, lambda n, d: (n, d))
        add_entries(target, {"archive/extra.warc.gz": b"\x1f\x8b" + bytes(100)})
        return target
    raise AssertionError(kind)


BAD = {
    "wrong-hash": "hash mismatch for archive/crawl-two.warc.gz: datapackage.json says sha256:",
    "no-datapackage": "not a WACZ package: datapackage.json is missing",
    "outside": "entry '../evil.warc.gz' has a path outside the package",
    "bomb": "entry 'pages/extraPages.jsonl' inflates",
    "not-zip": "not a WACZ package: not a ZIP file",
    "digest": "hash mismatch: datapackage.json does not match datapackage-digest.json",
    "signature": "bad signature in datapackage-digest.json: the signature does not match",
    "unlisted": "archive/extra.warc.gz is not listed in datapackage.json",
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_package_is_refused(kind: str, web: Web, package: Path, tmp_path: Path) -> None:
    settings, catalog, _ = web
    bad = make_bad(kind, package, tmp_path)
    with pytest.raises(InvalidInput) as refused:
        import_wacz(settings, catalog, "copy", bad)
    message = str(refused.value)
    assert message.startswith(f"{bad.name}: ") and BAD[kind] in message
    assert "\n" not in message
    if kind == "bomb":
        assert "refusing a ZIP bomb" in message
    assert catalog.warc_files("copy") == []
    leftovers = [p for p in settings.collection_dir("copy").rglob("*") if p.is_file()]
    assert leftovers == []


def test_bad_package_on_the_command_line(web: Web, package: Path, tmp_path: Path) -> None:
    settings, catalog, _ = web
    bad = make_bad("wrong-hash", package, tmp_path)
    out = run(settings.data_dir, "import", "copy", str(bad))
    assert out.returncode == 2
    assert out.stderr.strip().startswith(
        "error: wrong-hash.wacz: hash mismatch for archive/crawl-two.warc.gz"
    )
    assert catalog.warc_files("copy") == []
    # the good one still comes in afterwards
    out = run(settings.data_dir, "import", "copy", str(package))
    assert out.returncode == 0, out.stderr
    assert len(catalog.warc_files("copy")) == 2


def flip_in(*names: str) -> Callable[[str, bytes], tuple[str, bytes]]:
    def change(name: str, data: bytes) -> tuple[str, bytes]:
        if name in names:
            data = data[:50] + bytes([data[50] ^ 1]) + data[51:]
        return name, data

    return change


@pytest.mark.parametrize(
    ("flipped", "named"),
    [
        (("pages/pages.jsonl", "archive/crawl-two.warc.gz"), "archive/crawl-two.warc.gz"),
        (("pages/pages.jsonl",), "pages/pages.jsonl"),
        (("archive/crawl-one.warc.gz",), "archive/crawl-one.warc.gz"),
    ],
)
def test_the_first_bad_file_listed_is_named(
    web: Web, package: Path, tmp_path: Path, flipped: tuple[str, ...], named: str
) -> None:
    """WARCs and page lists are checked in two threads: whichever finds a problem, the
    message names the first bad file in the datapackage's order; nothing comes in."""
    settings, catalog, _ = web
    bad = rewrite(package, tmp_path / "bad.wacz", flip_in(*flipped))
    with pytest.raises(InvalidInput, match=f"hash mismatch for {named}: "):
        import_wacz(settings, catalog, "copy", bad)
    assert catalog.warc_files("copy") == []
    assert [p for p in settings.collection_dir("copy").rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 1 << 20])
def test_pages_are_counted_as_they_pass(chunk: int) -> None:
    lines = [
        b'{"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}',
        b'{"url": "http://a.test/", "ts": "2020-01-01T00:00:00Z", "text": "{not a line}"}',
        b"",
        b'{"url": "http://b.test/", "ts": "2020-01-01T00:00:00Z"}',
        b'{"url": "http://c.test/", "ts": "2020-01-01T00:00:00Z", "text": "x\\n{y"}',
    ]
    for data, pages in (
        (b"\n".join(lines) + b"\n", 3),
        (b"\n".join(lines[1:]), 3),  # no header, no final newline
        (b"\n".join(lines[:1]) + b"\n", 0),
        (b"", 0),
    ):
        counter = _PageCounter()
        for start in range(0, len(data), chunk):
            counter.feed(data[start : start + chunk])
        assert counter.pages == pages, (data, chunk)


def test_zlib_bomb_ratio_counts_stored_size() -> None:
    # 64 MiB of zeros deflate to ~64 KiB: a ratio of ~1000, far past the limit of 200
    assert len(zlib.compress(bytes(64 << 20))) * 200 < 64 << 20


def understate_size(target: Path, name: str, declared: int) -> None:
    """Make the headers of entry `name` declare `declared` bytes, fewer than it holds."""
    data = bytearray(target.read_bytes())
    encoded = name.encode()
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # the central directory, which zipfile trusts
        if data[at + 46 : at + 46 + len(encoded)] == encoded:
            data[at + 24 : at + 28] = declared.to_bytes(4, "little")
            local = int.from_bytes(data[at + 42 : at + 46], "little")
            data[local + 22 : local + 26] = declared.to_bytes(4, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    target.write_bytes(bytes(data))


def test_entry_inflating_past_its_declared_size_is_refused(
    web: Web, package: Path, tmp_path: Path
) -> None:
    """A bomb whose header understates its size (so that the ratio looks harmless) is
    cut off at the size declared, not inflated in full."""
    settings, catalog, _ = web
    zeros = bytes(8 << 20)
    bad = rewrite(package, tmp_path / "liar.wacz", relist({"pages/extraPages.jsonl": zeros}))
    add_entries(bad, {"pages/extraPages.jsonl": zeros})
    understate_size(bad, "pages/extraPages.jsonl", 1 << 20)
    with zipfile.ZipFile(bad) as zf:
        assert zf.getinfo("pages/extraPages.jsonl").file_size == 1 << 20
    with pytest.raises(InvalidInput, match="inflates beyond the size its header declares"):
        import_wacz(settings, catalog, "copy", bad)
    assert catalog.warc_files("copy") == []
    assert [p for p in settings.collection_dir("copy").rglob("*") if p.is_file()] == []


def test_entries_read_past_zipfile_give_the_same_bytes(package: Path, tmp_path: Path) -> None:
    """Stored and deflated entries, read from the package directly, are what zipfile reads."""
    with zipfile.ZipFile(package) as zf:
        for info in zf.infolist():
            read = b"".join(_entry_chunks(zf, info, package))
            assert read == zf.read(info), info.filename
            assert info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
