"""Start, resume and finish crawls: the frontier, WARC writer, index and catalog around
the asyncio engine (`vellum.capture.engine`).

A crawl keeps its frontier and digest table in `<collection>/crawls/<id>/`. Resuming
(after Ctrl-C, a crash or `kill -9`) first repairs what the last session left: torn
tails of `.open` WARC files are cut, the groups written after the last checkpoint are
replayed into the frontier (done, their outlinks queued), claimed URLs are queued
again, and the index is brought in step with the WARC files.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import uvloop

from vellum import __version__
from vellum.capture.config import CrawlConfig, Politeness
from vellum.capture.dedup import DigestTable
from vellum.capture.engine import CrawlEngine, CrawlEvent, Observer
from vellum.capture.fetch import check_url
from vellum.capture.frontier import DONE, Entry, SqliteFrontier
from vellum.capture.http import HttpClient
from vellum.capture.outlinks import normalize
from vellum.capture.recovery import StoredGroup, recover_open_file, scan_groups
from vellum.capture.report import CrawlStats
from vellum.capture.robots import origin_of, rules_from_record
from vellum.capture.safety import AddressGuard
from vellum.capture.scope import Seed, host_of
from vellum.catalog import Catalog, Collection, Crawl
from vellum.catalog.crawls import (
    load_config,
    save_config,
    save_report,
    set_status,
    unfinished_crawl,
)
from vellum.clock import Clock, system_clock
from vellum.errors import InvalidInput, NotFound, VellumError
from vellum.index.importer import register_warc_file
from vellum.index.store import open_index
from vellum.settings import Settings
from vellum.urls.surt import surt
from vellum.warc.writer import OPEN_SUFFIX, IdFactory, WarcFileWriter, uuid_record_id

__all__ = [
    "LOCAL_POLITENESS",
    "CrawlEvent",
    "CrawlInterrupted",
    "CrawlReport",
    "Crawler",
    "Observer",
]

LOCAL_POLITENESS = Politeness(delay=0.0, per_host=8)  # a site on this machine: no delays


@dataclass
class CrawlReport:
    """The outcome of a crawl session (the full report is `stats`)."""

    crawl: Crawl
    stats: CrawlStats
    resumed: bool = False
    warc_files: list[str] = field(default_factory=list)

    @property
    def fetched(self) -> int:
        return self.stats.stored

    @property
    def failed(self) -> int:
        return self.stats.errors

    @property
    def bytes(self) -> int:
        return self.stats.bytes

    @property
    def errors(self) -> list[str]:
        return self.stats.samples.get("errors", [])

    @property
    def robots_blocked(self) -> list[str]:
        return self.stats.samples.get("robots", [])


class CrawlInterrupted(VellumError):
    """Ctrl-C during a crawl; what was stored is complete and indexed."""

    exit_code = 130


def crawl_dir(settings: Settings, slug: str, crawl_id: int) -> Path:
    """Where a crawl keeps its frontier and digest table."""
    return settings.collection_dir(slug) / "crawls" / str(crawl_id)


class Crawler:
    """Runs crawls of a collection (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        clock: Clock = system_clock,
        record_id: IdFactory = uuid_record_id,
        observer: Observer = lambda _e: None,
        contact: str | None = None,
        on_crawl: Callable[[Crawl], None] | None = None,
        catalog_files: bool = True,
    ) -> None:
        # on_crawl: told the new crawl's row before it starts (crawl jobs record its id).
        # catalog_files=False: WARC files are not added to the collection's catalog rows
        # (a test crawl's quarantine; `settings` then points at the quarantine directory).
        self._on_crawl = on_crawl
        self._catalog_files = catalog_files
        self._settings = settings
        self._catalog = catalog
        self._clock = clock
        self._record_id = record_id
        self._observer = observer
        self._contact = contact

    def crawl(
        self,
        slug: str,
        seeds: list[str],
        depth: int | None = None,
        config: CrawlConfig | None = None,
        politeness: Politeness | None = None,
    ) -> CrawlReport:
        """Crawl `seeds` (host scope) into collection `slug`, pages up to `depth` links away.

        `config` gives everything else (its seeds are replaced); `politeness` overrides its
        politeness (the demo and tests crawl a local site without delays)."""
        if depth is not None and depth < 0:
            raise InvalidInput("--depth must be 0 or more")
        if not seeds:
            raise InvalidInput("give at least one seed URL")
        checked = tuple(Seed(_seed_url(s)) for s in seeds)
        config = CrawlConfig(seeds=checked) if config is None else replace(config, seeds=checked)
        if depth is not None:
            config = replace(config, max_hops=depth)
        if politeness is not None:
            config = replace(config, politeness=politeness)
        return self.start(slug, config)

    def start(self, slug: str, config: CrawlConfig) -> CrawlReport:
        """A new crawl of collection `slug`."""
        collection = self._catalog.get_collection(slug)
        crawl = self._catalog.start_crawl(
            collection, [s.url for s in config.seeds], config.max_hops
        )
        save_config(self._catalog, crawl.id, config.to_json())
        if self._on_crawl is not None:
            self._on_crawl(crawl)
        return self._session(collection, crawl, config, resumed=False)

    def resume(self, slug: str, crawl_id: int | None = None) -> CrawlReport:
        """Continue the latest unfinished crawl of `slug` (or crawl `crawl_id`)."""
        collection = self._catalog.get_collection(slug)
        if crawl_id is None:
            crawl = unfinished_crawl(self._catalog, slug)
            if crawl is None:
                raise NotFound(f"collection {slug!r} has no unfinished crawl to resume")
        else:
            matches = [c for c in self._catalog.crawls(slug) if c.id == crawl_id]
            if not matches:
                raise NotFound(f"collection {slug!r} has no crawl {crawl_id}")
            crawl = matches[0]
        if not (crawl_dir(self._settings, slug, crawl.id) / "frontier.sqlite").exists():
            raise VellumError(f"crawl {crawl.id} has no frontier on disk, so it cannot resume")
        config = CrawlConfig.from_json(load_config(self._catalog, crawl.id))
        set_status(self._catalog, crawl.id, "running")
        return self._session(collection, crawl, config, resumed=True)

    def find_resumable(self, slug: str, seeds: list[str]) -> Crawl | None:
        """An unfinished crawl of `slug` with these seeds (running the same command resumes)."""
        crawl = unfinished_crawl(self._catalog, slug)
        wanted = [normalize(s) or s for s in seeds]
        if crawl is not None and list(crawl.seeds) == wanted:
            return crawl
        return None

    # one session

    def _session(
        self, collection: Collection, crawl: Crawl, config: CrawlConfig, resumed: bool
    ) -> CrawlReport:
        slug = collection.slug
        warc_dir = self._settings.warc_dir(slug)
        index_dir = self._settings.index_dir(slug)
        for directory in (warc_dir, index_dir):
            _ensure_writable(directory)
        here = crawl_dir(self._settings, slug, crawl.id)
        with _session_lock(here, crawl.id):
            return self._locked_session(collection, crawl, config, resumed, here)

    def _locked_session(
        self, collection: Collection, crawl: Crawl, config: CrawlConfig, resumed: bool, here: Path
    ) -> CrawlReport:
        slug = collection.slug
        warc_dir = self._settings.warc_dir(slug)
        index_dir = self._settings.index_dir(slug)
        frontier = SqliteFrontier(here / "frontier.sqlite")
        digests = DigestTable(here / "digests.sqlite", warc_dir) if config.dedup else None
        index = open_index(index_dir, warc_dir)
        files: list[str] = list(frontier.get_meta("files") or [])
        stats = CrawlStats.from_json(frontier.get_meta("stats") or {})
        groups = self._repair(warc_dir, files, frontier.get_meta("checkpoint")) if resumed else []
        index.recover()
        for name in files:
            if self._catalog_files and (warc_dir / name).exists():
                register_warc_file(self._catalog, slug, warc_dir / name)
        stats.warc_files = [n for n in files if (warc_dir / n).exists()]
        if not resumed and digests is not None:
            digests.load(index.all())
        writer = WarcFileWriter(
            warc_dir,
            prefix=slug,
            warcinfo=self._warcinfo(collection, crawl, config),
            clock=self._clock,
            record_id=self._record_id,
            rotate_bytes=config.rotate_bytes,
            first_serial=len(files) + 1,
            gzip_level=config.gzip_level,
        )
        guard = AddressGuard(allow_private=config.allow_private)
        for seed in config.seeds:
            for ip in _resolve(seed.url):
                guard.allow_seed(ip)
        client = HttpClient(
            self._settings.user_agent,
            guard,
            config.timeouts,
            config.max_body,
            from_address=self._contact,
            clock=self._clock,
        )
        engine = CrawlEngine(
            config, frontier, writer, index, client, stats, self._clock, self._record_id,
            digests, self._observer,
        )  # fmt: skip

        def opened(name: str) -> None:
            files.append(name)
            frontier.set_meta("files", files)
            engine.checkpoint(file=name)

        def closed(path: Path) -> None:
            index.seal(path.name)
            if self._catalog_files:
                register_warc_file(self._catalog, slug, path)
            stats.warc_files.append(path.name)

        writer.on_open, writer.on_close = opened, closed
        if resumed:
            self._replay(engine, groups, digests)
            frontier.release_claimed()
            self._reload_robots(engine, warc_dir, groups)
        else:
            self._seed(engine, config)
        engine.queue_length = frontier.queued()
        engine.checkpoint()
        status = "failed"
        try:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                stats.stop_reason = runner.run(engine.run())
            status = "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            stats.stop_reason = "interrupted"
        finally:
            try:
                writer.close()
                engine.checkpoint()
            finally:
                frontier.close()
                if digests is not None:
                    digests.close()
                index.close()
                save_report(self._catalog, crawl.id, stats.to_json())
                if status == "finished" and not stats.stored:
                    status = "failed"
                final = self._catalog.finish_crawl(
                    crawl.id, status, stats.stored, stats.errors, stats.bytes
                )
        report = CrawlReport(final, stats, resumed, list(stats.warc_files))
        if status == "interrupted":
            raise CrawlInterrupted(
                f"crawl interrupted: {stats.stored} URLs stored in "
                f"{len(report.warc_files)} WARC file(s), all indexed; "
                f"continue with 'vellum crawl --resume {slug}'"
            )
        if not stats.stored:
            errors = stats.samples.get("errors") or []
            reason = errors[0] if errors else "every seed was blocked by robots.txt or out of scope"
            raise VellumError(f"nothing captured: {reason}")
        return report

    def _seed(self, engine: CrawlEngine, config: CrawlConfig) -> None:
        entries = [Entry(surt(s.url), s.url, "", "", host_of(s.url), 0) for s in config.seeds]
        engine.frontier.add(entries)
        if config.sitemaps:
            origins = sorted({origin_of(s.url) for s in config.seeds if s.scope != "page"})
            root = Entry("", "", "", "", "", 0)
            engine.offer(root, [(o + "/sitemap.xml", "M") for o in origins])

    def _repair(
        self, warc_dir: Path, files: list[str], checkpoint: list[object] | None
    ) -> list[StoredGroup]:
        """Cut torn tails, rename `.open` files; the groups stored after the checkpoint."""
        cp_file = str(checkpoint[0]) if checkpoint else None
        cp_offset = int(str(checkpoint[1])) if checkpoint else 0
        first = files.index(cp_file) if cp_file in files else 0
        groups: list[StoredGroup] = []
        for i, name in enumerate(files):
            start = cp_offset if name == cp_file else 0
            open_path = warc_dir / (name + OPEN_SUFFIX)
            if open_path.exists():
                recovered = recover_open_file(open_path, start)
                if i >= first:
                    groups += recovered.groups
            elif i >= first and (warc_dir / name).exists():
                groups += scan_groups(warc_dir / name, start)[0]
        return groups

    def _replay(
        self, engine: CrawlEngine, groups: list[StoredGroup], digests: DigestTable | None
    ) -> None:
        """Groups written after the last checkpoint: done in the frontier, links offered."""
        for g in groups:
            key = surt(g.url)
            entry = Entry(key, g.url, g.path if g.path != "-" else "", g.via, host_of(g.url), 0)
            engine.frontier.add([entry])
            engine.frontier.finish(key, DONE)
            size = max(0, g.size)
            engine.stats.stored_url(
                entry.host, g.status, g.mime, size, g.record_type == "revisit", False
            )
            if digests is not None and g.record_type == "response" and g.status == 200:
                digests.add(g.payload_digest, g.url, _warc_datetime(g.date), g.record_id)
            engine.offer(entry, g.outlinks)

    def _reload_robots(
        self, engine: CrawlEngine, warc_dir: Path, groups: list[StoredGroup]
    ) -> None:
        """robots.txt files the earlier sessions stored are read back, not fetched again."""
        for g in groups:
            if g.path == "P" and g.url == origin_of(g.url) + "/robots.txt":
                engine.robots_records[origin_of(g.url)] = [g.filename, g.offset]
        engine.frontier.set_meta("robots", engine.robots_records)
        for origin, (filename, offset) in engine.robots_records.items():
            path = warc_dir / str(filename)
            if not path.exists():
                continue
            rules = rules_from_record(str(path), int(str(offset)), origin + "/robots.txt")
            if rules is not None:
                engine.robots.preload(origin, rules)

    def _warcinfo(
        self, collection: Collection, crawl: Crawl, config: CrawlConfig
    ) -> dict[str, str]:
        robots = (
            "ignore (--ignore-robots)"
            if config.ignore_robots
            else f"obey (5xx or unreachable robots.txt: {config.robots_unavailable})"
        )
        info = {
            "software": f"Vellum/{__version__}",
            "hostname": socket.gethostname(),
            "operator": collection.organization.name,
            "isPartOf": collection.slug,
            "description": f"Crawl {crawl.id} of collection {collection.title!r} "
            f"for {collection.organization.name}",
            "http-header-user-agent": self._settings.user_agent,
            "robots": robots,
            "seeds": " ".join(f"{s.url} ({s.scope})" for s in config.seeds),
        }
        if self._contact:
            info["http-header-from"] = self._contact
        return info


@contextmanager
def _session_lock(directory: Path, crawl_id: int) -> Iterator[None]:
    """Hold the crawl's lock file: one process at a time runs (or resumes) a crawl."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise VellumError(f"crawl {crawl_id} is running in another process") from None
        yield
    finally:
        os.close(fd)


def _seed_url(url: str) -> str:
    checked = normalize(check_url(url.strip()))
    if checked is None:
        raise InvalidInput(f"malformed URL {url!r}")
    return checked


def _resolve(url: str) -> list[str]:
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname or "", parts.port or 80, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return [str(info[4][0]) for info in infos]


def _warc_datetime(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _ensure_writable(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise VellumError(f"cannot write to {path}: {exc.strerror}") from None


def observe_all(*observers: Callable[[CrawlEvent], None]) -> Observer:
    """One observer calling several."""

    def observe(event: CrawlEvent) -> None:
        for o in observers:
            o(event)

    return observe
