"""The crawl frontier: URLs to fetch, in priority order, and every URL ever seen.

`Frontier` is the seam (a Redis implementation can serve many crawl workers);
`SqliteFrontier` is the default: one SQLite file per crawl, so queued URLs live on disk
and the crawl survives a restart. The seen-set is keyed on the SURT form, so
`http://www.Example.com/a` and `https://example.com/a` are one URL.

Writes are grouped in transactions that `commit()` ends; a commit also stores the
crawl's *checkpoint* (where the WARC stood and the running totals), so that after a
crash recovery knows which records came after the last commit.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

QUEUED, CLAIMED, DONE, FAILED, SKIPPED = 0, 1, 2, 3, 4
STATES = {QUEUED: "queued", CLAIMED: "claimed", DONE: "done", FAILED: "failed", SKIPPED: "skipped"}


@dataclass(frozen=True)
class Entry:
    """A URL in the frontier with its hop path and how it was found."""

    key: str  # SURT
    url: str
    path: str  # hop path from the seed, e.g. "LLE"
    via: str  # the URL it was found on ("" for seeds)
    host: str
    priority: int  # lower first: hop count
    attempts: int = 0


class Frontier(Protocol):
    """Queued URLs by priority, a seen-set, and per-crawl state that survives a crash."""

    def add(self, entries: Iterable[Entry]) -> list[Entry]:
        """Queue the entries not seen before; return those."""

    def claim(self, n: int, exclude_hosts: Iterable[str] = ()) -> list[Entry]:
        """Up to `n` queued entries, best priority first, now marked in progress."""

    def finish(self, key: str, state: int) -> None:
        """An entry is done, failed or skipped."""

    def requeue(self, entry: Entry) -> None:
        """Put a claimed entry back (to retry later)."""

    def release_claimed(self) -> int:
        """After a crash: every entry left in progress is queued again."""

    def state_of(self, key: str) -> int | None:
        """The entry's state, None if never seen."""

    def counts(self) -> dict[str, int]:
        """How many entries are in each state."""

    def queued(self) -> int:
        """How many entries wait."""

    def get_meta(self, name: str) -> Any:
        """A JSON value stored with the frontier (None if absent)."""

    def set_meta(self, name: str, value: Any) -> None:
        """Store a JSON value; written with the next commit."""

    def commit(self) -> None:
        """Make everything so far durable."""

    def close(self) -> None:
        """Commit and release the file."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS url (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    path TEXT NOT NULL,
    via TEXT NOT NULL,
    host TEXT NOT NULL,
    priority INTEGER NOT NULL,
    state INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS url_queue ON url (state, priority, id);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class SqliteFrontier:
    """The `Frontier` in one SQLite file (WAL mode, bounded page cache)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA cache_size=-16000")  # 16 MB, whatever the queue length
        self._db.executescript(_SCHEMA)
        self._db.execute("BEGIN")

    def add(self, entries: Iterable[Entry]) -> list[Entry]:
        added = []
        cur = self._db.cursor()
        for e in entries:
            cur.execute(
                "INSERT OR IGNORE INTO url (key, url, path, via, host, priority, state) "
                "VALUES (?, ?, ?, ?, ?, ?, 0)",
                (e.key, e.url, e.path, e.via, e.host, e.priority),
            )
            if cur.rowcount:
                added.append(e)
        return added

    def claim(self, n: int, exclude_hosts: Iterable[str] = ()) -> list[Entry]:
        hosts = list(exclude_hosts)
        where = f"AND host NOT IN ({','.join('?' * len(hosts))})" if hosts else ""
        rows = self._db.execute(
            "SELECT id, key, url, path, via, host, priority, attempts FROM url "
            f"WHERE state = 0 {where} ORDER BY priority, id LIMIT ?",
            (*hosts, n),
        ).fetchall()
        self._db.executemany("UPDATE url SET state = 1 WHERE id = ?", [(r[0],) for r in rows])
        return [Entry(*r[1:]) for r in rows]

    def finish(self, key: str, state: int) -> None:
        self._db.execute("UPDATE url SET state = ? WHERE key = ?", (state, key))

    def requeue(self, entry: Entry) -> None:
        self._db.execute(
            "UPDATE url SET state = 0, attempts = attempts + 1 WHERE key = ?", (entry.key,)
        )

    def release_claimed(self) -> int:
        return self._db.execute("UPDATE url SET state = 0 WHERE state = 1").rowcount

    def state_of(self, key: str) -> int | None:
        row = self._db.execute("SELECT state FROM url WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT state, count(*) FROM url GROUP BY state").fetchall()
        return {STATES[s]: n for s, n in rows}

    def queued(self) -> int:
        row = self._db.execute("SELECT count(*) FROM url WHERE state = 0").fetchone()
        return int(row[0])

    def get_meta(self, name: str) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_meta(self, name: str, value: Any) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, json.dumps(value))
        )

    def commit(self) -> None:
        self._db.execute("COMMIT")
        self._db.execute("BEGIN")

    def close(self) -> None:
        self._db.execute("COMMIT")
        self._db.close()
