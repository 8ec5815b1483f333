"""Indexing speed: Vellum's indexer against cdxj-indexer and the fastwarc floor.

    .venv/bin/python bench/bench_index.py              # corpus made once, then measured
    .venv/bin/python bench/bench_index.py --gb 0.2     # a smaller corpus (its own folder)

The corpus: a generated site (HTML pages of realistic size and incompressible images)
served by nginx on 127.0.0.1 and fetched (as `http://localhost:<port>/…`, a host name
as in real crawls) by `wget --warc-file --warc-max-size` into
`.warc.gz` files of about 150 MB, at least 1 GB in all. Both are made once in
`bench/.work/index-corpus-<size>/` (git-ignored) and reused.

Measured in one run, over the same files (page cache warm; best of `--runs`):

- **floor**: fastwarc iterating every record, parsing HTTP headers and reading every
  payload (one process), on the first file and on all of them;
- **vellum, one process**: `vellum.index.indexer.index_warc` on the first file, every
  capture turned into its CDXJ line;
- **vellum import, all cores**: the `vellum import` path (checksums, copy or not,
  indexing in a process pool, the index store and the catalog), timed in-process, with
  `--in-place` and with copying (each copy is fsync'd);
- **cdxj-indexer** (warcio + surt), the peer, on the first file only (it runs at
  ~12 MB/s; the whole corpus would take minutes). Its figure is MB/s, like the others.

MB/s counts compressed bytes read; records/s counts every WARC record in the files.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    BUSY_LIMIT,
    BenchError,
    ensure_debian_package,
    log,
    machine_info,
    markdown_table,
    measure_quietly,
    nginx,
    run,
    save_results,
    tool_version,
    work_dir,
)

CORPUS_VERSION = "3"
WARC_MAX_SIZE = "150M"
_WORD_TEXT = (
    "archive collection partner heritage record digital culture memory education science "
    "library museum network public access research policy programme member region country "
    "development community knowledge language history document capture preserve web site "
    "report meeting conference project initiative open information service data standard "
    "format quality review council committee annual strategy support training resource "
    "national international cooperation sustainable future youth media"
)
_WORDS = tuple(_WORD_TEXT.split())


# the corpus


def corpus_dir(gigabytes: float) -> Path:
    return work_dir() / f"index-corpus-{gigabytes:g}gb-v{CORPUS_VERSION}"


def ensure_corpus(gigabytes: float) -> list[Path]:
    """The `.warc.gz` files of the corpus, made (site, nginx, wget) unless already there."""
    root = corpus_dir(gigabytes)
    warcs = root / "warcs"
    done = root / "done"
    if done.exists():
        return sorted(warcs.glob("*.warc.gz"))
    if root.exists():
        shutil.rmtree(root)
    site = root / "site"
    urls = _generate_site(site, int(gigabytes * 1e9))
    wget = ensure_debian_package("wget", "wget")
    warcs.mkdir(parents=True)
    with nginx(site) as base, tempfile.TemporaryDirectory(dir=root) as scratch:
        url_file = Path(scratch) / "urls.txt"
        # Name the host (as real crawls do) rather than use nginx's 127.0.0.1.
        base = base.replace("127.0.0.1", "localhost")
        url_file.write_text("".join(base + u + "\n" for u in urls))
        log(f"wget: fetching {len(urls)} URLs into {warcs}")
        started = time.perf_counter()
        run(
            [
                wget,
                "--input-file",
                url_file,
                f"--warc-file={warcs / 'bench'}",
                f"--warc-max-size={WARC_MAX_SIZE}",
                "--no-verbose",
                "--tries=1",
                "--prefer-family=IPv4",
                "--delete-after",
                "--directory-prefix",
                Path(scratch) / "out",
            ],
            cwd=scratch,
        )
        log(f"wget: done in {time.perf_counter() - started:.0f} s")
    shutil.rmtree(site)  # only the WARC files are needed from now on
    files = sorted(warcs.glob("*.warc.gz"))
    total = sum(p.stat().st_size for p in files)
    if total < gigabytes * 1e9 * 0.95:
        raise BenchError(f"corpus is only {total / 1e9:.2f} GB")
    done.write_text(f"{len(files)} files, {total} bytes\n")
    return files


def _generate_site(root: Path, target_bytes: int) -> list[str]:
    """HTML pages (10–60 KB, ~5x compressible) and images (5–80 KB, incompressible).

    Four pages per image; about 60% of the gzip-compressed bytes are HTML: records of the
    sizes and mix a real crawl has (~7 KB compressed on average). Returns the site paths.
    """
    rng = random.Random(4)
    paragraphs = [
        "<p>" + " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(40, 160))) + ".</p>"
        for _ in range(3000)
    ]
    paths: list[str] = []
    written = 0
    n = 0
    log(f"generating a site of about {target_bytes * 1.1 / 1e9:.1f} GB (compressed) in {root}")
    while written < target_bytes * 1.1:
        for kind in ("page", "page", "page", "page", "image"):
            if kind == "page":
                name = f"s{n // 500:03d}/p{n:06d}.html"
                body = [f"<!DOCTYPE html><html><head><title>Page {n}</title></head><body>"]
                size = rng.randrange(10_000, 60_000)
                length = 0
                while length < size:
                    para = rng.choice(paragraphs)
                    body.append(para)
                    length += len(para)
                body.append(f'<a href="p{n + 1:06d}.html">next</a></body></html>')
                data = "\n".join(body).encode()
                written += len(data) // 5
            else:
                name = f"s{n // 500:03d}/i{n:06d}.jpg"
                data = os.urandom(rng.randrange(5_000, 80_000))
                written += len(data)
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
            paths.append(name)
            n += 1
    return paths


# the measures


@dataclass
class Measure:
    """One tool over some files: seconds (best of the runs) and what it did."""

    seconds: float
    records: int  # WARC records in the input
    bytes: int  # compressed bytes of the input
    other_cores: float = 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.seconds / 1e6

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds


def count_records(files: list[Path]) -> int:
    """Every WARC record in the files."""
    from fastwarc.warc import ArchiveIterator

    count = 0
    for path in files:
        with open(path, "rb") as f:
            count += sum(1 for _ in ArchiveIterator(f, parse_http=False))
    return count


def floor(files: list[Path]) -> int:
    """fastwarc: iterate, parse HTTP headers, read every payload (the least work)."""
    from fastwarc.warc import ArchiveIterator

    read = 0
    for path in files:
        with open(path, "rb") as f:
            for record in ArchiveIterator(f, parse_http=True):
                read += len(record.reader.read())
    return read


def vellum_indexer(files: list[Path]) -> int:
    """Vellum's indexer, one process: every capture as its CDXJ line."""
    from vellum.index.indexer import index_warc

    lines = 0
    for path in files:
        for capture in index_warc(path):
            capture.to_line()
            lines += 1
    return lines


