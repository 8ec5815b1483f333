"""Portal benchmark: the calendar of a much-captured URL and the home page, against pywb.

    .venv/bin/python bench/bench_portal.py [--hot N] [--others N] [--requests N]

A synthetic collection (deterministic): one URL with `--hot` captures (20,000) spread
over ten years and `--others` (200,000) captures of other URLs, in one index; the same
sorted CDXJ lines are pywb's index (`collections/c/indexes/index.cdxj`). No WARC file
is read: both answers come from the index alone.

Measured over HTTP, one request at a time (p50 of `--requests`), each server a process
of its own on 127.0.0.1:

- calendar: Vellum's `/c/*/<url>`, the whole calendar page (years, month grids, every
  capture linked), against pywb 2.10's `/c/cdx?url=<url>&output=json`, the captures
  its calendar page (a script) fetches to draw itself; pywb's `/c/*/<url>` page itself
  is an empty shell and is reported too;
- home: Vellum's `/`, which shows each collection's capture counts and dates, counted
  once per index change: the first request (the count) and the next ones (kept);
  pywb's `/` lists its collections' names only.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchlib import (
    LOOPBACK,
    VELLUM,
    ensure_pywb,
    free_port,
    log,
    machine_info,
    markdown_table,
    ratio,
    save_results,
    server,
    tool_version,
    work_dir,
)
from vellum.catalog import Catalog
from vellum.index.cdxj import Capture
from vellum.index.store import SegmentedIndex
from vellum.settings import Settings
from vellum.urls.surt import surt

HOT_URL = "http://www.hot-example.org/"
SLUG = "c"
START = 1262304000  # 2010-01-01
SPAN = 10 * 365 * 86400


def captures(hot: int, others: int) -> list[Capture]:
    """The synthetic captures, sorted as an index holds them."""
    rng = random.Random(7)
    rows = []
    hot_key = surt(HOT_URL)
    for i in range(hot):
        ts = time.strftime("%Y%m%d%H%M%S", time.gmtime(START + rng.randrange(SPAN)))
        rows.append(Capture(hot_key, ts, HOT_URL, "text/html", "200", f"H{i}", 900, i, "a.warc.gz"))
    for i in range(others):
        url = f"http://site{i % 5000}.example.org/page/{i}.html"
        ts = time.strftime("%Y%m%d%H%M%S", time.gmtime(START + rng.randrange(SPAN)))
        mime = "text/html" if i % 4 else "image/png"
        rows.append(Capture(surt(url), ts, url, mime, "200", f"O{i}", 900, i, "b.warc.gz"))
    rows.sort(key=lambda c: (c.urlkey, c.timestamp))
    return rows


def build(scratch: Path, rows: list[Capture]) -> tuple[Path, Path]:
    """Vellum's data directory and pywb's working directory, both holding `rows`."""
    data = scratch / "vellum"
    settings = Settings(data_dir=data)
    catalog = Catalog(settings.catalog_path)
    catalog.create_organization("Benchmark Partner", "BENCH")
    catalog.create_collection(SLUG, "BENCH", "Benchmark", "Synthetic captures")
    catalog.close()
    warcs = settings.warc_dir(SLUG)
    warcs.mkdir(parents=True, exist_ok=True)
    for name in ("a.warc.gz", "b.warc.gz"):
        (warcs / name).touch()  # never read: the pages measured come from the index
    with SegmentedIndex(settings.index_dir(SLUG), warcs) as store:
        for name in ("a.warc.gz", "b.warc.gz"):
            store.append(name, (c for c in rows if c.filename == name))
            store.seal(name)
    pywb = scratch / "pywb"
    indexes = pywb / "collections" / SLUG / "indexes"
    indexes.mkdir(parents=True)
    (pywb / "collections" / SLUG / "archive").mkdir()
    with (indexes / "index.cdxj").open("w") as out:
        for c in rows:
            out.write(c.to_line() + "\n")
    return data, pywb


def timed_get(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as response:
        body = response.read()
    return time.perf_counter() - started, len(body)


def p50(url: str, requests: int, must_contain: bytes = b"") -> tuple[float, int]:
    times = []
    size = 0
    for _ in range(requests):
        took, size = timed_get(url)
        times.append(took)
    if must_contain:
        with urllib.request.urlopen(url, timeout=600) as response:
            if must_contain not in response.read():
                raise SystemExit(f"{url} does not hold {must_contain!r}")
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hot", type=int, default=20_000)
    parser.add_argument("--others", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=7)
    args = parser.parse_args()
    scratch = work_dir() / "portal-bench"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    log(f"building {args.hot:,} + {args.others:,} captures")
    data, pywb_dir = build(scratch, captures(args.hot, args.others))
    bin_dir = ensure_pywb()
    results: dict[str, float | int | str] = {}

    port = free_port()
    replay_port = free_port()
    ui = f"http://localhost:{port}"
    cmd: list[str | Path] = [VELLUM, "--data", data, "serve", "--host", LOOPBACK]
    cmd += ["--port", str(port)]
    cmd += ["--replay-port", str(replay_port)]
    with server(cmd, f"{ui}/static/ui.css", scratch / "vellum.log"):
        # A large index is counted in the background: the first answers say "Counting";
        # measured here is the time until the page shows the figures.
        started = time.perf_counter()
        results["vellum_home_first_s"], _ = timed_get(f"{ui}/")
        while b" captures of " not in urllib.request.urlopen(f"{ui}/", timeout=600).read():
            time.sleep(0.05)
        results["vellum_home_counted_s"] = time.perf_counter() - started
        results["vellum_home_s"], _ = p50(f"{ui}/", args.requests, b" captures of ")
        results["vellum_calendar_s"], results["vellum_calendar_bytes"] = p50(
            f"{ui}/{SLUG}/*/{HOT_URL}", args.requests, f"{args.hot} captures".encode()
        )

    pport = free_port()
    base = f"http://{LOOPBACK}:{pport}"
    pcmd: list[str | Path] = [bin_dir / "wayback", "-b", LOOPBACK, "-p", str(pport)]
    with server(pcmd, f"{base}/", scratch / "pywb.log", cwd=pywb_dir):
        results["pywb_home_s"], _ = p50(f"{base}/", args.requests)
        results["pywb_cdx_s"], results["pywb_cdx_bytes"] = p50(
            f"{base}/{SLUG}/cdx?url={HOT_URL}&output=json", args.requests
        )
        results["pywb_calendar_shell_s"], _ = p50(f"{base}/{SLUG}/*/{HOT_URL}", args.requests)

    results["pywb_version"] = tool_version([str(bin_dir / "wayback"), "--version"], r"pywb (\S+)")
    results["hot"], results["others"] = args.hot, args.others
    save_results("portal", {"results": results, "machine": machine_info()})
    print(report(results))


def report(r: dict[str, float | int | str]) -> str:
    def ms(key: str) -> str:
        return f"{float(r[key]) * 1000:,.1f} ms"

    rows = [
        [
            f"calendar of a URL with {int(r['hot']):,} captures",
            ms("vellum_calendar_s") + " (whole page)",
            ms("pywb_cdx_s") + " (its JSON)",
            ratio(float(r["pywb_cdx_s"]), float(r["vellum_calendar_s"])),
        ],
        [
            f"home page, {int(r['hot']) + int(r['others']):,} captures: first request",
            ms("vellum_home_first_s") + " (counting)",
            ms("pywb_home_s") + " (names only)",
            ratio(float(r["pywb_home_s"]), float(r["vellum_home_first_s"])),
        ],
        [
            "home page: until the counts show",
            ms("vellum_home_counted_s"),
            "–",
            "–",
        ],
        [
            "home page, next requests",
            ms("vellum_home_s"),
            ms("pywb_home_s"),
            ratio(float(r["pywb_home_s"]), float(r["vellum_home_s"])),
        ],
    ]
    table = markdown_table(
        ["", "Vellum", f"pywb {r['pywb_version']}", "pywb / Vellum (time)"], rows
    )
    return table + f"\n\npywb's `/*/` page itself (a script shell): {ms('pywb_calendar_shell_s')}\n"


def table(saved: dict[str, Any]) -> str:
    """The RESULTS.md table of a saved run (bench/.work/results/portal.json)."""
    r = saved["results"]
    return (
        f"One collection: a URL with {int(r['hot']):,} captures plus {int(r['others']):,} "
        "other captures; p50 over HTTP on 127.0.0.1, one request at a time. pywb's "
        "calendar is a script shell that fetches its CDX JSON, so that JSON is the peer "
        "figure for the calendar.\n\n" + report(r)
    )


if __name__ == "__main__":
    main()
