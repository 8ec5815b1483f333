"""The catalog: organizations, collections and crawls, behind one small typed API."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, joinedload, sessionmaker

import vellum.catalog.utc  # noqa: F401  (stores every time in UTC)
from vellum.catalog.database import (
    display_url,
    ensure_schema,
    exc_reason,
    is_sqlite,
    make_engine,
    sqlite_url,
)
from vellum.catalog.generation import read_generation, track_writes
from vellum.catalog.models import (
    ApiTokenRow,
    CollectionRow,
    CrawlRow,
    OrganizationRow,
    WarcFileRow,
)
from vellum.clock import Clock, system_clock
from vellum.errors import InvalidInput, NotFound, VellumError

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Collection slugs share the URL space with the replay routes.
_RESERVED_SLUGS = {
    "static",
    "api",
    "cdx",
    "login",
    "logout",
    "account",
    "search",
    "wasapi",
    "timemap",
    "admin",
    "_",
}


@dataclass(frozen=True)
class Organization:
    id: int
    name: str
    acronym: str


@dataclass(frozen=True)
class Collection:
    id: int
    slug: str
    title: str
    description: str
    public: bool
    organization: Organization


@dataclass(frozen=True)
class Crawl:
    id: int
    collection_slug: str
    seeds: tuple[str, ...]
    depth: int
    status: str
    started: datetime
    finished: datetime | None
    fetched: int
    failed: int
    bytes: int


@dataclass(frozen=True)
class WarcFile:
    """A WARC file of a collection: its name in the index, where it is, its checksums."""

    collection_slug: str
    filename: str
    path: Path | None  # set when the file is kept where it was imported from
    size: int
    sha1: str
    md5: str
    source: str  # "crawl" or "import"
    added: datetime


class Catalog:
    """Organizations, collections and crawls in SQLite (default) or PostgreSQL.

    `location` is a SQLite file's path, or a database URL (sqlite:///PATH or
    postgresql+psycopg://USER:PASSWORD@HOST:PORT/NAME). Opening brings the schema to
    the newest revision (see catalog/database.py).
    """

    def __init__(self, location: Path | str, clock: Clock = system_clock) -> None:
        self._clock = clock
        url = sqlite_url(location) if isinstance(location, Path) else location
        where = str(location) if isinstance(location, Path) else display_url(url)
        self._engine = make_engine(url)
        self.url = self._engine.url
        try:
            ensure_schema(self._engine, where)
        except VellumError:
            self._engine.dispose()
            raise
        except SQLAlchemyError as exc:
            self._engine.dispose()
            raise VellumError(f"cannot open catalog {where}: {exc_reason(exc)}") from None
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._local_writes = 0
        track_writes(self._sessions, self._committed)

    @property
    def is_sqlite(self) -> bool:
        """Whether the catalog is a SQLite file (else a PostgreSQL database)."""
        return is_sqlite(self._engine)

    @property
    def local_writes(self) -> int:
        """How many writing transactions this Catalog (this process) has committed."""
        return self._local_writes

    def _committed(self) -> None:
        self._local_writes += 1

    def generation(self) -> int:
        """A number that changes with every write committed through any Catalog."""
        with self._engine.connect() as conn:
            return read_generation(conn)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with self._sessions() as session, session.begin():
                yield session
        except DataError as exc:  # PostgreSQL checks lengths and ranges; SQLite does not
            raise InvalidInput(f"a value does not fit the catalog: {exc_reason(exc)}") from None

    def transaction(self) -> AbstractContextManager[Session]:
        """A session in a transaction, for catalog modules beside this one (users, logins)."""
        return self._session()

    # organizations

    def create_organization(self, name: str, acronym: str) -> Organization:
        """Add an organization; its name and acronym must both be new."""
        name, acronym = name.strip(), acronym.strip()
        if not name or not acronym:
            raise InvalidInput("an organization needs a name and an acronym")
        try:
            with self._session() as s:
                row = OrganizationRow(name=name, acronym=acronym, created=self._clock())
                s.add(row)
                s.flush()
                return _org(row)
        except IntegrityError:
            raise VellumError(
                f"an organization named {name!r} or with acronym {acronym!r} already exists"
            ) from None

    def organizations(self) -> list[Organization]:
        with self._session() as s:
            return [
                _org(r) for r in s.scalars(select(OrganizationRow).order_by(OrganizationRow.name))
            ]

    def find_organization(self, name_or_acronym: str) -> Organization:
        """The organization with this name or acronym (case-insensitive)."""
        key = name_or_acronym.strip().lower()
        with self._session() as s:
            for row in s.scalars(select(OrganizationRow)):
                if key in (row.name.lower(), row.acronym.lower()):
                    return _org(row)
        raise NotFound(f"no organization named {name_or_acronym!r} (see 'vellum org list')")

    # collections

    def create_collection(
        self, slug: str, organization: str, title: str, description: str = "", public: bool = True
    ) -> Collection:
        """Add a collection owned by an organization (given by name or acronym)."""
        if not _SLUG.match(slug) or slug in _RESERVED_SLUGS:
            raise InvalidInput(
                f"invalid collection slug {slug!r}: use lowercase letters, digits and '-', "
                "starting with a letter or digit"
            )
        if not title.strip():
            raise InvalidInput("a collection needs a title")
        org = self.find_organization(organization)
        try:
            with self._session() as s:
                row = CollectionRow(
                    slug=slug,
                    title=title.strip(),
                    description=description.strip(),
                    public=public,
                    organization_id=org.id,
                    created=self._clock(),
                )
                s.add(row)
                s.flush()
                return Collection(row.id, slug, row.title, row.description, public, org)
        except IntegrityError:
            raise VellumError(f"a collection {slug!r} already exists") from None

    def collections(self) -> list[Collection]:
        with self._session() as s:
            rows = s.scalars(
                select(CollectionRow)
                .order_by(CollectionRow.slug)
                .options(joinedload(CollectionRow.organization))
            )
            return [_coll(r) for r in rows]

    def get_collection(self, slug: str) -> Collection:
        with self._session() as s:
            query = (
                select(CollectionRow)
                .where(CollectionRow.slug == slug)
                .options(joinedload(CollectionRow.organization))
            )
            row = s.scalars(query).first()
            if row is None:
                raise NotFound(f"no collection {slug!r} (see 'vellum collection list')")
            return _coll(row)

    def set_collection_public(self, slug: str, public: bool) -> Collection:
        """Make a collection public or private; it takes effect on every route at once."""
        with self._session() as s:
            row = s.scalars(select(CollectionRow).where(CollectionRow.slug == slug)).first()
            if row is None:
                raise NotFound(f"no collection {slug!r} (see 'vellum collection list')")
            row.public = public
            s.flush()
            return _coll(row)

    # API tokens

    def create_api_token(self, organization: str, label: str = "") -> str:
        """A new random API token for an organization; only its SHA-256 is stored."""
        org = self.find_organization(organization)
        token = "vlm_" + secrets.token_urlsafe(32)
        with self._session() as s:
            s.add(
                ApiTokenRow(
                    organization_id=org.id,
                    label=label.strip(),
                    digest=_token_digest(token),
                    created=self._clock(),
                )
            )
        return token

    def organization_for_token(self, token: str) -> Organization | None:
        """The organization an API token belongs to, or None for an unknown token."""
        with self._session() as s:
            query = select(ApiTokenRow).where(ApiTokenRow.digest == _token_digest(token))
            row = s.scalars(query).first()
            return _org(row.organization) if row is not None else None

    # crawls

    def start_crawl(self, collection: Collection, seeds: list[str], depth: int) -> Crawl:
        with self._session() as s:
            row = CrawlRow(
                collection_id=collection.id,
                seeds="\n".join(seeds),
                depth=depth,
                status="running",
                started=self._clock(),
            )
            s.add(row)
            s.flush()
            return _crawl(row, collection.slug)

    def finish_crawl(
        self, crawl_id: int, status: str, fetched: int, failed: int, size: int
    ) -> Crawl:
        with self._session() as s:
            row = s.get(CrawlRow, crawl_id)
            if row is None:
                raise NotFound(f"no crawl {crawl_id}")
            row.status, row.fetched, row.failed, row.bytes = status, fetched, failed, size
            row.finished = self._clock()
            return _crawl(row, row.collection.slug)

    def crawls(self, slug: str | None = None) -> list[Crawl]:
        with self._session() as s:
            query = select(CrawlRow).join(CollectionRow).order_by(CrawlRow.id)
            if slug is not None:
                query = query.where(CollectionRow.slug == slug)
            return [_crawl(r, r.collection.slug) for r in s.scalars(query)]

    # WARC files

    def add_warc_file(
        self,
        slug: str,
        filename: str,
        size: int,
        sha1: str,
        md5: str,
        source: str = "import",
        path: Path | None = None,
    ) -> WarcFile:
        """Record a WARC file of collection `slug` (its checksums in hex)."""
        collection = self.get_collection(slug)
        try:
            with self._session() as s:
                row = WarcFileRow(
                    collection_id=collection.id,
                    filename=filename,
                    path=str(path) if path is not None else None,
                    size=size,
                    sha1=sha1.lower(),
                    md5=md5.lower(),
                    source=source,
                    added=self._clock(),
                )
                s.add(row)
                s.flush()
                return _warc_file(row, slug)
        except IntegrityError:
            raise VellumError(f"collection {slug!r} already has a WARC file {filename!r}") from None

    def warc_files(self, slug: str) -> list[WarcFile]:
        """The WARC files of collection `slug`, by name."""
        with self._session() as s:
            query = (
                select(WarcFileRow)
                .join(CollectionRow)
                .where(CollectionRow.slug == slug)
                .order_by(WarcFileRow.filename)
            )
            return [_warc_file(r, slug) for r in s.scalars(query)]

    def find_warc_file_by_sha1(self, sha1: str, slug: str | None = None) -> WarcFile | None:
        """A WARC file with this SHA-1 (hex), in collection `slug` if given, else in any."""
        with self._session() as s:
            query = select(WarcFileRow).join(CollectionRow).where(WarcFileRow.sha1 == sha1.lower())
            if slug is not None:
                query = query.where(CollectionRow.slug == slug)
            row = s.scalars(query.order_by(WarcFileRow.id)).first()
            return _warc_file(row, row.collection.slug) if row is not None else None


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def _org(row: OrganizationRow) -> Organization:
    return Organization(row.id, row.name, row.acronym)


def _coll(row: CollectionRow) -> Collection:
    return Collection(
        row.id, row.slug, row.title, row.description, row.public, _org(row.organization)
    )


def _crawl(row: CrawlRow, slug: str) -> Crawl:
    return Crawl(
        id=row.id,
        collection_slug=slug,
        seeds=tuple(row.seeds.split("\n")) if row.seeds else (),
        depth=row.depth,
        status=row.status,
        started=_aware(row.started),
        finished=_aware(row.finished) if row.finished else None,
        fetched=row.fetched,
        failed=row.failed,
        bytes=row.bytes,
    )


def _warc_file(row: WarcFileRow, slug: str) -> WarcFile:
    return WarcFile(
        collection_slug=slug,
        filename=row.filename,
        path=Path(row.path) if row.path is not None else None,
        size=row.size,
        sha1=row.sha1,
        md5=row.md5,
        source=row.source,
        added=_aware(row.added),
    )


def _aware(dt: datetime) -> datetime:
    """SQLite drops time zones (PostgreSQL keeps them); every stored time is UTC."""
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


__all__ = ["Catalog", "Collection", "Crawl", "Organization", "WarcFile"]
