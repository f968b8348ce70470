"""Banks, allow-lists, entries and entry signals.

Revision ID: 0001
Revises:
Create Date: 2024-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out here rather than imported from tables.py: a migration must keep creating
# the schema of its time even after the models move on.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    """Create the bank tables."""
    op.create_table(
        "banks",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("pdq_threshold", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_banks"),
        sa.UniqueConstraint("name", name="uq_banks_name"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "bank_allow_lists",
        sa.Column("bank_id", _ID, nullable=False),
        sa.Column("allow_bank_id", _ID, nullable=False),
        sa.PrimaryKeyConstraint("bank_id", "allow_bank_id", name="pk_bank_allow_lists"),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["banks.id"], name="fk_bank_allow_lists_bank_id_banks", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["allow_bank_id"],
            ["banks.id"],
            name="fk_bank_allow_lists_allow_bank_id_banks",
            ondelete="CASCADE",
        ),
    )
    _create_entries()
    _create_entry_signals()


def _create_entries() -> None:
    op.create_table(
        "entries",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("bank_id", _ID, nullable=False),
        sa.Column("dedupe_key", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("submitted_by", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_entries"),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["banks.id"], name="fk_entries_bank_id_banks", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("bank_id", "dedupe_key", name="uq_entries_bank_id_dedupe_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_entries_bank_id_id", "entries", ["bank_id", "id"])
    op.create_index("ix_entries_bank_id_state", "entries", ["bank_id", "state"])


def _create_entry_signals() -> None:
    op.create_table(
        "entry_signals",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("entry_id", _ID, nullable=False),
        sa.Column("signal_type", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("variant", sa.String(64), nullable=False),
        sa.Column("quality", sa.SmallInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_entry_signals"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name="fk_entry_signals_entry_id_entries",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "entry_id",
            "signal_type",
            "variant",
            name="uq_entry_signals_entry_id_signal_type_variant",
        ),
    )
    op.create_index("ix_entry_signals_signal_type_value", "entry_signals", ["signal_type", "value"])


def downgrade() -> None:
    """Drop the bank tables."""
    op.drop_table("entry_signals")
    op.drop_table("entries")
    op.drop_table("bank_allow_lists")
    op.drop_table("banks")
