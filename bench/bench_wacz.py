"""WACZ packaging: `vellum export --wacz` and `vellum import FILE.wacz` against py-wacz.

    .venv/bin/python bench/bench_wacz.py              # the 1 GB corpus of bench_index.py
    .venv/bin/python bench/bench_wacz.py --gb 0.2     # a smaller corpus

The corpus is bench_index.py's (wget WARCs of a generated site, ~150 MB each, made once
in `bench/.work/`). A collection links the files in place (not measured). Then, each
command in a process of its own, timed from outside, peak RSS from `getrusage`:

- **vellum export --no-text** vs **py-wacz `wacz create`** (default), whole corpus:
  WARCs stored, SHA-256 of every file, the index (Vellum: ZipNum), the pages. py-wacz's
  default finds no pages in wget's WARCs and writes an empty page list; Vellum lists
  every HTML page with its title (no text);
- **vellum import** of Vellum's package with text (what `vellum import SLUG FILE.wacz`
  does, `import_wacz`) into an empty collection: every hash verified, the WARCs and
  page list extracted, checksummed, indexed (not the full-text search update the
  command runs afterwards, which is the search benchmark's), vs the same py-wacz row;
- **vellum export** (pages with their visible text) vs **py-wacz `wacz create -d -t`**
  (detect pages, extract their text), on the first two files of the corpus (py-wacz
  takes about a minute per file): like with like, in the same run. py-wacz extracts the
  text of every HTML response, then keeps as pages only URLs that other records name
  as their referrer (browser crawls); wget's WARCs have none, so its list ends empty;
- **vellum export**, pages with text, whole corpus: peak RSS against the two-file run
  (memory does not grow with the package).

MB/s is the size of the WARC files (export, py-wacz) or of the package (import) per
second of wall time. The machine may be shared: figures are noisy, ratios are from the
same run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_index import ensure_corpus
from benchlib import (
    VELLUM,
    log,
    machine_info,
    markdown_table,
    ratio,
    run,
    save_results,
    tool_version,
    vellum,
    vellum_collection,
    work_dir,
)

PY_WACZ = Path(sys.executable).parent / "wacz"
# Runs one command and reports its wall time, the peak RSS of its largest process and
# the CPU time of all its processes (user + system).
_TIMER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
elapsed = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
print(json.dumps({"rc": done.returncode, "seconds": elapsed, "rss_kb": peak, "cpu": cpu,
                  "out": done.stdout[-2000:], "err": done.stderr[-2000:]}))
"""


