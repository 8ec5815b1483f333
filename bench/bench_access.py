"""Take-down checks: Vellum's exclusion rules against pywb's access checker, same rules.

Input: N rules (half SURT prefixes such as `http://host17.example/private/`, half exact
URLs) and as many distinct URLs to check, about a third of them excluded. Vellum
builds `vellum.access.exclusions.Rules` (a sorted tuple of prefixes and `bisect`, the
check every replay request makes) and asks `excluded_url`; pywb 2.10 gets the same rules
as a sorted .aclj file (its `wb-manager acl` format: prefix keys, exact keys ending in
`###`, access "exclude") and answers with `AccessChecker.find_access_rule`, in its own
virtualenv (see benchlib). Both must agree on every URL. Prints µs per check, the best
of several runs each.

    .venv/bin/python bench/bench_access.py [--rules N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import ensure_pywb, log, markdown_table, save_results
from vellum.access.exclusions import Rules
from vellum.catalog.exclusions import surt_form
from vellum.urls.surt import surt

RUNS = 5

_PYWB_SCRIPT = r"""
import json, sys, time
from pywb.warcserver.access_checker import AccessChecker
acl, urls_file, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
urls = open(urls_file).read().split("\n")
checker = AccessChecker(acl)
best = float("inf")
for _ in range(runs):
    start = time.perf_counter()
    verdicts = [checker.find_access_rule(u)["access"] == "exclude" for u in urls]
    best = min(best, (time.perf_counter() - start) / len(urls))
print(json.dumps({"us": best * 1e6, "excluded": verdicts}))
"""


def make_input(n: int) -> tuple[list[tuple[str, str]], list[str]]:
    """(kind, URL) rules and the URLs to check."""
    rules = []
    for i in range(n // 2):
        rules.append(("prefix", f"http://host{i}.example/private/"))
        rules.append(("url", f"http://host{i}.example/page-{i}.html"))
    urls = []
    for i in range(n):
        h = i % (n // 2)
        urls.append(f"http://host{h}.example/private/doc-{i}.html")  # excluded (prefix)
        urls.append(f"http://host{h}.example/public/doc-{i}.html")  # allowed
        urls.append(f"http://host{h}.example/page-{i}.html")  # excluded when i == h
    return rules, urls


def vellum_checks(rules: list[tuple[str, str]], urls: list[str]) -> tuple[float, list[bool]]:
    built = Rules.build([(kind, surt_form(kind, url)) for kind, url in rules], 0)
    best = float("inf")
    verdicts: list[bool] = []
    for _ in range(RUNS):
        start = time.perf_counter()
        verdicts = [built.excluded_key(surt(u)) for u in urls]
        best = min(best, (time.perf_counter() - start) / len(urls))
    return best * 1e6, verdicts


def pywb_checks(
    rules: list[tuple[str, str]], urls: list[str], work: Path
) -> tuple[float, list[bool]]:
    lines = []
    for kind, url in rules:
        key = surt(url) + ("###" if kind == "url" else "")
        lines.append(f"{key} - {json.dumps({'access': 'exclude', 'url': url})}")
    acl = work / "rules.aclj"
    acl.write_text("\n".join(sorted(lines, reverse=True)) + "\n")
    urls_file = work / "urls.txt"
    urls_file.write_text("\n".join(urls))
    python = ensure_pywb() / "python"
    out = subprocess.run(
        [str(python), "-c", _PYWB_SCRIPT, str(acl), str(urls_file), str(RUNS)],
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    return float(answer["us"]), [bool(v) for v in answer["excluded"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=2000, help="number of rules")
    args = parser.parse_args()
    rules, urls = make_input(args.rules)
    log(f"{len(rules)} rules, {len(urls)} URLs")
    with tempfile.TemporaryDirectory() as tmp:
        theirs, their_verdicts = pywb_checks(rules, urls, Path(tmp))
    ours, our_verdicts = vellum_checks(rules, urls)
    differ = [u for u, a, b in zip(urls, our_verdicts, their_verdicts, strict=True) if a != b]
    if differ:
        raise SystemExit(f"pywb and Vellum disagree on {len(differ)} URLs, e.g. {differ[:3]}")
    excluded = sum(our_verdicts)
    print(f"{'rules':>6} {'URLs':>7} {'excluded':>9} {'pywb':>10} {'vellum':>10} {'ratio':>9}")
    print(
        f"{len(rules):6} {len(urls):7} {excluded:9} {theirs:8.2f}µs {ours:8.2f}µs "
        f"{theirs / ours:7.0f}×  (pywb's time / Vellum's)"
    )
    save_results(
        "access",
        {"rules": len(rules), "urls": len(urls), "pywb_us": theirs, "vellum_us": ours},
    )


def table(r: dict[str, Any]) -> str:
    """The RESULTS.md table of a saved run (bench/.work/results/access.json)."""
    rows = [
        [
            f"{r['rules']:,}",
            f"{r['urls']:,}",
            f"{r['pywb_us']:,.0f} µs",
            f"{r['vellum_us']:,.1f} µs",
            f"{r['pywb_us'] / r['vellum_us']:,.0f}×",
        ]
    ]
    header = ["rules", "URLs", "pywb 2.10 (per check)", "Vellum (per check)", "pywb / Vellum"]
    return (
        "Exclusion (take-down) checks: half SURT prefixes, half exact URLs; both give the "
        "same verdict on every URL. Best of 5 runs.\n\n" + markdown_table(header, rows) + "\n"
    )


if __name__ == "__main__":
    main()
