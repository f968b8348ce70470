"""Cases filed from the victims' page: cases, their entries and their timeline; hit counts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the case tables."""
    op.create_table(
        "cases",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("priority", sa.Boolean(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("number", name="uq_cases_number"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "case_entries",
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("entry_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_entries_case_id_cases"),
        sa.PrimaryKeyConstraint("case_id", "entry_id", name="pk_case_entries"),
    )
    op.create_index("ix_case_entries_entry_id", "case_entries", ["entry_id"])
    op.create_table(
        "case_events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_events_case_id_cases"),
        sa.PrimaryKeyConstraint("id", name="pk_case_events"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])
    op.create_table(
        "entry_hits",
        sa.Column("entry_id", _ID, nullable=False),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_entry_hits"),
    )


def downgrade() -> None:
    """Drop the case tables."""
    op.drop_table("entry_hits")
    op.drop_index("ix_case_events_case_id", table_name="case_events")
    op.drop_table("case_events")
    op.drop_index("ix_case_entries_entry_id", table_name="case_entries")
    op.drop_table("case_entries")
    op.drop_table("cases")
