"""Crawl benchmark: Vellum's crawler against wget on the same static site, same run.

A generated site (1,000 pages of 10–30 KB, each linking 10 others, 50 CSS/PNG/JS resources
used by every page, a ~650 KB page, a robots.txt that disallows /private/) is served by
nginx on 127.0.0.1 and crawled completely, several times, by

* Vellum: `vellum --data TMP crawl SLUG URL --depth 50`, and
* wget:   `wget --recursive --level=inf --page-requisites --no-parent -e robots=on
           --warc-file=TMP/wget --delete-after ...`.

Both produce WARC files; the responses in each are counted with fastwarc, and the median
wall time of the runs gives pages/s and MB/s of payload. Run it alone with
`.venv/bin/python bench/bench_crawl.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from benchlib import (
    BUSY_LIMIT,
    LOOPBACK,
    SITE_DIR,
    BenchError,
    WarcCounts,
    count_warcs,
    ensure_debian_package,
    ensure_site,
    log,
    machine_info,
    markdown_table,
    measure_quietly,
    median,
    nginx,
    ratio,
    save_results,
    tool_version,
    vellum_collection,
    work_dir,
)
from benchlib import VELLUM as VELLUM_BIN

SLUG = "site"
DEPTH = 50


@dataclass(frozen=True)
class CrawlRun:
    seconds: float
    counts: WarcCounts
    disallowed: int  # responses for URLs under /private/ (robots.txt disallows them)
    other_cores: float = 0.0  # CPU used by processes outside the benchmark meanwhile


def crawl_vellum(base: str, scratch: Path) -> CrawlRun:
    data = scratch / "vellum-data"
    vellum_collection(data, SLUG)
    cmd = [str(VELLUM_BIN), "--data", str(data), "crawl", SLUG, base, "--depth", str(DEPTH)]
    seconds = _timed(cmd)
    warcs = sorted((data / "collections" / SLUG / "warcs").glob("*.warc.gz"))
    return CrawlRun(seconds, count_warcs(warcs), _disallowed(warcs))


def crawl_wget(base: str, scratch: Path) -> CrawlRun:
    wget = ensure_debian_package("wget", "wget")
    cmd = [
        wget,
        "--recursive",
        "--level=inf",
        "--page-requisites",
        "--no-parent",
        "-e",
        "robots=on",
        f"--warc-file={scratch / 'wget'}",
        "--no-verbose",
        "--delete-after",
        "-P",
        str(scratch / "files"),
        base,
    ]
    seconds = _timed(cmd)
    warcs = sorted(scratch.glob("wget*.warc.gz"))
    return CrawlRun(seconds, count_warcs(warcs), _disallowed(warcs))


def _timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchError(
            f"{' '.join(cmd)} exited {result.returncode}\n{result.stdout[-1500:]}\n"
            f"{result.stderr[-1500:]}"
        )
    return seconds


def _disallowed(warcs: list[Path]) -> int:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    found = 0
    for path in warcs:
        with open(path, "rb") as f:
            for record in ArchiveIterator(f, record_types=WarcRecordType.response):
                if "/private/" in (record.headers.get("WARC-Target-URI") or ""):
                    found += 1
    return found


def run(runs: int = 3, pages: int = 1000) -> dict[str, Any]:
    """Crawl the site `runs` times with each tool (alternating who goes first)."""
    machine = machine_info()
    site = ensure_site(pages)
    expected_html = len(site.pages) + 2  # "/" and "index.html" are two URLs, plus large.html
    results: dict[str, list[CrawlRun]] = {"vellum": [], "wget": []}
    crawlers = {"vellum": crawl_vellum, "wget": crawl_wget}
    with nginx(SITE_DIR) as base:
        log(f"site: {len(site.pages)} pages + 1 large page, {site.resources} resources at {base}")
        for i in range(runs):
            order = ["vellum", "wget"] if i % 2 == 0 else ["wget", "vellum"]
            for name in order:

                def crawl_once(name: str = name) -> CrawlRun:
                    with tempfile.TemporaryDirectory(prefix=f"crawl-{name}-", dir=work_dir()) as d:
                        return crawlers[name](base, Path(d))

                result, others = measure_quietly(f"{name} run {i + 1}", crawl_once)
                result = replace(result, other_cores=others)
                log(
                    f"run {i + 1}/{runs} {name}: {result.seconds:.2f} s, "
                    f"{result.counts.responses} responses, {result.counts.html_pages} pages"
                    f" (others: {others:.2f} cores)"
                )
                if result.counts.html_pages < expected_html:
                    raise BenchError(
                        f"{name} crawled {result.counts.html_pages} HTML pages, "
                        f"expected {expected_html}: incomplete crawl"
                    )
                if result.disallowed:
                    raise BenchError(f"{name} fetched {result.disallowed} URLs robots.txt forbids")
                results[name].append(result)
    summary = {name: _summary(runs_) for name, runs_ in results.items()}
    return {
        "benchmark": "crawl",
        "machine": machine,
        "site": {
            "pages": len(site.pages),
            "large_page_bytes": (SITE_DIR / site.large_page).stat().st_size,
            "resources": site.resources,
            "bytes": site.total_bytes,
            "host": LOOPBACK,
        },
        "runs": runs,
        "tools": {
            "vellum": tool_version([str(VELLUM_BIN), "--version"], r"version (\S+)"),
            "wget": tool_version([shutil.which("wget") or "wget", "--version"], r"Wget (\S+)"),
            "nginx": tool_version(
                [ensure_debian_package("nginx-light", "nginx"), "-v"], r"nginx/(\S+)"
            ),
        },
        "vellum": summary["vellum"],
        "wget": summary["wget"],
    }


def _summary(runs: list[CrawlRun]) -> dict[str, Any]:
    seconds = median([r.seconds for r in runs])
    counts = runs[0].counts
    return {
        "seconds": seconds,
        "all_seconds": [round(r.seconds, 3) for r in runs],
        "other_cores": max(r.other_cores for r in runs),
        "counts": asdict(counts),
        "pages_per_s": counts.html_pages / seconds,
        "responses_per_s": counts.responses / seconds,
        "mb_per_s": counts.payload_bytes / 1e6 / seconds,
    }


def table(results: dict[str, Any]) -> str:
    v, w = results["vellum"], results["wget"]
    rows = [
        ["wall time (median)", _seconds(v), _seconds(w), ""],
        ["responses in WARC", str(v["counts"]["responses"]), str(w["counts"]["responses"]), ""],
        ["HTML pages (200)", str(v["counts"]["html_pages"]), str(w["counts"]["html_pages"]), ""],
        ["payload", f"{v['counts']['payload_bytes'] / 1e6:.1f} MB",
         f"{w['counts']['payload_bytes'] / 1e6:.1f} MB", ""],
        ["pages/s", f"{v['pages_per_s']:.0f}", f"{w['pages_per_s']:.0f}",
         ratio(v["pages_per_s"], w["pages_per_s"])],
        ["responses/s", f"{v['responses_per_s']:.0f}", f"{w['responses_per_s']:.0f}",
         ratio(v["responses_per_s"], w["responses_per_s"])],
        ["payload MB/s", f"{v['mb_per_s']:.1f}", f"{w['mb_per_s']:.1f}",
         ratio(v["mb_per_s"], w["mb_per_s"])],
    ]  # fmt: skip
    text = markdown_table(["crawl", "Vellum", "wget", "Vellum/wget"], rows)
    if "*" in _seconds(v) + _seconds(w):
        text += (
            f"\n\n\\* one of the runs was made while other processes used more than "
            f"{BUSY_LIMIT} of a core"
        )
    return text


def _seconds(summary: dict[str, Any]) -> str:
    busy = " *" if summary.get("other_cores", 0.0) > BUSY_LIMIT else ""
    return f"{summary['seconds']:.2f} s{busy}"


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="crawls per tool (median)")
    parser.add_argument("--pages", type=int, default=1000, help="pages in the generated site")
    args = parser.parse_args()
    results = run(args.runs, args.pages)
    path = save_results("crawl", results)
    print(table(results))
    print(f"\n(results saved to {path})")
    return results


if __name__ == "__main__":
    main()
