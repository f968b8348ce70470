"""Hits counted per case from its filing on (case_entries.hits), not per entry.

`entry_hits` kept one running count per entry, so a second person who reported the same
hashes saw how often the first person's image had been caught. Each case's link to an
entry now carries its own counter, which starts at zero when the case is filed.

Existing counts go to the first case that reported each entry (its hits began with it);
later cases start at zero, as their share of the old total cannot be told apart.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_FIRST_CASE = (
    "case_id = (SELECT min(o.case_id) FROM case_entries o WHERE o.entry_id = case_entries.entry_id)"
)


def upgrade() -> None:
    """Add the per-case counters, carry the old counts to the first case, drop entry_hits."""
    with op.batch_alter_table("case_entries") as batch:
        batch.add_column(sa.Column("hits", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_hit_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE case_entries SET "
        "hits = (SELECT h.hits FROM entry_hits h WHERE h.entry_id = case_entries.entry_id), "
        "last_hit_at = (SELECT h.last_at FROM entry_hits h "
        "WHERE h.entry_id = case_entries.entry_id) "
        "WHERE EXISTS (SELECT 1 FROM entry_hits h WHERE h.entry_id = case_entries.entry_id) "
        f"AND {_FIRST_CASE}"
    )
    op.drop_table("entry_hits")


def downgrade() -> None:
    """Recreate entry_hits from the first case's counters; drop the per-case counters."""
    op.create_table(
        "entry_hits",
        sa.Column("entry_id", _ID, nullable=False),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_entry_hits"),
    )
    op.execute(
        "INSERT INTO entry_hits (entry_id, hits, last_at) "
        "SELECT entry_id, hits, last_hit_at FROM case_entries "
        f"WHERE hits > 0 AND last_hit_at IS NOT NULL AND {_FIRST_CASE}"
    )
    with op.batch_alter_table("case_entries") as batch:
        batch.drop_column("last_hit_at")
        batch.drop_column("hits")
