"""Likeness review items and the notices to enrolled people (issue 13).

`review_items.findings`: the detectors' findings of a likeness item as JSON (nudity score,
faces, enrolment numbers with similarities, provenance); NULL for other items.
`enrolment_notices`: when an image showing an enrolled person was confirmed and blocked,
by enrolment number (what their status page shows; no image, no item).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the findings column and the notices table."""
    op.add_column("review_items", sa.Column("findings", sa.Text(), nullable=True))
    op.create_table(
        "enrolment_notices",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_enrolment_notices"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_enrolment_notices_number", "enrolment_notices", ["number"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_enrolment_notices_number", table_name="enrolment_notices")
    op.drop_table("enrolment_notices")
    # Dropped in place (SQLite 3.35+ and PostgreSQL): a batch copy of the table would
    # break the foreign keys that point at it.
    op.drop_column("review_items", "findings")
