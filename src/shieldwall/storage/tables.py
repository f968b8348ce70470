"""SQLAlchemy tables of banks, allow-lists, entries and their signals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID_TYPE: Final = BigInteger().with_variant(Integer(), "sqlite")
"""bigint on PostgreSQL; INTEGER on SQLite so the key is the rowid and autoincrements."""

MAX_ID: Final = 2**63 - 1
"""Largest id either backend stores (signed 64-bit)."""

NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return aware UTC datetimes."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of Shieldwall's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class BankRow(Base):
    """A bank and its policy (allow-lists live in `bank_allow_lists`)."""

    __tablename__ = "banks"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    # 255 as in HMA. SQLite never enforces a VARCHAR length, so its schema keeps the 64 it
    # was created with (widening there means rebuilding `banks`, whose deletion cascades).
    name: Mapped[str] = mapped_column(String(255).with_variant(String(64), "sqlite"), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    pdq_threshold: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    matching_ratio: Mapped[float] = mapped_column(Float, server_default="1.0")
    second_stage: Mapped[bool] = mapped_column(Boolean, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BankAllowListRow(Base):
    """Bank `bank_id` ignores matches that also match bank `allow_bank_id`."""

    __tablename__ = "bank_allow_lists"

    bank_id: Mapped[int] = mapped_column(
        ID_TYPE, ForeignKey("banks.id", ondelete="CASCADE"), primary_key=True
    )
    allow_bank_id: Mapped[int] = mapped_column(
        ID_TYPE, ForeignKey("banks.id", ondelete="CASCADE"), primary_key=True
    )


class EntryRow(Base):
    """An entry: provenance and state; its signals live in `entry_signals`."""

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("bank_id", "dedupe_key"),
        Index("ix_entries_bank_id_id", "bank_id", "id"),
        Index("ix_entries_bank_id_state", "bank_id", "state"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    bank_id: Mapped[int] = mapped_column(ID_TYPE, ForeignKey("banks.id", ondelete="CASCADE"))
    dedupe_key: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    submitted_by: Mapped[str] = mapped_column(Text)
    case_id: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    # The submitter's JSON metadata; bulk inserts leave it to the default ("").
    user_metadata: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EntrySignalRow(Base):
    """One signal of an entry; `value` is lowercase hex."""

    __tablename__ = "entry_signals"
    __table_args__ = (
        UniqueConstraint("entry_id", "signal_type", "variant"),
        Index("ix_entry_signals_signal_type_value", "signal_type", "value"),
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ID_TYPE, ForeignKey("entries.id", ondelete="CASCADE"))
    signal_type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)
    variant: Mapped[str] = mapped_column(String(64))
    quality: Mapped[int | None] = mapped_column(SmallInteger)


class ApiKeyRow(Base):
    """An API key: only a SHA-256 of its secret is stored; `prefix` finds it."""

    __tablename__ = "api_keys"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    see_details: Mapped[bool] = mapped_column(Boolean)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class LookupEventRow(Base):
    """One lookup, for audit and abuse detection: who, when, how many matches, verdict.

    Never the content or its signals."""

    __tablename__ = "lookup_events"
    __table_args__ = (
        Index("ix_lookup_events_key_id_at", "key_id", "at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    key_id: Mapped[int | None] = mapped_column(ID_TYPE, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    queries: Mapped[int] = mapped_column(Integer)
    matches: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(16))


class EntryChangeRow(Base):
    """Change log that matcher processes tail to keep their indexes current.

    Written in the same transaction as the change it records. No foreign keys: a deleted
    bank's row must outlive the bank."""

    __tablename__ = "entry_changes"
    __table_args__ = ({"sqlite_autoincrement": True},)

    seq: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    bank_id: Mapped[int] = mapped_column(ID_TYPE)
    entry_id: Mapped[int | None] = mapped_column(ID_TYPE, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class CaseRow(Base):
    """A case: its number, the SHA-256 of its secret, state and the report as JSON.

    The report holds the reporter's contact details; they are never logged."""

    __tablename__ = "cases"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    """Fixed at receipt by the jurisdiction's clock (NULL for older cases: 48 hours)."""
    priority: Mapped[bool] = mapped_column(Boolean)
    report: Mapped[str] = mapped_column(Text)


class CaseEntryRow(Base):
    """Which bank entries a case's report added or found, and how often each matched since."""

    __tablename__ = "case_entries"
    __table_args__ = (Index("ix_case_entries_entry_id", "entry_id"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    hits: Mapped[int] = mapped_column(BigInteger, server_default="0")
    """Lookups that matched the entry since this case was filed (the case's copies found)."""
    last_hit_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CaseEventRow(Base):
    """One line of a case's timeline."""

    __tablename__ = "case_events"
    __table_args__ = (
        Index("ix_case_events_case_id", "case_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)


class AuditRecordRow(Base):
    """One record of the hash-chained audit log (audit/chain.py says what `hash` covers).

    Append-only: rows are inserted in sequence order under the head's lock, never updated
    or deleted. `details` is the canonical JSON of the record's details."""

    __tablename__ = "audit_records"

    sequence: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    subject_kind: Mapped[str] = mapped_column(String(200))
    subject_id: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The audit log's head: one row (id 1), the newest record's sequence and hash.

    Appenders lock it (SQLite: the write transaction; PostgreSQL: SELECT .. FOR UPDATE)
    and move it in the transaction that inserts the record, so appends chain in order."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class ReviewItemRow(Base):
    """A review item: what a reviewer works on, its state and its claim.

    `signals` and `matches` are JSON lists; `claimed_by` and `claimed_until` are the claim
    (both null when nobody holds it), moved only by conditional updates."""

    __tablename__ = "review_items"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deadline: Mapped[datetime] = mapped_column(UtcDateTime)
    minor: Mapped[bool] = mapped_column(Boolean)
    trusted_flagger: Mapped[bool] = mapped_column(Boolean)
    case_number: Mapped[str] = mapped_column(String(32), index=True)
    content_ref: Mapped[str] = mapped_column(Text)
    opened_by_key: Mapped[int | None] = mapped_column(ID_TYPE, nullable=True)
    content_address: Mapped[str] = mapped_column(Text)
    signals: Mapped[str] = mapped_column(Text)
    matches: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(Text, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    findings: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The detectors' findings of a likeness item, as JSON (NULL for other items)."""


class ReviewDecisionRow(Base):
    """One decision on a review item (escalations and requests for information included)."""

    __tablename__ = "review_decisions"
    __table_args__ = (
        Index("ix_review_decisions_item_id", "item_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ID_TYPE, ForeignKey("review_items.id"))
    kind: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    ground: Mapped[str] = mapped_column(String(64))
    facts: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    automated_detection: Mapped[bool] = mapped_column(Boolean)
    automated_decision: Mapped[str] = mapped_column(String(16))
    statement_id: Mapped[str] = mapped_column(String(64))
    added_entries: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The ids of the bank entries the decision created, as a JSON list (NULL for
    decisions from before they were recorded), so a complaint's reversal removes them."""


class ReviewRevealRow(Base):
    """One reveal of an item's original by a reviewer (counted per reviewer since a time)."""

    __tablename__ = "review_reveals"
    __table_args__ = (
        Index("ix_review_reveals_reviewer_at", "reviewer", "at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ID_TYPE, ForeignKey("review_items.id"))
    reviewer: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReviewGroundRow(Base):
    """A ground decisions may rest on (admins keep the list; decisions keep the code)."""

    __tablename__ = "review_grounds"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))
    reference_url: Mapped[str] = mapped_column(String(500))


class ConsoleAccountRow(Base):
    """A console account: argon2 password hash, sealed TOTP secret ("" none), lock-out."""

    __tablename__ = "console_accounts"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    totp_secret: Mapped[str] = mapped_column(Text)
    totp_enabled: Mapped[bool] = mapped_column(Boolean)
    disabled: Mapped[bool] = mapped_column(Boolean)
    failed_logins: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    blur: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConsoleSessionRow(Base):
    """A console session, keyed by the SHA-256 of its token (the token is never stored)."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_account_id", "account_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ID_TYPE, ForeignKey("console_accounts.id", ondelete="CASCADE")
    )
    csrf_token: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)


class EnrolmentRow(Base):
    """An enrolment for likeness protection: consent record and templates, both sealed
    with the data key; `templates` is NULL once the enrolment has ended."""

    __tablename__ = "enrolments"
    __table_args__ = (
        Index("ix_enrolments_state_expires_at", "state", "expires_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    consent: Mapped[str] = mapped_column(Text)
    given_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    template_count: Mapped[int] = mapped_column(Integer)
    templates: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class EnrolmentNoticeRow(Base):
    """A time at which an image showing an enrolled person was confirmed and blocked: what
    their status page tells them (no image, no item, nothing else)."""

    __tablename__ = "enrolment_notices"
    __table_args__ = (
        Index("ix_enrolment_notices_number", "number"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class DeadlineAlertRow(Base):
    """An escalation sent to leads: a case (or an item without one) turning at risk or
    overdue, once each. The unique key is what makes one worker, of many checking at the
    same moment, the one that sends it."""

    __tablename__ = "deadline_alerts"
    __table_args__ = (
        UniqueConstraint("subject", "kind", name="uq_deadline_alerts_subject_kind"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class PlatformRow(Base):
    """A platform of the takedown directory; its fields as JSON (the directory validates
    them), its name unique."""

    __tablename__ = "platforms"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    fields: Mapped[str] = mapped_column(Text)


class LocatorNoticeRow(Base):
    """A takedown notice about one locator of a case to one platform, and the platform's
    answers (JSON, oldest first)."""

    __tablename__ = "locator_notices"
    __table_args__ = (
        Index("ix_locator_notices_case_number", "case_number"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    case_number: Mapped[str] = mapped_column(String(32))
    locator: Mapped[str] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(64))
    basis: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    method: Mapped[str] = mapped_column(String(16))
    notified_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deadline: Mapped[datetime] = mapped_column(UtcDateTime)
    answers: Mapped[str] = mapped_column(Text)


class TdbSubmissionRow(Base):
    """A statement of reasons sent to the EU DSA Transparency Database: its puid (unique),
    the review item it explains, its state (`stored` or `failed`), its tries and last error.
    No foreign key to the item: the record of what was sent outlives any change to it."""

    __tablename__ = "tdb_submissions"
    __table_args__ = (
        Index("ix_tdb_submissions_state", "state"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    puid: Mapped[str] = mapped_column(String(500), unique=True)
    item_id: Mapped[int] = mapped_column(ID_TYPE)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text)
    first_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ComplaintRow(Base):
    """A complaint about a decision (DSA Art. 20): the decided item, its case, who complained
    (`reporter` or `platform`, with the key), the explanation (sealed: it may name people),
    when; the complaint's own review item, and its outcome (`uphold` or `reverse`)."""

    __tablename__ = "complaints"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ID_TYPE, ForeignKey("review_items.id"), index=True)
    case_number: Mapped[str] = mapped_column(String(32))
    complainant: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[int | None] = mapped_column(ID_TYPE, nullable=True)
    explanation: Mapped[str] = mapped_column(Text)
    lodged_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    complaint_item_id: Mapped[int | None] = mapped_column(ID_TYPE, nullable=True, index=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ScreenedLookupRow(Base):
    """A lookup in the screened record: the caller's key, its `content_ref`, when, the
    signals (PDQ and its views as 32 bytes each, the digests as hex) and the verdict; never
    content. Purged after the retention."""

    __tablename__ = "screened_lookups"
    __table_args__ = (
        Index("ix_screened_lookups_screened_at", "screened_at"),
        Index("ix_screened_lookups_md5", "md5"),
        Index("ix_screened_lookups_sha256", "sha256"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    key_id: Mapped[int] = mapped_column(BigInteger)
    content_ref: Mapped[str] = mapped_column(Text)
    screened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    pdq: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    md5: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verdict: Mapped[str] = mapped_column(String(16))
    views: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """The edit-undoing views' PDQ hashes, 32 bytes each, one after another."""


class SweepRow(Base):
    """A sweep of the screened record after a confirm decision: which item (and case) it
    followed, when, how many signals it searched with, its threshold, how many copies."""

    __tablename__ = "sweeps"
    __table_args__ = (
        Index("ix_sweeps_item_id", "item_id"),
        Index("ix_sweeps_case_number", "case_number"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(BigInteger)
    case_number: Mapped[str] = mapped_column(String(32))
    ran_at: Mapped[datetime] = mapped_column(UtcDateTime)
    queries: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(SmallInteger)
    copies: Mapped[int] = mapped_column(Integer)


class SweepHitRow(Base):
    """A copy a sweep found: the screened lookup (copied here: the record is purged, the
    sweep's findings are kept), how it matched, and what its platform said it did."""

    __tablename__ = "sweep_hits"
    __table_args__ = (
        Index("ix_sweep_hits_sweep_id", "sweep_id"),
        Index("ix_sweep_hits_key_id_outcome", "key_id", "outcome"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    sweep_id: Mapped[int] = mapped_column(BigInteger)
    screened_id: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[int] = mapped_column(BigInteger)
    content_ref: Mapped[str] = mapped_column(Text)
    screened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    matched_by: Mapped[str] = mapped_column(String(8))
    distance: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    outcome_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CaseBlockRow(Base):
    """How many lookups a case's confirmed entries blocked (re-uploads after the decision),
    counted once per lookup, and when the last one was."""

    __tablename__ = "case_blocks"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    blocked: Mapped[int] = mapped_column(BigInteger)
    last_blocked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class WebhookEndpointRow(Base):
    """A webhook endpoint: its URL, the events it hears (comma-separated), its secret
    (sealed), the API key it belongs to (null: the deployment's), whether it is active."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    key_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    active: Mapped[bool] = mapped_column(Boolean)


class WebhookDeliveryRow(Base):
    """One event for one endpoint, kept until delivered or dead: its body as sent, its
    attempts, when the next is due, who holds it now (`claimed_until`), the last error."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_state_next", "state", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(32))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
