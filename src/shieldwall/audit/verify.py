"""Recompute the chain and name the first record that is not as it was appended.

The checks, record by record in sequence order:

- its sequence is the one after the previous record's (a gap: records were deleted; a
  repeat or step back: a record was inserted);
- its hash is SHA-256 of its canonical encoding (else its content was altered);
- its `previous_hash` is the previous record's hash (else a record was inserted before it,
  or the one before it was replaced with a recomputed hash);

and at the end, the last record is the stored head (else records were deleted from or
added to the end, or the head itself was changed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shieldwall.audit.chain import recompute_hash
from shieldwall.audit.models import EMPTY_HEAD, AuditRecord, ChainHead, UnreadableRecord


class Fault(StrEnum):
    """What is wrong at the first bad record."""

    ALTERED = "altered"
    INSERTED = "inserted"
    DELETED = "deleted"
    BROKEN_LINK = "broken_link"
    HEAD_MISMATCH = "head_mismatch"


@dataclass(frozen=True)
class Problem:
    """The first bad record: its sequence number, the kind of fault and an explanation."""

    sequence: int
    fault: Fault
    message: str


@dataclass(frozen=True)
class Verification:
    """The outcome: how many records were checked, the last good head, the first problem."""

    records: int
    head: ChainHead
    problem: Problem | None

    @property
    def ok(self) -> bool:
        """Whether the whole chain holds, up to and including the stored head."""
        return self.problem is None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values (the CLI's --json)."""
        problem = self.problem
        return {
            "ok": self.ok,
            "records": self.records,
            "head_sequence": self.head.sequence,
            "head_hash": self.head.hash,
            "problem": None
            if problem is None
            else {
                "sequence": problem.sequence,
                "fault": problem.fault.value,
                "message": problem.message,
            },
        }


def _link_problem(record: AuditRecord, last: ChainHead, seen: dict[str, int]) -> Problem:
    earlier = seen.get(record.previous_hash)
    if earlier is not None and earlier < last.sequence:
        first = earlier + 1
        inserted = (
            f"record {first} was"
            if first == last.sequence
            else f"records {first}..{last.sequence} were"
        )
        return Problem(
            first,
            Fault.INSERTED,
            f"record {record.sequence} links to record {earlier}: {inserted} inserted between them",
        )
    return Problem(
        record.sequence,
        Fault.BROKEN_LINK,
        f"record {record.sequence} does not link to record {last.sequence}: it was inserted, "
        f"or record {last.sequence} was replaced",
    )


def _record_problem(
    record: AuditRecord | UnreadableRecord,
    last: ChainHead,
    head: ChainHead | None,
    seen: dict[str, int],
) -> Problem | None:
    expected = last.sequence + 1
    if head is not None and record.sequence > head.sequence >= last.sequence:
        return Problem(
            record.sequence,
            Fault.INSERTED,
            f"record {record.sequence} lies beyond the head (record {head.sequence}): "
            "it was added outside the log",
        )
    if record.sequence > expected:
        missing = (
            f"record {expected} is"
            if record.sequence == expected + 1
            else f"records {expected}..{record.sequence - 1} are"
        )
        return Problem(expected, Fault.DELETED, f"{missing} missing (deleted)")
    if record.sequence < expected:
        return Problem(
            record.sequence,
            Fault.INSERTED,
            f"a second record {record.sequence} follows record {last.sequence} (inserted)",
        )
    if isinstance(record, UnreadableRecord):
        return Problem(
            record.sequence,
            Fault.ALTERED,
            f"record {record.sequence} cannot be read ({record.reason}): it was altered, "
            "or written by a newer Shieldwall",
        )
    if recompute_hash(record) != record.hash:
        return Problem(
            record.sequence,
            Fault.ALTERED,
            f"record {record.sequence} does not match its hash: its content was altered",
        )
    if record.previous_hash != last.hash:
        return _link_problem(record, last, seen)
    return None


def _head_problem(last: ChainHead, head: ChainHead) -> Problem | None:
    if head.sequence > last.sequence:
        return Problem(
            last.sequence + 1,
            Fault.DELETED,
            f"the chain ends at record {last.sequence} but its head is record "
            f"{head.sequence}: records {last.sequence + 1}..{head.sequence} were deleted",
        )
    if head.sequence < last.sequence:
        return Problem(
            head.sequence + 1,
            Fault.INSERTED,
            f"records {head.sequence + 1}..{last.sequence} follow the head "
            f"(record {head.sequence}): they were added outside the log",
        )
    if head.hash != last.hash:
        return Problem(
            head.sequence,
            Fault.HEAD_MISMATCH,
            f"the head's hash differs from record {head.sequence}'s: the head or the "
            "record was rewritten",
        )
    return None


def verify_chain(
    records: Iterable[AuditRecord | UnreadableRecord], head: ChainHead | None = None
) -> Verification:
    """Check `records` (in sequence order, from the first) and, if given, the stored head.

    Stops at the first problem; `Verification.head` is then the last good record."""
    last = EMPTY_HEAD
    seen: dict[str, int] = {EMPTY_HEAD.hash: 0}
    count = 0
    for record in records:
        problem = _record_problem(record, last, head, seen)
        if problem is not None or not isinstance(record, AuditRecord):
            return Verification(count, last, problem)
        last = ChainHead(record.sequence, record.hash)
        seen[record.hash] = record.sequence
        count += 1
    problem = None if head is None else _head_problem(last, head)
    return Verification(count, last, problem)
