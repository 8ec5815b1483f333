"""Full-text search: Vellum (resiliparse + tantivy) against SQLite FTS5 on the same pages.

    .venv/bin/python bench/bench_search.py            # 1,000,000 pages (long)
    .venv/bin/python bench/bench_search.py --quick    # 20,000 pages
    .venv/bin/python bench/bench_search.py --pages 200000

The corpus: generated HTML pages (a title, a description, navigation boilerplate and
paragraphs) in six made-up languages, each with its own syllables, a 30,000-word
vocabulary, a few very common function words and Zipf-distributed word frequencies
(s = 1.07, as in natural text), on 2,000 hosts, captured between 2005 and 2024, written
by a small fast writer into `.warc.gz` files of 5,000 records (one gzip member per
record) in `bench/.work/search-corpus-<pages>/`, made once and reused.

Measured in one run, on the same WARC files:

- **indexing** (documents/s): Vellum's `rebuild_search_index` (extraction in a pool of
  one process per core feeding one tantivy writer, then the commit) against the same
  extraction pool feeding an FTS5 table (`unicode61 remove_diacritics 2`, the same
  fields: title, description, main text, the text around it, URL) in one transaction;
  both end to end, WARC files to a durable index;
- **CPU seconds** per 1,000 documents (all processes of the run), which the other work on
  this shared machine disturbs less than the rate; and the load average at the end of
  each indexing phase (this run alone makes about 3);
- **index size** on disk;
- **query latency** p50/p95 over 200 queries of each type (`--queries` minus 20), after
  20 warm-up queries, Vellum's right after its indexing, FTS5's after its own (Vellum's
  figures are saved in `search-vellum.json` first, should the FTS5 half not finish):
  one word, three words (all required), a two-word phrase, and one word with facet
  counts (collection, host, year, MIME type, language). Each answer is the top 10 by
  relevance with its total and snippets; FTS5 gets `bm25` with the same field weights,
  `snippet()`, a `count(*)` and (faceted) one `GROUP BY` per facet.

Words are drawn at Zipf ranks 20–5,000 (log-uniform) of a random language; phrases are
two adjacent words taken from a random page. The machine is shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import math
import os
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import time
import uuid
import zlib
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import log, machine_info, markdown_table, save_results, work_dir
from vellum.catalog import Catalog
from vellum.search.feed import rebuild_search_index, search_dir
from vellum.search.model import SearchRequest
from vellum.search.payloads import FileDocs, documents_of_file
from vellum.search.query import parse_query
from vellum.search.tantivy_index import TantivySearchIndex
from vellum.settings import Settings

CORPUS_VERSION = "2"
PER_FILE = 5_000
LANGS = {
    "en": (
        ["the", "of", "and", "to", "in", "is", "that", "for"],
        "th er an re on at en nd ti es or te of ed is it al ar st to "
        "nt ng se ha as ou io le ve co me de hi ri ro ic ne ea ra ce",
    ),
    "fr": (
        ["le", "de", "la", "et", "les", "des", "en", "un"],
        "le de es en re nt on ou an ai qu te la me se ur "
        "it ne et is ée ré té ço ès ui oi au eu ch pa ma",
    ),
    "de": (
        ["der", "die", "und", "in", "den", "von", "zu", "das"],
        "en er ch de ei nd te in ie ge un st ne be es ic he an re ße ün ös ta ag li ng sc ht au",
    ),
    "es": (
        ["de", "la", "que", "el", "en", "y", "los", "del"],
        "de es en os la el ar ra er ue as re do an on ta co ci ió ñ ad ca ti na qu te pa lo ma",
    ),
    "it": (
        ["di", "e", "il", "la", "che", "per", "un", "in"],
        "re er to ra ri on la ti di en co ne no ta an te in li zi ò tà ia io pe ce ll sc ge",
    ),
    "pt": (
        ["de", "a", "o", "que", "e", "do", "da", "em"],
        "de os es ra ão ar do da co ent ca te ta re ma se nt ça õe qu an me pa ri io",
    ),
}
VOCAB = 30_000
ZIPF_S = 1.07
HOSTS = 2000


@functools.cache
def vocabulary(lang: str) -> list[str]:
    """A language's words, most frequent first (deterministic; made once per process)."""
    common, syllables = LANGS[lang]
    parts = syllables.split()
    rng = random.Random(f"vocab-{lang}")
    words = list(common)
    seen = set(words)
    while len(words) < VOCAB:
        word = "".join(rng.choice(parts) for _ in range(rng.choice((1, 2, 2, 3, 3, 3, 4))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def zipf_weights(n: int) -> list[float]:
    total = 0.0
    cumulative = []
    for rank in range(1, n + 1):
        total += 1 / rank**ZIPF_S
        cumulative.append(total)
    return cumulative


# corpus


def _record(url: str, date: str, html: bytes) -> bytes:
    http = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Length: " + str(len(html)).encode() + b"\r\n\r\n" + html
    )
    digest = "sha1:" + __import__("base64").b32encode(hashlib.sha1(html).digest()).decode()
    head = (
        f"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:{uuid.uuid4()}>\r\n"
        f"WARC-Date: {date}\r\nWARC-Target-URI: {url}\r\nWARC-Payload-Digest: {digest}\r\n"
        f"Content-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(http)}\r\n\r\n"
    ).encode()
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    return z.compress(head + http + b"\r\n\r\n") + z.flush()


def _write_file(args: tuple[Path, int, int]) -> int:
    path, first, count = args
    rng = random.Random(first)
    vocabs = {lang: vocabulary(lang) for lang in LANGS}
    weights = zipf_weights(VOCAB)
    nav = ["Home", "About", "News", "Contact", "Archive", "Search", "Help"]
    with open(path.with_suffix(".tmp"), "wb") as out:
        for n in range(first, first + count):
            lang = rng.choice(list(LANGS))
            words = vocabs[lang]

            def text(k: int, words: list[str] = words) -> str:
                return " ".join(rng.choices(words, cum_weights=weights, k=k))

            host = f"www.site{rng.randrange(HOSTS)}.example.{lang}"
            title = text(rng.randint(4, 9)).capitalize()
            paras = "".join(
                f"<p>{text(rng.randint(40, 120))}.</p>\n" for _ in range(rng.randint(2, 6))
            )
            links = "".join(f'<li><a href="/{w.lower()}.html">{w}</a></li>' for w in nav)
            html = (
                f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
                f"<title>{title}</title>"
                f'<meta name="description" content="{text(15)}">'
                f'<link rel="stylesheet" href="/style.css"></head><body>'
                f"<header><nav><ul>{links}</ul></nav></header><main><article><h1>{title}</h1>\n"
                f"{paras}</article></main><footer><p>© site {host} · "
                f"{text(8)}</p></footer></body></html>"
            ).encode()
            year = rng.randint(2005, 2024)
            date = (
                f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
            )
            out.write(_record(f"http://{host}/page/{n}.html", date, html))
    path.with_suffix(".tmp").rename(path)
    return count


def ensure_corpus(pages: int) -> list[Path]:
    folder = work_dir() / f"search-corpus-{pages}-v{CORPUS_VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    jobs = []
    for i, first in enumerate(range(0, pages, PER_FILE)):
        path = folder / f"SEARCH-{i:05d}.warc.gz"
        if not path.exists():
            jobs.append((path, first, min(PER_FILE, pages - first)))
    if jobs:
        log(f"generating {pages:,} pages in {folder} ({len(jobs)} files to write)")
        started = time.monotonic()
        with ProcessPoolExecutor(os.cpu_count() or 1, mp_context=get_context("spawn")) as pool:
            for done in pool.map(_write_file, jobs):
                log(f"  {done:,} pages written")
        log(f"  corpus made in {time.monotonic() - started:.0f} s")
    return sorted(folder.glob("*.warc.gz"))


# Vellum


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the extraction pools)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def vellum_index(
    files: list[Path], data: Path, fast_phrases: bool = True
) -> tuple[Settings, float, int]:
    if data.exists():
        shutil.rmtree(data)
    settings = Settings(data_dir=data)
    catalog = Catalog(settings.catalog_path)
    catalog.create_organization("Bench", "BENCH")
    for slug in ("bench-a", "bench-b"):
        catalog.create_collection(slug, "BENCH", slug)
    for i, path in enumerate(files):
        slug = "bench-a" if i % 2 == 0 else "bench-b"
        settings.warc_dir(slug).mkdir(parents=True, exist_ok=True)
        (settings.warc_dir(slug) / path.name).symlink_to(path)
        sha1 = hashlib.sha1(path.name.encode()).hexdigest()  # files are distinct by name
        catalog.add_warc_file(slug, path.name, path.stat().st_size, sha1, sha1[:32], path=path)
    started = time.monotonic()
    stats = rebuild_search_index(settings, catalog, None, fast_phrases=fast_phrases)
    took = time.monotonic() - started
    catalog.close()
    return settings, took, stats.documents


