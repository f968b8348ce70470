"""Bank names up to 255 characters (HMA's limit), not 64.

HMA clients create banks with long names (ROOST Coop: `COOP_<ORG>_<NAME>`); HMA stores
them in a VARCHAR(255). Only PostgreSQL enforces the length, so only PostgreSQL changes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite() -> bool:
    # SQLite does not enforce VARCHAR lengths, and changing a column's type there means
    # rebuilding the table: dropping the old `banks` would cascade to every entry.
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    """Widen banks.name to 255 characters (nothing to do on SQLite)."""
    if not _sqlite():
        op.alter_column(
            "banks", "name", existing_type=sa.String(64), type_=sa.String(255), nullable=False
        )


def downgrade() -> None:
    """Back to 64 characters (PostgreSQL refuses while a longer name exists: nothing is cut)."""
    if not _sqlite():
        op.alter_column(
            "banks", "name", existing_type=sa.String(255), type_=sa.String(64), nullable=False
        )
