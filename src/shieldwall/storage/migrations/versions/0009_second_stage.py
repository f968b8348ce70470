"""The per-bank switch for the second matching stage.

`banks.second_stage` says whether lookups may match a bank through the second stage
(panels, keystone, aligned crop search); true, the default, for every existing bank. A
plain added column: no table rebuild.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add banks.second_stage (true)."""
    op.add_column(
        "banks",
        sa.Column("second_stage", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    """Drop the column (banks with the second stage off match through it again).

    Plain ALTER TABLE .. DROP COLUMN (SQLite 3.35+): a batch rebuild of `banks` would drop
    the old table, and its deletion cascades to every entry."""
    op.execute("ALTER TABLE banks DROP COLUMN second_stage")
