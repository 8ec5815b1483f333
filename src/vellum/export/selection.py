"""Which captures of a collection an export takes: by crawl, time range and URL prefix.

A selection is a predicate on index entries, so that the same test decides for an
entry read from the index and for one read again from its WARC file. Files are taken
whole when every capture in them is wanted (no time or URL filter); otherwise record by
record. A revisit taken whose original payload is left out brings that original along.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from vellum.access.exclusions import AccessRules, Rules
from vellum.catalog.catalog import Catalog, Crawl, WarcFile
from vellum.errors import InvalidInput, NotFound
from vellum.index.cdxj import Capture
from vellum.index.importer import warc_path
from vellum.index.query import CdxQuery
from vellum.index.store import IndexStore
from vellum.settings import Settings
from vellum.urls.timestamps import is_timestamp, pad_high, pad_low

__all__ = [
    "ExportFile",
    "Selection",
    "crawl_of_files",
    "original_of",
    "plan_export",
    "without_take_downs",
]


@dataclass(frozen=True)
class Selection:
    """What to export: everything, or the captures of one crawl, a time range, a URL prefix."""

    crawl: int | None = None
    from_ts: str | None = None
    to_ts: str | None = None
    url_prefix: str | None = None
    excluded: Rules | None = None  # the collection's take-downs (set by `plan_export`)

    def __post_init__(self) -> None:
        for name in ("from_ts", "to_ts"):
            value = getattr(self, name)
            if value is not None and not is_timestamp(value):
                option = "--from" if name == "from_ts" else "--to"
                raise InvalidInput(f"{option} must be a timestamp of 1 to 14 digits, not {value!r}")
        if self.from_ts and self.to_ts and pad_low(self.from_ts) > pad_high(self.to_ts):
            raise InvalidInput(f"--from {self.from_ts} is after --to {self.to_ts}")
        if self.url_prefix is not None and not self.url_prefix:
            raise InvalidInput("--url-prefix must not be empty")

    @property
    def by_record(self) -> bool:
        """Whether records are chosen one by one (else whole files are)."""
        return bool(self.from_ts or self.to_ts or self.url_prefix or self.excluded)

    @property
    def is_everything(self) -> bool:
        return self.crawl is None and not self.by_record

    def wants(self, capture: Capture) -> bool:
        """Whether the capture's time and URL are in the range (files are chosen apart)."""
        if self.from_ts and capture.timestamp < pad_low(self.from_ts):
            return False
        if self.to_ts and capture.timestamp > pad_high(self.to_ts):
            return False
        if self.excluded is not None and self.excluded.excluded_key(capture.urlkey):
            return False
        return not (self.url_prefix and not capture.url.startswith(self.url_prefix))


@dataclass
class ExportFile:
    """One WARC file of the collection and what an export takes from it."""

    warc: WarcFile
    path: Path
    whole: bool  # copied as it is (offsets unchanged)
    chosen: bool = True  # in the files selected (else only brought along for originals)
    extra_offsets: set[int] = field(default_factory=set)  # originals brought along

    @property
    def name(self) -> str:
        return self.warc.filename

    def takes(self, capture: Capture, selection: Selection) -> bool:
        """Whether a capture of this file goes into the export."""
        if self.whole or capture.offset in self.extra_offsets:
            return True
        return self.chosen and selection.wants(capture)


def crawl_of_files(catalog: Catalog, slug: str) -> dict[str, Crawl]:
    """The crawl that wrote each WARC file of a collection (imported files have none).

    The crawler records its WARC files after closing them and before it marks the crawl
    finished, so a crawl's files are those it added between its start and its end.
    """
    crawls = catalog.crawls(slug)
    found: dict[str, Crawl] = {}
    for warc in catalog.warc_files(slug):
        if warc.source != "crawl":
            continue
        for crawl in crawls:
            ended = crawl.finished is None or warc.added <= crawl.finished
            if crawl.started <= warc.added and ended:
                found[warc.filename] = crawl
    return found


def without_take_downs(catalog: Catalog, slug: str, selection: Selection) -> Selection:
    """`selection` leaving out the collection's exclusions: a take-down is never exported."""
    rules = AccessRules(catalog).rules(catalog.get_collection(slug))
    if rules.prefixes or rules.exact:
        return replace(selection, excluded=rules)
    return selection


def plan_export(
    settings: Settings, catalog: Catalog, slug: str, store: IndexStore, selection: Selection
) -> list[ExportFile]:
    """The files an export of `slug` reads, each whole or with the offsets it must add.

    Reads the index once (not at all when everything is taken): for every revisit
    taken, its original is looked up, and kept as an extra record if the selection
    leaves it out.
    """
    selection = without_take_downs(catalog, slug, selection)
    warcs = catalog.warc_files(slug)
    chosen = warcs
    if selection.crawl is not None:
        crawl_ids = {c.id for c in catalog.crawls(slug)}
        if selection.crawl not in crawl_ids:
            raise NotFound(f"collection {slug!r} has no crawl {selection.crawl}")
        owners = crawl_of_files(catalog, slug)
        chosen = [w for w in warcs if (c := owners.get(w.filename)) and c.id == selection.crawl]
    whole = not selection.by_record
    files = {
        w.filename: ExportFile(w, warc_path(settings, slug, w.filename), whole) for w in chosen
    }
    if selection.is_everything:  # every file whole: every original is in (no index scan)
        return list(files.values())
    others = {w.filename: w for w in warcs if w.filename not in files}
    used: set[str] = set()
    for capture in _taken(store, files, selection):
        used.add(capture.filename)
        if not capture.is_revisit:
            continue
        original = original_of(store, capture)
        if original is None:
            continue
        owner = files.get(original.filename)
        if owner is not None and owner.takes(original, selection):
            continue
        if owner is None:
            warc = others.get(original.filename)
            if warc is None:
                continue
            owner = files[warc.filename] = ExportFile(
                warc, warc_path(settings, slug, warc.filename), whole=False, chosen=False
            )
        owner.extra_offsets.add(original.offset)
        used.add(owner.name)
    order = {w.filename: i for i, w in enumerate(warcs)}
    return sorted((f for f in files.values() if f.name in used), key=lambda f: order[f.name])


def _taken(
    store: IndexStore, files: dict[str, ExportFile], selection: Selection
) -> Iterator[Capture]:
    for capture in store.all():
        owner = files.get(capture.filename)
        if owner is not None and owner.takes(capture, selection):
            yield capture


def original_of(store: IndexStore, revisit: Capture) -> Capture | None:
    """The capture holding a revisit's payload, as replay would find it."""
    query = CdxQuery(
        revisit.url, from_ts=revisit.timestamp, to_ts=revisit.timestamp, resolve_revisits=True
    )
    for capture in store.query(query):
        if capture.filename == revisit.filename and capture.offset == revisit.offset:
            return capture.original
    return None
