"""Statements of reasons sent to the EU DSA Transparency Database, by puid.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tdb_submissions table."""
    op.create_table(
        "tdb_submissions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("puid", sa.String(500), nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("first_attempt_at", _TIME, nullable=False),
        sa.Column("last_attempt_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tdb_submissions"),
        sa.UniqueConstraint("puid", name="uq_tdb_submissions_puid"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_tdb_submissions_state", "tdb_submissions", ["state"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_tdb_submissions_state", table_name="tdb_submissions")
    op.drop_table("tdb_submissions")
