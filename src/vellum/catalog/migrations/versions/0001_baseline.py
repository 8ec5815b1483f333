"""The catalog as the releases before migrations made it (the schema of 85dc71c).

Revision ID: 0001
Revises: none
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "organization",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False, unique=True),
        sa.Column("acronym", sa.String(50), nullable=False, unique=True),
        _time("created"),
    )
    op.create_table(
        "collection",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(100), nullable=False, unique=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column(
            "organization_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False
        ),
        _time("created"),
    )
    op.create_table(
        "crawl",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("collection_id", sa.Integer(), sa.ForeignKey("collection.id"), nullable=False),
        sa.Column("seeds", sa.Text(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _time("started"),
        _time("finished", nullable=True),
        sa.Column("fetched", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
    )
    op.create_table(
        "warc_file",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("collection_id", sa.Integer(), sa.ForeignKey("collection.id"), nullable=False),
        sa.Column("filename", sa.String(500), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha1", sa.String(40), nullable=False),
        sa.Column("md5", sa.String(32), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        _time("added"),
        sa.UniqueConstraint("collection_id", "filename"),
    )
    op.create_index("ix_warc_file_sha1", "warc_file", ["sha1"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "organization_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False
        ),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        _time("created"),
    )
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("admin", sa.Boolean(), nullable=False),
        _time("created"),
    )
    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "organization_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False
        ),
        sa.Column("role", sa.String(20), nullable=False),
        sa.UniqueConstraint("user_id", "organization_id"),
    )
    op.create_index("ix_membership_user_id", "membership", ["user_id"])
    op.create_table(
        "login_session",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("csrf", sa.String(64), nullable=False),
        _time("created"),
        _time("expires"),
    )
    op.create_index("ix_login_session_user_id", "login_session", ["user_id"])
    op.create_index("ix_login_session_expires", "login_session", ["expires"])
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        _time("at"),
    )
    op.create_index("ix_login_failure_key", "login_failure", ["key"])
    op.create_index("ix_login_failure_at", "login_failure", ["at"])
    op.create_table(
        "crawl_state",
        sa.Column("crawl_id", sa.Integer(), sa.ForeignKey("crawl.id"), primary_key=True),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        _time("updated"),
    )


def downgrade() -> None:
    for table in (
        "crawl_state",
        "login_failure",
        "login_session",
        "membership",
        "user",
        "api_token",
        "warc_file",
        "crawl",
        "collection",
        "organization",
    ):
        op.drop_table(table)
