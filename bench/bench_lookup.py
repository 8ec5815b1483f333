"""Lookup benchmark: Vellum's index store on 10 million synthetic captures, and pywb's.

    .venv/bin/python bench/bench_lookup.py [--captures N] [--keep]

A synthetic collection (deterministic): 10,000,000 captures in 250 "WARC files" of one
crawl each, over 100,000 hosts under 13 top-level domains (SURTs built like the `surt`
package's, checked against `vellum.urls.surt` on a sample), popular hosts and pages
captured far more often than the rest, and one URL, `http://www.hot-example.com/`, with
100,000 captures spread over every crawl. The entries go into the store the way the
crawler and `vellum import` send them: `append` in record order, then `seal`, merging as
the store does (here within `seal`, so that the build time includes every merge).

Layouts measured:

- segments: plain sorted CDXJ segments in tiers, as built;
- zipnum: the default store (runs of 1,000,000 lines or more become ZipNum shards of
  500-line blocks), as built, then compacted into one ZipNum shard.

Lookups (in one process, warm page cache; p50/p99 over many queries):

- closest: the capture of a URL closest to a random timestamp (`closest=…`, limit 1),
  for URLs drawn from the captures, and for the 100,000-capture URL;
- prefix: the first 1,000 captures under a path prefix (`matchType=prefix`);
- domain: the first 1,000 captures of a domain and its subdomains (`matchType=domain`).

The peer: pywb 2.10.0's own CDX lookup (`DirectoryIndexSource` over the same segment
files, the query its replay makes: `closest`, `filter=!mime:warc/revisit`, default limit)
for the 100,000-capture URL and for some ordinary URLs, in a pywb virtualenv
(/tmp/pywb-venv or bench/.work/pywb-venv) if there is one. PEERS.md measured pywb at
3.6–6.6 s per closest lookup for a URL with 50,000 captures.
"""

from __future__ import annotations

import argparse
import base64
import calendar
import json
import random
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import (
    PYWB_VENV,
    log,
    machine_info,
    markdown_table,
    measure_quietly,
    save_results,
    work_dir,
)
from vellum.index.cdxj import Capture
from vellum.index.query import CdxQuery, MatchType
from vellum.index.store import SegmentedIndex, StoreOptions
from vellum.urls.surt import surt

HOT_URL = "http://www.hot-example.com/"
HOT_CAPTURES = 100_000
START = calendar.timegm((2010, 1, 1, 0, 0, 0))
SPAN = 14 * 365 * 86400  # crawls spread over 14 years
TLDS = (
    ("com", 40), ("org", 10), ("net", 8), ("de", 7), ("fr", 5), ("co.uk", 5), ("edu", 4),
    ("io", 4), ("nl", 4), ("jp", 4), ("gov", 3), ("info", 3), ("es", 3),
)  # fmt: skip
_WORD_TEXT = (
    "archive library museum news press city state heritage culture science music sport "
    "travel health school market garden river mountain ocean digital open public green "
    "north south east west union council radio film book data code web"
)
WORDS = tuple(_WORD_TEXT.split())
SECTIONS = ("news", "about", "events", "img", "docs", "blog", "en", "products", "css", "js")
KINDS = (
    ("text/html", "200", 78), ("image/jpeg", "200", 9), ("text/html", "301", 4),
    ("text/css", "200", 3), ("text/html", "404", 3), ("warc/revisit", "", 3),
)  # fmt: skip
PYWB_PYTHONS = (Path("/tmp/pywb-venv/bin/python"), PYWB_VENV / "bin" / "python")


@dataclass(frozen=True)
class Host:
    name: str  # as in URLs
    key: str  # its SURT form, before ")"
    size: int  # how many distinct URLs it has


