"""The crawl engine: asyncio, one process, a global limit and per-host slots.

A dispatcher takes URLs from the frontier into a small per-host buffer and starts a
task for each URL whose host has a free slot and whose politeness delay has passed
(our delay or the robots.txt Crawl-delay, whichever is larger; 429/503 push the host
back by Retry-After). Each task checks robots.txt, fetches, extracts links, writes
response + request + metadata as one group (a revisit instead of the response when
the payload is already stored), appends the index entry, and offers the links.

Every `CHECKPOINT_SECONDS` the frontier commits, together with where the WARC stands
and the running totals; see `vellum.capture.recovery` for the way back after a crash.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from vellum.capture.config import CrawlConfig
from vellum.capture.dedup import DigestTable, dedupable
from vellum.capture.extraction import Preparer
from vellum.capture.fetch import FetchError
from vellum.capture.frontier import DONE, FAILED, SKIPPED, Entry, Frontier
from vellum.capture.grouping import Plan, make_records
from vellum.capture.http import HttpClient
from vellum.capture.outlinks import normalize, outlinks
from vellum.capture.report import CrawlStats
from vellum.capture.robots import RobotsCache, origin_of
from vellum.capture.scope import hop_count, host_of
from vellum.capture.traps import TrapDetector
from vellum.clock import Clock
from vellum.index.cdxj import make_capture
from vellum.index.store import IndexStore
from vellum.urls.surt import surt
from vellum.warc.exchange import HttpExchange
from vellum.warc.writer import (
    IdFactory,
    StoredRecord,
    WarcFileWriter,
    sha1_digest,
)

CHECKPOINT_SECONDS = 1.0
_OFFERED_MAX = 50_000  # links remembered as already offered (then forgotten, in bulk)


@dataclass(frozen=True)
class CrawlEvent:
    """What the engine tells its observer after each URL."""

    url: str
    status: int | None  # None when nothing was fetched
    size: int
    queued: int  # URLs still waiting
    message: str = ""


Observer = Callable[[CrawlEvent], None]


@dataclass
class _Host:
    active: int = 0
    ready_at: float = 0.0
    delay: float = 0.0
    documents: int = 0
    bytes: int = 0
    failures: int = 0


def _pass_turn(mine: asyncio.Future[None], previous: asyncio.Future[None] | None) -> None:
    """Let the next group be written: now, or once the group before this one is."""
    if mine.done():
        return
    if previous is None or previous.done():
        mine.set_result(None)
    else:
        previous.add_done_callback(lambda _f: None if mine.done() else mine.set_result(None))


def retry_after(exchange: HttpExchange, now: float) -> float | None:
    """Seconds the server asks us to wait (Retry-After: seconds or an HTTP date)."""
    value = (exchange.header("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class CrawlEngine:
    """Runs one crawl session over a frontier until it is empty or a limit is reached."""

    def __init__(
        self,
        config: CrawlConfig,
        frontier: Frontier,
        writer: WarcFileWriter,
        index: IndexStore,
        client: HttpClient,
        stats: CrawlStats,
        clock: Clock,
        record_id: IdFactory,
        digests: DigestTable | None = None,
        observer: Observer = lambda _e: None,
    ) -> None:
        self.config = config
        self.frontier = frontier
        self.writer = writer
        self.index = index
        self.client = client
        self.stats = stats
        self.clock = clock
        self.record_id = record_id
        self.digests = digests
        self.observer = observer
        self.scope = config.scope()
        self.traps = TrapDetector(config.traps)
        self.robots = RobotsCache(
            client.get,
            on_fetch=self._store_robots,
            unavailable_allows=config.robots_unavailable == "allow",
        )
        self.queue_length = 0
        # origin -> [WARC file, offset] of its robots.txt response, to reload on resume
        self.robots_records: dict[str, list[object]] = dict(frontier.get_meta("robots") or {})
        self._hosts: dict[str, _Host] = {}
        self._buffer: dict[str, deque[Entry]] = {}
        self._buffered = 0
        self._offered: set[str] = set()
        self._seed_origins = {origin_of(s.url) for s in config.seeds}
        self._sitemaps_offered: set[str] = set()
        # digest -> (record id, URL, date) of responses composed but not yet written
        self._unwritten: dict[str, tuple[str, str, datetime]] = {}
        self.preparer = Preparer()
        self._last_write: asyncio.Future[None] | None = None
        self._wake = asyncio.Event()
        self._last_checkpoint = time.monotonic()
        self._started = time.monotonic()
        self._elapsed_before = stats.elapsed
        self._stop = ""
        self._error: BaseException | None = None
        for host, (documents, size) in stats.by_host.items():
            self._host(host).documents, self._host(host).bytes = documents, size

    # the dispatcher

    async def run(self) -> str:
        """Crawl until done; return why it ended ("" when the frontier ran dry)."""
        tasks: set[asyncio.Task[None]] = set()
        politeness = self.config.politeness
        loop = asyncio.get_running_loop()
        try:
            while True:
                if self._error is not None:
                    raise self._error
                self._check_limits()
                if not self._stop:
                    self._refill()
                    while len(tasks) < politeness.concurrency:
                        entry = self._next_ready(loop.time())
                        if entry is None:
                            break
                        task = asyncio.create_task(self._visit(entry))
                        tasks.add(task)
                        task.add_done_callback(self._done(tasks))
                if not tasks and (self._stop or (not self._buffered and not self.queue_length)):
                    break
                self._wake.clear()
                wait = self._next_wait(loop.time()) if not self._stop else None
                try:
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                if time.monotonic() - self._last_checkpoint >= CHECKPOINT_SECONDS:
                    self.checkpoint()
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            await self.client.close()
            self.preparer.close()
        self.checkpoint()
        return self._stop

    def _done(self, tasks: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
        def callback(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            self._wake.set()
            if not task.cancelled() and task.exception() is not None and self._error is None:
                self._error = task.exception()

        return callback

    def _host(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host(delay=self.config.politeness.delay_for(host))
        return state

    def _refill(self) -> None:
        politeness = self.config.politeness
        want = politeness.concurrency * 4 - self._buffered
        if want < politeness.concurrency or not self.queue_length:
            return
        full = [h for h, q in self._buffer.items() if len(q) >= politeness.per_host * 4]
        for entry in self.frontier.claim(want, full):
            self._buffer.setdefault(entry.host, deque()).append(entry)
            self._buffered += 1
            self.queue_length -= 1

    def _next_ready(self, now: float) -> Entry | None:
        per_host = self.config.politeness.per_host
        for host, queue in self._buffer.items():
            state = self._host(host)
            if state.active < per_host and state.ready_at <= now:
                entry = queue.popleft()
                if not queue:
                    del self._buffer[host]
                self._buffered -= 1
                state.active += 1
                state.ready_at = now + state.delay
                return entry
        return None

    def _next_wait(self, now: float) -> float | None:
        per_host = self.config.politeness.per_host
        times = [self._host(h).ready_at for h in self._buffer if self._host(h).active < per_host]
        return max(0.0, min(times) - now) if times else None

    def _check_limits(self) -> None:
        if self._stop:
            return
        limits, stats = self.config.limits, self.stats
        if limits.documents is not None and stats.stored >= limits.documents:
            self._stop = f"document limit ({limits.documents:,}) reached"
        elif limits.bytes is not None and stats.bytes >= limits.bytes:
            self._stop = f"byte limit ({limits.bytes:,}) reached"
        elif limits.seconds is not None and self.elapsed() >= limits.seconds:
            self._stop = f"time limit ({limits.seconds:g} s) reached"

    def elapsed(self) -> float:
        return self._elapsed_before + time.monotonic() - self._started

    def checkpoint(self, file: str | None = None) -> None:
        """Commit the frontier with where the WARC stands and the totals so far."""
        current = self.writer.current
        position = (file, 0) if file is not None else current
        self.stats.elapsed = self.elapsed()
        self.frontier.set_meta("checkpoint", list(position) if position else None)
        self.frontier.set_meta("stats", self.stats.to_json())
        self.frontier.commit()
        if self.digests is not None:
            self.digests.commit()
        self._last_checkpoint = time.monotonic()

    # one URL

    async def _visit(self, entry: Entry) -> None:
        host = self._host(entry.host)
        try:
            await self._fetch_and_store(entry, host)
        finally:
            host.active -= 1
            if host.delay:
                loop = asyncio.get_running_loop()
                host.ready_at = max(host.ready_at, loop.time() + host.delay)

    async def _fetch_and_store(self, entry: Entry, host: _Host) -> None:
        limits = self.config.limits
        if (limits.host_documents is not None and host.documents >= limits.host_documents) or (
            limits.host_bytes is not None and host.bytes >= limits.host_bytes
        ):
            self.stats.limited += 1
            self.stats.sample("host_limit", entry.url)
            self.frontier.finish(entry.key, SKIPPED)
            return
        if not self.config.ignore_robots and not entry.path.endswith("P"):
            rules = await self.robots.rules_for(entry.url)
            self._apply_crawl_delay(entry, host, rules.crawl_delay(self.robots.token))
            if origin_of(entry.url) in self._seed_origins and self.config.sitemaps:
                self._offer_sitemaps(rules.sitemaps)
            if not rules.allowed(entry.url, self.robots.token):
                if rules.error:
                    self.stats.error(entry.url, rules.error)
                    self.frontier.finish(entry.key, FAILED)
                    self._emit(entry.url, None, 0, rules.error)
                else:
                    self.stats.blocked(entry.url)
                    self.frontier.finish(entry.key, SKIPPED)
                    self._emit(entry.url, None, 0, "blocked by robots.txt")
                return
        loop = asyncio.get_running_loop()
        retries = self.config.politeness.retries
        try:
            exchange = await self.client.get(entry.url)
        except FetchError as exc:
            if entry.attempts < retries and "refused to connect" not in str(exc):
                host.ready_at = max(host.ready_at, loop.time() + 1.0 * (entry.attempts + 1))
                self._requeue(entry)
                return
            self.stats.error(entry.url, str(exc))
            self.frontier.finish(entry.key, FAILED)
            self._emit(entry.url, None, 0, str(exc))
            return
        if exchange.status in (429, 503) and entry.attempts < retries:
            wait = retry_after(exchange, time.time())
            if wait is None:
                wait = max(host.delay, 1.0) * 2 ** (entry.attempts + 1)
            wait = min(wait, self.config.politeness.max_backoff)
            host.ready_at = max(host.ready_at, loop.time() + wait)
            self._requeue(entry)
            self._emit(entry.url, exchange.status, 0, f"backing off {wait:g} s")
            return
        await self.store_async(entry, exchange)

    def _requeue(self, entry: Entry) -> None:
        self.frontier.requeue(entry)
        self.queue_length += 1

    def _apply_crawl_delay(self, entry: Entry, host: _Host, delay: float | None) -> None:
        if delay is None:
            return
        capped = min(delay, self.config.politeness.max_crawl_delay)
        if capped < delay and "crawl_delay_capped" not in self.stats.samples:
            self.stats.sample(
                "crawl_delay_capped", f"{entry.host}: Crawl-delay {delay:g} s capped to {capped:g}"
            )
        host.delay = max(self.config.politeness.delay_for(entry.host), capped)

    def _store_robots(self, exchange: HttpExchange) -> None:
        host = host_of(exchange.url)
        entry = Entry(surt(exchange.url), exchange.url, "P", "", host, 0)
        if self.frontier.state_of(entry.key) == DONE:
            return
        self.frontier.add([entry])
        stored = self.store(entry, exchange)
        if exchange.url == origin_of(exchange.url) + "/robots.txt":
            self.robots_records[origin_of(exchange.url)] = [stored.filename, stored.offset]
            self.frontier.set_meta("robots", self.robots_records)

    def store(self, entry: Entry, exchange: HttpExchange) -> StoredRecord:
        """Write the exchange (or a revisit), index it, then offer its links."""
        # Written at once, so it may not refer to a group that is written after it.
        plan = self._plan(entry, exchange, unwritten=False)
        links = outlinks(entry.path, exchange)
        stored = self.writer.write_group(make_records(plan, exchange, links))
        return self._stored(entry, exchange, plan, links, stored[0])

    async def store_async(self, entry: Entry, exchange: HttpExchange) -> StoredRecord:
        """`store`, with links and records made in a worker process or thread meanwhile.

        Groups are appended in the order they were planned (each waits for the one
        before), so that an original precedes its revisits in the WARC."""
        plan = self._plan(entry, exchange)
        previous, mine = self._last_write, asyncio.get_running_loop().create_future()
        self._last_write = mine
        try:
            links, prepared = await self.preparer.group(plan, exchange)
            if previous is not None and not previous.done():
                await asyncio.shield(previous)
            stored = self.writer.write_prepared(prepared)
            return self._stored(entry, exchange, plan, links, stored[0])
        finally:
            _pass_turn(mine, previous)

    def _plan(self, entry: Entry, exchange: HttpExchange, unwritten: bool = True) -> Plan:
        """Record ids, and whether the payload is stored already (then: a revisit); with
        `unwritten`, a payload planned but not written yet counts as stored."""
        revisit_of = None
        digest = ""
        if self.digests is not None and dedupable(
            exchange.status, len(exchange.body), exchange.truncated
        ):
            digest = sha1_digest(exchange.body)
            revisit_of = self._unwritten.get(digest) if unwritten else None
            if revisit_of is None:
                original = self.digests.find(digest)
                if original is not None:
                    revisit_of = (original.record_id, original.url, original.date)
        response_id, request_id = self.record_id(), self.record_id()
        metadata_id = self.record_id()
        if digest and revisit_of is None:
            self._unwritten[digest] = (response_id, exchange.url, exchange.date)
        return Plan(
            entry.path, entry.via, response_id, request_id, metadata_id, revisit_of, digest,
            self.writer.gzip_level,
        )  # fmt: skip

    def _stored(
        self,
        entry: Entry,
        exchange: HttpExchange,
        plan: Plan,
        links: list[tuple[str, str]],
        stored: StoredRecord,
    ) -> StoredRecord:
        """Index what was written, update the totals, offer the links."""
        capture = make_capture(
            stored.url,
            stored.timestamp,
            stored.mime,
            stored.status,
            stored.payload_digest,
            stored.length,
            stored.offset,
            stored.filename,
            # the frontier key is the SURT of the URL fetched: no need to compute it again
            urlkey=entry.key if stored.url == entry.url else None,
        )
        self.index.append(stored.filename, [capture])
        digest, duplicate = plan.digest, plan.revisit_of is not None
        if self.digests is not None and digest and not duplicate:
            self.digests.add(digest, exchange.url, exchange.date, stored.record_id)
            self._unwritten.pop(digest, None)
        self.frontier.finish(entry.key, DONE)
        size = len(exchange.body)
        host = self._host(entry.host)
        host.documents += 1
        host.bytes += size
        self.stats.stored_url(
            entry.host,
            exchange.status,
            exchange.mime,
            size,
            duplicate,
            exchange.truncated is not None,
        )
        self.offer(entry, links)
        self._emit(exchange.url, exchange.status, size, "duplicate" if duplicate else "")
        return stored

    def _emit(self, url: str, status: int | None, size: int, message: str) -> None:
        self.observer(CrawlEvent(url, status, size, self.queue_length + self._buffered, message))

    # links

    def offer(self, parent: Entry, links: list[tuple[str, str]]) -> None:
        """Queue the links that are in scope and not traps (the frontier drops repeats)."""
        candidates = []
        for raw, letter in links:
            token = letter + raw
            if token in self._offered:
                continue
            if len(self._offered) >= _OFFERED_MAX:
                self._offered.clear()
            self._offered.add(token)
            url = normalize(raw)
            if url is None:
                continue
            path = parent.path + letter
            key = surt(url)
            reason = self.scope.decide(url, key, path)
            if reason is not None:
                self.stats.not_in_scope(url, reason)
                continue
            trap = self.traps.check(url)
            if trap is not None:
                self.stats.trap(url, trap)
                continue
            candidates.append(Entry(key, url, path, parent.url, host_of(url), hop_count(path)))
        if candidates:
            self.queue_length += len(self.frontier.add(candidates))

    def _offer_sitemaps(self, urls: tuple[str, ...]) -> None:
        fresh = [u for u in urls if u not in self._sitemaps_offered]
        if fresh:
            self._sitemaps_offered.update(fresh)
            self.offer(Entry("", "", "", "", "", 0), [(u, "M") for u in fresh])
