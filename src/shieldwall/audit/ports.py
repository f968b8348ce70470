"""What the audit log needs from storage. Adapters: memory, SQL (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from shieldwall.audit.models import AuditEvent, AuditRecord, ChainHead
from shieldwall.audit.verify import Verification


class AuditLog(Protocol):
    """An append-only chain of audit records; errors are ShieldwallErrors.

    Appends from every thread and process are serialised: each record links to the one
    appended just before it, whoever wrote that."""

    def append(self, event: AuditEvent) -> AuditRecord:
        """Seal the event as the record after the head, store it and move the head to it."""
        ...

    def records(self, after: int = 0) -> Iterator[AuditRecord]:
        """Every record with a sequence above `after`, in sequence order, as stored."""
        ...

    def head(self) -> ChainHead:
        """The stored head (EMPTY_HEAD before the first append)."""
        ...

    def verify(self) -> Verification:
        """Recompute the chain against the head, both read at one moment (appends that run
        meanwhile are not mistaken for tampering)."""
        ...
