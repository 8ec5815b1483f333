"""The parts that make replay fast stay correct: caches see changes, workers share ports."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.replay_proto.conftest import PAGE, SITE, SLUG, T3, write_site
from vellum.catalog import Catalog
from vellum.errors import NotFound
from vellum.index.importer import Importer
from vellum.index.store import open_index
from vellum.replay import catalog_view as view_module
from vellum.replay import memo as memo_module
from vellum.replay.app import create_app
from vellum.replay.catalog_view import CatalogView
from vellum.settings import Settings


def make_collection(tmp_path: Path) -> tuple[Settings, Catalog]:
    settings = Settings(data_dir=tmp_path / "data")
    catalog = Catalog(settings.catalog_path)
    catalog.create_organization("Org", "ORG")
    catalog.create_collection(SLUG, "ORG", "Speed")
    warc = tmp_path / "site.warc.gz"
    write_site(warc)
    Importer(settings, catalog, workers=1).run(SLUG, [warc])
    return settings, catalog


def test_catalog_view_sees_changes_from_another_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(view_module, "_SETTLE_NS", 0)  # trust file times at once
    monkeypatch.setattr(view_module, "RECHECK", 0.0)
    settings = Settings(data_dir=tmp_path / "data")
    catalog = Catalog(settings.catalog_path)
    catalog.create_organization("Org", "ORG")
    catalog.create_collection("c1", "ORG", "One")
    view = CatalogView(catalog, settings.catalog_path)
    assert view.get_collection("c1").public
    calls: list[str] = []
    real = catalog.get_collection

    def counting(slug: str) -> object:
        calls.append(slug)
        return real(slug)

    monkeypatch.setattr(catalog, "get_collection", counting)
    assert view.get_collection("c1").public
    assert calls == []  # answered from memory
    other = Catalog(settings.catalog_path)  # another process's connection, in effect
    time.sleep(0.01)  # file times must be able to differ
    other.set_collection_public("c1", False)
    assert not view.get_collection("c1").public
    assert calls == ["c1"]
    with pytest.raises(NotFound):
        view.get_collection("nope")
    other.close()
    catalog.close()


def test_new_captures_are_seen_despite_the_memo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memo_module, "RECHECK", 0.0)
    settings, catalog = make_collection(tmp_path)
    with TestClient(create_app(settings, catalog), follow_redirects=False) as client:
        url = f"{SITE}/page.html"
        assert client.get(f"/{SLUG}/{url}").headers["location"] == f"/{SLUG}/{T3}/{url}"
        store = open_index(settings.index_dir(SLUG), settings.warc_dir(SLUG))
        (latest,) = [c for c in store.captures(url) if c.timestamp == T3]
        store.append("site.warc.gz", [replace(latest, timestamp="20230101000000")])
        store.close()
        assert client.get(f"/{SLUG}/{url}").headers["location"] == f"/{SLUG}/20230101000000/{url}"
        # The memento's links name the new last memento too.
        memento = client.get(f"/{SLUG}/{T3}id_/{url}")
        assert f'20230101000000/{url}>; rel="next last memento"' in memento.headers["link"]
        # Answers from the body cache are the same bytes as the first.
        first = client.get(f"/{SLUG}/{T3}mp_/{url}")
        again = client.get(f"/{SLUG}/{T3}mp_/{url}")
        assert first.content == again.content and first.content.startswith(b"<html>")
    catalog.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_serve_with_workers_shares_the_ports_and_stops_them(tmp_path: Path) -> None:
    settings, catalog = make_collection(tmp_path)
    catalog.close()
    port, replay_port = _free_port(), _free_port()
    vellum = Path(sys.executable).parent / "vellum"
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 (closed in finally)
    process = subprocess.Popen(
        [
            str(vellum),
            "--data",
            str(settings.data_dir),
            "serve",
            "--port",
            str(port),
            "--replay-port",
            str(replay_port),
            "--workers",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        url = f"http://127.0.0.1:{replay_port}/{SLUG}/{T3}id_/{SITE}/page.html"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    body = answer.read()
                break
            except OSError:
                assert process.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "vellum serve did not answer"
                time.sleep(0.2)
        assert body == PAGE.replace(b"page body", T3.encode())
        children = _children(process.pid)
        assert len(children) == 1  # two processes in all
        for _ in range(20):  # many connections: every one answered, whichever process
            with urllib.request.urlopen(url, timeout=5) as answer:
                assert answer.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        log.close()
    time.sleep(0.5)
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


def test_rewritten_answers_are_shared_through_the_disk_tier(tmp_path: Path) -> None:
    settings, catalog = make_collection(tmp_path)
    path = f"/{SLUG}/{T3}mp_/{SITE}/page.html"
    with TestClient(create_app(settings, catalog)) as first:
        made = first.get(path)
    cache = settings.data_dir / "cache" / "replay"
    (tier,) = cache.iterdir()
    entries = [p for p in tier.rglob("*") if p.is_file()]
    assert len(entries) == 1  # the rewritten page; raw bytes are not copied
    # Another process (a new app here) answers from the entry: damage it, see it used.
    entry = entries[0]
    entry.write_bytes(entry.read_bytes().replace(b"/other.html", b"/OTHER.html"))
    with TestClient(create_app(settings, catalog)) as second:
        again = second.get(path)
    assert again.status_code == 200 and b"/OTHER.html" in again.content
    assert again.headers["memento-datetime"] == made.headers["memento-datetime"]
    # A damaged entry is a miss: the page is rewritten again.
    entry.write_bytes(b"garbage")
    with TestClient(create_app(settings, catalog)) as third:
        assert third.get(path).content == made.content
    # Another version of the code starts afresh and removes the old entries.
    (cache / "0000000000000000").mkdir()
    with TestClient(create_app(settings, catalog)):
        assert not (cache / "0000000000000000").exists()
    catalog.close()
