"""Replay benchmark: Vellum's replay server against pywb on the same WARC files, same run.

The generated site (see `benchlib`) is served by nginx and crawled once with Vellum. pywb
gets a collection of its own holding the same WARC files (`wb-manager init` + `add`),
and both servers are started on 127.0.0.1:

* pywb:   `wayback -b 127.0.0.1 -p PORT` (default settings: one process, gevent),
          URLs `/bench/<ts>mp_/<url>` (rewritten, no frame) and `/bench/<ts>id_/<url>`;
* Vellum: `vellum serve --port PORT2` (one process, uvicorn),
          URLs `/<slug>/<ts>/<url>` (rewritten, banner inserted) and `/<slug>/<ts>id_/<url>`.

Then wrk drives both with the same keep-alive load: every archived HTML page in turn, at
its exact 14-digit timestamp, from several concurrent connections; every answer must be a
200 holding the page's text (checked during the run). nginx serving the live files with
the same client is measured too: that is the client's ceiling. Run it alone with
`.venv/bin/python bench/bench_replay.py [--seconds S]`.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.client
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
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
WARMUP_SECONDS = 2


@dataclass(frozen=True)
class Form:
    """One kind of request, measured against the three servers.

    Connections: 32 for small pages, so that neither Python server waits on the network
    (both lose ~40 ms per answer on a keep-alive connection to Nagle + delayed ACK: see the
    one-connection row); few for the large page, so that the requests still in flight
    when the time is up (several seconds of work each under load) stay small against the
    number measured.
    """

    key: str
    label: str
    large: bool  # the ~650 KB page instead of every small page in turn
    raw: bool  # id_: the archived bytes untouched
    connections: int
    time_factor: float = 1.0  # times the base measuring time


FORMS = [
    Form("page", "small page, rewritten (pywb mp_, Vellum with banner)", False, False, 32),
    Form("page_raw", "small page, raw (id_)", False, True, 32),
    Form("large", "650 KB page, rewritten", True, False, 2, 1.5),
    Form("large_raw", "650 KB page, raw (id_)", True, True, 8),
    Form("page_1conn", "small page, rewritten, one connection", False, False, 1),
]


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    req_per_s: float
    mb_per_s: float
    p50_ms: float
    p99_ms: float
    other_cores: float = 0.0  # CPU used by processes outside the benchmark meanwhile


@dataclass(frozen=True)
class Capture:
    url: str
    timestamp: str
    ident: str  # the page's marker suffix: "0042", "home", "large"


def archived_pages(data: Path) -> list[Capture]:
    """Every 200 HTML capture in Vellum's index, with the marker id of its page."""
    captures = []
    for segment in sorted((data / "collections" / SLUG / "indexes").glob("*.cdxj")):
        for line in segment.read_text().splitlines():
            _key, timestamp, fields = line.split(" ", 2)
            entry = json.loads(fields)
            if entry["mime"] != "text/html" or entry["status"] != "200":
                continue
            path = urlsplit(entry["url"]).path
            page = re.fullmatch(r"/s\d\d/p(\d{4})\.html", path)
            ident = page.group(1) if page else "large" if path == "/large.html" else "home"
            captures.append(Capture(entry["url"], timestamp, ident))
    if not captures:
        raise BenchError(f"no HTML captures in Vellum's index under {data}")
    return captures


def paths_for(system: str, form: Form, captures: list[Capture]) -> list[tuple[str, str]]:
    """(request path, marker expected in the answer) for `system` and `form`."""
    chosen = [c for c in captures if (c.ident == "large") == form.large]
    out = []
    for c in chosen:
        if system == "nginx":
            path = urlsplit(c.url).path
        elif system == "pywb":
            path = f"/{PYWB_COLL}/{c.timestamp}{'id_' if form.raw else 'mp_'}/{c.url}"
        else:
            path = f"/{SLUG}/{c.timestamp}{'id_' if form.raw else ''}/{c.url}"
        out.append((path, f"{MARKER}-{c.ident}"))
    return out


