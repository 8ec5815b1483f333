"""Deduplication by payload digest against everything the collection already holds.

At the start of a crawl the collection's index is streamed into a digest table (a
SQLite file next to the frontier, so memory stays bounded); every response the crawl
writes is added. A response whose payload digest is there becomes a `revisit` record
(profile identical-payload-digest) pointing at the earlier capture. The earlier
record's WARC-Record-ID is read from its WARC file the first time it is needed.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vellum.index.cdxj import Capture
from vellum.urls.timestamps import from_timestamp


@dataclass(frozen=True)
class Original:
    """The capture a revisit refers to."""

    record_id: str
    url: str
    date: datetime


_SCHEMA = """
CREATE TABLE IF NOT EXISTS digest (
    digest TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    date TEXT NOT NULL,
    record_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL
) WITHOUT ROWID;
"""


def dedupable(status: int, body_size: int, truncated: str | None) -> bool:
    """Only complete, non-empty 200 responses are deduplicated."""
    return status == 200 and body_size > 0 and truncated is None


class DigestTable:
    """Payload digest → the first capture with that payload (in a SQLite file)."""

    def __init__(self, path: Path, warc_dir: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._warc_dir = warc_dir
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA cache_size=-8000")
        self._db.executescript(_SCHEMA)
        self._db.execute("BEGIN")

    def load(self, captures: Iterable[Capture]) -> int:
        """Add the index's 200 captures (an iterable of `Capture`); return how many."""
        n = 0
        rows = []
        for c in captures:
            if c.status != "200" or c.is_revisit or not c.digest:
                continue
            digest = c.digest if ":" in c.digest else "sha1:" + c.digest
            rows.append((digest, c.url, c.timestamp, "", c.filename, c.offset, c.length))
            if len(rows) >= 5000:
                n += self._insert(rows)
                rows = []
        n += self._insert(rows)
        self.commit()
        return n

    def _insert(self, rows: list[tuple[str, str, str, str, str, int, int]]) -> int:
        before = self._db.total_changes
        self._db.executemany("INSERT OR IGNORE INTO digest VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return self._db.total_changes - before

    def add(self, digest: str, url: str, date: datetime, record_id: str) -> None:
        """A response just written (first one wins)."""
        stamp = date.astimezone(UTC).strftime("%Y%m%d%H%M%S")
        self._db.execute(
            "INSERT OR IGNORE INTO digest VALUES (?, ?, ?, ?, '', 0, 0)",
            (digest, url, stamp, record_id),
        )

    def find(self, digest: str) -> Original | None:
        """The first capture with this payload digest, if any."""
        row = self._db.execute(
            "SELECT url, date, record_id, filename, offset, length FROM digest WHERE digest = ?",
            (digest,),
        ).fetchone()
        if row is None:
            return None
        url, stamp, record_id, filename, offset, length = row
        if not record_id:
            record_id = self._record_id(filename, offset, length)
            if record_id is None:
                return None
            self._db.execute(
                "UPDATE digest SET record_id = ? WHERE digest = ?", (record_id, digest)
            )
        return Original(record_id, url, from_timestamp(stamp))

    def _record_id(self, filename: str, offset: int, length: int) -> str | None:
        try:
            with open(self._warc_dir / filename, "rb") as f:
                f.seek(offset)
                data = f.read(length if length > 0 else 65536)
        except OSError:
            return None
        if data[:2] == b"\x1f\x8b":
            try:
                data = zlib.decompressobj(31).decompress(data, 65536)
            except zlib.error:
                return None
        head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        for line in head.split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "warc-record-id":
                return value.strip()
        return None

    def commit(self) -> None:
        self._db.execute("COMMIT")
        self._db.execute("BEGIN")

    def close(self) -> None:
        self._db.execute("COMMIT")
        self._db.close()
