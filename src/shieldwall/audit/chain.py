"""The canonical encoding that is hashed, and sealing an event into the next record.

A record's hash is the lowercase hex SHA-256 of this ASCII JSON text (format 1):

    {"action":"reveal","actor":{"id":"7","kind":"reviewer"},"at":"2026-12-04T01:02:03.000004Z",
     "details":{"reason":"confirm"},"prev":"<64 hex>","seq":12,
     "subject":{"id":"31","kind":"quarantine_item"},"v":1}

(on one line): keys sorted at every level, no spaces (separators "," and ":"), non-ASCII
characters escaped as \\uXXXX, the time in UTC with exactly six fractional digits and a
"Z". Every field of the record but its own hash is in it, so changing any of them, its
sequence or its link to the record before changes the hash.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

from shieldwall.audit.models import AuditEvent, AuditRecord, ChainHead

FORMAT_VERSION: Final = 1
TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"


def canonical_fields(sequence: int, event: AuditEvent, previous_hash: str) -> dict[str, Any]:
    """The hashed fields as plain JSON values."""
    return {
        "v": FORMAT_VERSION,
        "seq": sequence,
        "at": event.at.strftime(TIME_FORMAT),
        "actor": {"kind": event.actor.kind.value, "id": event.actor.id},
        "action": event.action.value,
        "subject": {"kind": event.subject.kind, "id": event.subject.id},
        "details": event.details,
        "prev": previous_hash,
    }


def canonical_bytes(sequence: int, event: AuditEvent, previous_hash: str) -> bytes:
    """The exact bytes that are hashed (see the module's docstring)."""
    fields = canonical_fields(sequence, event, previous_hash)
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return text.encode("ascii")


def record_hash(sequence: int, event: AuditEvent, previous_hash: str) -> str:
    """SHA-256 (lowercase hex) of the canonical encoding."""
    return hashlib.sha256(canonical_bytes(sequence, event, previous_hash)).hexdigest()


def recompute_hash(record: AuditRecord) -> str:
    """What `record.hash` should be, from the record's other fields."""
    return record_hash(record.sequence, record.event, record.previous_hash)


def seal(event: AuditEvent, head: ChainHead) -> AuditRecord:
    """The record that follows `head`: the next sequence, linked to the head's hash."""
    sequence = head.sequence + 1
    return AuditRecord(
        sequence=sequence,
        at=event.at,
        actor=event.actor,
        action=event.action,
        subject=event.subject,
        details=event.details,
        previous_hash=head.hash,
        hash=record_hash(sequence, event, head.hash),
    )