class Corpus:
    """The synthetic collection, generated one WARC's worth at a time."""

    def __init__(self, captures: int, warcs: int, hosts: int, seed: int = 20261127) -> None:
        self.captures, self.warcs = captures, warcs
        self._rng = random.Random(seed)
        rng = self._rng
        tlds = [t for t, weight in TLDS for _ in range(weight)]
        self.hosts: list[Host] = []
        for rank in range(hosts):
            tld = rng.choice(tlds)
            base = f"{rng.choice(WORDS)}{rng.choice(WORDS)}{rank}.{tld}"
            sub = rng.random()
            name = (
                f"www.{base}" if sub < 0.6 else base if sub < 0.8 else f"{rng.choice(WORDS)}.{base}"
            )
            labels = name.split(".")
            if labels[0] == "www":
                labels = labels[1:]
            size = 1 + 400_000 // (rank + 40)
            self.hosts.append(Host(name, ",".join(reversed(labels)), size))
        self._digests = [base64.b32encode(rng.randbytes(20)).decode() for _ in range(1 << 16)]
        self._kinds = [(m, s) for m, s, weight in KINDS for _ in range(weight)]
        self.samples: list[tuple[str, str]] = []  # (url, timestamp) drawn from the captures

    def url(self, host: Host, j: int) -> tuple[str, str]:
        """URL number j of a host, and its SURT key."""
        if j == 0:
            path = "/"
        elif j % 7 == 0:
            path = f"/{SECTIONS[j % 10]}/page?id={j}&ref=home"
        else:
            path = f"/{SECTIONS[j % 10]}/{2000 + j % 25}/{WORDS[j % len(WORDS)]}-{j}.html"
        return f"http://{host.name}{path}", f"{host.key}){path}"

    def batches(self) -> Iterator[tuple[str, list[Capture]]]:
        """(WARC file name, its captures in record order), one WARC at a time."""
        rng, hosts = self._rng, self.hosts
        per_warc = self.captures // self.warcs
        hot_per_warc = HOT_CAPTURES // self.warcs
        crawl = SPAN // self.warcs
        sample_every = max(1, self.captures // 4000)
        n = 0
        for k in range(self.warcs):
            name = f"SYN-{_ts(START + k * crawl)}-{k:05d}-bench.warc.gz"
            began = START + k * crawl
            step = (crawl // 3) / per_warc  # each crawl takes a third of its slot
            offset = 0
            batch = []
            hot_every = per_warc // hot_per_warc
            for i in range(per_warc):
                if i % hot_every == 0 and i // hot_every < hot_per_warc:
                    url, key = HOT_URL, "com,hot-example)/"
                else:
                    host = hosts[int(len(hosts) * rng.random() ** 2.5)]
                    url, key = self.url(host, int(host.size * rng.random() ** 1.5))
                ts = _ts(began + int(i * step))
                mime, status = rng.choice(self._kinds)
                length = 400 + int(rng.random() * 40_000)
                digest = self._digests[int(rng.random() * len(self._digests))]
                batch.append(Capture(key, ts, url, mime, status, digest, length, offset, name))
                offset += length
                n += 1
                if n % sample_every == 0:
                    self.samples.append((url, ts))
            yield name, batch


_DAYS: dict[int, str] = {}


def _ts(seconds: int) -> str:
    """The 14-digit timestamp of an epoch second (days formatted once)."""
    day, second = divmod(seconds, 86400)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = time.strftime("%Y%m%d", time.gmtime(day * 86400))
    hours, rest = divmod(second, 3600)
    return f"{date}{hours:02d}{rest // 60:02d}{rest % 60:02d}"


def check_surts(corpus: Corpus) -> None:
    """The generator's SURT keys are the ones `vellum.urls.surt` gives."""
    rng = random.Random(1)
    for host in rng.sample(corpus.hosts, 300):
        for j in (0, 1, 7, rng.randrange(host.size)):
            url, key = corpus.url(host, j)
            if surt(url) != key:
                raise SystemExit(f"generator SURT {key!r} != {surt(url)!r} for {url}")
    if surt(HOT_URL) != "com,hot-example)/":
        raise SystemExit("hot URL key")


# --- building ---------------------------------------------------------------------------------


@dataclass
class Built:
    store: SegmentedIndex
    directory: Path
    seconds: float = 0.0


def build(corpus: Corpus, stores: dict[str, Built]) -> None:
    """Feed every WARC's captures to each store: two appends, then seal."""
    started = time.perf_counter()
    for k, (name, batch) in enumerate(corpus.batches()):
        half = len(batch) // 2
        for built in stores.values():
            t = time.perf_counter()
            built.store.append(name, batch[:half])
            built.store.append(name, batch[half:])
            built.store.seal(name)
            built.seconds += time.perf_counter() - t
        if (k + 1) % 25 == 0:
            spent = ", ".join(f"{label} {b.seconds:.0f} s" for label, b in stores.items())
            log(f"  {k + 1}/{corpus.warcs} WARCs ({time.perf_counter() - started:.0f} s; {spent})")
    for built in stores.values():
        t = time.perf_counter()
        built.store.close()
        built.seconds += time.perf_counter() - t


def disk_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir() if p.name.startswith("seg-"))


# --- lookups ------------------------------------------------------------------------------------


def timed(queries: list[CdxQuery], run: Callable[[CdxQuery], int]) -> list[tuple[float, float]]:
    """(wall, CPU) seconds per query; CPU time leaves out time others held the core."""
    times = []
    for q in queries:
        wall, cpu = time.perf_counter(), time.thread_time()
        run(q)
        times.append((time.perf_counter() - wall, time.thread_time() - cpu))
    return times


def first(store: SegmentedIndex) -> Callable[[CdxQuery], int]:
    def run(q: CdxQuery) -> int:
        return sum(1 for _ in store.query(q))

    return run


def percentiles(times: list[tuple[float, float]]) -> dict[str, float]:
    wall = statistics.quantiles([w for w, _ in times], n=100, method="inclusive")
    cpu = statistics.quantiles([c for _, c in times], n=100, method="inclusive")
    return {
        "p50_ms": wall[49] * 1e3,
        "p99_ms": wall[98] * 1e3,
        "max_ms": max(w for w, _ in times) * 1e3,
        "cpu_p50_ms": cpu[49] * 1e3,
        "cpu_p99_ms": cpu[98] * 1e3,
    }


def query_sets(corpus: Corpus, rng: random.Random) -> dict[str, list[CdxQuery]]:
    def when() -> str:
        return _ts(START + int(rng.random() * SPAN))

    samples = corpus.samples[:]
    rng.shuffle(samples)
    closest = [CdxQuery(url, closest=when(), limit=1) for url, _ in samples[:1500]]
    hot = [CdxQuery(HOT_URL, closest=when(), limit=1) for _ in range(400)]
    prefix, domain = [], []
    for url, _ in samples[:600]:
        host, _, path = url[len("http://") :].partition("/")
        section = path.split("/", 1)[0]
        prefix.append(CdxQuery(f"http://{host}/{section}/", MatchType.PREFIX, limit=1000))
        registered = ".".join(host.split(".")[-3:] if ".co.uk" in host else host.split(".")[-2:])
        domain.append(CdxQuery(registered, MatchType.DOMAIN, limit=1000))
    return {"closest": closest, "closest_hot": hot, "prefix": prefix, "domain": domain}


def measure_lookups(store: SegmentedIndex, sets: dict[str, list[CdxQuery]]) -> dict[str, Any]:
    run = first(store)
    found = {name: sum(run(q) for q in queries[:50]) for name, queries in sets.items()}  # warm up
    out: dict[str, Any] = {}
    for name, queries in sets.items():
        times, others = measure_quietly(name, lambda qs=queries: timed(qs, run), attempts=2)  # type: ignore[misc]
        out[name] = {**percentiles(times), "queries": len(times), "other_cores": others}
    out["results_in_first_50"] = found
    return out


# --- pywb ---------------------------------------------------------------------------------------

PYWB_SCRIPT = """
import json, sys, time
from pywb.warcserver.index.aggregator import DirectoryIndexSource
source = DirectoryIndexSource(sys.argv[1])
out = {}
for label, url, stamps in json.loads(sys.argv[2]):
    times, found = [], 0
    for ts in stamps:
        t = time.perf_counter()
        params = {"url": url, "closest": ts, "filter": ["!mime:warc/revisit"]}
        cdx_iter, errs = source(params)
        for cdx in cdx_iter:
            found += 1
            break
        times.append(time.perf_counter() - t)
    out[label] = {"seconds": times, "found": found}
print(json.dumps(out))
"""


def pywb_python() -> Path | None:
    for python in PYWB_PYTHONS:
        if python.exists():
            probe = subprocess.run([python, "-c", "import pywb"], capture_output=True)
            if probe.returncode == 0:
                return python
    return None


def measure_pywb(directory: Path, sets: dict[str, list[CdxQuery]]) -> dict[str, Any] | None:
    python = pywb_python()
    if python is None:
        log("pywb is not installed in /tmp/pywb-venv or bench/.work/pywb-venv: no peer figures")
        return None
    hot = [q.closest for q in sets["closest_hot"][:3]]
    plain = [(q.url, q.closest) for q in sets["closest"][:30]]
    jobs = [["closest_hot", HOT_URL, hot]] + [
        [f"closest_{i}", url, [ts]] for i, (url, ts) in enumerate(plain)
    ]
    log(f"pywb: {len(hot)} closest lookups of the hot URL, {len(plain)} of ordinary URLs")

    def run() -> dict[str, Any]:
        child = subprocess.run(
            [str(python), "-c", PYWB_SCRIPT, str(directory), json.dumps(jobs)],
            capture_output=True,
            text=True,
            check=True,
        )
        return dict(json.loads(child.stdout))

    raw, others = measure_quietly("pywb", run, attempts=1)
    version = subprocess.run(
        [str(python), "-c", "import pywb; print(pywb.__version__)"], capture_output=True, text=True
    ).stdout.strip()
    plain_times = [s for label, r in raw.items() if label != "closest_hot" for s in r["seconds"]]
    return {
        "version": version,
        "closest_hot_s": raw["closest_hot"]["seconds"],
        "closest_hot_found": raw["closest_hot"]["found"],
        "closest_plain_median_ms": statistics.median(plain_times) * 1e3,
        "other_cores": others,
    }


# --- the run ------------------------------------------------------------------------------------


def run(captures: int, keep: bool) -> dict[str, Any]:
    warcs = max(1, min(250, captures // 40_000))
    corpus = Corpus(captures, warcs, hosts=max(1000, captures // 100))
    check_surts(corpus)
    root = work_dir() / "lookup"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    segments_opts = StoreOptions(background=False, zipnum_min_lines=None)
    zipnum_opts = StoreOptions(background=False)
    stores = {
        label: Built(SegmentedIndex(root / label, root / "warcs", options), root / label)
        for label, options in (("segments", segments_opts), ("zipnum", zipnum_opts))
    }
    log(f"building both stores from {captures:,} captures in {warcs} WARCs")
    build(corpus, stores)
    total = captures - captures % warcs
    rng = random.Random(7)
    sets = query_sets(corpus, rng)
    layouts: dict[str, Any] = {}
    for label, built in stores.items():
        runs = built.store.runs_on_disk()
        layouts[label] = {
            "build_s": built.seconds,
            "runs": [f"{r.kind}:{r.lines}" for r in runs],
            "bytes_per_capture": disk_bytes(built.directory) / total,
        }
        log(f"{label}: built in {built.seconds:.0f} s, runs {layouts[label]['runs']}")
        layouts[label]["lookups"] = measure_lookups(built.store, sets)
    zipnum = stores["zipnum"]
    t = time.perf_counter()
    zipnum.store.compact(zipnum=True)
    compact_s = time.perf_counter() - t
    layouts["zipnum, compacted"] = {
        "build_s": zipnum.seconds + compact_s,
        "compact_s": compact_s,
        "runs": [f"{r.kind}:{r.lines}" for r in zipnum.store.runs_on_disk()],
        "bytes_per_capture": disk_bytes(zipnum.directory) / total,
    }
    log(f"zipnum compacted into one shard in {compact_s:.0f} s")
    layouts["zipnum, compacted"]["lookups"] = measure_lookups(zipnum.store, sets)
    pywb = measure_pywb(stores["segments"].directory, sets)
    hot_count = sum(1 for _ in stores["segments"].store.query(CdxQuery(HOT_URL)))
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "benchmark": "lookup",
        "machine": machine_info(),
        "captures": total,
        "warcs": warcs,
        "hosts": len(corpus.hosts),
        "hot_url": HOT_URL,
        "hot_captures": hot_count,
        "layouts": layouts,
        "pywb": pywb,
    }


def table(results: dict[str, Any]) -> str:
    def ms(figures: dict[str, float]) -> str:
        return f"{figures['p50_ms']:.2f} / {figures['p99_ms']:.2f} ({figures['cpu_p99_ms']:.2f})"

    rows = []
    for label, layout in results["layouts"].items():
        look = layout["lookups"]
        rows.append([
            label,
            f"{layout['build_s']:.0f} s",
            f"{len(layout['runs'])}",
            f"{layout['bytes_per_capture']:.0f} B",
            ms(look["closest"]),
            ms(look["closest_hot"]),
            ms(look["prefix"]),
            ms(look["domain"]),
            f"{max(look[k]['other_cores'] for k in ('closest', 'closest_hot')):.2f}",
        ])  # fmt: skip
    pywb = results["pywb"]
    if pywb:
        hot = statistics.median(pywb["closest_hot_s"]) * 1e3
        plain = pywb["closest_plain_median_ms"]
        rows.append([
            f"pywb {pywb['version']} (segment files)", "", "", "",
            f"{plain:.2f} (p50)", f"{hot:,.0f} (p50)", "", "", f"{pywb['other_cores']:.2f}",
        ])  # fmt: skip
        ours = results["layouts"]["segments"]["lookups"]
        rows.append([
            "pywb p50 / Vellum p50 (segments)", "", "", "",
            f"{plain / ours['closest']['p50_ms']:,.1f}×",
            f"{hot / ours['closest_hot']['p50_ms']:,.0f}×", "", "", "",
        ])  # fmt: skip
    header = [
        "layout", "build", "runs", "disk/capture", "closest, any URL",
        f"closest, {results['hot_captures']:,}-capture URL", "prefix, ≤1000", "domain, ≤1000",
        "others (cores)",
    ]  # fmt: skip
    peer = "pywb, PEERS.md: 3.6–6.6 s per closest lookup for a URL with 50,000 captures"
    return (
        markdown_table(header, rows)
        + f"\n\n{results['captures']:,} captures. Latencies in ms: wall p50 / p99 (CPU-time"
        " p99, which leaves out time other processes held the core; their load is in the"
        f" last column). Peer: {peer}."
    )


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=10_000_000)
    parser.add_argument("--keep", action="store_true", help="keep bench/.work/lookup")
    args = parser.parse_args()
    started = time.perf_counter()
    results = run(args.captures, args.keep)
    results["total_s"] = time.perf_counter() - started
    path = save_results("lookup", results)
    print(table(results))
    print(f"\nWhole run: {results['total_s'] / 60:.1f} min (results saved to {path})")
    return results


if __name__ == "__main__":
    main()
