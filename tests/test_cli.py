"""The `vellum` command as a user runs it: output, one-line errors, exit codes."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from vellum.demo.site_server import DemoSite

VELLUM = [sys.executable, "-m", "vellum"]


def run(data: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VELLUM, "--data", str(data), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_help_on_every_command(tmp_path: Path) -> None:
    for command in (
        [],
        ["org"],
        ["org", "create"],
        ["org", "list"],
        ["collection"],
        ["collection", "create"],
        ["collection", "list"],
        ["crawl"],
        ["serve"],
        ["demo"],
    ):
        result = run(tmp_path, *command, "--help")
        assert result.returncode == 0, (command, result.stderr)
        assert "Usage:" in result.stdout


def test_org_and_collection_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    created = run(data, "org", "create", "Example Partner Foundation", "--acronym", "EPF")
    assert created.returncode == 0
    assert "Created organization Example Partner Foundation (EPF)" in created.stdout
    listed = run(data, "org", "list")
    assert "EPF" in listed.stdout and "Example Partner Foundation" in listed.stdout
    made = run(
        data,
        "collection",
        "create",
        "epf",
        "--org",
        "Example Partner Foundation",
        "--title",
        "EPF web",
        "--description",
        "Everything",
    )
    assert made.returncode == 0, made.stderr
    listed = run(data, "collection", "list")
    assert "epf" in listed.stdout and "EPF web" in listed.stdout and "public" in listed.stdout


def test_env_var_sets_data_dir(tmp_path: Path) -> None:
    env = {**os.environ, "VELLUM_DATA": str(tmp_path / "envdata")}
    subprocess.run(
        [*VELLUM, "org", "create", "A", "--acronym", "A"], env=env, check=True, capture_output=True
    )
    assert (tmp_path / "envdata" / "vellum.db").exists()


def test_bad_input_errors(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert_one_line_error(
        run(data, "collection", "create", "x", "--org", "Nobody", "--title", "X"),
        "no organization named 'Nobody'",
    )
    assert_one_line_error(run(data, "crawl", "nope", "http://127.0.0.1:1/"), "no collection 'nope'")
    run(data, "org", "create", "A", "--acronym", "A")
    run(data, "collection", "create", "c", "--org", "A", "--title", "C")
    assert_one_line_error(run(data, "crawl", "c", "htp:/bad url"), "malformed URL")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    unreachable = run(data, "crawl", "c", f"http://127.0.0.1:{free}/")
    assert unreachable.returncode != 0
    assert "error: nothing captured" in unreachable.stderr
    assert "connection refused" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
    assert_one_line_error(run(data, "crawl", "c", "http://127.0.0.1/", "--depth", "-1"), "--depth")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert_one_line_error(run(blocker / "data", "org", "list"), "cannot create data directory")


def test_serve_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert_one_line_error(run(tmp_path, "serve", "--port", str(port)), "already in use")
        assert_one_line_error(run(tmp_path, "demo", "--port", str(port)), "already in use")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "ro"
    data.mkdir()
    data.chmod(0o500)
    try:
        assert run(data, "org", "create", "A", "--acronym", "A").returncode != 0
    finally:
        data.chmod(0o700)


def test_ctrl_c_during_crawl_leaves_valid_warc_and_index(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(data, "org", "create", "A", "--acronym", "A")
    run(data, "collection", "create", "c", "--org", "A", "--title", "C")
    with DemoSite(delay=0.15) as site:
        proc = subprocess.Popen(
            [*VELLUM, "--data", str(data), "crawl", "c", site.url, "--depth", "3"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        warcs = data / "collections" / "c" / "warcs"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            files = list(warcs.glob("*.warc.gz*"))  # written as .warc.gz.open
            if files and files[0].stat().st_size > 5000:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "crawl interrupted" in err and "Traceback" not in err
    (warc,) = warcs.glob("*.warc.gz")
    with warc.open("rb") as f:
        records = list(ArchiveIterator(f, check_digests=True))
    responses = [r for r in records if r.rec_type in ("response", "revisit")]
    assert responses
    index_lines = []
    for segment in (data / "collections" / "c" / "indexes").glob("*.cdxj"):
        index_lines += segment.read_text().splitlines()
    assert len(index_lines) == len(responses)
    assert not list((data / "collections" / "c" / "indexes").glob("*.open"))


def start_and_wait(args: list[str], marker: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start a long-running vellum command; return it once `marker` appears on stdout."""
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if marker in line:
            return proc, lines
    proc.kill()
    raise AssertionError(
        f"{marker!r} never printed: {lines} {proc.stderr.read() if proc.stderr else ''}"
    )


