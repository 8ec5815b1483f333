"""Replay benchmark: Vellum's replay server against pywb on the same WARC files, same run.

Input, made once and kept in `bench/.work/`:

* the generated site (see `benchlib`) served by nginx and captured by wget into one
  WARC file (wget, not Vellum's crawler: both servers then replay a third party's WARC);
* a WARC holding 50,000 captures of one URL (`http://many.bench.test/page.html`, one
  a minute), written with warcio.

pywb gets a collection holding both files (`wb-manager init` + `add`, its own indexer);
Vellum a collection into which both are imported (`vellum import`). Both servers run on
127.0.0.1: pywb as `wayback -b 127.0.0.1 -p PORT` (its defaults: one process, gevent),
Vellum as `vellum serve --workers 2` (one process per core; archived pages are served
from the replay origin, the second port).

Each row is one kind of request, measured with wrk (keep-alive HTTP/1.1, one thread) at
1 and at 50 connections, for the same number of seconds on both servers, after one
warm-up pass over every path of the row (so caches hold what they would hold on a
server that has been up for a while; the cold row below measures without it). Every
answer is checked by the wrk script: status 200 and a marker text in the body.

Run it alone with `.venv/bin/python bench/bench_replay.py [--seconds S]`.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.client
import io
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchlib import (
    BENCH_DIR,
    BUSY_LIMIT,
    LOOPBACK,
    MARKER,
    SITE_DIR,
    BenchError,
    ensure_debian_package,
    ensure_pywb,
    ensure_site,
    free_port,
    log,
    machine_info,
    markdown_table,
    measure_quietly,
    nginx,
    ratio,
    run,
    save_results,
    server,
    tool_version,
    vellum,
    vellum_collection,
    work_dir,
)
from benchlib import VELLUM as VELLUM_BIN

SLUG = "site"
PYWB_COLL = "bench"
LUA = BENCH_DIR / "wrk_paths.lua"
MANY_URL = "http://many.bench.test/page.html"
MANY_COUNT = 50_000
MANY_MARKER = "many-captures-marker"
WORKERS = 2
CONNECTIONS = (1, 50)


@dataclass(frozen=True)
class Form:
    """One kind of request (a row of the table)."""

    key: str
    label: str
    marker: str  # text every answer must hold
    warm: bool = True  # one pass over every path before measuring
    time_factor: float = 1.0  # times the base measuring time


FORMS = [
    Form("page", "small page, rewritten (mp_)", MARKER),
    Form("page_raw", "same pages, raw (id_)", MARKER),
    Form("large", "650 KB page, rewritten (mp_)", f"{MARKER}-large"),
    Form("image", "image (im_)", "PNG"),
    Form("timemap", "TimeMap of a page (link format)", 'rel="original"'),
    # if_ rewrites as mp_ does, but no earlier row asked for it: nothing is cached yet.
    Form("page_cold", "small page, rewritten, cold (if_, first requests)", MARKER, warm=False),
    # pywb takes seconds per answer here: measured three times as long to count several;
    # last, because pywb goes on working through the requests wrk left queued.
    Form("many", f"closest capture, URL with {MANY_COUNT:,} captures (mp_)", MANY_MARKER, True, 3),
]


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    req_per_s: float
    mb_per_s: float
    p50_ms: float
    p99_ms: float
    timeouts: int = 0
    other_cores: float = 0.0  # CPU used by processes outside the benchmark meanwhile


@dataclass(frozen=True)
class Capture:
    url: str
    timestamp: str
    mime: str


# input


def wget_warc(site_base: str, scratch: Path) -> Path:
    """The generated site captured by wget into one WARC file."""
    wget = ensure_debian_package("wget", "wget")
    run(
        [
            wget,
            "--recursive",
            "--level=inf",
            "--page-requisites",
            "--no-parent",
            "-e",
            "robots=on",
            f"--warc-file={scratch / 'site'}",
            "--no-verbose",
            "--delete-after",
            "-P",
            str(scratch / "files"),
            site_base,
        ]
    )
    return scratch / "site.warc.gz"


def many_warc() -> Path:
    """A WARC of MANY_COUNT captures of MANY_URL, one a minute from 2020 (made once)."""
    path = work_dir() / f"many-{MANY_COUNT}.warc.gz"
    if path.exists():
        return path
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    log(f"writing {MANY_COUNT:,} captures of one URL with warcio (once)")
    start = datetime(2020, 1, 1, tzinfo=UTC)
    partial = path.with_suffix(".partial")
    with open(partial, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        for n in range(MANY_COUNT):
            when = start + timedelta(minutes=n)
            body = (
                f"<html><head><title>Capture {n}</title></head><body><p>{MANY_MARKER} {n}"
                f'</p><a href="/next.html">next</a></body></html>'
            ).encode()
            http = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                MANY_URL,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": when.strftime("%Y-%m-%dT%H:%M:%SZ")},
            )
            writer.write_record(record)
    partial.rename(path)
    return path


def many_middle_timestamp() -> str:
    return (datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=MANY_COUNT // 2)).strftime(
        "%Y%m%d%H%M%S"
    )


def site_captures(warc: Path) -> list[Capture]:
    """The 200 captures in the site's WARC (read with warcio's index, pywb's reader)."""
    from warcio.archiveiterator import ArchiveIterator

    found = []
    with open(warc, "rb") as f:
        for record in ArchiveIterator(f):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            if record.http_headers.get_statuscode() != "200":
                continue
            date = record.rec_headers.get_header("WARC-Date")
            ts = re.sub(r"[^0-9]", "", date)[:14]
            mime = (record.http_headers.get_header("Content-Type") or "").split(";")[0]
            url = record.rec_headers.get_header("WARC-Target-URI").strip("<>")
            found.append(Capture(url, ts, mime))
    if not found:
        raise BenchError(f"no captures in {warc}")
    return found


