"""Takedown notices per locator and the platforms' answers (issue 14).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the locator_notices table."""
    op.create_table(
        "locator_notices",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("case_number", sa.String(32), nullable=False),
        sa.Column("locator", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("basis", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("notified_at", _TIME, nullable=False),
        sa.Column("deadline", _TIME, nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_locator_notices"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_locator_notices_case_number", "locator_notices", ["case_number"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_locator_notices_case_number", table_name="locator_notices")
    op.drop_table("locator_notices")
