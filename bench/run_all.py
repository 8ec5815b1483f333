"""Run every benchmark and rewrite bench/RESULTS.md (what `make bench` does).

    .venv/bin/python bench/run_all.py            # every benchmark, then RESULTS.md
    .venv/bin/python bench/run_all.py --quick    # crawl and replay only (~4 minutes)
    .venv/bin/python bench/run_all.py --render   # RESULTS.md from the last saved results

Each benchmark also runs alone (`bench/bench_crawl.py`, `bench/bench_replay.py`,
`bench/bench_index.py`, `bench/bench_lookup.py`, `bench/bench_surt.py`); its figures are
saved in bench/.work/results/ and printed, and this script renders them.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import bench_crawl
import bench_index
import bench_lookup
import bench_replay
from benchlib import BENCH_DIR, BenchError, load_results, log, save_results

RESULTS_MD = BENCH_DIR / "RESULTS.md"


def render(crawl: dict[str, Any], replay: dict[str, Any], total_seconds: float | None) -> str:
    machine = replay["machine"]
    site = crawl["site"]
    tools = {**crawl["tools"], **replay["tools"]}
    large = replay["loads"]["large"]
    large_kb = site["large_page_bytes"] / 1000
    v_large_mb = large["vellum"]["req_per_s"] * site["large_page_bytes"] / 1e6
    p_large_mb = large["pywb"]["req_per_s"] * site["large_page_bytes"] / 1e6
    others_crawl = max(crawl[tool].get("other_cores", 0.0) for tool in ("vellum", "wget"))
    others_replay = max(
        load.get("other_cores", 0.0) for by in replay["loads"].values() for load in by.values()
    )
    faster = "pywb is faster" if p_large_mb > v_large_mb else "Vellum is still faster than pywb"
    run_time = f"{total_seconds / 60:.1f} minutes" if total_seconds else "see the last full run"
    crawl_seconds = ", ".join(f"{s:.2f}" for s in crawl["vellum"]["all_seconds"])
    wget_seconds = ", ".join(f"{s:.2f}" for s in crawl["wget"]["all_seconds"])
    return f"""# Benchmark results

Each benchmark runs Vellum and the peer tool on the same input in the same run; the
ratio is Vellum's figure divided by the peer's (above 1: Vellum is faster).

- Date: {machine["date"]}
- Machine: `nproc` {machine["nproc"]}, {machine["cpu"]}, {machine["ram"]} RAM; Python
  {machine["python"]}
- Other work on the machine: each measure waits until other processes are quiet and is
  repeated (up to 3 times) if they used more than 0.15 of a core meanwhile; during the
  measures kept, other processes used at most {others_crawl:.2f} cores (crawl) and
  {others_replay:.2f} cores (replay)
- Tools: Vellum {tools["vellum"]}, pywb {tools["pywb"]}, wget {tools["wget"]}, nginx
  {tools["nginx"]} (nginx-light), wrk {tools["wrk"]} (Debian packages for the last three)
- A full run (`make bench`) took {run_time}, of which up to 2.5 minutes may be spent
  waiting for other processes (about 4 minutes on a quiet machine).

## Input

A generated static site (`bench/benchlib.py`, made once in `bench/.work/site`):
{site["pages"] - 1:,} HTML pages of 10–30 KB and a home page, with realistic markup
(stylesheets, scripts, inline `<style>` and `<script>`, `srcset`, tables, a search
form), each page linking 10 others;
{site["resources"]} CSS/PNG/JS resources used by every page (the CSS refers to images with
`url()`); one {large_kb:.0f} KB page with a link directory; a robots.txt that disallows
`/private/` (linked from a few pages). {site["bytes"] / 1e6:.1f} MB in all, served by
nginx (one worker, `access_log off`) on 127.0.0.1.

## Crawl: Vellum vs wget

`vellum crawl site URL --depth 50` against `wget --recursive --level=inf --page-requisites
--no-parent -e robots=on --warc-file=… --delete-after`, {crawl["runs"]} runs each
(alternating which goes first), median wall time including process start-up; responses
counted in each tool's WARC files with fastwarc. Both reach every page and resource and
skip `/private/`.

{bench_crawl.table(crawl)}

Wall times of the runs: Vellum {crawl_seconds} s; wget {wget_seconds} s. Vellum stores
one more response than wget: the page's search form (`<form action="/search">`), fetched
as a link (a 404 here); wget does not follow form actions.

## Replay: Vellum vs pywb