def paths_for(system: str, form: Form, captures: list[Capture]) -> list[str]:
    """The request paths of one row for one system."""
    coll = PYWB_COLL if system == "pywb" else SLUG

    def memento(c: Capture, modifier: str) -> str:
        return f"/{coll}/{c.timestamp}{modifier}/{c.url}"

    pages = [
        c
        for c in captures
        if c.mime == "text/html" and re.search(r"/s\d\d/p\d{4}\.html$", urlsplit(c.url).path)
    ]
    if form.key == "page":
        return [memento(c, "mp_") for c in pages]
    if form.key == "page_cold":
        return [memento(c, "if_") for c in pages]
    if form.key == "page_raw":
        return [memento(c, "id_") for c in pages]
    if form.key == "large":
        return [memento(c, "mp_") for c in captures if c.url.endswith("/large.html")]
    if form.key == "image":
        return [memento(c, "im_") for c in captures if c.mime == "image/png"]
    if form.key == "timemap":
        return [f"/{coll}/timemap/link/{c.url}" for c in pages[:200]]
    if form.key == "many":
        return [f"/{coll}/{many_middle_timestamp()}mp_/{MANY_URL}"]
    raise BenchError(f"unknown form {form.key}")


# servers


@contextlib.contextmanager
def pywb_server(warcs: list[Path], scratch: Path) -> Iterator[str]:
    """pywb's wayback on a collection holding `warcs`; yields its base URL."""
    bin_dir = ensure_pywb()
    root = scratch / "pywb"
    root.mkdir()
    run([bin_dir / "wb-manager", "init", PYWB_COLL], cwd=root)
    run([bin_dir / "wb-manager", "add", PYWB_COLL, *warcs], cwd=root)
    port = free_port()
    cmd = [bin_dir / "wayback", "-b", LOOPBACK, "-p", str(port)]
    base = f"http://{LOOPBACK}:{port}/"
    with server(cmd, base, scratch / "pywb.log", cwd=root):
        yield base


