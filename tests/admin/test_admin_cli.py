"""`vellum org edit/delete`, `collection create/edit/delete` and `exclude` as a user runs them."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from vellum.catalog import Catalog
from vellum.catalog.collections import Collections
from vellum.catalog.exclusions import Exclusions
from vellum.catalog.organizations import Organizations
from vellum.cli.main import main
from vellum.settings import Settings


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Runner:
    """`vellum --data DATA ARGS...` run in this process, as its entry point runs it."""
    monkeypatch.setenv("COLUMNS", "200")

    def vellum(data: Path, *args: str, answer: str = "") -> Result:
        monkeypatch.setattr(sys, "argv", ["vellum", "--data", str(data), *args])
        monkeypatch.setattr(sys, "stdin", io.StringIO(answer))
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return vellum


Runner = Callable[..., Result]


def assert_one_line_error(result: Result, *needles: str) -> None:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def _catalog(data: Path) -> Catalog:
    return Catalog(Settings(data_dir=data).catalog_path)


def test_collections_with_dublin_core_edit_and_delete(tmp_path: Path, run: Runner) -> None:
    data = tmp_path / "data"
    assert run(data, "org", "create", "Owner Org", "--acronym", "OWN").returncode == 0
    created = run(
        data, "collection", "create", "c", "--org", "OWN", "--title", "C", "--private",
        "--subject", "Elections", "--subject", "Politics", "--language", "fr",
        "--creator", "Team", "--embargo-days", "30",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "Created collection c ('C', OWN, private, embargo 30 days)" in created.stdout
    edited = run(
        data, "collection", "edit", "c", "--title", "New title", "--public",
        "--subject", "Votes", "--clear", "language", "--embargo-days", "0",
    )  # fmt: skip
    assert edited.returncode == 0, edited.stderr
    assert "Saved collection c ('New title', OWN, public)" in edited.stdout
    catalog = _catalog(data)
    try:
        record = Collections(catalog).get("c")
        assert record.dublin_core == {"subject": ("Votes",), "creator": ("Team",)}
        assert record.public and record.embargo_days == 0
    finally:
        catalog.close()

    warcs = Settings(data_dir=data).warc_dir("c")
    warcs.mkdir(parents=True)
    (warcs / "a.warc.gz").write_bytes(b"not really a WARC")
    refused = run(data, "org", "delete", "OWN")
    assert_one_line_error(refused, "still owns 1 collection(s) (c)")
    asked = run(data, "collection", "delete", "c", answer="n\n")
    assert asked.returncode != 0 and "aborted" in asked.stderr
    assert (warcs / "a.warc.gz").exists()
    deleted = run(data, "collection", "delete", "c", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    moved = Path(deleted.stdout.split("moved to ", 1)[1].strip())
    assert moved.parent == data / "trash" and moved.name.startswith("c-")
    assert (moved / "warcs" / "a.warc.gz").read_bytes() == b"not really a WARC"
    assert not warcs.exists()
    assert "c" not in run(data, "collection", "list").stdout.split()
    gone = run(data, "org", "delete", "OWN")
    assert gone.returncode == 0 and "Deleted organization Owner Org (OWN)" in gone.stdout


def test_org_edit_and_bad_input(tmp_path: Path, run: Runner) -> None:
    data = tmp_path / "data"
    assert run(data, "org", "create", "Owner Org", "--acronym", "OWN").returncode == 0
    other = run(data, "org", "create", "Other", "--acronym", "OTH", "--contact", "https://o.org/")
    assert other.returncode == 0 and "Created organization Other (OTH)" in other.stdout
    bad_logo = run(data, "org", "create", "Third", "--acronym", "T", "--logo-url", "ftp://x/l")
    assert_one_line_error(bad_logo, "http:// or https://")
    assert_one_line_error(run(data, "org", "create", "OTHER", "--acronym", "X"), "already exists")
    edited = run(
        data, "org", "edit", "OWN", "--contact", "a@b.org", "--logo-url", "https://b.org/l.png"
    )
    assert edited.returncode == 0, edited.stderr
    assert_one_line_error(run(data, "org", "edit", "OWN", "--name", "Other"), "already exists")
    assert_one_line_error(run(data, "org", "edit", "OWN", "--logo-url", "file:///x"), "http://")
    assert_one_line_error(run(data, "org", "edit", "NOPE", "--name", "X"), "no organization")
    assert_one_line_error(run(data, "org", "delete", "NOPE"), "no organization")
    assert_one_line_error(
        run(data, "collection", "create", "x", "--org", "OWN", "--title", "T" * 301), "at most 300"
    )
    assert_one_line_error(
        run(data, "collection", "create", "Bad!", "--org", "OWN", "--title", "T"), "invalid"
    )
    assert_one_line_error(run(data, "collection", "edit", "nope", "--title", "T"), "no collection")
    assert_one_line_error(run(data, "collection", "delete", "nope", "--yes"), "no collection")
    catalog = _catalog(data)
    try:
        org = Organizations(catalog).get("OWN")
        assert (org.name, org.contact, org.logo_url) == (
            "Owner Org",
            "a@b.org",
            "https://b.org/l.png",
        )
        assert Organizations(catalog).get("OTH").contact == "https://o.org/"
        assert [o.acronym for o in Organizations(catalog).list()] == ["OTH", "OWN"]
    finally:
        catalog.close()


def test_exclude_add_list_remove(tmp_path: Path, run: Runner) -> None:
    data = tmp_path / "data"
    assert run(data, "org", "create", "Owner Org", "--acronym", "OWN").returncode == 0
    assert run(data, "collection", "create", "c", "--org", "OWN", "--title", "C").returncode == 0
    url = run(data, "exclude", "add", "c", "http://example.com/a", "--reason", "asked by owner")
    assert url.returncode == 0 and "Exclusion 1: url com,example)/a excluded from c" in url.stdout
    prefix = run(data, "exclude", "add", "c", "example.com/p/", "--prefix", "--reason", "r")
    assert "Exclusion 2: prefix com,example)/p/" in prefix.stdout
    host = run(data, "exclude", "add", "c", "other.org", "--host", "--reason", "r")
    assert "Exclusion 3: host org,other)" in host.stdout
    listing = run(data, "exclude", "list", "c").stdout
    assert "asked by owner" in listing and "org,other)" in listing
    removed = run(data, "exclude", "remove", "2")
    assert (
        removed.returncode == 0
        and "Lifted exclusion 2 (prefix com,example)/p/) of c" in removed.stdout
    )
    assert_one_line_error(run(data, "exclude", "remove", "2"), "no exclusion 2")
    assert_one_line_error(run(data, "exclude", "add", "c", "http://x.org/"), "--reason")
    assert_one_line_error(
        run(data, "exclude", "add", "c", "http://x.org/", "--reason", " "), "needs a reason"
    )
    assert_one_line_error(
        run(data, "exclude", "add", "c", "x.org/a", "--host", "--reason", "r"), "without a path"
    )
    assert_one_line_error(
        run(data, "exclude", "add", "nope", "x.org", "--reason", "r"), "no collection"
    )
    assert_one_line_error(run(data, "exclude", "list", "nope"), "no collection")
    catalog = _catalog(data)
    try:
        assert [x.id for x in Exclusions(catalog).list("c")] == [1, 3]
    finally:
        catalog.close()
