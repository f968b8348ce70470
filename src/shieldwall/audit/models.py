"""What one audit record says: who did what to which subject, when, and how it is chained."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from shieldwall.errors import InvalidInputError

GENESIS_HASH: Final = "0" * 64
"""The `previous_hash` of the first record: no record comes before it."""
MAX_DETAILS: Final = 16
"""Most keys a record's details may hold."""
MAX_TEXT: Final = 200
"""Longest identifier, detail key or detail string, in characters."""

DetailValue = str | int | bool | None
"""Detail values: short strings, integers, booleans or null (no floats: their text varies)."""

_HASH = re.compile(r"[0-9a-f]{64}")


class ActorKind(StrEnum):
    """Who acted."""

    REVIEWER = "reviewer"
    API_KEY = "api_key"
    SYSTEM = "system"
    PERSON = "person"  # someone acting on their own case or enrolment, by its number


class AuditAction(StrEnum):
    """What was done. New actions are added here; stored values never change meaning."""

    CLAIM = "claim"
    RELEASE = "release"
    REVEAL = "reveal"
    DECISION = "decision"
    ESCALATION = "escalation"
    ACCOUNT_CHANGE = "account_change"
    ENROLMENT_END = "enrolment_end"  # withdrawn by its person or expired: templates deleted
    NOTICE = "notice"  # a takedown notice sent or exported, or a platform's answer recorded
    SWEEP = "sweep"  # known copies searched for after a confirm decision, and their outcomes
    COMPLAINT = "complaint"  # a complaint about a decision: lodged, assigned, decided


def _check_text(what: str, value: str) -> None:
    if not value or len(value) > MAX_TEXT or not value.isprintable():
        raise InvalidInputError(f"{what} must be 1-{MAX_TEXT} printable characters")


@dataclass(frozen=True)
class Actor:
    """Who acted: a reviewer's account, an API key or Shieldwall itself, by stable id."""

    kind: ActorKind
    id: str


@dataclass(frozen=True)
class Subject:
    """What was acted on, by kind and id (`quarantine_item`, `case`, `account`, ...)."""

    kind: str
    id: str


def _check_details(details: dict[str, DetailValue]) -> None:
    if len(details) > MAX_DETAILS:
        raise InvalidInputError(f"audit details hold at most {MAX_DETAILS} keys")
    for key, value in details.items():
        if not isinstance(key, str):
            raise InvalidInputError("audit detail keys must be strings")
        _check_text("audit detail key", key)
        if value is None or isinstance(value, bool | int):
            continue
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise InvalidInputError(
                f"audit detail {key!r} must be a string of at most {MAX_TEXT} characters, "
                "an integer, a boolean or null"
            )


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise InvalidInputError("audit times must be timezone-aware")
    return at.astimezone(UTC)


@dataclass(frozen=True)
class AuditEvent:
    """An action to record, before the log gives it its place in the chain.

    `details` is a small flat dict of ids, states and counts: never personal data, report
    text or content (the log is kept for good and shown to auditors)."""

    at: datetime
    actor: Actor
    action: AuditAction
    subject: Subject
    details: dict[str, DetailValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", _utc(self.at))
        object.__setattr__(self, "details", dict(self.details))
        _check_text("actor id", self.actor.id)
        _check_text("subject kind", self.subject.kind)
        _check_text("subject id", self.subject.id)
        _check_details(self.details)


@dataclass(frozen=True)
class AuditRecord:
    """One link of the chain: the event, its place (`sequence`, from 1) and the hashes.

    Records are read back as stored, unchecked (the verifier judges them); `hash` is
    SHA-256 over the canonical encoding of every other field (see chain.py);
    `previous_hash` is the hash of record `sequence - 1`, or GENESIS_HASH for the first."""

    sequence: int
    at: datetime
    actor: Actor
    action: AuditAction
    subject: Subject
    details: dict[str, DetailValue]
    previous_hash: str
    hash: str

    @property
    def event(self) -> AuditEvent:
        """The event this record holds."""
        return AuditEvent(self.at, self.actor, self.action, self.subject, self.details)


@dataclass(frozen=True)
class UnreadableRecord:
    """A stored record that cannot be read back as one (an unknown action, a malformed
    time or details): altered, or written by a newer Shieldwall. The verifier names it."""

    sequence: int
    reason: str


@dataclass(frozen=True)
class ChainHead:
    """The newest record's place and hash, kept apart from the records (empty: 0, genesis)."""

    sequence: int
    hash: str

    def __post_init__(self) -> None:
        if self.sequence < 0 or not _HASH.fullmatch(self.hash):
            raise InvalidInputError("a chain head is a sequence >= 0 and a SHA-256 hex digest")


EMPTY_HEAD: Final = ChainHead(0, GENESIS_HASH)