def vellum_import(files: list[Path], in_place: bool) -> int:
    """`vellum import` (all cores): checksums, copy unless in place, index, store, catalog."""
    from vellum.catalog import Catalog
    from vellum.index.importer import Importer
    from vellum.settings import Settings

    with tempfile.TemporaryDirectory(prefix="import-", dir=work_dir()) as data:
        settings = Settings(data_dir=Path(data))
        catalog = Catalog(settings.catalog_path)
        try:
            catalog.create_organization("Benchmark Partner", "BENCH")
            catalog.create_collection("bench", "BENCH", "Benchmark")
            report = Importer(settings, catalog).run("bench", files, in_place=in_place)
        finally:
            catalog.close()
        if report.failed or len(report.imported) != len(files):
            raise BenchError(f"import failed: {report.problems[:5]} {report.skipped[:5]}")
        return sum(f.captures for f in report.imported)


def cdxj_indexer(files: list[Path]) -> int:
    """cdxj-indexer as the equality tests run it (post-append, sorted)."""
    from cdxj_indexer.main import write_cdx_index

    out = io.StringIO()
    opts = {"sort": True, "records": "response,revisit,resource", "post_append": True}
    write_cdx_index(out, [str(p) for p in files], opts)
    return out.getvalue().count("\n")


def timed(
    plan: dict[str, tuple[str, Callable[[], int], list[Path], int]], runs: int
) -> dict[str, Measure]:
    """Best of `runs` quiet runs of each piece of work, the runs taken in turns.

    Each round runs every tool once (in turns, the order reversed every other round), so
    that a busy spell on the machine hits them alike.
    """
    best: dict[str, Measure] = {}
    for i in range(runs):
        names = list(plan) if i % 2 == 0 else list(reversed(plan))
        for name in names:
            label, work, files, records = plan[name]
            if name.startswith("cdxj") and name in best:
                continue  # the slow peer runs once

            def once(work: Callable[[], int] = work) -> float:
                started = time.perf_counter()
                work()
                return time.perf_counter() - started

            seconds, others = measure_quietly(f"{label} run {i + 1}", once)
            size = sum(p.stat().st_size for p in files)
            log(
                f"  {label}: {seconds:.2f} s ({size / seconds / 1e6:.0f} MB/s, others {others:.2f})"
            )
            if name not in best or seconds < best[name].seconds:
                best[name] = Measure(seconds, records, size, others)
    return best