# FTS5


# The fields Vellum indexes (the main text, the text around it), with its weights.
FTS_COLUMNS = "title, description, main, rest, url, host UNINDEXED, collection UNINDEXED, "
FTS_COLUMNS += "mime UNINDEXED, lang UNINDEXED, year UNINDEXED"
FTS_WEIGHTS = "4.0, 1.5, 2.5, 1.0, 1.0"


def _extract(args: tuple[str, str, Path]) -> FileDocs:
    return documents_of_file(*args)


def fts_index(files: list[Path], db_path: Path) -> tuple[float, int]:
    if db_path.exists():
        db_path.unlink()
    started = time.monotonic()
    db = sqlite3.connect(db_path)
    db.execute(
        f"CREATE VIRTUAL TABLE docs USING fts5({FTS_COLUMNS}, "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    jobs = [("bench-a" if i % 2 == 0 else "bench-b", p.name, p) for i, p in enumerate(files)]
    count = 0
    with ProcessPoolExecutor(os.cpu_count() or 1, mp_context=get_context("spawn")) as pool:
        db.execute("BEGIN")
        for result in pool.map(_extract, jobs):
            db.executemany(
                "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (d.title, d.description, d.main, d.boilerplate, d.url, d.host, d.collection,
                     d.mime, d.lang, d.timestamps[-1][:4])
                    for d in result.docs
                ],
            )  # fmt: skip
            count += len(result.docs)
        db.execute("COMMIT")
    db.close()
    return time.monotonic() - started, count


