"""The archiving service: seeds, crawl jobs, exclusions, Dublin Core, embargo, and more.

Adds the tables seed, crawl_job, crawl_job_seed, exclusion and catalog_generation; the
columns organization.contact/logo_url, collection.dublin_core/embargo_days, crawl.test,
warc_file.crawl_id; widens crawl.bytes to 64 bits (PostgreSQL; SQLite integers already are).

Catalogs written by development builds between 0001 and this revision may already hold
some of these, without a version table: what exists is left as it is.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = False, index: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, index=index)


def _id() -> sa.Column[object]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _fk(name: str, target: str, nullable: bool = False, index: bool = False) -> sa.Column[object]:
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey(target), nullable=nullable, index=index or None
    )


def _text(name: str, default: str) -> sa.Column[object]:
    return sa.Column(name, sa.Text(), nullable=False, server_default=default)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())

    def add(table: str, column: sa.Column[object]) -> None:
        if column.name not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, column, inline_references=True)

    def create(name: str, *columns: sa.Column[object] | sa.Constraint) -> None:
        if name not in tables:
            op.create_table(name, *columns)  # with the indexes of its columns

    create(
        "catalog_generation",
        _id(),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    generation = sa.table("catalog_generation", sa.column("id"), sa.column("value"))
    if op.get_bind().execute(sa.select(sa.func.count()).select_from(generation)).scalar() == 0:
        op.bulk_insert(generation, [{"id": 1, "value": 0}])

    add("organization", _text("contact", ""))
    add("organization", _text("logo_url", ""))
    add("collection", _text("dublin_core", "{}"))
    add("collection", sa.Column("embargo_days", sa.Integer(), nullable=False, server_default="0"))
    add("crawl", sa.Column("test", sa.Boolean(), nullable=False, server_default=sa.false()))
    add("warc_file", _fk("crawl_id", "crawl.id", nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("crawl", "bytes", type_=sa.BigInteger(), existing_nullable=False)

    create(
        "seed",
        _id(),
        _fk("collection_id", "collection.id", index=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("frequency", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("dublin_core", sa.Text(), nullable=False),
        _time("created"),
        _time("next_due", nullable=True, index=True),
        _fk("last_crawl_id", "crawl.id", nullable=True),
        sa.UniqueConstraint("collection_id", "url"),
    )
    create(
        "crawl_job",
        _id(),
        _fk("collection_id", "collection.id", index=True),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        _time("requested"),
        _time("started", nullable=True),
        _time("finished", nullable=True),
        _fk("crawl_id", "crawl.id", nullable=True),
        sa.Column("worker_pid", sa.Integer(), nullable=True),
        _time("heartbeat", nullable=True),
        sa.Column("progress", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
    )
    create(
        "crawl_job_seed",
        sa.Column(
            "job_id",
            sa.Integer(),
            sa.ForeignKey("crawl_job.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "seed_id",
            sa.Integer(),
            sa.ForeignKey("seed.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )
    create(
        "exclusion",
        _id(),
        _fk("collection_id", "collection.id", index=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("original", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _time("created"),
    )


def downgrade() -> None:
    for table in ("exclusion", "crawl_job_seed", "crawl_job", "seed", "catalog_generation"):
        op.drop_table(table)
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("crawl", "bytes", type_=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table("warc_file") as batch:
        batch.drop_column("crawl_id")
    with op.batch_alter_table("crawl") as batch:
        batch.drop_column("test")
    with op.batch_alter_table("collection") as batch:
        batch.drop_column("embargo_days")
        batch.drop_column("dublin_core")
    with op.batch_alter_table("organization") as batch:
        batch.drop_column("logo_url")
        batch.drop_column("contact")
