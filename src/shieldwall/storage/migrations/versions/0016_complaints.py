"""Complaints about decisions (EU DSA Art. 20): who complained about which decided item,
their sealed explanation, the complaint's own review item and its outcome; and, on each
decision, the bank entries it added (so a reversal removes exactly those).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the complaints table; add review_decisions.added_entries."""
    op.create_table(
        "complaints",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("case_number", sa.String(32), nullable=False),
        sa.Column("complainant", sa.String(16), nullable=False),
        sa.Column("key_id", _ID, nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("lodged_at", _TIME, nullable=False),
        sa.Column("complaint_item_id", _ID, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("decided_at", _TIME, nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["review_items.id"], name="fk_complaints_item_id_review_items"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_complaints"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_complaints_item_id", "complaints", ["item_id"])
    op.create_index("ix_complaints_complaint_item_id", "complaints", ["complaint_item_id"])
    op.create_index("ix_complaints_lodged_at", "complaints", ["lodged_at"])
    op.create_index("ix_complaints_decided_at", "complaints", ["decided_at"])
    op.add_column("review_decisions", sa.Column("added_entries", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop them (complaints are lost)."""
    with op.batch_alter_table("review_decisions") as batch:
        batch.drop_column("added_entries")
    op.drop_index("ix_complaints_decided_at", table_name="complaints")
    op.drop_index("ix_complaints_lodged_at", table_name="complaints")
    op.drop_index("ix_complaints_complaint_item_id", table_name="complaints")
    op.drop_index("ix_complaints_item_id", table_name="complaints")
    op.drop_table("complaints")