def fts_query(db: sqlite3.Connection, match: str, facets: bool) -> int:
    rows = db.execute(
        "SELECT url, title, snippet(docs, 2, '<b>', '</b>', '…', 24) FROM docs "
        f"WHERE docs MATCH ? ORDER BY bm25(docs, {FTS_WEIGHTS}) LIMIT 10",
        (match,),
    ).fetchall()
    total = db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (match,)).fetchone()[0]
    if facets:
        for column in ("collection", "host", "year", "mime", "lang"):
            db.execute(
                f"SELECT {column}, count(*) FROM docs WHERE docs MATCH ? GROUP BY {column} "
                "ORDER BY 2 DESC LIMIT 10",
                (match,),
            ).fetchall()
    assert len(rows) <= 10
    return int(total)


# queries


def make_queries(rng: random.Random, files: list[Path], n: int) -> dict[str, list[list[str]]]:
    """Word lists per query type (the phrase type: two adjacent words of a real page)."""
    vocabs = {lang: vocabulary(lang) for lang in LANGS}

    def word(words: list[str]) -> str:
        return words[int(math.exp(rng.uniform(math.log(20), math.log(5000))))]

    out: dict[str, list[list[str]]] = {"1 word": [], "3 words": [], "phrase": [], "faceted": []}
    for _ in range(n):
        lang = rng.choice(list(LANGS))
        out["1 word"].append([word(vocabs[lang])])
        out["3 words"].append([word(vocabs[lang]) for _ in range(3)])
        out["faceted"].append([word(vocabs[lang])])
    sample = documents_of_file("bench-a", files[0].name, files[0])
    for _ in range(n):
        doc = rng.choice(sample.docs)
        words = doc.main.split()
        i = rng.randrange(len(words) - 1)
        out["phrase"].append([w.strip(".") for w in words[i : i + 2]])
    return out


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


def query_texts(kind: str, words: list[str]) -> tuple[str, str]:
    """The query as Vellum and as FTS5 spell it."""
    if kind == "phrase":
        return f'"{" ".join(words)}"', f'"{" ".join(words)}"'
    return " ".join(words), " AND ".join(f'"{w}"' for w in words)


def time_queries(
    queries: dict[str, list[list[str]]], run: Any, fts: bool
) -> dict[str, tuple[list[float], list[int]]]:
    """Each query type's latencies (after 20 warm-up queries) and every query's total."""
    out: dict[str, tuple[list[float], list[int]]] = {}
    for kind, lists in queries.items():
        times: list[float] = []
        totals: list[int] = []
        for i, words in enumerate(lists):
            text = query_texts(kind, words)[1 if fts else 0]
            started = time.perf_counter()
            totals.append(run(text, kind == "faceted"))
            if i >= 20:
                times.append(time.perf_counter() - started)
        out[kind] = (times, totals)
    return out


