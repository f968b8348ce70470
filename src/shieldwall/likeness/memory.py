"""EnrolmentRepository in memory (tests, and a service without a database)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime

from shieldwall.errors import ConflictError, NotFoundError
from shieldwall.likeness.models import Consent, Enrolment, EnrolmentState


@dataclass
class _Stored:
    enrolment: Enrolment
    secret_hash: str
    sealed: bytes


class InMemoryEnrolmentRepository:
    """Enrolments in a dict; templates are dropped from it when an enrolment ends."""

    def __init__(self) -> None:
        self._rows: dict[str, _Stored] = {}
        self._lock = threading.Lock()

    def create(
        self, number: str, secret_hash: str, consent: Consent, sealed: bytes, templates: int
    ) -> Enrolment:
        """Store a new, active enrolment."""
        with self._lock:
            if number in self._rows:
                raise ConflictError(f"enrolment {number} exists")
            enrolment = Enrolment(number, consent, EnrolmentState.ACTIVE, templates)
            self._rows[number] = _Stored(enrolment, secret_hash, sealed)
            return enrolment

    def secret_hash(self, number: str) -> str | None:
        """The stored secret hash, or None."""
        with self._lock:
            row = self._rows.get(number)
            return None if row is None else row.secret_hash

    def find(self, number: str) -> Enrolment | None:
        """An enrolment by number."""
        with self._lock:
            row = self._rows.get(number)
            return None if row is None else row.enrolment

    def end(self, number: str, state: EnrolmentState, at: datetime) -> tuple[Enrolment, bool]:
        """End an active enrolment and drop its templates; whether this call ended it."""
        with self._lock:
            row = self._rows.get(number)
            if row is None:
                raise NotFoundError(f"no enrolment {number}")
            active = row.enrolment.state is EnrolmentState.ACTIVE
            if active:
                row.enrolment = replace(row.enrolment, state=state, templates=0, ended_at=at)
                row.sealed = b""
            return row.enrolment, active

    def add_notice(self, number: str, at: datetime) -> None:
        """Record that an image showing the enrolled person was confirmed and blocked."""
        with self._lock:
            row = self._rows[number]
            row.enrolment = replace(
                row.enrolment, acted_on=tuple(sorted((*row.enrolment.acted_on, at)))
            )

    def due(self, now: datetime) -> list[str]:
        """Active enrolments past their term."""
        with self._lock:
            return sorted(
                number
                for number, row in self._rows.items()
                if row.enrolment.state is EnrolmentState.ACTIVE
                and row.enrolment.consent.expires_at <= now
            )

    def active_templates(self) -> list[tuple[str, bytes, int]]:
        """Sealed templates of the active enrolments."""
        with self._lock:
            return [
                (number, row.sealed, row.enrolment.templates)
                for number, row in sorted(self._rows.items())
                if row.enrolment.state is EnrolmentState.ACTIVE
            ]

    def templates_revision(self) -> tuple[int, int]:
        """(enrolments made, enrolments ended)."""
        with self._lock:
            ended = sum(row.enrolment.ended_at is not None for row in self._rows.values())
            return len(self._rows), ended

    def sealed_of(self, number: str) -> bytes:
        """What is stored for an enrolment's templates (tests: never the plain numbers)."""
        with self._lock:
            return self._rows[number].sealed