def timed(label: str, *cmd: str | Path) -> dict[str, Any]:
    """Run `cmd` in a fresh process; its wall time and peak RSS."""
    log(f"{label}: {' '.join(str(c) for c in cmd)[:200]}")
    out = subprocess.run(
        [sys.executable, "-c", _TIMER, *(str(c) for c in cmd)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"{label} failed: {result['out']}\n{result['err']}")
    log(
        f"  {result['seconds']:.1f} s, CPU {result['cpu']:.1f} s, "
        f"peak RSS {result['rss_kb'] / 1024:.0f} MiB"
    )
    return result


# The collection is made through the importer itself: `vellum import` now also updates
# the full-text search index, which is not what is measured here.
_LINK = """
import sys
from pathlib import Path
from vellum.catalog import Catalog
from vellum.index.importer import Importer
from vellum.settings import Settings
settings = Settings(data_dir=Path(sys.argv[1]))
catalog = Catalog(settings.catalog_path)
Importer(settings, catalog).run(sys.argv[2], [Path(p) for p in sys.argv[3:]], in_place=True)
"""
# `vellum import SLUG FILE.wacz` without the search update that follows it.
_IMPORT = """
import sys
from pathlib import Path
from vellum.catalog import Catalog
from vellum.index.wacz_import import import_wacz
from vellum.settings import Settings
settings = Settings(data_dir=Path(sys.argv[1]))
done = import_wacz(settings, Catalog(settings.catalog_path), sys.argv[2], Path(sys.argv[3]))
assert done.report.imported and not done.report.failed, done.report
"""


def collection(data: Path, warcs: list[Path]) -> None:
    if data.exists():
        shutil.rmtree(data)
    vellum_collection(data, "bench")
    run([sys.executable, "-c", _LINK, data, "bench", *warcs])


def run_all(gigabytes: float) -> dict[str, Any]:
    warcs = ensure_corpus(gigabytes)
    size = sum(w.stat().st_size for w in warcs)
    root = work_dir() / f"wacz-bench-{gigabytes:g}gb"
    root.mkdir(exist_ok=True)
    small = warcs[:2]
    small_size = sum(w.stat().st_size for w in small)
    try:
        collection(root / "data", warcs)
        collection(root / "small", small)
        package = root / "vellum.wacz"
        export_plain = timed(
            "vellum export --no-text",
            VELLUM,
            "--data",
            root / "data",
            "export",
            "bench",
            "--no-text",
            "--wacz",
            root / "plain.wacz",
        )
        (root / "plain.wacz").unlink()
        peer_package = root / "py-wacz.wacz"
        peer = timed("py-wacz create", PY_WACZ, "create", "-o", peer_package, *warcs)
        peer_size = peer_package.stat().st_size
        peer_package.unlink()
        export = timed(
            "vellum export", VELLUM, "--data", root / "data", "export", "bench", "--wacz", package
        )
        package_size = package.stat().st_size
        export_small = timed(
            "vellum export (2 files)",
            VELLUM,
            "--data",
            root / "small",
            "export",
            "bench",
            "--wacz",
            root / "small.wacz",
        )
        vellum(root / "data", "collection", "create", "again", "--org", "BENCH", "--title", "R")
        imported = timed(
            "vellum import", sys.executable, "-c", _IMPORT, root / "data", "again", package
        )
        vellum(root / "small", "collection", "create", "again", "--org", "BENCH", "--title", "R")
        imported_small = timed(
            "vellum import (2 files)",
            sys.executable,
            "-c",
            _IMPORT,
            root / "small",
            "again",
            root / "small.wacz",
        )
        small_package = (root / "small.wacz").stat().st_size
        peer_text = timed(
            "py-wacz create -d -t (2 files)",
            PY_WACZ,
            "create",
            "-d",
            "-t",
            "-o",
            root / "py-wacz-text.wacz",
            *small,
        )
        peer_text_pages = _pages_in(root / "py-wacz-text.wacz")
        small_pages = _pages_in(root / "small.wacz")
    finally:
        for leftover in ("data", "small"):
            shutil.rmtree(root / leftover, ignore_errors=True)
        for leftover in ("vellum.wacz", "small.wacz", "py-wacz.wacz", "py-wacz-text.wacz"):
            (root / leftover).unlink(missing_ok=True)
    mb = 1e6
    return {
        "machine": machine_info(),
        "py_wacz": tool_version([str(PY_WACZ), "--version"]),
        "warc_bytes": size,
        "files": len(warcs),
        "package_bytes": package_size,
        "peer_package_bytes": peer_size,
        "export": {**export, "mb_s": size / mb / export["seconds"]},
        "export_plain": {**export_plain, "mb_s": size / mb / export_plain["seconds"]},
        "export_small": {
            **export_small,
            "warc_bytes": small_size,
            "mb_s": small_size / mb / export_small["seconds"],
        },
        "import": {**imported, "mb_s": package_size / mb / imported["seconds"]},
        "import_small": {
            **imported_small,
            "package_bytes": small_package,
            "mb_s": small_package / mb / imported_small["seconds"],
        },
        "py_wacz_create": {**peer, "mb_s": size / mb / peer["seconds"]},
        "py_wacz_text": {
            **peer_text,
            "warc_bytes": small_size,
            "mb_s": small_size / mb / peer_text["seconds"],
            "pages": peer_text_pages,
        },
        "small_pages": small_pages,
    }


def _pages_in(package: Path) -> int:
    """Pages listed in a package's pages/pages.jsonl (its header line left out; 0 if
    there is none: py-wacz keeps only pages that other records name as their referrer)."""
    with zipfile.ZipFile(package) as zf:
        if "pages/pages.jsonl" not in zf.namelist():
            return 0
        with zf.open("pages/pages.jsonl") as f:
            return sum(1 for line in f if line.strip() and b'"format"' not in line[:200])


def table(r: dict[str, Any]) -> str:
    def row(
        what: str, m: dict[str, Any], data: float, versus: str, peer: dict[str, Any] | None = None
    ) -> list[str]:
        """`peer` (with the bytes it read): the ratio of MB per CPU second, which the
        other work on a shared machine disturbs less than wall time."""
        by_cpu = "1×" if peer is None else ""
        if peer is not None and m.get("cpu") and peer.get("cpu"):
            by_cpu = ratio(data / m["cpu"], peer["bytes"] / peer["cpu"])
        return [
            what,
            f"{data / 1e9:.2f} GB",
            f"{m['seconds']:.1f}",
            f"{m['cpu']:.1f}" if "cpu" in m else "",
            f"{m['mb_s']:.1f}",
            f"{m['rss_kb'] / 1024:.0f} MiB",
            versus,
            by_cpu,
        ]

    peer = r["py_wacz_create"]
    peer_text = r["py_wacz_text"]
    whole = {**peer, "bytes": r["warc_bytes"]}
    two = {**peer_text, "bytes": peer_text["warc_bytes"]}
    small = r["export_small"]
    rows = [
        row(
            "vellum export --wacz --no-text (pages with titles)",
            r["export_plain"],
            r["warc_bytes"],
            ratio(r["export_plain"]["mb_s"], peer["mb_s"]),
            whole,
        ),
        row(
            "vellum import FILE.wacz (verify + import; Vellum's package with text)",
            r["import"],
            r["package_bytes"],
            ratio(r["import"]["mb_s"], peer["mb_s"]),
            whole,
        ),
        row(f"py-wacz create ({r['py_wacz']}; no pages found)", peer, r["warc_bytes"], "1×"),
        row(
            f"vellum export --wacz, 2 files ({r['small_pages']:,} pages with text)",
            small,
            small["warc_bytes"],
            ratio(small["mb_s"], peer_text["mb_s"]) + " (vs py-wacz -d -t)",
            two,
        ),
        row(
            f"py-wacz create -d -t, 2 files ({peer_text['pages']:,} pages with text)",
            peer_text,
            peer_text["warc_bytes"],
            "1×",
        ),
        row(
            "vellum import FILE.wacz, 2 files (memory check)",
            r["import_small"],
            r["import_small"]["package_bytes"],
            ratio(r["import_small"]["mb_s"], peer["mb_s"]),
            whole,
        ),
        row(
            "vellum export --wacz, all files (pages with text; memory check)",
            r["export"],
            r["warc_bytes"],
            ratio(r["export"]["mb_s"], peer_text["mb_s"]) + " (vs py-wacz -d -t, 2 files)",
            two,
        ),
    ]
    header = [
        "",
        "input",
        "seconds",
        "CPU s",
        "MB/s",
        "peak RSS",
        "vs py-wacz (MB/s)",
        "vs py-wacz (MB per CPU s)",
    ]
    notes = (
        f"\n{r['files']} WARC files, {r['warc_bytes'] / 1e9:.2f} GB; Vellum's package "
        f"{r['package_bytes'] / 1e9:.2f} GB (with pages.jsonl), py-wacz's "
        f"{r['peer_package_bytes'] / 1e9:.2f} GB. Machine: {r['machine']['nproc']} cores, "
        f"{r['machine']['cpu']}, {r['machine']['date']}."
    )
    return markdown_table(header, rows) + notes


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="corpus size (default 1 GB)")
    args = parser.parse_args()
    started = time.monotonic()
    results = run_all(args.gb)
    path = save_results("wacz", results)
    print(table(results))
    print(f"\n(results saved to {path}; {time.monotonic() - started:.0f} s in all)")
    return results


if __name__ == "__main__":
    main()