The site crawled once by Vellum ({replay["captures"]} HTML captures); pywb
{tools["pywb"]} gets the same WARC files (`wb-manager init` + `wb-manager
add`) and runs as `wayback -b 127.0.0.1` with its defaults (one process, gevent, framed
mode); Vellum runs as `vellum serve`. wrk (one thread, keep-alive HTTP/1.1) requests
every archived page in turn at its exact 14-digit timestamp — pywb
`/bench/<ts>mp_/<url>` (rewritten, no frame), Vellum `/site/<ts>/<url>` (rewritten,
banner inserted) — and the raw forms (`id_`); {replay["seconds_per_measure"]:g} s per
measure (15 s for the rewritten large page) after a 2 s warm-up. Every answer is checked
(status 200 and the page's marker text in the body); before each measure the first
answers are checked for their own page's text, Vellum's banner and pywb's wombat. The
last column is nginx serving the same files to the same client: the client is far from
being the limit.

{bench_replay.table(replay)}

Rewriting the {large_kb:.0f} KB page: Vellum {v_large_mb:.1f} MB/s, pywb
{p_large_mb:.1f} MB/s.

## What limits Vellum today

- **Crawl: link handling, not the network.** The crawler fetches one URL at a time with
  a new connection each (wget keeps connections alive), but on loopback that is not
  where the time goes: profiling the crawl shows ~75% of it in `_follow` — every page's
  ~80 links are resolved with `urljoin`, normalized (`urlsplit`/`urlunsplit`) and turned
  into a SURT key (`surt()`, ~64,000 calls for ~1,050 distinct URLs) before the seen-set
  check, so the 50 shared resources are re-resolved and re-keyed on every page. Process
  start-up (`vellum --version` alone takes ~0.7 s) is part of each run too.
- **Replay of small pages: the HTML tokenizer and the catalog.** About 75% of a
  rewritten page's time is `html.parser` tokenizing plus URL rewriting (`urljoin` per
  attribute); each request also makes two SQLite queries through SQLAlchemy (collection,
  then its organization lazily), about two thirds of the time of a raw (`id_`) request.
  Handlers are synchronous and run in Starlette's thread pool, so concurrent requests
  contend for the GIL; WARC records are read with blocking file reads per request.
- **Large pages: rewriting throughput.** The {large_kb:.0f} KB page takes ~0.2 s of CPU
  in-process (about 3 MB/s), and under concurrent load the thread pool makes it worse
  (requests interleave on the GIL, so all of them finish late); {faster} on this page.
- **One keep-alive connection** was capped at ~19 req/s by delayed ACKs until `serve`
  created its socket as IPPROTO_TCP with TCP_NODELAY (fixed on 2026-11-27: 227 req/s on
  one connection for the collection page, measured with a plain `http.client` loop); the
  last row of the replay table shows the figure from the latest run.

## How to run

```sh
make bench                                   # both benchmarks, then this file
.venv/bin/python bench/bench_crawl.py        # crawl only   (--runs N, --pages N)
.venv/bin/python bench/bench_replay.py       # replay only  (--seconds S, --pages N)
.venv/bin/python bench/run_all.py --render   # this file from the last saved results
```

The benchmarks install what they need if it is missing: nginx-light, wget and wrk with
apt-get, pywb {tools["pywb"]} with pip in its own virtualenv
(`bench/.work/pywb-venv`). Everything they make stays in `bench/.work/` (git-ignored);
servers listen on 127.0.0.1 only and are stopped at the end.
"""


def render_index_sections() -> str:
    """The indexing and lookup sections, from their last saved results (if any)."""
    parts = []
    index = load_results("index")
    if index is not None:
        parts.append(
            "\n## Indexing: Vellum vs cdxj-indexer (and the fastwarc floor)\n\n"
            "`bench/bench_index.py`: a corpus written by wget against a generated site, "
            "indexed by each in one run.\n\n" + bench_index.table(index) + "\n"
        )
    lookup = load_results("lookup")
    if lookup is not None:
        parts.append(
            "\n## Index lookups: Vellum vs pywb\n\n"
            "`bench/bench_lookup.py`: a synthetic index with one URL of 100,000 captures; "
            "pywb's own CDX lookup on the same segment files.\n\n"
            + bench_lookup.table(lookup)
            + "\n"
        )
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--render", action="store_true", help="only rewrite RESULTS.md")
    parser.add_argument("--quick", action="store_true", help="crawl and replay only")
    args = parser.parse_args()
    total: float | None = None
    if args.render:
        crawl, replay = load_results("crawl"), load_results("replay")
        if crawl is None or replay is None:
            raise SystemExit("no saved results: run the benchmarks first")
        total = (load_results("run_all") or {}).get("seconds")
    else:
        started = time.perf_counter()
        log("== crawl benchmark ==")
        crawl = bench_crawl.run()
        save_results("crawl", crawl)
        print(bench_crawl.table(crawl), flush=True)
        log("== replay benchmark ==")
        replay = bench_replay.run_bench()
        save_results("replay", replay)
        print(bench_replay.table(replay), flush=True)
        if not args.quick:
            log("== indexing benchmark ==")
            save_results("index", bench_index.run_all(1.0, 3))
            log("== lookup benchmark ==")
            save_results("lookup", bench_lookup.run(10_000_000, False))
        total = time.perf_counter() - started
        save_results("run_all", {"seconds": total})
    RESULTS_MD.write_text(render(crawl, replay, total) + render_index_sections())
    log(f"wrote {RESULTS_MD}")


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        raise SystemExit(f"benchmark failed: {exc}") from None
