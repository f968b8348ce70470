"""Enrolments for likeness protection (issue 13).

`enrolments`: the number, the SHA-256 of the secret, the state, the consent record sealed
with the data key (it may hold a guardian's name and an email address), its times, and
the face templates sealed with the data key (NULL once the enrolment has ended: a
withdrawal or expiry deletes them in the same transaction). Active enrolments are read by
their term's end for the daily expiry.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the enrolments table."""
    op.create_table(
        "enrolments",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("consent", sa.Text(), nullable=False),
        sa.Column("given_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("ended_at", _TIME, nullable=True),
        sa.Column("template_count", sa.Integer(), nullable=False),
        sa.Column("templates", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_enrolments"),
        sa.UniqueConstraint("number", name="uq_enrolments_number"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_enrolments_state_expires_at", "enrolments", ["state", "expires_at"])


def downgrade() -> None:
    """Drop the enrolments table (and every template with it)."""
    op.drop_index("ix_enrolments_state_expires_at", table_name="enrolments")
    op.drop_table("enrolments")
