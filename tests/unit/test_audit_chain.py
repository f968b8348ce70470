"""The audit log's canonical encoding, its hash chain and the verifier, on plain records."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shieldwall.audit.chain import canonical_bytes, record_hash, seal
from shieldwall.audit.memory import InMemoryAuditLog
from shieldwall.audit.models import (
    EMPTY_HEAD,
    GENESIS_HASH,
    Actor,
    ActorKind,
    AuditAction,
    AuditEvent,
    AuditRecord,
    ChainHead,
    Subject,
    UnreadableRecord,
)
from shieldwall.audit.verify import Fault, verify_chain
from shieldwall.errors import InvalidInputError

AT = datetime(2026, 12, 4, 1, 2, 3, 4, tzinfo=UTC)
REVIEWER = Actor(ActorKind.REVIEWER, "7")
ITEM = Subject("quarantine_item", "31")


def event(n: int = 0, action: AuditAction = AuditAction.REVEAL) -> AuditEvent:
    return AuditEvent(AT + timedelta(seconds=n), REVIEWER, action, ITEM, {"n": n, "ok": True})


def chain(length: int) -> list[AuditRecord]:
    log = InMemoryAuditLog()
    for n in range(length):
        log.append(event(n))
    return log.stored


def test_canonical_encoding_is_the_documented_text() -> None:
    encoded = canonical_bytes(12, event(), GENESIS_HASH)
    assert encoded == (
        b'{"action":"reveal","actor":{"id":"7","kind":"reviewer"},'
        b'"at":"2026-12-04T01:02:03.000004Z","details":{"n":0,"ok":true},'
        b'"prev":"' + GENESIS_HASH.encode() + b'","seq":12,'
        b'"subject":{"id":"31","kind":"quarantine_item"},"v":1}'
    )
    assert record_hash(12, event(), GENESIS_HASH) == hashlib.sha256(encoded).hexdigest()


def test_canonical_encoding_ignores_detail_order_and_time_zone() -> None:
    first = AuditEvent(AT, REVIEWER, AuditAction.CLAIM, ITEM, {"a": 1, "b": "x"})
    elsewhere = AT.astimezone(timezone(timedelta(hours=5)))
    second = AuditEvent(elsewhere, REVIEWER, AuditAction.CLAIM, ITEM, {"b": "x", "a": 1})
    assert canonical_bytes(1, first, GENESIS_HASH) == canonical_bytes(1, second, GENESIS_HASH)


def test_canonical_encoding_is_ascii_for_any_text() -> None:
    named = AuditEvent(AT, REVIEWER, AuditAction.DECISION, ITEM, {"outcome": "bestätigt"})
    assert b"best\\u00e4tigt" in canonical_bytes(1, named, GENESIS_HASH)


@pytest.mark.parametrize(
    "change",
    [
        {"sequence": 2},
        {"previous_hash": "1" * 64},
        {"at": AT + timedelta(microseconds=1)},
        {"actor": Actor(ActorKind.SYSTEM, "7")},
        {"action": AuditAction.DECISION},
        {"subject": Subject("quarantine_item", "32")},
        {"details": {"n": 1, "ok": True}},
    ],
)
def test_every_field_is_hashed(change: dict[str, object]) -> None:
    record = seal(event(), EMPTY_HEAD)
    changed = dataclasses.replace(record, **change)  # type: ignore[arg-type]
    assert verify_chain([changed]).problem is not None


def test_seal_links_to_the_head() -> None:
    first = seal(event(0), EMPTY_HEAD)
    second = seal(event(1), ChainHead(first.sequence, first.hash))
    assert (first.sequence, first.previous_hash) == (1, GENESIS_HASH)
    assert (second.sequence, second.previous_hash) == (2, first.hash)


def test_an_intact_chain_holds() -> None:
    records = chain(5)
    result = verify_chain(records, ChainHead(5, records[-1].hash))
    assert result.ok
    assert (result.records, result.head.sequence) == (5, 5)


def test_an_empty_chain_holds() -> None:
    assert verify_chain([], EMPTY_HEAD).ok


def test_an_altered_record_is_named() -> None:
    records = chain(5)
    records[2] = dataclasses.replace(records[2], details={"n": 99, "ok": True})
    result = verify_chain(records, ChainHead(5, records[-1].hash))
    assert result.problem is not None
    assert (result.problem.sequence, result.problem.fault) == (3, Fault.ALTERED)
    assert result.records == 2


def test_a_replaced_record_with_a_recomputed_hash_breaks_the_next_link() -> None:
    records = chain(5)
    forged = seal(event(50, AuditAction.DECISION), ChainHead(2, records[1].hash))
    records[2] = forged
    result = verify_chain(records)
    assert result.problem is not None
    assert (result.problem.sequence, result.problem.fault) == (4, Fault.BROKEN_LINK)


def test_a_deleted_record_is_named() -> None:
    records = chain(5)
    del records[1]
    result = verify_chain(records, ChainHead(5, records[-1].hash))
    assert result.problem is not None
    assert (result.problem.sequence, result.problem.fault) == (2, Fault.DELETED)
    assert "record 2 is missing" in result.problem.message


def test_deleted_records_are_named_as_a_range() -> None:
    records = chain(6)
    del records[1:4]
    result = verify_chain(records)
    assert result.problem is not None
    assert "records 2..4 are missing" in result.problem.message


def test_records_deleted_from_the_end_are_found_by_the_head() -> None:
    records = chain(5)
    result = verify_chain(records[:3], ChainHead(5, records[-1].hash))
    assert result.problem is not None
    assert (result.problem.sequence, result.problem.fault) == (4, Fault.DELETED)


def test_an_inserted_record_between_two_is_named() -> None:
    records = chain(4)
    # Shift records 3 and 4 to 4 and 5 with recomputed hashes of their own (not their links).
    inserted = seal(event(70), ChainHead(2, records[1].hash))
    shifted = [
        seal(record.event, ChainHead(record.sequence, record.previous_hash))
        for record in records[2:]
    ]
    tampered = [*records[:2], inserted, *shifted]
    result = verify_chain(tampered)
    assert result.problem is not None
    assert (result.problem.sequence, result.problem.fault) == (3, Fault.INSERTED)
    assert "record 3 was inserted" in result.problem.message


def test_a_record_linking_past_inserted_ones_names_the_first_inserted() -> None:
    records = chain(3)
    fake = seal(event(80), ChainHead(3, records[2].hash))
    real_next = seal(event(3), ChainHead(4, records[2].hash))  # links to record 3
    result = verify_chain([*records, fake, real_next])
    assert result.problem is not None
    assert (result.problem.sequence, result.problem.fault) == (4, Fault.INSERTED)


def test_a_repeated_sequence_is_an_insertion() -> None:
    records = chain(3)
    result = verify_chain([*records[:2], records[1], records[2]])
    assert result.problem is not None
    assert (result.problem.sequence, result.problem.fault) == (2, Fault.INSERTED)


def test_a_record_beyond_the_head_is_an_insertion() -> None:
    records = chain(3)
    extra = seal(event(9), ChainHead(3, records[2].hash))
    result = verify_chain([*records, extra], ChainHead(3, records[2].hash))
    assert result.problem is not None
    assert (result.problem.sequence, result.problem.fault) == (4, Fault.INSERTED)


def test_a_head_with_another_hash_is_named() -> None:
    records = chain(3)
    result = verify_chain(records, ChainHead(3, "f" * 64))
    assert result.problem is not None
    assert (result.problem.sequence, result.problem.fault) == (3, Fault.HEAD_MISMATCH)


def test_the_memory_log_verifies_its_own_chain_and_finds_tampering() -> None:
    log = InMemoryAuditLog()
    for n in range(3):
        log.append(event(n))
    assert log.verify().ok
    log.stored_head = ChainHead(2, log.stored[1].hash)
    problem = log.verify().problem
    assert problem is not None
    assert (problem.sequence, problem.fault) == (3, Fault.INSERTED)


def test_verification_reads_as_json_values() -> None:
    records = chain(2)
    records[0] = dataclasses.replace(records[0], actor=Actor(ActorKind.API_KEY, "k"))
    as_dict = verify_chain(records).as_dict()
    assert as_dict["ok"] is False
    assert as_dict["problem"] == {
        "sequence": 1,
        "fault": "altered",
        "message": "record 1 does not match its hash: its content was altered",
    }


@pytest.mark.parametrize(
    ("actor", "subject", "details"),
    [
        (Actor(ActorKind.REVIEWER, ""), ITEM, {}),
        (REVIEWER, Subject("", "1"), {}),
        (REVIEWER, Subject("case", "x" * 201), {}),
        (REVIEWER, ITEM, {"score": 0.5}),
        (REVIEWER, ITEM, {"nested": {"a": 1}}),
        (REVIEWER, ITEM, {"text": "y" * 201}),
        (REVIEWER, ITEM, {f"k{n}": n for n in range(17)}),
        (REVIEWER, ITEM, {"line\nbreak": 1}),
    ],
)
def test_events_refuse_what_cannot_be_recorded(
    actor: Actor, subject: Subject, details: dict[str, object]
) -> None:
    with pytest.raises(InvalidInputError):
        AuditEvent(AT, actor, AuditAction.CLAIM, subject, details)  # type: ignore[arg-type]


def test_events_refuse_naive_times() -> None:
    with pytest.raises(InvalidInputError):
        AuditEvent(datetime(2026, 1, 1), REVIEWER, AuditAction.CLAIM, ITEM)


def test_an_unreadable_record_is_named_as_altered() -> None:
    records: list[AuditRecord | UnreadableRecord] = [*chain(3)]
    records[1] = UnreadableRecord(2, "unknown action 'x'")
    problem = verify_chain(records).problem
    assert problem is not None
    assert (problem.sequence, problem.fault) == (2, Fault.ALTERED)
    assert "cannot be read (unknown action 'x')" in problem.message
