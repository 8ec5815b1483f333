"""What happened in a crawl: totals, breakdowns and samples, as JSON or tables."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SAMPLES = 20


@dataclass
class CrawlStats:
    """Running totals of one crawl (kept in the frontier checkpoint, then the catalog)."""

    stored: int = 0  # URLs written (responses and revisits)
    bytes: int = 0  # payload bytes fetched
    new: int = 0
    new_bytes: int = 0
    duplicate: int = 0
    duplicate_bytes: int = 0
    robots_blocked: int = 0
    out_of_scope: int = 0
    traps: int = 0
    errors: int = 0
    limited: int = 0  # skipped by a per-host limit
    truncated: int = 0
    elapsed: float = 0.0  # seconds, over every run of the crawl
    stop_reason: str = ""
    by_status: Counter[str] = field(default_factory=Counter)
    by_mime: Counter[str] = field(default_factory=Counter)
    by_host: dict[str, list[int]] = field(default_factory=dict)  # host -> [urls, bytes]
    scope_reasons: Counter[str] = field(default_factory=Counter)
    trap_reasons: Counter[str] = field(default_factory=Counter)
    samples: dict[str, list[str]] = field(default_factory=dict)
    warc_files: list[str] = field(default_factory=list)

    def sample(self, kind: str, text: str) -> None:
        found = self.samples.setdefault(kind, [])
        if len(found) < SAMPLES:
            found.append(text)

    def stored_url(
        self, host: str, status: int | None, mime: str, size: int, duplicate: bool, cut: bool
    ) -> None:
        self.stored += 1
        self.bytes += size
        if duplicate:
            self.duplicate += 1
            self.duplicate_bytes += size
        else:
            self.new += 1
            self.new_bytes += size
        if cut:
            self.truncated += 1
        self.by_status[str(status) if status is not None else "-"] += 1
        self.by_mime[mime or "-"] += 1
        counts = self.by_host.setdefault(host, [0, 0])
        counts[0] += 1
        counts[1] += size

    def error(self, url: str, message: str) -> None:
        self.errors += 1
        self.sample("errors", f"{url}: {message}")

    def blocked(self, url: str) -> None:
        self.robots_blocked += 1
        self.sample("robots", url)

    def not_in_scope(self, url: str, reason: str) -> None:
        self.out_of_scope += 1
        self.scope_reasons[reason] += 1
        self.sample("out_of_scope", f"{url} ({reason})")

    def trap(self, url: str, reason: str) -> None:
        self.traps += 1
        self.trap_reasons[reason] += 1
        self.sample("traps", f"{url} ({reason})")

    def to_json(self) -> dict[str, Any]:
        return {
            name: (dict(value) if isinstance(value, Counter) else value)
            for name, value in self.__dict__.items()
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CrawlStats:
        stats = cls()
        for name, value in data.items():
            current = getattr(stats, name, None)
            if isinstance(current, Counter):
                setattr(stats, name, Counter(value))
            elif hasattr(stats, name):
                setattr(stats, name, value)
        return stats


def report_tables(report: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The report as titled two-column tables (for Rich or plain text)."""
    summary = [
        ("URLs stored", f"{report.get('stored', 0):,}"),
        ("payload bytes", f"{report.get('bytes', 0):,}"),
        ("new", f"{report.get('new', 0):,} ({report.get('new_bytes', 0):,} bytes)"),
        (
            "duplicate (revisits)",
            f"{report.get('duplicate', 0):,} ({report.get('duplicate_bytes', 0):,} bytes)",
        ),
        ("out of scope", f"{report.get('out_of_scope', 0):,}"),
        ("blocked by robots.txt", f"{report.get('robots_blocked', 0):,}"),
        ("traps", f"{report.get('traps', 0):,}"),
        ("errors", f"{report.get('errors', 0):,}"),
        ("truncated", f"{report.get('truncated', 0):,}"),
        ("skipped by host limits", f"{report.get('limited', 0):,}"),
        ("elapsed", f"{report.get('elapsed', 0.0):.1f} s"),
        ("ended", report.get("stop_reason", "") or "-"),
    ]
    tables = [("Crawl report", summary)]

    def top(name: str, title: str) -> None:
        data: dict[str, Any] = report.get(name) or {}
        if data:
            rows = sorted(data.items(), key=lambda kv: (-_first(kv[1]), kv[0]))[:25]
            tables.append((title, [(k, _show(v)) for k, v in rows]))

    top("by_status", "By HTTP status")
    top("by_mime", "By MIME type")
    top("by_host", "By host (URLs, bytes)")
    top("scope_reasons", "Not fetched: scope")
    top("trap_reasons", "Not fetched: traps")
    for kind, title in (
        ("out_of_scope", "Out-of-scope samples"),
        ("robots", "Blocked by robots.txt (samples)"),
        ("traps", "Trap samples"),
        ("errors", "Error samples"),
    ):
        samples = (report.get("samples") or {}).get(kind) or []
        if samples:
            tables.append((title, [(str(i + 1), s) for i, s in enumerate(samples)]))
    return tables


def _first(value: Any) -> int:
    return int(value[0]) if isinstance(value, list) else int(value)


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(f"{v:,}" for v in value)
    return f"{value:,}"