def latency_table(
    queries: dict[str, list[list[str]]],
    ours: dict[str, tuple[list[float], list[int]]],
    theirs: dict[str, tuple[list[float], list[int]]],
) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for kind, lists in queries.items():
        for words, got, expected in zip(lists, ours[kind][1], theirs[kind][1], strict=True):
            if got != expected:
                log(f"  note: {kind} {words}: Vellum {got} matches, FTS5 {expected}")
        v50, v95 = percentiles(ours[kind][0])
        f50, f95 = percentiles(theirs[kind][0])
        results[kind] = {"vellum_p50": v50, "vellum_p95": v95, "fts_p50": f50, "fts_p95": f95}
        log(f"  {kind}: Vellum p50 {v50:.2f} ms p95 {v95:.2f} ms; FTS5 p50 {f50:.2f} p95 {f95:.2f}")
    return results


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 pages")
    parser.add_argument("--queries", type=int, default=220)
    parser.add_argument(
        "--no-fast-phrases",
        action="store_true",
        help="Vellum's index without pairs of common words (phrases from positions)",
    )
    parser.add_argument("--skip-fts", action="store_true", help="Vellum only (FTS5 takes longest)")
    args = parser.parse_args()
    name = "search-positions" if args.no_fast_phrases else "search"
    pages = 20_000 if args.quick else args.pages
    files = ensure_corpus(pages)
    scratch = work_dir() / f"search-run-{pages}"
    scratch.mkdir(parents=True, exist_ok=True)

    log("Vellum: extraction + tantivy")
    cpu = cpu_seconds()
    settings, v_time, v_docs = vellum_index(
        files, scratch / "vellum-data", not args.no_fast_phrases
    )
    v_cpu = cpu_seconds() - cpu
    v_load = os.getloadavg()[0]
    v_size = du(search_dir(settings) / "index")
    log(f"  {v_docs:,} docs in {v_time:.1f} s = {v_docs / v_time:,.0f}/s; {v_size / 1e6:.0f} MB")
    index = TantivySearchIndex(search_dir(settings) / "index")

    def vellum_search(text: str, facets: bool) -> int:
        return index.search(SearchRequest(parse_query(text), None, facets=facets)).total

    queries = make_queries(random.Random(7), files, args.queries)
    log("Vellum queries")
    ours = time_queries(queries, vellum_search, fts=False)
    index.close()
    for kind, (times, _totals) in ours.items():
        p50, p95 = percentiles(times)
        log(f"  {kind}: Vellum p50 {p50:.2f} ms p95 {p95:.2f} ms")
    partial = {"docs": v_docs, "seconds": v_time, "cpu": v_cpu, "load": v_load, "size": v_size}
    partial["latencies"] = {kind: percentiles(times) for kind, (times, _) in ours.items()}
    save_results(f"{name}-vellum", {"pages": pages, "machine": machine_info(), **partial})
    if args.skip_fts:
        return

    log("FTS5: the same extraction + SQLite FTS5")
    cpu = cpu_seconds()
    f_time, f_docs = fts_index(files, scratch / "fts.db")
    f_cpu = cpu_seconds() - cpu
    f_load = os.getloadavg()[0]
    f_size = (scratch / "fts.db").stat().st_size
    log(f"  {f_docs:,} docs in {f_time:.1f} s = {f_docs / f_time:,.0f}/s; {f_size / 1e6:.0f} MB")
    fts = sqlite3.connect(scratch / "fts.db")
    log("FTS5 queries")
    theirs = time_queries(queries, lambda text, facets: fts_query(fts, text, facets), fts=True)
    fts.close()
    latencies = latency_table(queries, ours, theirs)

    v_rate, f_rate = v_docs / v_time, f_docs / f_time
    rows = [
        [
            "extraction + indexing (docs/s)",
            f"{v_rate:,.0f}",
            f"{f_rate:,.0f}",
            f"{v_rate / f_rate:.2f}",
        ],
        [
            "CPU seconds per 1,000 docs",
            f"{v_cpu / v_docs * 1000:.2f}",
            f"{f_cpu / f_docs * 1000:.2f}",
            f"{(f_cpu / f_docs) / (v_cpu / v_docs):.2f}",
        ],
        [
            "machine load at the end of indexing (1-min; 3 is this run alone)",
            f"{v_load:.1f}",
            f"{f_load:.1f}",
            "",
        ],
        [
            "index size (MB)",
            f"{v_size / 1e6:,.0f}",
            f"{f_size / 1e6:,.0f}",
            f"{f_size / v_size:.2f}",
        ],
    ]
    for kind, lat in latencies.items():
        for p in ("p50", "p95"):
            ours, theirs = lat[f"vellum_{p}"], lat[f"fts_{p}"]
            label = f"{kind} query {p} (ms)"
            rows.append([label, f"{ours:.2f}", f"{theirs:.2f}", f"{theirs / ours:.2f}"])
    table = markdown_table(["measure", "Vellum (tantivy)", "SQLite FTS5", "ratio"], rows)
    print(f"{v_docs:,} documents ({len(files)} WARC files); ratio > 1: Vellum ahead\n")
    print(table)
    save_results(
        name,
        {"pages": pages, "machine": machine_info(), "rows": rows, "latencies": latencies},
    )


if __name__ == "__main__":
    main()
