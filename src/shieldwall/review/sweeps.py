"""Sweeps of known copies (the TAKE IT DOWN Act's duty to remove known identical copies):
after a confirm decision, the screened record is searched for the same picture and its
edited copies, and each copy found becomes a sweep hit its platform is asked to remove.

The search is the matching's: the confirmed content's lookup signals (its eight
rotations and mirrors and the views that undo crops, borders and captions) against the PDQ
hashes of every lookup in the record's retention, within the threshold, on the exact PDQ
index; and the MD5/SHA-256 digests for byte-identical copies. A case's report brings the
hashes made on the person's device. Each sweep, its hits and every outcome a platform
reports are appended to the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, Protocol

import numpy as np

from shieldwall.audit.models import (
    Actor,
    ActorKind,
    AuditAction,
    AuditEvent,
    DetailValue,
    Subject,
)
from shieldwall.audit.ports import AuditLog
from shieldwall.clock import Clock, utc_now
from shieldwall.errors import InvalidInputError
from shieldwall.matching.pdq_index import PdqIndex
from shieldwall.review.models import ReviewItem
from shieldwall.screening.record import DEFAULT_RETENTION, ScreenedRepository, ScreenedRow
from shieldwall.signals.models import Signal
from shieldwall.signals.pdq_quality import without_refused

DEFAULT_SWEEP_THRESHOLD: Final = 31
"""PDQ bits a copy may differ by (the confirmed bank's default threshold)."""
SWEEPER: Final = Actor(ActorKind.SYSTEM, "sweep")


class HitOutcome(StrEnum):
    """What the platform said it did with a copy."""

    PENDING = "pending"  # asked to remove it, no answer yet
    REMOVED = "removed"
    NOT_FOUND = "not_found"  # already gone, or never published
    KEPT = "kept"  # the platform decided to keep it (its reasons are its own)
    WITHDRAWN = "withdrawn"  # the confirmation was reversed after a complaint: keep it


@dataclass(frozen=True)
class NewHit:
    """A copy a sweep found."""

    screened_id: int
    key_id: int
    content_ref: str
    screened_at: datetime
    matched_by: str  # "pdq", "md5" or "sha256"
    distance: int | None  # PDQ bits apart; None for a digest


@dataclass(frozen=True)
class SweepHit:
    """A stored copy of a sweep, with its outcome."""

    id: int
    sweep_id: int
    hit: NewHit
    outcome: HitOutcome
    outcome_at: datetime | None


@dataclass(frozen=True)
class NewSweep:
    """A sweep to record."""

    item_id: int
    case_number: str
    ran_at: datetime
    queries: int
    threshold: int


@dataclass(frozen=True)
class Sweep:
    """A stored sweep and its copies."""

    id: int
    sweep: NewSweep
    hits: tuple[SweepHit, ...]


class SweepRepository(Protocol):
    """Sweeps and their copies. Errors are ShieldwallErrors."""

    def add(self, sweep: NewSweep, hits: Sequence[NewHit]) -> Sweep:
        """Store a sweep with its copies (one transaction)."""
        ...

    def of_case(self, case_number: str) -> list[Sweep]:
        """The case's sweeps, oldest first."""
        ...

    def of_item(self, item_id: int) -> list[Sweep]:
        """The sweeps after an item's decision, oldest first."""
        ...

    def hits_for_key(self, key_id: int, outcome: HitOutcome | None) -> list[SweepHit]:
        """The copies one platform's key looked up (with that outcome), oldest first."""
        ...

    def set_outcome(self, hit_id: int, key_id: int, outcome: HitOutcome, at: datetime) -> SweepHit:
        """Record a copy's outcome; NotFoundError unless the key looked the copy up."""
        ...

    def between(self, start: datetime, end: datetime) -> list[Sweep]:
        """Sweeps run in [start, end), oldest first (the transparency report)."""
        ...

    def withdraw_pending(self, item_id: int, at: datetime) -> int:
        """Mark the still pending copies of an item's sweeps withdrawn; how many."""
        ...


class SweepService:
    """Runs sweeps and records what platforms did with the copies."""

    def __init__(
        self,
        record: ScreenedRepository,
        sweeps: SweepRepository,
        audit: AuditLog | None = None,
        clock: Clock = utc_now,
        *,
        threshold: int = DEFAULT_SWEEP_THRESHOLD,
        retention: timedelta = DEFAULT_RETENTION,
    ) -> None:
        self._record = record
        self._sweeps = sweeps
        self._audit = audit
        self._clock = clock
        self.threshold = threshold
        self.retention = retention

    def sweep(self, item_id: int, case_number: str, queries: Sequence[Signal]) -> Sweep:
        """Search the record for copies of the confirmed content and record what was found."""
        now = self._clock()
        since = now - self.retention
        kept, _ = without_refused(queries)
        found = self._by_pdq([s for s in kept if s.type == "pdq"], since)
        digests = self._by_digest(kept, since)
        found.update(digests)  # a byte-identical copy is told as one
        hits = sorted(found.values(), key=lambda h: (h.screened_at, h.screened_id))
        stored = self._sweeps.add(
            NewSweep(item_id, case_number, now, len(kept), self.threshold), hits
        )
        self._log(
            SWEEPER,
            Subject("review_item", str(item_id)),
            {
                "change": "swept",
                "sweep": stored.id,
                "case": case_number or None,
                "queries": len(kept),
                "copies": len(hits),
                "platforms": len({h.key_id for h in hits}),
            },
        )
        return stored

    def _by_pdq(self, queries: Sequence[Signal], since: datetime) -> dict[int, NewHit]:
        """The record's lookups within the threshold of any query, nearest distance kept."""
        if not queries:
            return {}
        index = PdqIndex()
        for ids, hashes in self._record.pdq_rows(since):
            matrix = np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(-1, 32)
            index.add(matrix, np.asarray(ids, dtype=np.int64))
        nearest: dict[int, int] = {}
        for value in dict.fromkeys(q.value for q in queries):
            for hit in index.search(bytes.fromhex(value), self.threshold):
                if hit.distance < nearest.get(hit.key, 257):
                    nearest[hit.key] = hit.distance
        rows = self._record.get_many(sorted(nearest))
        return {row.id: _hit(row, "pdq", nearest[row.id]) for row in rows}

    def _by_digest(self, queries: Sequence[Signal], since: datetime) -> dict[int, NewHit]:
        md5s = sorted({q.value for q in queries if q.type == "md5"})
        sha256s = sorted({q.value for q in queries if q.type == "sha256"})
        if not md5s and not sha256s:
            return {}
        found = {}
        for row in self._record.with_digests(md5s, sha256s, since):
            by = "sha256" if row.lookup.sha256 in sha256s else "md5"
            found[row.id] = _hit(row, by, None)
        return found

    def of_case(self, case_number: str) -> list[Sweep]:
        """The case's sweeps."""
        return self._sweeps.of_case(case_number)

    def of_item(self, item_id: int) -> list[Sweep]:
        """The sweeps after an item's decision."""
        return self._sweeps.of_item(item_id)

    def between(self, start: datetime, end: datetime) -> list[Sweep]:
        """The sweeps run in [start, end)."""
        return self._sweeps.between(start, end)

    def to_remove(
        self, key_id: int, outcome: HitOutcome | None = HitOutcome.PENDING
    ) -> list[SweepHit]:
        """The copies one platform is asked about ("remove these uploads too")."""
        return self._sweeps.hits_for_key(key_id, outcome)

    def withdraw(self, item: ReviewItem) -> int:
        """After a reversal: platforms are no longer asked to remove the copies the item's
        confirmation found (those they already answered keep their answer)."""
        withdrawn = self._sweeps.withdraw_pending(item.id, self._clock())
        if withdrawn:
            self._log(
                SWEEPER,
                Subject("review_item", str(item.id)),
                {"change": "withdrawn", "copies": withdrawn},
            )
        return withdrawn

    def report(self, hit_id: int, key_id: int, outcome: HitOutcome, actor: Actor) -> SweepHit:
        """A platform says what it did with a copy it looked up."""
        if outcome in (HitOutcome.PENDING, HitOutcome.WITHDRAWN):
            raise InvalidInputError("an outcome is removed, not_found or kept")
        hit = self._sweeps.set_outcome(hit_id, key_id, outcome, self._clock())
        self._log(
            actor,
            Subject("sweep_hit", str(hit_id)),
            {"change": "outcome", "sweep": hit.sweep_id, "outcome": outcome.value},
        )
        return hit

    def _log(self, actor: Actor, subject: Subject, details: dict[str, DetailValue]) -> None:
        if self._audit is not None:
            self._audit.append(
                AuditEvent(self._clock(), actor, AuditAction.SWEEP, subject, details)
            )


def _hit(row: ScreenedRow, matched_by: str, distance: int | None) -> NewHit:
    lookup = row.lookup
    return NewHit(
        row.id, lookup.key_id, lookup.content_ref, lookup.screened_at, matched_by, distance
    )
