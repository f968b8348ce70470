"""What the case service needs from storage. Adapters: memory, SQL (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from shieldwall.cases.models import Case, CaseEvent, CaseState, Report


class CaseRepository(Protocol):
    """Persistent cases. Every method is atomic; errors are ShieldwallErrors."""

    def create(
        self,
        number: str,
        secret_hash: str,
        report: Report,
        entry_ids: tuple[int, ...],
        received_at: datetime,
        deadline: datetime | None = None,
    ) -> Case:
        """Store a new case (state received, one `received` event) with its deadline;
        ConflictError if the number is taken."""
        ...

    def find(self, number: str) -> tuple[Case, str] | None:
        """The case with this number and its secret's hash, or None."""
        ...

    def secret_hash(self, number: str) -> str | None:
        """The hash of the case's secret, or None: one indexed read, whether it exists or
        not (checking a secret must cost the same for a wrong secret and a wrong number)."""
        ...

    def move(self, number: str, state: CaseState, event: CaseEvent) -> Case:
        """Set a case's state and append an event to its timeline."""
        ...

    def cases_linking(self, entry_id: int) -> list[Case]:
        """Every case whose report added (or found) this entry."""
        ...

    def link_entries(self, number: str, entry_ids: Sequence[int]) -> Case:
        """Link more entries to a case (a reviewer confirmed copies of its images), after
        its own; entries already linked stay as they are. NotFoundError if no such case."""
        ...


class Notifier(Protocol):
    """Tells the person their report arrived (email); must never fail the filing."""

    def acknowledge(self, case: Case) -> None:
        """Send the acknowledgement (in the background)."""
        ...


class HitCounter(Protocol):
    """Counts, per case, the lookups that matched its entries from the time it was filed.

    A second case that reports the same hashes starts at zero: it never learns how often
    another person's image was caught before."""

    def record(
        self, entry_ids: Sequence[int], at: datetime, blocked_ids: Sequence[int] = ()
    ) -> None:
        """One more hit for every case that reported one of these entries (once per case
        and entry), and one more blocked re-upload as `record_blocked` counts it for
        `blocked_ids` (in one write: the lookup path calls it)."""
        ...

    def total(self, case_id: int) -> int:
        """The hits recorded for this case since it was filed."""
        ...

    def record_blocked(self, entry_ids: Sequence[int], at: datetime) -> None:
        """One more blocked re-upload for every case linked to one of these entries (once
        per case, however many of its entries the lookup matched)."""
        ...

    def blocked(self, case_id: int) -> tuple[int, datetime | None]:
        """How many lookups were blocked by the case's confirmed entries, and the last time."""
        ...
