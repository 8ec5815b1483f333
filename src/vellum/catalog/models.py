"""SQLAlchemy tables of the catalog: organizations, collections, crawls."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base of every catalog table."""


class CatalogGenerationRow(Base):
    """One row counting the catalog's committed writes: caches elsewhere compare it."""

    __tablename__ = "catalog_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class OrganizationRow(Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    acronym: Mapped[str] = mapped_column(String(50), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    contact: Mapped[str] = mapped_column(Text, default="")  # an e-mail address or a URL
    logo_url: Mapped[str] = mapped_column(Text, default="")


class CollectionRow(Base):
    __tablename__ = "collection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(default=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Dublin Core beyond title and description: JSON {element: [values]} (subject, creator,
    # publisher, contributor, date, type, language, coverage, rights, source).
    dublin_core: Mapped[str] = mapped_column(Text, default="{}")
    embargo_days: Mapped[int] = mapped_column(Integer, default=0)  # no public replay before

    organization: Mapped[OrganizationRow] = relationship()


class CrawlRow(Base):
    __tablename__ = "crawl"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collection.id"))
    seeds: Mapped[str] = mapped_column(Text)  # one URL per line
    depth: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # running, finished, interrupted, failed
    started: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)  # may pass 2 GiB
    test: Mapped[bool] = mapped_column(default=False)  # a test crawl: WARCs in quarantine

    collection: Mapped[CollectionRow] = relationship()


class WarcFileRow(Base):
    """A WARC (or ARC) file of a collection, with the checksums computed when it came in."""

    __tablename__ = "warc_file"
    __table_args__ = (UniqueConstraint("collection_id", "filename"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collection.id"))
    filename: Mapped[str] = mapped_column(String(500))  # its name in the index and in warcs/
    path: Mapped[str | None] = mapped_column(Text, nullable=True)  # where it is, if kept in place
    size: Mapped[int] = mapped_column(BigInteger)
    sha1: Mapped[str] = mapped_column(String(40), index=True)  # hex
    md5: Mapped[str] = mapped_column(String(32))  # hex
    source: Mapped[str] = mapped_column(String(20))  # "crawl" or "import"
    crawl_id: Mapped[int | None] = mapped_column(ForeignKey("crawl.id"), nullable=True)
    added: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    collection: Mapped[CollectionRow] = relationship()


class ApiTokenRow(Base):
    """An API token for scripts (WASAPI, CDX, search): it sees what its organization may see."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    label: Mapped[str] = mapped_column(String(200), default="")
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    organization: Mapped[OrganizationRow] = relationship()


class UserRow(Base):
    """A person who logs in to the service; `admin` makes a site administrator."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, PHC string format
    admin: Mapped[bool] = mapped_column(default=False)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    memberships: Mapped[list[MembershipRow]] = relationship(cascade="all, delete-orphan")


class MembershipRow(Base):
    """A user's role in an organization: curator (manages) or viewer (sees private)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    role: Mapped[str] = mapped_column(String(20))  # curator or viewer

    organization: Mapped[OrganizationRow] = relationship()


class LoginSessionRow(Base):
    """A logged-in browser; only the SHA-256 of the cookie's session id is stored."""

    __tablename__ = "login_session"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))  # the token every form of this session carries
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    user: Mapped[UserRow] = relationship()


class LoginFailureRow(Base):
    """A failed log-in, counted against an account ("user:NAME") or an address ("addr:IP")."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class CrawlStateRow(Base):
    """A crawl's configuration (to resume it) and its report (see catalog/crawls.py)."""

    __tablename__ = "crawl_state"

    crawl_id: Mapped[int] = mapped_column(ForeignKey("crawl.id"), primary_key=True)
    config: Mapped[str] = mapped_column(Text)  # JSON: seeds, scope, limits, politeness
    report: Mapped[str] = mapped_column(Text, default="{}")  # JSON: the crawl report
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SeedRow(Base):
    """A seed of a collection: its scope, limits and how often it is crawled."""

    __tablename__ = "seed"
    __table_args__ = (UniqueConstraint("collection_id", "url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collection.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(10), default="host")  # page, path, host, domain
    # JSON {"include": [...], "exclude": [...], "include_re": [...], "exclude_re": [...],
    #       "max_hops": n, "ignore_robots": bool, "limits": {documents, bytes, seconds, ...}}
    rules: Mapped[str] = mapped_column(Text, default="{}")
    # one-time, 12-hourly, daily, weekly, monthly, bi-monthly, quarterly, semi-annual, annual
    frequency: Mapped[str] = mapped_column(String(20), default="one-time")
    active: Mapped[bool] = mapped_column(default=True)  # False: paused
    notes: Mapped[str] = mapped_column(Text, default="")
    dublin_core: Mapped[str] = mapped_column(Text, default="{}")  # as on collections
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_due: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, index=True
    )  # None: not scheduled (one-time seed already crawled, or paused)
    last_crawl_id: Mapped[int | None] = mapped_column(ForeignKey("crawl.id"), nullable=True)

    collection: Mapped[CollectionRow] = relationship()


class CrawlJobRow(Base):
    """A request to crawl seeds of a collection, run by a worker process, not the web one."""

    __tablename__ = "crawl_job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collection.id"), index=True)
    # queued, running, pausing, paused, stopping, finished, stopped, failed (then, for test
    # crawls: saved or discarded)
    state: Mapped[str] = mapped_column(String(20), index=True)
    trigger: Mapped[str] = mapped_column(String(20))  # "now" (a person) or "schedule"
    test: Mapped[bool] = mapped_column(default=False)
    requested_by: Mapped[str] = mapped_column(String(64), default="")  # user name, or ""
    requested: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    crawl_id: Mapped[int | None] = mapped_column(ForeignKey("crawl.id"), nullable=True)
    worker_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    heartbeat: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    progress: Mapped[str] = mapped_column(Text, default="{}")  # JSON: pages, bytes, queue...
    error: Mapped[str] = mapped_column(Text, default="")

    collection: Mapped[CollectionRow] = relationship()
    seeds: Mapped[list[CrawlJobSeedRow]] = relationship(cascade="all, delete-orphan")


class CrawlJobSeedRow(Base):
    """Which seeds a crawl job covers."""

    __tablename__ = "crawl_job_seed"

    job_id: Mapped[int] = mapped_column(
        ForeignKey("crawl_job.id", ondelete="CASCADE"), primary_key=True
    )
    seed_id: Mapped[int] = mapped_column(
        ForeignKey("seed.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ExclusionRow(Base):
    """A take-down: a URL, a SURT prefix or a host hidden from every route of a collection."""

    __tablename__ = "exclusion"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collection.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # url, prefix (SURT), host
    value: Mapped[str] = mapped_column(Text)  # the SURT form the check compares with
    original: Mapped[str] = mapped_column(Text)  # what the curator typed
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