def run_all(gigabytes: float, runs: int) -> dict[str, Any]:
    files = [p for p in ensure_corpus(gigabytes) if p.stat().st_size > 1_000_000]
    one = files[:1]
    log(f"corpus: {len(files)} files, {sum(p.stat().st_size for p in files) / 1e9:.2f} GB")
    for path in files:  # warm the page cache: every tool reads from memory
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
    records_all, records_one = count_records(files), count_records(one)
    measures = timed(
        {
            "floor_one": ("floor, one file", lambda: floor(one), one, records_one),
            "vellum_one": (
                "vellum indexer, one file",
                lambda: vellum_indexer(one),
                one,
                records_one,
            ),
            "cdxj_one": ("cdxj-indexer, one file", lambda: cdxj_indexer(one), one, records_one),
        },
        runs,
    )
    measures |= timed(
        {
            "floor_all": ("floor, all files", lambda: floor(files), files, records_all),
            "import_in_place": (
                "vellum import --in-place, all files",
                lambda: vellum_import(files, in_place=True),
                files,
                records_all,
            ),
            "import_copy": (
                "vellum import (copy), all files",
                lambda: vellum_import(files, in_place=False),
                files,
                records_all,
            ),
        },
        runs,
    )
    return {
        "machine": machine_info(),
        "tools": {
            "fastwarc": _version("fastwarc"),
            "cdxj-indexer": _version("cdxj-indexer"),
            "wget": tool_version(["wget", "--version"]),
        },
        "corpus": {
            "files": len(files),
            "bytes": sum(p.stat().st_size for p in files),
            "records": records_all,
            "one_file_bytes": one[0].stat().st_size,
            "one_file_records": records_one,
        },
        "measures": {name: {**asdict(m), "mb_per_s": m.mb_per_s} for name, m in measures.items()},
    }


def _version(package: str) -> str:
    from importlib.metadata import version

    return f"{package} {version(package)}"


def table(results: dict[str, Any]) -> str:
    m = results["measures"]
    cdxj = m["cdxj_one"]["mb_per_s"]

    def row(label: str, key: str, floor_key: str) -> list[str]:
        x = m[key]
        busy = " *" if x["other_cores"] > BUSY_LIMIT else ""
        return [
            label,
            f"{x['mb_per_s']:.1f}{busy}",
            f"{x['records'] / x['seconds']:,.0f}",
            f"{x['mb_per_s'] / cdxj:.1f}x",
            f"{x['mb_per_s'] / m[floor_key]['mb_per_s']:.0%}",
        ]

    rows = [
        row("floor: fastwarc iterate + HTTP + payloads, 1 process", "floor_one", "floor_one"),
        row("Vellum indexer, 1 process", "vellum_one", "floor_one"),
        row("cdxj-indexer (warcio + surt), 1 process", "cdxj_one", "floor_one"),
        row("floor, all files, 1 process", "floor_all", "floor_all"),
        row("`vellum import --in-place`, all files, all cores", "import_in_place", "floor_all"),
        row("`vellum import` (copy + fsync), all files, all cores", "import_copy", "floor_all"),
    ]
    corpus = results["corpus"]
    head = (
        f"Corpus: {corpus['files']} `.warc.gz` files written by wget, "
        f"{corpus['bytes'] / 1e9:.2f} GB, {corpus['records']:,} records; one file: "
        f"{corpus['one_file_bytes'] / 1e6:.0f} MB, {corpus['one_file_records']:,} records. "
        f"{results['machine']['nproc']} cores.\n\n"
    )
    text = head + markdown_table(
        ["indexing", "MB/s (gzip)", "records/s", "vs cdxj-indexer", "vs floor"], rows
    )
    if any(x["other_cores"] > BUSY_LIMIT for x in m.values()):
        text += f"\n\n\\* measured while other processes used more than {BUSY_LIMIT} of a core"
    return text


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="corpus size (default 1 GB)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measure (best)")
    args = parser.parse_args()
    results = run_all(args.gb, args.runs)
    path = save_results("index", results)
    print(table(results))
    print(f"\n(results saved to {path})")
    return results


if __name__ == "__main__":
    main()