def http_get(url: str) -> tuple[int, str]:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=10)
    try:
        path = parts.path + ("?" + parts.query if parts.query else "")
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


@pytest.mark.slow
def test_demo_twice_and_ctrl_c(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for run_number in (1, 2):
        proc, lines = start_and_wait(
            [*VELLUM, "--data", str(data), "demo", "--port", "0"], "/partners/aimf.html"
        )
        try:
            aimf = lines[-1].strip()
            assert aimf.startswith("http://localhost:") and "/unesco/" in aimf
            status, body = http_get(aimf)
            assert status == 200
            text = re.sub("<[^>]+>", "", body)
            assert "collected at the request of United Nations Educational" in text
            # The archived page itself is the top page's frame, from the replay origin.
            frame = re.search(r'<iframe id="vellum-replay"[^>]*?src="([^"]+)"', body)
            assert frame is not None and frame.group(1).startswith("http://127.0.0.1:")
            status, framed = http_get(frame.group(1).replace("&amp;", "&"))
            assert status == 200
            assert "Association internationale des maires francophones" in framed
            versions_url = aimf.split("/unesco/")[0] + "/unesco/*/" + aimf.split("/", 5)[5]
            status, versions = http_get(versions_url)
            # The calendar lists each capture as a link to it (one per run).
            assert status == 200 and versions.count('<li><a href="/unesco/') == run_number
        finally:
            proc.send_signal(signal.SIGINT)
            _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    assert len(list((data / "collections" / "unesco" / "warcs").glob("*.warc.gz"))) == 2


@pytest.mark.slow
def test_serve_command(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(data, "org", "create", "A", "--acronym", "A")
    run(data, "collection", "create", "c", "--org", "A", "--title", "Cee <collection>")
    proc, lines = start_and_wait(
        [*VELLUM, "--data", str(data), "serve", "--port", "0"], "Vellum replay on"
    )
    try:
        base = lines[-1].split()[3]
        status, home = http_get(base)
        assert status == 200 and "Cee &lt;collection&gt;" in home
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_index_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(data, "org", "create", "A", "--acronym", "A")
    run(data, "collection", "create", "c", "--org", "A", "--title", "C")
    with DemoSite() as site:
        assert run(data, "crawl", "c", site.url, "--depth", "1").returncode == 0
        url = site.url
    query = run(data, "index", "query", "c", url + "partners/aimf.html", "--output", "json")
    assert query.returncode == 0 and '"status": "200"' in query.stdout
    prefix = run(
        data,
        "index",
        "query",
        "c",
        url + "css/",
        "--match-type",
        "prefix",
        "--fl",
        "url",
        "--output",
        "text",
    )
    assert sorted(prefix.stdout.split()) == [url + "css/fonts.css", url + "css/portal.css"]
    verified = run(data, "index", "verify", "c")
    assert verified.returncode == 0 and "is complete" in verified.stdout
    for segment in (data / "collections" / "c" / "indexes").rglob("*.cdxj"):
        segment.write_text("")  # lose every entry
    broken = run(data, "index", "verify", "c")
    assert broken.returncode != 0 and "record not indexed" in broken.stderr
    assert "vellum index rebuild c" in broken.stderr.splitlines()[-1]
    rebuilt = run(data, "index", "rebuild", "c")
    assert rebuilt.returncode == 0 and "Rebuilt the index of c" in rebuilt.stdout
    assert run(data, "index", "verify", "c").returncode == 0
    assert_one_line_error(run(data, "index", "query", "nope", url), "no collection 'nope'")
    assert_one_line_error(run(data, "index", "query", "c", url, "--limit", "0"), "limit")
