"""Every ComplaintRepository adapter (memory, SQLite, PostgreSQL) behaves the same: one open
complaint per decision and one per kind of complainant (racing lodgers too), the review
item attached, outcomes recorded once, the periods the transparency report counts; the SQL
one keeps explanations sealed. Decisions keep the entries they changed."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from shieldwall.errors import ConflictError, NotFoundError, StorageError
from shieldwall.review.complaint_memory import InMemoryComplaintRepository
from shieldwall.review.complaint_models import (
    Complainant,
    ComplaintOutcome,
    NewComplaint,
)
from shieldwall.review.complaint_ports import ComplaintRepository
from shieldwall.review.memory import InMemoryReviewRepository
from shieldwall.review.models import (
    AutomatedDecision,
    Decision,
    DecisionKind,
    ItemSource,
    ItemState,
    NewItem,
    RemovalAction,
)
from shieldwall.review.ports import ReviewRepository
from shieldwall.storage.complaint_repositories import SqlComplaintRepository
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.review_repositories import SqlReviewRepository
from shieldwall.storage.sealing import Sealer
from shieldwall.storage.tables import ComplaintRow
from tests.integration.conftest import SQL_BACKENDS
from tests.support.backends import on_backend

NOW = datetime(2026, 12, 4, 10, 0, 0, 250000, tzinfo=UTC)
EXPLANATION = "Mi usuaria hizo esta foto.\n사진은 제 것입니다 — ana@example.org"


@dataclass
class Storage:
    complaints: ComplaintRepository
    items: ReviewRepository
    engine: Engine | None = None


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    sealer = Sealer(secrets.token_bytes(32))
    yield from on_backend(
        request,
        lambda: Storage(InMemoryComplaintRepository(), InMemoryReviewRepository()),
        lambda engine: Storage(
            SqlComplaintRepository(engine, sealer), SqlReviewRepository(engine), engine
        ),
    )


def decided(items: ReviewRepository, case_number: str = "SW-AAAA-BBBB") -> int:
    """A platform item confirmed at NOW; its id."""
    item, _ = items.open(
        NewItem(
            ItemSource.PLATFORM,
            opened_at=NOW - timedelta(hours=1),
            deadline=NOW + timedelta(hours=47),
            case_number=case_number,
            opened_by_key=7,
        )
    )
    items.claim(item.id, "alice", NOW, NOW + timedelta(minutes=10))
    decision = Decision(
        DecisionKind.CONFIRM,
        RemovalAction.REMOVE,
        "take-it-down-act",
        "the reported image",
        "",
        "alice",
        NOW,
        True,
        AutomatedDecision.PARTIALLY,
        added_entries=(3, 5, 8),
    )
    items.record_decision(item.id, decision, ItemState.DECIDED, NOW)
    return item.id


def new(item_id: int, who: Complainant, at: datetime = NOW) -> NewComplaint:
    key = 7 if who is Complainant.PLATFORM else None
    return NewComplaint(item_id, "SW-AAAA-BBBB", who, key, EXPLANATION, at)


def test_a_complaint_is_kept_and_found_every_way(storage: Storage) -> None:
    item_id = decided(storage.items)
    lodged = storage.complaints.lodge(new(item_id, Complainant.PLATFORM))
    assert (lodged.item_id, lodged.complainant, lodged.key_id, lodged.explanation) == (
        item_id,
        Complainant.PLATFORM,
        7,
        EXPLANATION,
    )
    assert lodged.lodged_at == NOW
    assert lodged.is_open
    assert lodged.complaint_item_id is None
    complaint_item, _ = storage.items.open(
        NewItem(ItemSource.COMPLAINT, opened_at=NOW, deadline=NOW + timedelta(hours=48))
    )
    attached = storage.complaints.attach_item(lodged.id, complaint_item.id)
    assert attached.complaint_item_id == complaint_item.id
    assert storage.complaints.get(lodged.id) == attached
    assert storage.complaints.about_item(item_id) == [attached]
    assert storage.complaints.of_review_item(complaint_item.id) == attached
    assert storage.complaints.of_review_item(item_id) is None
    assert storage.complaints.of_case("SW-AAAA-BBBB") == [attached]
    assert storage.complaints.of_case("") == []
    with pytest.raises(NotFoundError):
        storage.complaints.get(10_000)
    with pytest.raises(NotFoundError):
        storage.complaints.attach_item(10_000, complaint_item.id)


def test_one_open_complaint_per_decision_and_one_per_kind(storage: Storage) -> None:
    item_id = decided(storage.items)
    first = storage.complaints.lodge(new(item_id, Complainant.PLATFORM))
    with pytest.raises(ConflictError, match="already being looked at"):
        storage.complaints.lodge(new(item_id, Complainant.REPORTER))
    later = NOW + timedelta(days=2)
    closed = storage.complaints.record_outcome(first.id, ComplaintOutcome.UPHOLD, later, "bob")
    assert (closed.outcome, closed.decided_at, closed.decided_by) == (
        ComplaintOutcome.UPHOLD,
        later,
        "bob",
    )
    with pytest.raises(ConflictError):
        storage.complaints.record_outcome(first.id, ComplaintOutcome.REVERSE, later, "carol")
    with pytest.raises(ConflictError, match="already looked at again"):
        storage.complaints.lodge(new(item_id, Complainant.PLATFORM))
    second = storage.complaints.lodge(new(item_id, Complainant.REPORTER))
    assert [c.id for c in storage.complaints.about_item(item_id)] == [first.id, second.id]
    assert storage.complaints.get(first.id).outcome is ComplaintOutcome.UPHOLD


def test_racing_complaints_about_one_decision_record_one(storage: Storage) -> None:
    item_id = decided(storage.items)

    def lodge(who: Complainant) -> bool:
        try:
            storage.complaints.lodge(new(item_id, who))
        except ConflictError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=4) as pool:
        won = list(pool.map(lodge, [Complainant.PLATFORM, Complainant.REPORTER] * 4))
    assert won.count(True) == 1
    assert len(storage.complaints.about_item(item_id)) == 1


def test_the_transparency_periods(storage: Storage) -> None:
    first, second, third = (decided(storage.items, f"SW-AAAA-000{n}") for n in range(3))
    one = storage.complaints.lodge(new(first, Complainant.PLATFORM, NOW))
    two = storage.complaints.lodge(new(second, Complainant.REPORTER, NOW + timedelta(days=1)))
    three = storage.complaints.lodge(new(third, Complainant.PLATFORM, NOW + timedelta(days=2)))
    storage.complaints.record_outcome(
        two.id, ComplaintOutcome.REVERSE, NOW + timedelta(days=3), "bob"
    )
    storage.complaints.record_outcome(
        one.id, ComplaintOutcome.UPHOLD, NOW + timedelta(days=4), "bob"
    )
    lodged = storage.complaints.lodged_between(NOW, NOW + timedelta(days=2))
    assert [(c.id, c.complainant) for c in lodged] == [
        (one.id, Complainant.PLATFORM),
        (two.id, Complainant.REPORTER),
    ]
    assert [c.id for c in storage.complaints.lodged_between(NOW, NOW + timedelta(days=9))] == [
        one.id,
        two.id,
        three.id,
    ]
    decided_ = storage.complaints.decided_between(NOW, NOW + timedelta(days=9))
    assert [(c.id, c.outcome) for c in decided_] == [
        (two.id, ComplaintOutcome.REVERSE),
        (one.id, ComplaintOutcome.UPHOLD),
    ]
    assert storage.complaints.decided_between(NOW, NOW + timedelta(days=3)) == []


def test_decisions_keep_the_entries_they_changed(storage: Storage) -> None:
    item_id = decided(storage.items)
    decision = storage.items.get(item_id).decision
    assert decision is not None
    assert decision.added_entries == (3, 5, 8)


@pytest.mark.parametrize("backend", SQL_BACKENDS)
def test_explanations_are_sealed_at_rest(backend: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    upgrade_database(url)
    engine = create_database_engine(url)
    try:
        sealer = Sealer(secrets.token_bytes(32))
        items = SqlReviewRepository(engine)
        complaints = SqlComplaintRepository(engine, sealer)
        complaint = complaints.lodge(new(decided(items), Complainant.REPORTER))
        with engine.connect() as connection:
            stored = connection.execute(select(ComplaintRow.explanation)).scalar_one()
        assert "ana@example.org" not in stored
        assert stored.startswith("v1:")
        assert complaints.get(complaint.id).explanation == EXPLANATION
        other_key = SqlComplaintRepository(engine, Sealer(secrets.token_bytes(32)))
        with pytest.raises(StorageError, match="sealed"):
            other_key.get(complaint.id)
    finally:
        engine.dispose()
