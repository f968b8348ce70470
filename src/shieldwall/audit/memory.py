"""In-memory AuditLog for tests and tools: a list and a lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from shieldwall.audit.chain import seal
from shieldwall.audit.models import EMPTY_HEAD, AuditEvent, AuditRecord, ChainHead
from shieldwall.audit.verify import Verification, verify_chain


class InMemoryAuditLog:
    """The AuditLog port over a list; `stored` and `stored_head` are open to tamper tests."""

    def __init__(self) -> None:
        self.stored: list[AuditRecord] = []
        self.stored_head: ChainHead = EMPTY_HEAD
        self._lock = threading.Lock()

    def append(self, event: AuditEvent) -> AuditRecord:
        """Seal the event after the head and keep it."""
        with self._lock:
            record = seal(event, self.stored_head)
            self.stored.append(record)
            self.stored_head = ChainHead(record.sequence, record.hash)
            return record

    def records(self, after: int = 0) -> Iterator[AuditRecord]:
        """The kept records above `after`, in sequence order (a snapshot)."""
        with self._lock:
            snapshot = [record for record in self.stored if record.sequence > after]
        return iter(sorted(snapshot, key=lambda record: record.sequence))

    def head(self) -> ChainHead:
        """The head as kept."""
        return self.stored_head

    def verify(self) -> Verification:
        """Check the kept records against the kept head, under the lock."""
        with self._lock:
            snapshot = sorted(self.stored, key=lambda record: record.sequence)
            head = self.stored_head
        return verify_chain(snapshot, head)