@contextlib.contextmanager
def vellum_server(data: Path, scratch: Path) -> Iterator[str]:
    """`vellum serve --workers N`; yields the base URL of its replay origin."""
    port = free_port()
    replay_port = free_port()
    cmd = [
        VELLUM_BIN,
        "--data",
        data,
        "serve",
        "--port",
        str(port),
        "--replay-port",
        str(replay_port),
        "--workers",
        str(WORKERS),
    ]
    with server(cmd, f"http://{LOOPBACK}:{replay_port}/static/", scratch / "vellum-serve.log"):
        yield f"http://{LOOPBACK}:{replay_port}/"


# measuring


def check_answers(base: str, system: str, form: Form, paths: list[str]) -> None:
    """Fail loudly unless the first answers are 200s holding the row's marker."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or LOOPBACK, parts.port, timeout=120)
    try:
        for path in paths[:2]:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200 or form.marker.encode() not in body:
                raise BenchError(
                    f"{system} answered {response.status} without {form.marker!r} for {path}:"
                    f"\n{body[:500]!r}"
                )
            if form.key == "page" and system == "pywb" and b"wombat" not in body:
                raise BenchError(f"pywb's answer for {path} is not rewritten (no wombat)")
            if form.key == "page" and system == "vellum" and b"data-vellum" not in body:
                raise BenchError(f"Vellum's answer for {path} is not rewritten (no insert)")
    finally:
        conn.close()


def warm_up(base: str, paths: list[str]) -> None:
    """One request for every path, over one keep-alive connection."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or LOOPBACK, parts.port, timeout=300)
    try:
        for path in paths:
            conn.request("GET", path)
            conn.getresponse().read()
    finally:
        conn.close()


def wrk_load(
    base: str, paths: list[str], marker: str, connections: int, seconds: float, scratch: Path
) -> Load:
    """Drive `base` with wrk through `paths` in turn; every answer is checked by the script."""
    wrk = ensure_debian_package("wrk", "wrk")
    paths_file = scratch / "paths.txt"
    paths_file.write_text("".join(p + "\n" for p in paths))
    cmd = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "60s",
        "-s",
        str(LUA),
        base.rstrip("/"),
        "--",
        str(paths_file),
        marker,
    ]
    out = run(cmd).stdout
    match = re.search(r"^WRK-RESULT (.*)$", out, re.MULTILINE)
    if not match:
        raise BenchError(f"no result from wrk:\n{out}")
    fields = dict(item.split("=", 1) for item in match.group(1).split())
    errors = {k: int(fields[k]) for k in ("connect", "read", "write", "status")}
    if int(fields["bad"]) or any(errors.values()):
        raise BenchError(
            f"wrk against {base} saw {fields['bad']} bad answers (first status "
            f"{fields['first_bad']}) and errors {errors}"
        )
    requests = int(fields["requests"])
    duration = int(fields["duration_us"]) / 1e6
    return Load(
        requests=requests,
        seconds=duration,
        req_per_s=requests / duration,
        mb_per_s=int(fields["bytes"]) / 1e6 / duration,
        p50_ms=int(fields["p50_us"]) / 1000,
        p99_ms=int(fields["p99_us"]) / 1000,
        timeouts=int(fields["timeout"]),
    )


def measure_row(
    form: Form, system: str, base: str, paths: list[str], seconds: float, scratch: Path
) -> dict[str, Load]:
    """The row at each number of connections, measured when the machine is quiet."""
    check_answers(base, system, form, paths)
    if form.warm:
        warm_up(base, paths)
    loads = {}
    for connections in CONNECTIONS:
        if form.key == "page_cold" and connections != CONNECTIONS[-1]:
            continue  # one cold measure: a second would find the caches warm
        measure = functools.partial(
            wrk_load, base, paths, form.marker, connections, seconds * form.time_factor, scratch
        )
        load, others = measure_quietly(f"{form.key} {system} c{connections}", measure)
        log(
            f"{form.key:10} {system:6} c{connections:<3} {load.req_per_s:9.1f} req/s "
            f"({load.requests} requests, p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, "
            f"{load.timeouts} timeouts, others {others:.2f} cores)"
        )
        loads[str(connections)] = replace(load, other_cores=others)
    return loads


