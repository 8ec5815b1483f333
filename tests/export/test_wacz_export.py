"""WACZ export: whole collections and subsets pass `wacz validate` and our own checks."""

from __future__ import annotations

import base64
import json
import zipfile
from pathlib import Path

import pytest

from tests.export.conftest import FIRST_CRAWL, SITE, check_package, run, wacz_validate
from vellum.catalog import Catalog
from vellum.errors import InvalidInput, NotFound, VellumError
from vellum.export import zip_package
from vellum.export.selection import Selection
from vellum.export.signing import generate_key, load_signer, verify_signed_data
from vellum.export.wacz import WaczOptions, write_wacz
from vellum.settings import Settings

Web = tuple[Settings, Catalog, str]


def urls(checked: dict[str, object]) -> set[tuple[str, str]]:
    lines = checked["lines"]
    assert isinstance(lines, list)
    return {
        (json.loads(line.split(b" ", 2)[2])["url"], line.split(b" ")[1].decode()) for line in lines
    }


def test_whole_collection(web: Web, tmp_path: Path) -> None:
    settings, catalog, slug = web
    report = write_wacz(settings, catalog, slug, tmp_path / "web.wacz")
    checked = check_package(tmp_path / "web.wacz", tmp_path)
    assert report.captures == 7 and not report.zipnum
    assert report.warc_files == ["crawl-one.warc.gz", "crawl-two.warc.gz"]
    package = checked["package"]
    assert isinstance(package, dict)
    assert package["title"] == "EPF web site"
    assert package["mainPageUrl"] == SITE
    # the WARC files are copied byte for byte, so the index keeps their offsets
    with zipfile.ZipFile(tmp_path / "web.wacz") as zf:
        for name in report.warc_files:
            assert zf.read(f"archive/{name}") == (settings.warc_dir(slug) / name).read_bytes()
    assert len(checked["pages"]) == 5  # type: ignore[arg-type]  # the 2020 revisit too
    pages = {p["url"]: p for p in checked["pages"]}  # type: ignore[union-attr]
    assert set(pages) == {
        SITE,
        SITE + "partners/aimf.html",
        SITE + "partners/list.html",
        SITE + "partners/new.html",
    }
    aimf = pages[SITE + "partners/aimf.html"]
    assert aimf["title"] == "AIMF"
    assert "Association internationale des maires francophones." in aimf["text"]
    assert "hidden" not in aimf["text"]  # script text is not visible text
    assert aimf["ts"] == "2015-12-29T23:14:10Z"


def test_large_index_is_zipnum(web: Web, tmp_path: Path) -> None:
    settings, catalog, slug = web
    options = WaczOptions(zipnum_min_lines=5, block_lines=2)
    report = write_wacz(settings, catalog, slug, tmp_path / "big.wacz", options=options)
    assert report.zipnum
    with zipfile.ZipFile(tmp_path / "big.wacz") as zf:
        assert "indexes/index.cdxj" not in zf.namelist()
        assert len(zf.read("indexes/index.idx").splitlines()) == 1 + 4  # meta + 7 lines / 2
    checked = check_package(tmp_path / "big.wacz", tmp_path)
    assert len(checked["lines"]) == 7  # type: ignore[arg-type]


def test_url_prefix_subset(web: Web, tmp_path: Path) -> None:
    settings, catalog, slug = web
    selection = Selection(url_prefix=SITE + "partners/")
    write_wacz(settings, catalog, slug, tmp_path / "partners.wacz", selection)
    checked = check_package(tmp_path / "partners.wacz", tmp_path)
    assert {u for u, _ in urls(checked)} == {
        SITE + "partners/aimf.html",
        SITE + "partners/list.html",
        SITE + "partners/new.html",
    }
    with zipfile.ZipFile(tmp_path / "partners.wacz") as zf:  # each copy keeps its warcinfo
        assert (
            b"WARC-Type: warcinfo"
            in __import__("gzip").decompress(zf.read("archive/crawl-one.warc.gz"))[:400]
        )


def test_time_range_brings_revisit_originals_along(web: Web, tmp_path: Path) -> None:
    settings, catalog, slug = web
    write_wacz(settings, catalog, slug, tmp_path / "2020.wacz", Selection(from_ts="2020"))
    checked = check_package(tmp_path / "2020.wacz", tmp_path)
    # the 2020 revisit of the home page needs the 2015 response that holds its payload
    assert urls(checked) == {
        (SITE, "20200601080000"),
        (SITE + "partners/new.html", "20200601080000"),
        (SITE, "20151229231410"),
    }
    # ... which is there for replay, not listed as a page of the range; the revisit is,
    # with the title and text of the payload it stands for
    pages = checked["pages"]
    assert isinstance(pages, list)
    assert sorted((p["url"], p["ts"], p["title"]) for p in pages) == [
        (SITE, "2020-06-01T08:00:00Z", "Home"),
        (SITE + "partners/new.html", "2020-06-01T08:00:00Z", "New partner"),
    ]
    home = next(p for p in pages if p["url"] == SITE)
    assert "Welcome to the partner directory." in home["text"]


def test_crawl_subset(web: Web, tmp_path: Path) -> None:
    settings, catalog, slug = web
    write_wacz(settings, catalog, slug, tmp_path / "one.wacz", Selection(crawl=1))
    checked = check_package(tmp_path / "one.wacz", tmp_path)
    assert len(urls(checked)) == len(FIRST_CRAWL)
    write_wacz(settings, catalog, slug, tmp_path / "two.wacz", Selection(crawl=2))
    checked = check_package(tmp_path / "two.wacz", tmp_path)
    assert (SITE, "20151229231410") in urls(checked)  # the revisit's original
    with pytest.raises(NotFound, match="no crawl 9"):
        write_wacz(settings, catalog, slug, tmp_path / "nine.wacz", Selection(crawl=9))


