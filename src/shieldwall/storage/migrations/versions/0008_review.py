"""The review console: review items, their decisions and reveals, grounds; console accounts
and their sessions. The grounds start with the default list (written here literally: a
migration must not change when the application's defaults do).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)

DEFAULT_GROUNDS: list[dict[str, str]] = [
    {
        "code": "take-it-down-act",
        "label": "US TAKE IT DOWN Act: non-consensual intimate visual depiction",
        "kind": "illegal",
        "reference_url": "https://www.congress.gov/bill/119th-congress/senate-bill/146",
    },
    {
        "code": "dsa-illegal-ncii",
        "label": "Illegal under national law (EU): non-consensual intimate images or deepfakes",
        "kind": "illegal",
        "reference_url": "",
    },
    {
        "code": "csam",
        "label": "Sexual depiction of a minor (including synthetic): illegal everywhere",
        "kind": "illegal",
        "reference_url": "",
    },
    {
        "code": "terms-ncii",
        "label": "Terms of service: intimate images shared without consent",
        "kind": "incompatible",
        "reference_url": "",
    },
]


def upgrade() -> None:
    """Create the review and console account tables; seed the default grounds."""
    _create_review_items()
    _create_review_decisions_and_reveals()
    grounds = op.create_table(
        "review_grounds",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("label", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reference_url", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_review_grounds"),
    )
    op.bulk_insert(grounds, DEFAULT_GROUNDS)
    _create_console_tables()


def _create_review_items() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_at", _TIME, nullable=False),
        sa.Column("deadline", _TIME, nullable=False),
        sa.Column("minor", sa.Boolean(), nullable=False),
        sa.Column("trusted_flagger", sa.Boolean(), nullable=False),
        sa.Column("case_number", sa.String(32), nullable=False),
        sa.Column("content_ref", sa.Text(), nullable=False),
        sa.Column("opened_by_key", _ID, nullable=True),
        sa.Column("content_address", sa.Text(), nullable=False),
        sa.Column("signals", sa.Text(), nullable=False),
        sa.Column("matches", sa.Text(), nullable=False),
        sa.Column("dedupe_key", sa.Text(), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("claimed_until", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_review_items"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_review_items_case_number", "review_items", ["case_number"])
    op.create_index("ix_review_items_dedupe_key", "review_items", ["dedupe_key"])


def _create_review_decisions_and_reveals() -> None:
    op.create_table(
        "review_decisions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("ground", sa.String(64), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("automated_detection", sa.Boolean(), nullable=False),
        sa.Column("automated_decision", sa.String(16), nullable=False),
        sa.Column("statement_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["review_items.id"], name="fk_review_decisions_item_id_review_items"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_decisions"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_review_decisions_item_id", "review_decisions", ["item_id"])
    op.create_index("ix_review_decisions_at", "review_decisions", ["at"])
    op.create_table(
        "review_reveals",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["review_items.id"], name="fk_review_reveals_item_id_review_items"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_reveals"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_review_reveals_reviewer_at", "review_reveals", ["reviewer", "at"])


def _create_console_tables() -> None:
    op.create_table(
        "console_accounts",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("totp_secret", sa.Text(), nullable=False),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", _TIME, nullable=True),
        sa.Column("blur", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_console_accounts"),
        sa.UniqueConstraint("username", name="uq_console_accounts_username"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("csrf_token", sa.String(128), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("last_seen", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["console_accounts.id"],
            name="fk_console_sessions_account_id_console_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_console_sessions"),
    )
    op.create_index("ix_console_sessions_account_id", "console_sessions", ["account_id"])


def downgrade() -> None:
    """Drop the review and console account tables (their rows are lost)."""
    op.drop_index("ix_console_sessions_account_id", table_name="console_sessions")
    op.drop_table("console_sessions")
    op.drop_table("console_accounts")
    op.drop_table("review_grounds")
    op.drop_index("ix_review_reveals_reviewer_at", table_name="review_reveals")
    op.drop_table("review_reveals")
    op.drop_index("ix_review_decisions_at", table_name="review_decisions")
    op.drop_index("ix_review_decisions_item_id", table_name="review_decisions")
    op.drop_table("review_decisions")
    op.drop_index("ix_review_items_dedupe_key", table_name="review_items")
    op.drop_index("ix_review_items_case_number", table_name="review_items")
    op.drop_table("review_items")
