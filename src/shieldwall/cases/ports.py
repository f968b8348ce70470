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
    ) -> Case:
        """Store a new case (state received, one `received` event); ConflictError if the
        number is taken."""
        ...

    def find(self, number: str) -> tuple[Case, str] | None:
        """The case with this number and its secret's hash, or None."""
        ...

    def move(self, number: str, state: CaseState, event: CaseEvent) -> Case:
        """Set a case's state and append an event to its timeline."""
        ...

    def cases_linking(self, entry_id: int) -> list[Case]:
        """Every case whose report added (or found) this entry."""
        ...


class Notifier(Protocol):
    """Tells the person their report arrived (email); must never fail the filing."""

    def acknowledge(self, case: Case) -> None:
        """Send the acknowledgement (in the background)."""
        ...


class HitCounter(Protocol):
    """Counts the lookups that matched entries (for a case's "copies found so far")."""

    def record(self, entry_ids: Sequence[int], at: datetime) -> None:
        """One more hit for each of these entries."""
        ...

    def total(self, entry_ids: Sequence[int]) -> int:
        """All hits of these entries together."""
        ...
