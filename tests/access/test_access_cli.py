"""`vellum collection set` and `vellum token create` as a user runs them."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import assert_one_line_error, run
from vellum.catalog import Catalog
from vellum.settings import Settings


def test_collection_set_and_token_create(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "org", "create", "Owner Org", "--acronym", "OWN").returncode == 0
    assert run(data, "collection", "create", "c", "--org", "OWN", "--title", "C").returncode == 0

    made_private = run(data, "collection", "set", "c", "--private")
    assert made_private.returncode == 0 and "now private" in made_private.stdout
    listing = run(data, "collection", "list").stdout
    assert "private" in listing

    created = run(data, "token", "create", "OWN", "--label", "wasapi")
    assert created.returncode == 0
    token = created.stdout.strip().splitlines()[-1]
    catalog = Catalog(Settings(data_dir=data).catalog_path)
    try:
        owner = catalog.organization_for_token(token)
        assert owner is not None and owner.acronym == "OWN"
        assert not catalog.get_collection("c").public
    finally:
        catalog.close()


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(data, "org", "create", "Owner Org", "--acronym", "OWN")
    run(data, "collection", "create", "c", "--org", "OWN", "--title", "C")
    assert_one_line_error(run(data, "collection", "set", "c"), "--public or --private")
    assert_one_line_error(run(data, "collection", "set", "nope", "--public"), "no collection")
    assert_one_line_error(run(data, "token", "create", "NOPE"), "no organization")
    # Nothing changed by the refused commands.
    assert "public" in run(data, "collection", "list").stdout
