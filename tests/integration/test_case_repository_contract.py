"""Every CaseRepository adapter (memory, SQLite, PostgreSQL) behaves the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shieldwall.banks.ports import BankRepository
from shieldwall.banks.service import BankService
from shieldwall.cases.models import CaseEvent, CaseState, LocatorState, validate_report
from shieldwall.cases.ports import CaseRepository
from shieldwall.cases.service import CaseService
from shieldwall.errors import ConflictError, NotFoundError, StorageError
from tests.unit.test_cases import SHA, fields

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


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


@pytest.mark.parametrize("backend", ["memory", "sql"])
def test_hits_are_counted_per_entry(backend: str, sqlite_url: str) -> None:
    from shieldwall.cases.memory import InMemoryHitCounter
    from shieldwall.storage.case_repositories import SqlHitCounter
    from shieldwall.storage.engine import create_database_engine
    from shieldwall.storage.migrate import upgrade_database

    if backend == "memory":
        counter: Any = InMemoryHitCounter()
    else:
        upgrade_database(sqlite_url)
        counter = SqlHitCounter(create_database_engine(sqlite_url))
    assert counter.total([1, 2]) == 0
    counter.record([1, 2], NOW)
    counter.record([2, 2], NOW)
    counter.record([], NOW)
    assert counter.total([1]) == 1
    assert counter.total([2]) == 2
    assert counter.total([1, 2, 3]) == 3


def test_contact_details_are_sealed_in_the_database(sqlite_url: str) -> None:
    import secrets as random_bytes

    from sqlalchemy import text

    from shieldwall.storage.case_repositories import SqlCaseRepository
    from shieldwall.storage.engine import create_database_engine
    from shieldwall.storage.migrate import upgrade_database
    from shieldwall.storage.sealing import Sealer

    upgrade_database(sqlite_url)
    engine = create_database_engine(sqlite_url)
    key = random_bytes.token_bytes(32)
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
        SqlCaseRepository(engine, Sealer(random_bytes.token_bytes(32))).find("SW-SEAL-0001")
