"""What likeness protection needs from outside: where enrolments are kept, and the key
that seals their templates."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from shieldwall.likeness.models import Consent, Enrolment, EnrolmentState


class TemplateSealer(Protocol):
    """Encrypts templates at rest, bound to their enrolment (AES-256-GCM under the data
    key: storage.sealing.Sealer)."""

    def seal_bytes(self, data: bytes, context: str) -> bytes:
        """The data, encrypted and authenticated for `context`."""
        ...

    def open_bytes(self, sealed: bytes, context: str) -> bytes:
        """The data `seal_bytes` sealed for `context`; a StorageError if the key or the
        context is wrong or the data was altered."""
        ...


class EnrolmentRepository(Protocol):
    """Enrolments, their consent records and their sealed templates. Errors are
    ShieldwallErrors."""

    def create(
        self, number: str, secret_hash: str, consent: Consent, sealed: bytes, templates: int
    ) -> Enrolment:
        """Store a new, active enrolment holding `templates` sealed templates."""
        ...

    def secret_hash(self, number: str) -> str | None:
        """The stored hash of an enrolment's secret (None: no such enrolment)."""
        ...

    def find(self, number: str) -> Enrolment | None:
        """An enrolment by number."""
        ...

    def end(self, number: str, state: EnrolmentState, at: datetime) -> tuple[Enrolment, bool]:
        """Withdraw or expire an active enrolment, deleting its templates in the same
        transaction; the enrolment, and whether this call ended it (an ended one is
        returned as it is: another worker may have ended it a moment before)."""
        ...

    def add_notice(self, number: str, at: datetime) -> None:
        """Record that an image showing the enrolled person was confirmed and blocked."""
        ...

    def due(self, now: datetime) -> list[str]:
        """Numbers of active enrolments whose term has ended by `now`."""
        ...

    def active_templates(self) -> list[tuple[str, bytes, int]]:
        """(number, sealed templates, how many) of every active enrolment."""
        ...

    def templates_revision(self) -> tuple[int, int]:
        """Changes whenever an enrolment is made or ended (by any process): a worker's
        in-memory template index is rebuilt when it differs from the one it was built at."""
        ...


class EnrolledNotifier(Protocol):
    """Tells an enrolled person, at the email address they gave, that an image showing them
    was found and acted on (never the image, never a link to it)."""

    def notify_enrolled(self, email: str, number: str, at: datetime) -> None:
        """Send the notice (in the background; failures are logged, never raised)."""
        ...