def test_zip64_entries_are_read_by_peers(
    web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Entries that may pass 2 GB are written with ZIP64 headers; force it for all.
    settings, catalog, slug = web
    monkeypatch.setattr(zip_package, "ZIP64_GUARD", 0)
    write_wacz(settings, catalog, slug, tmp_path / "z64.wacz", Selection(url_prefix=SITE))
    raw = (tmp_path / "z64.wacz").read_bytes()
    with zipfile.ZipFile(tmp_path / "z64.wacz") as zf:
        for info in zf.infolist():
            local = raw[info.header_offset : info.header_offset + 30]
            name_length = int.from_bytes(local[26:28], "little")
            extra_at = info.header_offset + 30 + name_length
            assert local[18:26] == b"\xff" * 8, info.filename  # sizes are in the ZIP64 field
            assert raw[extra_at : extra_at + 2] == b"\x01\x00", info.filename
    check_package(tmp_path / "z64.wacz", tmp_path)


def test_signed_package(web: Web, tmp_path: Path) -> None:
    settings, catalog, slug = web
    generate_key(tmp_path / "key.pem")
    options = WaczOptions(signer=load_signer(tmp_path / "key.pem"))
    report = write_wacz(settings, catalog, slug, tmp_path / "signed.wacz", options=options)
    assert report.signed
    checked = check_package(tmp_path / "signed.wacz", tmp_path)
    digest = checked["digest"]
    assert isinstance(digest, dict)
    signed = digest["signedData"]
    assert set(signed) == {"hash", "created", "software", "version", "signature", "publicKey"}
    assert signed["created"] == checked["package"]["created"]  # type: ignore[index]
    assert verify_signed_data(signed, digest["hash"]) is None
    assert verify_signed_data(signed, "sha256:" + "0" * 64) is not None
    raw = bytearray(base64.b64decode(signed["signature"]))
    raw[5] ^= 1
    forged = dict(signed, signature=base64.b64encode(bytes(raw)).decode())
    assert verify_signed_data(forged, digest["hash"]) == (
        "the signature does not match the datapackage's hash"
    )


def test_bad_selections_and_keys(web: Web, tmp_path: Path) -> None:
    settings, catalog, slug = web
    with pytest.raises(InvalidInput, match="--from must be a timestamp"):
        Selection(from_ts="yesterday")
    with pytest.raises(InvalidInput, match="after --to"):
        Selection(from_ts="2020", to_ts="2015")
    with pytest.raises(VellumError, match="nothing to export"):
        write_wacz(settings, catalog, slug, tmp_path / "x.wacz", Selection(url_prefix="ftp:"))
    assert not (tmp_path / "x.wacz").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".wacz-")] == []
    (tmp_path / "rsa.pem").write_text("not a key")
    with pytest.raises(InvalidInput, match="not an unencrypted PEM private key"):
        load_signer(tmp_path / "rsa.pem")


def test_cli(web: Web, tmp_path: Path) -> None:
    settings, _, slug = web
    data = settings.data_dir
    out = run(data, "export", slug, "--wacz", str(tmp_path / "cli.wacz"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        f"Wrote {tmp_path / 'cli.wacz'}: {(tmp_path / 'cli.wacz').stat().st_size:,} bytes, "
        "2 WARC file(s), 7 captures (index.cdxj), 5 pages"
    )
    check_package(tmp_path / "cli.wacz", tmp_path)
    generate_key(tmp_path / "key.pem")
    out = run(
        data,
        "export",
        slug,
        "--wacz",
        str(tmp_path / "s.wacz"),
        "--from",
        "2020",
        "--url-prefix",
        SITE + "partners/",
        "--sign",
        str(tmp_path / "key.pem"),
    )
    assert out.returncode == 0, out.stderr
    assert "1 captures (index.cdxj), 1 pages, signed" in out.stdout
    bad = run(data, "export", slug, "--wacz", str(tmp_path / "b.wacz"), "--to", "20x")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: --to must be a timestamp of 1 to 14 digits, not '20x'"
    both = run(data, "export", slug, "--wacz", "a.wacz", "--cdxj", "b.cdxj")
    assert both.returncode == 2
    assert "exactly one of --wacz FILE, --warc DIR, --cdxj FILE" in both.stderr
    missing = run(data, "export", "nope", "--wacz", str(tmp_path / "n.wacz"))
    assert missing.returncode == 1 and "no collection 'nope'" in missing.stderr


def test_pages_without_text(web: Web, tmp_path: Path) -> None:
    settings, _, slug = web
    out = run(settings.data_dir, "export", slug, "--wacz", str(tmp_path / "t.wacz"), "--no-text")
    assert out.returncode == 0, out.stderr
    wacz_validate(tmp_path / "t.wacz")
    with zipfile.ZipFile(tmp_path / "t.wacz") as zf:
        header, *pages = (json.loads(line) for line in zf.read("pages/pages.jsonl").splitlines())
    assert "hasText" not in header
    assert len(pages) == 5 and all("text" not in p for p in pages)
    assert {p["title"] for p in pages} == {"Home", "AIMF", "Partners", "New partner"}
