"""The WASAPI v1 `webdata` query: parameters parsed and checked, files listed and paged.

Pure functions over the catalog's file list (Archive-It's v1 shapes, see
../shared/STANDARDS.md section 5): `filename` globs separated by `;` matched against
the whole name, `filetype`, `collection` (repeatable; a slug or an id), `crawl`,
`crawl-time-after/before`, `crawl-start-after/before` (RFC 3339 or a date; "after" is
inclusive, "before" exclusive; no zone means UTC), `page` from 1 and `page_size` up
to 2000. Anything malformed is an `InvalidInput` whose message is the 400's reason.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from vellum.errors import InvalidInput

__all__ = ["FileEntry", "WebdataQuery", "filetype_of", "page_of", "parse_webdata_query"]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 2000
_KNOWN = {
    "filename",
    "filetype",
    "collection",
    "crawl",
    "crawl-time-after",
    "crawl-time-before",
    "crawl-start-after",
    "crawl-start-before",
    "page",
    "page_size",
    "format",
}
_TYPES = (
    (".warc.gz", "warc"),
    (".warc", "warc"),
    (".arc.gz", "arc"),
    (".arc", "arc"),
    (".wat.gz", "wat"),
    (".wat", "wat"),
    (".cdxj", "cdx"),
    (".cdx", "cdx"),
    (".cdx.gz", "cdx"),
)


@dataclass(frozen=True)
class FileEntry:
    """One file WASAPI can list: where it comes from and what a client is told about it."""

    filename: str
    filetype: str
    sha1: str
    md5: str
    size: int
    collection_id: int
    collection_slug: str
    account: int  # the owning organization
    crawl: int | None
    crawl_time: datetime
    crawl_start: datetime | None
    download_path: str  # below the service root, e.g. `/wasapi/v1/download/web/x.warc.gz`

    def to_json(self, base_url: str) -> dict[str, object]:
        """The v1 file object; `base_url` is the service root without a trailing slash."""
        return {
            "filename": self.filename,
            "filetype": self.filetype,
            "checksums": {"sha1": self.sha1, "md5": self.md5},
            "account": self.account,
            "size": self.size,
            "collection": self.collection_id,
            "crawl": self.crawl,
            "crawl-time": _rfc3339(self.crawl_time),
            "crawl-start": _rfc3339(self.crawl_start) if self.crawl_start else None,
            "locations": [base_url + self.download_path],
        }


@dataclass(frozen=True)
class WebdataQuery:
    filenames: tuple[str, ...] = ()
    filetype: str | None = None
    collections: tuple[str, ...] = ()
    crawl: int | None = None
    crawl_time_after: datetime | None = None
    crawl_time_before: datetime | None = None
    crawl_start_after: datetime | None = None
    crawl_start_before: datetime | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def matches(self, entry: FileEntry) -> bool:
        if self.filenames and not any(
            fnmatch.fnmatchcase(entry.filename, glob) for glob in self.filenames
        ):
            return False
        if self.filetype and entry.filetype != self.filetype:
            return False
        if self.collections and not (
            entry.collection_slug in self.collections
            or str(entry.collection_id) in self.collections
        ):
            return False
        if self.crawl is not None and entry.crawl != self.crawl:
            return False
        if not _in_range(entry.crawl_time, self.crawl_time_after, self.crawl_time_before):
            return False
        if self.crawl_start_after or self.crawl_start_before:
            if entry.crawl_start is None:
                return False
            return _in_range(entry.crawl_start, self.crawl_start_after, self.crawl_start_before)
        return True


def parse_webdata_query(params: Sequence[tuple[str, str]]) -> WebdataQuery:
    """A query from the request's parameters (in order, names may repeat)."""
    values: dict[str, list[str]] = {}
    for name, value in params:
        if name not in _KNOWN:
            known = ", ".join(sorted(_KNOWN - {"format"}))
            raise InvalidInput(f"unknown parameter {name!r}; known: {known}")
        values.setdefault(name, []).append(value)
    for name, given in values.items():
        if name != "collection" and len(given) > 1:
            raise InvalidInput(f"parameter {name!r} given more than once")

    def one(name: str) -> str | None:
        return values[name][0] if name in values else None

    globs = tuple(g for g in (one("filename") or "").split(";") if g)
    if "format" in values and one("format") != "json":
        raise InvalidInput("format must be json")
    return WebdataQuery(
        filenames=globs,
        filetype=(one("filetype") or None),
        collections=tuple(values.get("collection", [])),
        crawl=_integer("crawl", one("crawl"), 1),
        crawl_time_after=_when("crawl-time-after", one("crawl-time-after")),
        crawl_time_before=_when("crawl-time-before", one("crawl-time-before")),
        crawl_start_after=_when("crawl-start-after", one("crawl-start-after")),
        crawl_start_before=_when("crawl-start-before", one("crawl-start-before")),
        page=_integer("page", one("page"), 1) or 1,
        page_size=_page_size(one("page_size")),
    )


def page_of(entries: Iterable[FileEntry], query: WebdataQuery) -> tuple[int, list[FileEntry]]:
    """The total of matching entries and the ones on the query's page."""
    matching = [e for e in entries if query.matches(e)]
    start = (query.page - 1) * query.page_size
    if query.page > 1 and start >= len(matching):
        raise InvalidInput(
            f"page {query.page} is past the last page "
            f"({max(1, -(-len(matching) // query.page_size))})"
        )
    return len(matching), matching[start : start + query.page_size]


def filetype_of(filename: str) -> str:
    """The WASAPI file type of a name: warc, arc, wat, cdx, or the last extension."""
    for ending, kind in _TYPES:
        if filename.endswith(ending):
            return kind
    return filename.rsplit(".", 1)[-1] if "." in filename else "data"


def _integer(name: str, text: str | None, minimum: int) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) < minimum:
        raise InvalidInput(f"{name} must be a whole number of at least {minimum}, not {text!r}")
    return int(text)


def _page_size(text: str | None) -> int:
    if text is None:
        return DEFAULT_PAGE_SIZE
    size = _integer("page_size", text, 1)
    assert size is not None
    if size > MAX_PAGE_SIZE:
        raise InvalidInput(f"page_size must be at most {MAX_PAGE_SIZE}, not {size}")
    return size


def _when(name: str, text: str | None) -> datetime | None:
    """An RFC 3339 date-time or a date (midnight); no zone means UTC."""
    if text is None:
        return None
    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(candidate)
    except ValueError:
        raise InvalidInput(
            f"{name} must be an RFC 3339 date or date-time (2020-06-01 or "
            f"2020-06-01T08:00:00Z), not {text!r}"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _in_range(when: datetime, after: datetime | None, before: datetime | None) -> bool:
    return (after is None or when >= after) and (before is None or when < before)


def _rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
