"""Every CaseRepository adapter (memory, SQLite, PostgreSQL) behaves the same."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shieldwall.banks.ports import BankRepository
from shieldwall.banks.service import BankService
from shieldwall.cases.memory import InMemoryCaseRepository, InMemoryHitCounter
from shieldwall.cases.models import CaseEvent, CaseState, LocatorState, validate_report
from shieldwall.cases.ports import CaseRepository, HitCounter
from shieldwall.cases.service import CaseService
from shieldwall.errors import ConflictError, NotFoundError, StorageError
from shieldwall.storage.case_repositories import SqlCaseRepository, SqlHitCounter
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.sealing import Sealer
from tests.unit.test_cases import SHA, fields

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def test_a_case_round_trips_with_its_report_entries_and_timeline(
    case_storage: tuple[CaseRepository, BankRepository],
) -> None:
    cases, _ = case_storage
    report = validate_report(fields(depicted_minor=True))
    created = cases.create("SW-AAAA-BBBB", "h" * 64, report, (7, 3), NOW)
    assert (created.state, created.entry_ids, created.priority) == (
        CaseState.RECEIVED,
        (7, 3),
        True,
    )
    found = cases.find("SW-AAAA-BBBB")
    assert found is not None
    case, secret_hash = found
    assert secret_hash == "h" * 64
    assert case.report == report
    assert case.received_at == NOW
    assert [loc.state for loc in case.report.locators] == [LocatorState.REPORTED] * 3
    assert [(e.kind, e.at) for e in case.events] == [("received", NOW)]
    assert cases.find("SW-NONE-0000") is None
    with pytest.raises(ConflictError):
        cases.create("SW-AAAA-BBBB", "x" * 64, report, (), NOW)


def test_moves_append_to_the_timeline_and_entries_find_their_cases(
    case_storage: tuple[CaseRepository, BankRepository],
) -> None:
    cases, _ = case_storage
    report = validate_report(fields())
    cases.create("SW-1111-1111", "a" * 64, report, (1, 2), NOW)
    cases.create("SW-2222-2222", "b" * 64, report, (2,), NOW)
    later = NOW + timedelta(hours=1)
    moved = cases.move(
        "SW-1111-1111", CaseState.UNDER_REVIEW, CaseEvent(later, "under_review", "x")
    )
    assert moved.state is CaseState.UNDER_REVIEW
    assert [(e.kind, e.detail) for e in moved.events] == [("received", ""), ("under_review", "x")]
    assert sorted(c.number for c in cases.cases_linking(2)) == ["SW-1111-1111", "SW-2222-2222"]
    assert [c.number for c in cases.cases_linking(1)] == ["SW-1111-1111"]
    assert cases.cases_linking(99) == []
    with pytest.raises(NotFoundError):
        cases.move("SW-9999-9999", CaseState.DECIDED, CaseEvent(later, "decided"))


def test_filing_and_withdrawing_through_the_service(
    case_storage: tuple[CaseRepository, BankRepository],
) -> None:
    cases, banks = case_storage
    service = CaseService(cases, BankService(banks), lambda: NOW)
    filed = service.file(validate_report(fields()))
    assert service.open(filed.case.number, filed.secret).entry_ids == filed.case.entry_ids
    withdrawn = service.withdraw(filed.case.number, filed.secret)
    assert withdrawn.state is CaseState.WITHDRAWN
    entry = banks.get_entry(filed.case.entry_ids[0])
    assert entry.state.value == "withdrawn"
    assert entry.signal("sha256") is not None
    assert entry.signal("sha256").value == SHA  # type: ignore[union-attr]


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def hit_storage(request: pytest.FixtureRequest) -> Iterator[tuple[CaseRepository, HitCounter]]:
    """Each CaseRepository adapter with the HitCounter of the same storage."""
    if request.param == "memory":
        memory = InMemoryCaseRepository()
        yield memory, InMemoryHitCounter(memory)
        return
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade_database(url)
    engine = create_database_engine(url)
    yield SqlCaseRepository(engine, Sealer(secrets.token_bytes(32))), SqlHitCounter(engine)
    engine.dispose()


def test_hits_count_per_case_from_its_filing_on(
    hit_storage: tuple[CaseRepository, HitCounter],
) -> None:
    cases, hits = hit_storage
    report = validate_report(fields())
    first = cases.create("SW-HIT1-0001", "a" * 64, report, (1, 2), NOW)
    hits.record([1], NOW)
    hits.record([1, 2, 2], NOW)
    hits.record([], NOW)
    hits.record([99], NOW)  # an entry no case reported
    assert hits.total(first.id) == 3
    second = cases.create("SW-HIT2-0002", "b" * 64, report, (2, 3), NOW + timedelta(hours=1))
    assert hits.total(second.id) == 0  # the first case's hits are not the second's
    hits.record([2], NOW + timedelta(hours=2))
    assert (hits.total(first.id), hits.total(second.id)) == (4, 1)
    hits.record([3], NOW + timedelta(hours=3))
    assert (hits.total(first.id), hits.total(second.id)) == (4, 2)
    assert hits.total(12345) == 0


def test_the_secret_hash_is_read_without_the_case(
    case_storage: tuple[CaseRepository, BankRepository],
) -> None:
    cases, _ = case_storage
    cases.create("SW-SECR-0001", "c" * 64, validate_report(fields()), (), NOW)
    assert cases.secret_hash("SW-SECR-0001") == "c" * 64
    assert cases.secret_hash("SW-SECR-0002") is None
    assert cases.secret_hash("") is None


def test_contact_details_are_sealed_in_the_database(sqlite_url: str) -> None:
    from sqlalchemy import text

    upgrade_database(sqlite_url)
    engine = create_database_engine(sqlite_url)
    key = secrets.token_bytes(32)
    cases = SqlCaseRepository(engine, Sealer(key))
    report = validate_report(fields())
    cases.create("SW-SEAL-0001", "s" * 64, report, (), NOW)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT report FROM cases")).scalar_one()
    for secret_text in ("ana@example.org", "Ana Example", "forum.example"):
        assert secret_text not in stored
    found = SqlCaseRepository(engine, Sealer(key)).find("SW-SEAL-0001")
    assert found is not None
    assert found[0].report == report
    with pytest.raises(StorageError):
        SqlCaseRepository(engine, Sealer(secrets.token_bytes(32))).find("SW-SEAL-0001")


def test_linked_entries_come_after_the_reports_own_and_count_hits(
    hit_storage: tuple[CaseRepository, HitCounter],
) -> None:
    cases, hits = hit_storage
    case = cases.create("SW-LINK-0001", "b" * 64, validate_report(fields()), (5,), NOW)
    linked = cases.link_entries(case.number, [7, 5, 8, 7])
    assert linked.entry_ids == (5, 7, 8)  # the report's own first; no entry twice
    assert cases.link_entries(case.number, [8]).entry_ids == (5, 7, 8)
    assert [c.number for c in cases.cases_linking(8)] == [case.number]
    hits.record([8], NOW)
    assert hits.total(case.id) == 1
    with pytest.raises(NotFoundError):
        cases.link_entries("SW-NONE-0000", [1])


def test_blocked_reuploads_count_once_per_lookup_and_case(
    hit_storage: tuple[CaseRepository, HitCounter],
) -> None:
    cases, hits = hit_storage
    report = validate_report(fields())
    first = cases.create("SW-BLK1-0001", "d" * 64, report, (1,), NOW)
    second = cases.create("SW-BLK2-0002", "e" * 64, report, (2,), NOW)
    cases.link_entries(first.number, [10, 11])
    cases.link_entries(second.number, [11])
    assert hits.blocked(first.id) == (0, None)
    hits.record_blocked([10, 11], NOW)  # one lookup matching two confirmed entries
    hits.record_blocked([11], NOW + timedelta(hours=1))
    hits.record_blocked([], NOW + timedelta(hours=2))
    hits.record_blocked([99], NOW + timedelta(hours=2))
    assert hits.blocked(first.id) == (2, NOW + timedelta(hours=1))
    assert hits.blocked(second.id) == (2, NOW + timedelta(hours=1))
    assert hits.total(first.id) == 0  # blocked re-uploads are their own count