def check_answers(base: str, system: str, form: Form, paths: list[tuple[str, str]]) -> None:
    """Fail loudly unless the first few answers are 200s holding their own page's text."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or LOOPBACK, parts.port, timeout=60)
    try:
        for path, marker in paths[:3]:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200 or marker.encode() not in body:
                raise BenchError(
                    f"{system} answered {response.status} without {marker!r} for {path}:\n"
                    f"{body[:500]!r}"
                )
            if system == "vellum" and not form.raw and b'id="vellum-banner"' not in body:
                raise BenchError(f"Vellum's answer for {path} has no banner")
            if system == "pywb" and not form.raw and b"wombat" not in body:
                raise BenchError(f"pywb's answer for {path} is not rewritten (no wombat)")
    finally:
        conn.close()


def wrk_load(
    base: str, paths: list[tuple[str, str]], connections: int, seconds: float, scratch: Path
) -> Load:
    """Drive `base` with wrk through `paths` in turn; every answer is checked by the script."""
    wrk = ensure_debian_package("wrk", "wrk")
    paths_file = scratch / "paths.txt"
    paths_file.write_text("".join(p + "\n" for p, _ in paths))
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
        MARKER,
    ]
    out = run(cmd).stdout
    match = re.search(r"^WRK-RESULT (.*)$", out, re.MULTILINE)
    if not match:
        raise BenchError(f"no result from wrk:\n{out}")
    fields = dict(item.split("=", 1) for item in match.group(1).split())
    errors = {k: int(fields[k]) for k in ("connect", "read", "write", "status", "timeout")}
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
    )


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
    port = free_port()
    cmd = [VELLUM_BIN, "--data", data, "serve", "--port", str(port)]
    base = f"http://{LOOPBACK}:{port}/"
    with server(cmd, base, scratch / "vellum-serve.log"):
        yield base


def measure_form(
    form: Form, system: str, base: str, captures: list[Capture], seconds: float, scratch: Path
) -> Load:
    """Check the answers, warm up, then measure `form` on `system` when the machine is quiet."""
    paths = paths_for(system, form, captures)
    check_answers(base, system, form, paths)
    wrk_load(base, paths, form.connections, WARMUP_SECONDS, scratch)
    measure = functools.partial(
        wrk_load, base, paths, form.connections, seconds * form.time_factor, scratch
    )
    load, others = measure_quietly(f"{form.key} {system}", measure)
    log(
        f"{form.key:10} {system:6} {load.req_per_s:9.1f} req/s "
        f"({load.requests} requests, p50 {load.p50_ms:.1f} ms, others {others:.2f} cores)"
    )
    return replace(load, other_cores=others)


def run_bench(seconds: float = 10, pages: int = 1000) -> dict[str, Any]:
    machine = machine_info()
    site = ensure_site(pages)
    loads: dict[str, dict[str, Load]] = {}
    with tempfile.TemporaryDirectory(prefix="replay-", dir=work_dir()) as tmp:
        scratch = Path(tmp)
        data = scratch / "vellum-data"
        with nginx(SITE_DIR) as site_base:
            log(f"crawling {len(site.pages)} pages + 1 large page with Vellum")
            vellum_collection(data, SLUG)
            vellum(data, "crawl", SLUG, site_base, "--depth", "50")
            warcs = sorted((data / "collections" / SLUG / "warcs").glob("*.warc.gz"))
            captures = archived_pages(data)
            log(f"{len(captures)} HTML captures in {len(warcs)} WARC file(s)")
            with pywb_server(warcs, scratch) as pywb_base, vellum_server(data, scratch) as v_base:
                bases = {"nginx": site_base, "pywb": pywb_base, "vellum": v_base}
                for form in FORMS:
                    loads[form.key] = {
                        system: measure_form(form, system, base, captures, seconds, scratch)
                        for system, base in bases.items()
                    }
    wayback = ensure_pywb() / "wayback"
    return {
        "benchmark": "replay",
        "machine": machine,
        "seconds_per_measure": seconds,
        "captures": len(captures),
        "tools": {
            "vellum": tool_version([str(VELLUM_BIN), "--version"], r"version (\S+)"),
            "pywb": tool_version([str(wayback), "--version"], r"pywb (\S+)"),
            "wrk": tool_version([shutil.which("wrk") or "wrk", "-v"], r"wrk \S*?(\d[\w.]*)"),
            "nginx": tool_version(
                [ensure_debian_package("nginx-light", "nginx"), "-v"], r"nginx/(\S+)"
            ),
        },
        "forms": [asdict(f) for f in FORMS],
        "loads": {k: {s: asdict(v) for s, v in by.items()} for k, by in loads.items()},
    }


def table(results: dict[str, Any]) -> str:
    """The replay table; a figure measured while other processes were busy is starred."""

    def rate(load: dict[str, Any], digits: int = 1) -> str:
        busy = " *" if load.get("other_cores", 0.0) > BUSY_LIMIT else ""
        return f"{load['req_per_s']:.{digits}f}{busy}"

    rows = []
    for form in results["forms"]:
        by = results["loads"][form["key"]]
        v, p, n = by["vellum"], by["pywb"], by["nginx"]
        rows.append(
            [
                form["label"],
                str(form["connections"]),
                rate(v),
                rate(p),
                ratio(v["req_per_s"], p["req_per_s"]),
                f"{v['p50_ms']:.1f} / {p['p50_ms']:.1f}",
                rate(n, 0),
            ]
        )
    header = [
        "replay, req/s",
        "connections",
        "Vellum",
        "pywb",
        "Vellum/pywb",
        "p50 ms Vellum / pywb",
        "nginx, same client (ceiling)",
    ]
    text = markdown_table(header, rows)
    if any("*" in cell for row in rows for cell in row):
        text += f"\n\n\\* measured while other processes used more than {BUSY_LIMIT} of a core"
    return text


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=10, help="measuring time per form and server"
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
