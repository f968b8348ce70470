"""API keys, lookup audit events and the entry change log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create the service tables."""
    op.create_table(
        "api_keys",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("see_details", sa.Boolean(), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        _timestamp("created_at"),
        _timestamp("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "lookup_events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("key_id", _ID, nullable=True),
        _timestamp("at"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("queries", sa.Integer(), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lookup_events"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_lookup_events_key_id_at", "lookup_events", ["key_id", "at"])
    op.create_table(
        "entry_changes",
        sa.Column("seq", _ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("bank_id", _ID, nullable=False),
        sa.Column("entry_id", _ID, nullable=True),
        _timestamp("at"),
        sa.PrimaryKeyConstraint("seq", name="pk_entry_changes"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    """Drop the service tables."""
    op.drop_table("entry_changes")
    op.drop_index("ix_lookup_events_key_id_at", table_name="lookup_events")
    op.drop_table("lookup_events")
    op.drop_table("api_keys")
