"""Takedown clocks (issue 14): each case's deadline fixed at receipt by its jurisdiction's
clock (`cases.deadline`; NULL for older cases, which keep 48 hours), and the escalations
sent to leads (`deadline_alerts`: one per subject and kind, whichever worker sends it).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the deadline column and the alerts table."""
    op.add_column("cases", sa.Column("deadline", _TIME, nullable=True))
    op.create_table(
        "deadline_alerts",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deadline_alerts"),
        sa.UniqueConstraint("subject", "kind", name="uq_deadline_alerts_subject_kind"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("deadline_alerts")
    # Dropped in place (SQLite 3.35+ and PostgreSQL): a batch copy of the table would
    # break the foreign keys that point at it.
    op.drop_column("cases", "deadline")
