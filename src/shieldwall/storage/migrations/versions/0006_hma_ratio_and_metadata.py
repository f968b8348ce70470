"""HMA's per-bank `enabled_ratio` and the metadata clients send with content.

`banks.matching_ratio` is the share of HMA lookups that search an enabled bank (1.0, all
of them, for every existing bank); `entries.user_metadata` holds the submitter's JSON
metadata ("" for every existing entry). Both are plain added columns: no table rebuilds.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add banks.matching_ratio (1.0) and entries.user_metadata ("")."""
    op.add_column(
        "banks", sa.Column("matching_ratio", sa.Float(), nullable=False, server_default="1.0")
    )
    op.add_column(
        "entries", sa.Column("user_metadata", sa.Text(), nullable=False, server_default="")
    )


def downgrade() -> None:
    """Drop both columns (fractional ratios and stored metadata are lost).

    Plain ALTER TABLE .. DROP COLUMN (SQLite 3.35+): a batch rebuild of `banks` would drop
    the old table, and its deletion cascades to every entry."""
    op.execute("ALTER TABLE entries DROP COLUMN user_metadata")
    op.execute("ALTER TABLE banks DROP COLUMN matching_ratio")
