"""Seeds in bulk: a pasted list of URLs, or a CSV with a header row, checked line by line.

Good lines are saved, bad ones come back with their line number and the reason, so a
curator can fix them and send only those again. A CSV starts with a header naming its
columns: `url` (required), then any of `scope`, `frequency`, `notes`, `max_hops`,
`include`, `exclude` (patterns separated by spaces) and Dublin Core elements
(`title`, `description`, `subject`, ...; several values separated by `;`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from vellum.capture.scope import DEFAULT_MAX_HOPS
from vellum.catalog.seeds import DC_ELEMENTS, SeedRules, Seeds, StoredSeed
from vellum.errors import InvalidInput, VellumError

LINES_MAX = 5000
_COLUMNS = {"url", "scope", "frequency", "notes", "max_hops", "include", "exclude", *DC_ELEMENTS}


@dataclass(frozen=True)
class BadLine:
    """A line that was not saved, and why."""

    line: int
    text: str
    reason: str


@dataclass
class BulkResult:
    """What became of a bulk add: the seeds saved and the lines refused."""

    added: list[StoredSeed] = field(default_factory=list)
    bad: list[BadLine] = field(default_factory=list)


def add_seed_list(
    seeds: Seeds,
    slug: str,
    text: str,
    scope: str = "host",
    frequency: str = "one-time",
) -> BulkResult:
    """Add every good line of `text` (URLs one a line, or CSV with a header) to `slug`.

    Blank lines and lines starting with `#` are skipped; `scope` and `frequency` apply
    where a line does not say otherwise."""
    result = BulkResult()
    lines = text.splitlines()
    if len(lines) > LINES_MAX:
        raise InvalidInput(f"at most {LINES_MAX} lines at once (this list has {len(lines)})")
    first = next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")
    header = [c.strip().lower() for c in next(csv.reader([first]))] if first else []
    if "url" in header:
        _add_csv(seeds, slug, lines, header, scope, frequency, result)
        return result
    for number, line in enumerate(lines, start=1):
        url = line.strip()
        if not url or url.startswith("#"):
            continue
        try:
            result.added.append(seeds.add(slug, url, scope, frequency))
        except VellumError as exc:
            result.bad.append(BadLine(number, url, str(exc)))
    return result


def _add_csv(
    seeds: Seeds,
    slug: str,
    lines: list[str],
    header: list[str],
    scope: str,
    frequency: str,
    result: BulkResult,
) -> None:
    unknown = [c for c in header if c not in _COLUMNS]
    if unknown:
        raise InvalidInput(
            f"unknown CSV column(s) {', '.join(unknown)}: use {', '.join(sorted(_COLUMNS))}"
        )
    started = False
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not started:
            started = True  # the header
            continue
        try:
            cells = next(csv.reader(io.StringIO(line)))
        except csv.Error as exc:
            result.bad.append(BadLine(number, line, f"not a CSV line: {exc}"))
            continue
        if len(cells) > len(header):
            result.bad.append(
                BadLine(number, line, f"{len(cells)} columns, the header has {len(header)}")
            )
            continue
        row = dict(zip(header, (c.strip() for c in cells), strict=False))
        try:
            hops = row.get("max_hops", "")
            if hops and not hops.isdigit():
                raise InvalidInput(f"max_hops must be a whole number, not {hops!r}")
            rules = SeedRules(
                include=tuple(row.get("include", "").split()),
                exclude=tuple(row.get("exclude", "").split()),
                max_hops=int(hops) if hops else DEFAULT_MAX_HOPS,
            )
            dublin_core = {
                e: [v for v in row.get(e, "").split(";") if v.strip()] for e in DC_ELEMENTS
            }
            added = seeds.add(
                slug,
                row.get("url", ""),
                row.get("scope") or scope,
                row.get("frequency") or frequency,
                rules,
                row.get("notes", ""),
                dublin_core,
            )
            result.added.append(added)
        except VellumError as exc:
            result.bad.append(BadLine(number, line, str(exc)))
