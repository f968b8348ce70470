"""The screened record (signals of platforms' lookups, never content), the sweeps of
known copies after confirm decisions with each copy's outcome, and each case's count of
blocked re-uploads (issue 14).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create screened_lookups, sweeps and sweep_hits."""
    op.create_table(
        "screened_lookups",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("key_id", sa.BigInteger(), nullable=False),
        sa.Column("content_ref", sa.Text(), nullable=False),
        sa.Column("screened_at", _TIME, nullable=False),
        sa.Column("pdq", sa.LargeBinary(), nullable=True),
        sa.Column("md5", sa.String(32), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("views", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_screened_lookups"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_screened_lookups_screened_at", "screened_lookups", ["screened_at"])
    op.create_index("ix_screened_lookups_md5", "screened_lookups", ["md5"])
    op.create_index("ix_screened_lookups_sha256", "screened_lookups", ["sha256"])
    op.create_table(
        "sweeps",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("case_number", sa.String(32), nullable=False),
        sa.Column("ran_at", _TIME, nullable=False),
        sa.Column("queries", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.SmallInteger(), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sweeps"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sweeps_item_id", "sweeps", ["item_id"])
    op.create_index("ix_sweeps_case_number", "sweeps", ["case_number"])
    op.create_table(
        "sweep_hits",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("sweep_id", sa.BigInteger(), nullable=False),
        sa.Column("screened_id", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.BigInteger(), nullable=False),
        sa.Column("content_ref", sa.Text(), nullable=False),
        sa.Column("screened_at", _TIME, nullable=False),
        sa.Column("matched_by", sa.String(8), nullable=False),
        sa.Column("distance", sa.SmallInteger(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("outcome_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sweep_hits"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sweep_hits_sweep_id", "sweep_hits", ["sweep_id"])
    op.create_index("ix_sweep_hits_key_id_outcome", "sweep_hits", ["key_id", "outcome"])
    op.create_table(
        "case_blocks",
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("blocked", sa.BigInteger(), nullable=False),
        sa.Column("last_blocked_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_blocks_case_id_cases"),
        sa.PrimaryKeyConstraint("case_id", name="pk_case_blocks"),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("case_blocks")
    op.drop_index("ix_sweep_hits_key_id_outcome", table_name="sweep_hits")
    op.drop_index("ix_sweep_hits_sweep_id", table_name="sweep_hits")
    op.drop_table("sweep_hits")
    op.drop_index("ix_sweeps_case_number", table_name="sweeps")
    op.drop_index("ix_sweeps_item_id", table_name="sweeps")
    op.drop_table("sweeps")
    for name in ("sha256", "md5", "screened_at"):
        op.drop_index(f"ix_screened_lookups_{name}", table_name="screened_lookups")
    op.drop_table("screened_lookups")