def run_bench(seconds: float = 10, pages: int = 1000) -> dict[str, Any]:
    machine = machine_info()
    ensure_site(pages)
    many = many_warc()
    results: dict[str, dict[str, dict[str, Load]]] = {}
    with tempfile.TemporaryDirectory(prefix="replay-", dir=work_dir()) as tmp:
        scratch = Path(tmp)
        with nginx(SITE_DIR) as site_base:
            log("capturing the site with wget")
            site = wget_warc(site_base, scratch)
        captures = site_captures(site)
        data = scratch / "vellum-data"
        vellum_collection(data, SLUG)
        vellum(data, "import", SLUG, str(site), str(many))
        log(f"{len(captures)} captures in the site's WARC, {MANY_COUNT:,} in the other")
        with (
            pywb_server([site, many], scratch) as pywb_base,
            vellum_server(data, scratch) as v_base,
        ):
            bases = {"pywb": pywb_base, "vellum": v_base}
            for form in FORMS:
                results[form.key] = {
                    system: measure_row(
                        form, system, base, paths_for(system, form, captures), seconds, scratch
                    )
                    for system, base in bases.items()
                }
    wayback = ensure_pywb() / "wayback"
    return {
        "benchmark": "replay",
        "machine": machine,
        "seconds_per_measure": seconds,
        "captures": len(captures),
        "workers": WORKERS,
        "tools": {
            "vellum": tool_version([str(VELLUM_BIN), "--version"], r"version (\S+)"),
            "pywb": tool_version([str(wayback), "--version"], r"pywb (\S+)"),
            "wrk": tool_version([shutil.which("wrk") or "wrk", "-v"], r"wrk \S*?(\d[\w.]*)"),
            "nginx": tool_version(
                [ensure_debian_package("nginx-light", "nginx"), "-v"], r"nginx/(\S+)"
            ),
        },
        "forms": [asdict(f) for f in FORMS],
        "rows": {
            k: {s: {c: asdict(load) for c, load in by_c.items()} for s, by_c in by.items()}
            for k, by in results.items()
        },
        # The shape `run_all.py` reads: one load per row and system (the most connections).
        "loads": {
            k: {s: asdict(by_c[max(by_c, key=int)]) for s, by_c in by.items()}
            for k, by in results.items()
        },
    }


def table(results: dict[str, Any]) -> str:
    """The replay table; a figure measured while other processes were busy is starred."""
    rows_data = results.get("rows")
    if rows_data is None:  # results saved by the earlier version of this benchmark
        return "(no replay results in the current format: run bench/bench_replay.py)"

    def rate(load: dict[str, Any]) -> str:
        busy = " *" if load.get("other_cores", 0.0) > BUSY_LIMIT else ""
        late = f" ({load['timeouts']} timed out)" if load.get("timeouts") else ""
        return f"{load['req_per_s']:.1f}{busy}{late}"

    rows = []
    for form in results["forms"]:
        by = rows_data[form["key"]]
        for connections in sorted(by["vellum"], key=int):
            v, p = by["vellum"][connections], by["pywb"][connections]
            rows.append(
                [
                    form["label"],
                    connections,
                    rate(v),
                    rate(p),
                    ratio(v["req_per_s"], p["req_per_s"]),
                    f"{v['p50_ms']:.1f} / {v['p99_ms']:.1f}",
                    f"{p['p50_ms']:.1f} / {p['p99_ms']:.1f}",
                ]
            )
    header = [
        "replay, req/s",
        "connections",
        f"Vellum ({results.get('workers', 1)} workers)",
        "pywb",
        "Vellum/pywb",
        "Vellum p50 / p99 ms",
        "pywb p50 / p99 ms",
    ]
    text = markdown_table(header, rows)
    if any("*" in cell for row in rows for cell in row):
        text += f"\n\n\\* measured while other processes used more than {BUSY_LIMIT} of a core"
    return text


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=10, help="measuring time per row, server and load"
    )
    parser.add_argument("--pages", type=int, default=1000, help="pages in the generated site")
    args = parser.parse_args()
    results = run_bench(args.seconds, args.pages)
    path = save_results("replay", results)
    print(table(results))
    print(f"\n(results saved to {path})")
    return results


if __name__ == "__main__":
    main()
