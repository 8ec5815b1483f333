"""SURT speed: vellum.urls.surt against the `surt` package, on the same URLs.

    .venv/bin/python bench/bench_surt.py

Corpora: the generated test corpus (tests/surt_corpus.py; deliberately odd,
and about a sixth of its hosts need IDNA), and the URLs of the fixture WARCs
(target URIs plus the links in their HTML: ordinary web URLs). URLs on which
the package raises are left out. Prints the best of several runs, in µs per URL.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.surt_corpus

import surt as peer
from tests.surt_corpus import fixture_urls, generated_urls

from vellum.urls.surt import surt

RUNS = 5


def _usable(urls: list[str]) -> list[str]:
    kept = []
    for url in urls:
        try:
            peer.surt(url)
        except (AttributeError, ValueError):
            continue
        kept.append(url)
    return kept


def _us_per_url(func: Callable[[str], str], urls: list[str]) -> float:
    start = time.perf_counter()
    for url in urls:
        func(url)
    return (time.perf_counter() - start) / len(urls) * 1e6


def _best_of_runs(urls: list[str]) -> tuple[float, float]:
    """Best µs/URL of the package and of ours, alternating runs so both see the same load."""
    theirs = ours = float("inf")
    for _ in range(RUNS):
        theirs = min(theirs, _us_per_url(peer.surt, urls))
        ours = min(ours, _us_per_url(surt, urls))
    return theirs, ours


def main() -> None:
    corpora = {
        "generated (tests)": _usable(generated_urls()),
        "fixture WARC URLs": _usable(fixture_urls()),
    }
    print(f"{'corpus':20} {'URLs':>7} {'surt pkg':>10} {'vellum':>10} {'ratio':>7}")
    for name, urls in corpora.items():
        if not urls:
            print(f"{name:20} (none found)")
            continue
        theirs, ours = _best_of_runs(urls)
        print(f"{name:20} {len(urls):7} {theirs:8.2f}µs {ours:8.2f}µs {theirs / ours:6.1f}x")


if __name__ == "__main__":
    main()
