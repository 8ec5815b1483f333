"""Crawl benchmark: Vellum's crawler against wget on the same static site, same run.

A generated site (20,000 pages of 10–30 KB by default, each linking 10 others, 50
CSS/PNG/JS resources used by every page, a ~650 KB page, a robots.txt that disallows
/private/) is served by nginx on 127.0.0.1 and crawled completely, several times, by

* Vellum: `vellum --data TMP crawl SLUG URL --depth 50 --delay 0 --concurrency 8
           --host-concurrency 8 --no-dedup --no-search-index` (politeness off for
           loopback; no dedup, so that both tools store every payload in full; no
           search indexing, which wget does not do either), and
* wget:   `wget --recursive --level=inf --page-requisites --no-parent -e robots=on
           --warc-file=TMP/wget --delete-after ...`.

Both produce WARC files; the responses in each are counted with fastwarc, the median
wall time of the runs gives pages/s and MB/s of payload, `wait4` gives each tool's
peak RSS, and sampling /proc the peak summed over its processes (Vellum parses HTML of
large crawls in a worker process). Vellum's WARCs must pass `warcio check`. A last measure crawls a
site whose 50 pages link 1,000,000 distinct URLs and reports Vellum's peak RSS once they
are all queued. Run it alone with `.venv/bin/python bench/bench_crawl.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import os
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
PAGES = 20_000
WORK = work_dir()
CONCURRENCY = 8  # politeness off for loopback, as the issue asks


@dataclass(frozen=True)
class CrawlRun:
    seconds: float
    counts: WarcCounts
    disallowed: int  # responses for URLs under /private/ (robots.txt disallows them)
    peak_rss_mb: float = 0.0
    tree_rss_mb: float = 0.0  # peak of the summed RSS of the process and its children
    other_cores: float = 0.0  # CPU used by processes outside the benchmark meanwhile


def crawl_vellum(base: str, scratch: Path) -> CrawlRun:
    data = scratch / "vellum-data"
    vellum_collection(data, SLUG)
    cmd = [
        str(VELLUM_BIN), "--data", str(data), "crawl", SLUG, base, "--depth", str(DEPTH),
        "--delay", "0", "--concurrency", str(CONCURRENCY), "--host-concurrency", str(CONCURRENCY),
        "--no-dedup", "--no-search-index",
    ]  # fmt: skip
    seconds, rss, tree = _timed(cmd)
    warcs = sorted((data / "collections" / SLUG / "warcs").glob("*.warc.gz"))
    check = subprocess.run(
        [str(VELLUM_BIN.parent / "warcio"), "check", *map(str, warcs)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if check.returncode != 0:
        raise BenchError(f"warcio check rejects Vellum's WARCs:\n{check.stdout[-2000:]}")
    return CrawlRun(
        seconds, count_warcs(warcs), _disallowed(warcs), peak_rss_mb=rss, tree_rss_mb=tree
    )


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
    seconds, rss, tree = _timed(cmd)
    warcs = sorted(scratch.glob("wget*.warc.gz"))
    return CrawlRun(
        seconds, count_warcs(warcs), _disallowed(warcs), peak_rss_mb=rss, tree_rss_mb=tree
    )


def _timed(cmd: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) of a command run to completion, and the peak of the
    RSS summed over it and its child processes (Vellum parses HTML in a worker process;
    `wait4` reports the largest process, not the sum), sampled every 0.1 s."""
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
        tree = 0.0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            tree = max(tree, _tree_rss_mb(proc.pid))
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            out.seek(0)
            raise BenchError(f"{' '.join(cmd)} exited {proc.returncode}\n{out.read()[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, max(tree, usage.ru_maxrss / 1024)


def _tree_rss_mb(pid: int) -> float:
    """The summed RSS (MB) of process `pid` and its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total * os.sysconf("SC_PAGE_SIZE") / 1e6


def _disallowed(warcs: list[Path]) -> int:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    found = 0
    for path in warcs:
        with open(path, "rb") as f:
            for record in ArchiveIterator(f, record_types=WarcRecordType.response):
                if "/private/" in (record.headers.get("WARC-Target-URI") or ""):
                    found += 1
    return found


def run(runs: int = 3, pages: int = PAGES) -> dict[str, Any]:
    """Crawl the site `runs` times with each tool (alternating who goes first)."""
    machine = machine_info()
    site_dir = WORK / f"crawl-site-{pages}"
    site = ensure_site(pages, root=site_dir)
    expected_html = len(site.pages) + 2  # "/" and "index.html" are two URLs, plus large.html
    results: dict[str, list[CrawlRun]] = {"vellum": [], "wget": []}
    crawlers = {"vellum": crawl_vellum, "wget": crawl_wget}
    with nginx(site_dir) as base:
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
            "large_page_bytes": (site_dir / site.large_page).stat().st_size,
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
        "queued_million": queue_memory(),
    }


QUEUE_PAGES, QUEUE_LINKS = 50, 20_000


def queue_memory() -> dict[str, Any]:
    """Peak RSS of a Vellum crawl once 1,000,000 URLs wait in its frontier."""
    import sqlite3

    root = WORK / "crawl-queue-site"
    if not (root / f"l{QUEUE_PAGES - 1}.html").exists():
        root.mkdir(parents=True, exist_ok=True)
        (root / "index.html").write_text(
            "".join(f'<a href="l{i}.html">{i}</a>\n' for i in range(QUEUE_PAGES))
        )
        for i in range(QUEUE_PAGES):
            links = "".join(f'<a href="/q/{i}/{k}.html">{k}</a>\n' for k in range(QUEUE_LINKS))
            (root / f"l{i}.html").write_text(f"<html><body>{links}</body></html>")
    with nginx(root) as base, tempfile.TemporaryDirectory(dir=WORK) as d:
        data = Path(d) / "data"
        vellum_collection(data, SLUG)
        cmd = [
            str(VELLUM_BIN), "--data", str(data), "crawl", SLUG, base, "--delay", "0",
            "--max-documents", str(QUEUE_PAGES + 3), "--concurrency", "2", "--no-sitemaps",
            "--no-search-index",
        ]  # fmt: skip
        seconds, rss, tree = _timed(cmd)
        (frontier,) = (data / "collections" / SLUG / "crawls").glob("*/frontier.sqlite")
        with sqlite3.connect(frontier) as db:
            queued = db.execute("SELECT count(*) FROM url WHERE state = 0").fetchone()[0]
        size = sum(p.stat().st_size for p in frontier.parent.glob("frontier.sqlite*"))
    log(f"1M queue: {queued:,} queued, peak RSS {rss:.0f} MB, {seconds:.1f} s")
    return {
        "queued": queued,
        "peak_rss_mb": rss,
        "tree_rss_mb": tree,
        "frontier_mb": size / 1e6,
        "seconds": seconds,
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
        "peak_rss_mb": max(r.peak_rss_mb for r in runs),
        "tree_rss_mb": max(r.tree_rss_mb for r in runs),
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
        ["peak RSS", f"{v['peak_rss_mb']:.0f} MB", f"{w['peak_rss_mb']:.0f} MB", ""],
        ["peak RSS, all processes", f"{v['tree_rss_mb']:.0f} MB",
         f"{w['tree_rss_mb']:.0f} MB", ""],
    ]  # fmt: skip
    q = results.get("queued_million")
    if q:
        text_q = (
            f"\n\nWith {q['queued']:,} URLs queued (50 pages linking 20,000 new URLs each, "
            f"crawl stopped by --max-documents), Vellum's peak RSS was {q['peak_rss_mb']:.0f} MB "
            f"({q.get('tree_rss_mb', q['peak_rss_mb']):.0f} MB with its child processes; "
            f"frontier file {q['frontier_mb']:.0f} MB on disk, {q['seconds']:.1f} s)."
        )
    else:
        text_q = ""
    text = markdown_table(["crawl", "Vellum", "wget", "Vellum/wget"], rows) + text_q
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
    parser.add_argument("--pages", type=int, default=PAGES, help="pages in the generated site")
    args = parser.parse_args()
    results = run(args.runs, args.pages)
    path = save_results("crawl", results)
    print(table(results))
    print(f"\n(results saved to {path})")
    return results


if __name__ == "__main__":
    main()
