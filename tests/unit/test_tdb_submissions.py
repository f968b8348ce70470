"""The Transparency Database submitter with in-memory fakes: batches of at most 100, a
resend after a partial failure that stores nothing twice, one invalid statement among many,
server errors left failed and retried, and nothing recorded stored ever sent again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from shieldwall.errors import InvalidInputError, UnavailableError
from shieldwall.review.models import (
    AutomatedDecision,
    Decision,
    DecisionKind,
    ItemSource,
    ItemState,
    RemovalAction,
    ReviewItem,
)
from shieldwall.review.tdb_memory import InMemorySubmissionRepository
from shieldwall.review.tdb_submissions import (
    Answer,
    Attempt,
    BatchOutcome,
    PendingStatement,
    Statement,
    StatementSubmitter,
    SubmissionState,
    pending_statements,
)
from tests.support.clock import FakeClock

START = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@dataclass
class FakeDatabase:
    """The database's semantics in memory: 201 stores the whole batch; a known or invalid
    puid refuses it (422) and stores nothing; scripted failures answer 500."""

    stored: dict[str, int] = field(default_factory=dict)
    """How many times each puid was stored (never more than once, as the database)."""
    invalid: set[str] = field(default_factory=set)
    failures: int = 0
    lost_answers: int = 0
    """Requests stored whose answer never arrives (a timeout after the database committed)."""
    exists_down: bool = False
    calls: list[tuple[str, int]] = field(default_factory=list)

    def submit(self, batch: Sequence[Statement]) -> BatchOutcome:
        self.calls.append(("bulk", len(batch)))
        assert 1 <= len(batch) <= 100
        return self._store([str(s["puid"]) for s in batch])

    def submit_one(self, statement: Statement) -> BatchOutcome:
        self.calls.append(("one", 1))
        return self._store([str(statement["puid"])])

    def exists(self, puid: str) -> bool:
        self.calls.append(("exists", 1))
        if self.exists_down:
            raise UnavailableError("no answer from the Transparency Database (ConnectError)")
        return puid in self.stored

    def _store(self, puids: list[str]) -> BatchOutcome:
        if self.failures:
            self.failures -= 1
            return BatchOutcome(Answer.FAILED, "HTTP 500: Server Error")
        refused = [p for p in puids if p in self.stored or p in self.invalid]
        if refused:
            return BatchOutcome(Answer.REFUSED, f"refused (422): puid: {refused[0]}")
        for puid in puids:
            self.stored[puid] = self.stored.get(puid, 0) + 1
        if self.lost_answers:
            self.lost_answers -= 1
            return BatchOutcome(Answer.FAILED, "no answer from the Transparency Database")
        return BatchOutcome(Answer.STORED)

    def count(self, kind: str) -> int:
        return sum(1 for call, _ in self.calls if call == kind)


def statements(count: int, first: int = 0) -> list[PendingStatement]:
    return [PendingStatement(1000 + i, {"puid": f"sw-{i:04d}"}) for i in range(first, count)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def database() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def records() -> InMemorySubmissionRepository:
    return InMemorySubmissionRepository()


@pytest.fixture
def submitter(
    database: FakeDatabase, records: InMemorySubmissionRepository, clock: FakeClock
) -> StatementSubmitter:
    return StatementSubmitter(database, records, clock=clock)


def test_250_statements_go_in_batches_of_100_100_and_50(
    submitter: StatementSubmitter, database: FakeDatabase, records: InMemorySubmissionRepository
) -> None:
    report = submitter.submit(statements(250))
    assert database.calls == [("bulk", 100), ("bulk", 100), ("bulk", 50)]
    assert (report.stored, report.failed, report.skipped, report.requests) == (250, 0, 0, 3)
    assert set(database.stored) == {f"sw-{i:04d}" for i in range(250)}
    first = records.get("sw-0000")
    assert (first.item_id, first.state, first.attempts, first.last_error) == (
        1000,
        SubmissionState.STORED,
        1,
        "",
    )
    assert first.first_attempt_at == first.last_attempt_at == START
    assert len(records.listed(SubmissionState.STORED)) == 250


def test_statements_recorded_stored_are_never_sent_again(
    submitter: StatementSubmitter, database: FakeDatabase
) -> None:
    submitter.submit(statements(120))
    database.calls.clear()
    report = submitter.submit(statements(130))
    assert database.calls == [("bulk", 10)]
    assert (report.stored, report.skipped) == (10, 120)
    assert set(database.stored.values()) == {1}


def test_a_resend_after_a_partial_failure_stores_nothing_twice(
    submitter: StatementSubmitter,
    database: FakeDatabase,
    records: InMemorySubmissionRepository,
    clock: FakeClock,
) -> None:
    submitter.submit(statements(100))
    # The next batch is stored, but its answer is lost: Shieldwall records it failed.
    database.lost_answers = 1
    lost = submitter.submit(statements(200))
    assert (lost.stored, lost.failed, lost.skipped) == (0, 100, 100)
    assert records.get("sw-0150").state is SubmissionState.FAILED
    database.calls.clear()
    clock.advance(timedelta(hours=1))
    again = submitter.submit(statements(200))
    # Sent again as a batch: refused (every puid is known), then each found by its puid.
    assert database.calls == [("bulk", 100)] + [("exists", 1)] * 100
    assert (again.stored, again.failed, again.skipped) == (100, 0, 100)
    assert set(database.stored.values()) == {1}
    retried = records.get("sw-0150")
    assert (retried.state, retried.attempts, retried.last_error) == (
        SubmissionState.STORED,
        2,
        "",
    )
    assert retried.first_attempt_at == START
    assert retried.last_attempt_at == START + timedelta(hours=1)


def test_one_invalid_statement_does_not_hold_back_the_others(
    submitter: StatementSubmitter, database: FakeDatabase, records: InMemorySubmissionRepository
) -> None:
    database.invalid = {"sw-0042"}
    report = submitter.submit(statements(150))
    # The first batch is refused, checked puid by puid and sent one by one; the second is not.
    assert database.calls[0] == ("bulk", 100)
    assert database.count("exists") == 100
    assert database.count("one") == 100
    assert database.calls[-1] == ("bulk", 50)
    assert (report.stored, report.failed, report.requests) == (149, 1, 202)
    [failure] = report.failures
    assert (failure.puid, failure.item_id) == ("sw-0042", 1042)
    assert "422" in failure.error
    assert [s.puid for s in records.listed(SubmissionState.FAILED)] == ["sw-0042"]
    assert "sw-0042" not in database.stored


def test_server_errors_are_left_failed_and_retried_on_the_next_run(
    submitter: StatementSubmitter,
    database: FakeDatabase,
    records: InMemorySubmissionRepository,
    clock: FakeClock,
) -> None:
    database.failures = 1
    first = submitter.submit(statements(150))
    assert (first.stored, first.failed) == (50, 100)
    failed = records.get("sw-0000")
    assert (failed.state, failed.attempts, failed.last_error) == (
        SubmissionState.FAILED,
        1,
        "HTTP 500: Server Error",
    )
    clock.advance(60)
    database.calls.clear()
    second = submitter.submit(statements(150))
    assert database.calls == [("bulk", 100)]
    assert (second.stored, second.failed, second.skipped) == (100, 0, 50)
    retried = records.get("sw-0000")
    assert (retried.state, retried.attempts, retried.last_error) == (
        SubmissionState.STORED,
        2,
        "",
    )
    assert retried.last_attempt_at == START + timedelta(seconds=60)


def test_a_puid_that_cannot_be_checked_is_left_failed(
    submitter: StatementSubmitter, database: FakeDatabase
) -> None:
    database.invalid = {"sw-0001"}
    database.exists_down = True
    report = submitter.submit(statements(3))
    assert (report.stored, report.failed) == (0, 3)
    assert all(f.error.startswith("checking the puid: no answer") for f in report.failures)
    assert database.count("one") == 0


def test_a_puid_given_twice_is_sent_once(
    submitter: StatementSubmitter, database: FakeDatabase
) -> None:
    twice = [*statements(3), *statements(2)]
    report = submitter.submit(twice)
    assert database.calls == [("bulk", 3)]
    assert (report.stored, report.skipped) == (3, 2)


def test_nothing_to_send_sends_nothing(
    submitter: StatementSubmitter, database: FakeDatabase
) -> None:
    report = submitter.submit([])
    assert database.calls == []
    assert (report.stored, report.failed, report.skipped, report.requests) == (0, 0, 0, 0)


def test_a_stored_record_never_turns_back_to_failed(
    records: InMemorySubmissionRepository, clock: FakeClock
) -> None:
    records.record([Attempt("sw-1", 7, SubmissionState.STORED, "", clock())])
    records.record([Attempt("sw-1", 7, SubmissionState.FAILED, "late", clock())])
    kept = records.get("sw-1")
    assert (kept.state, kept.attempts, kept.last_error) == (SubmissionState.STORED, 1, "")


@pytest.mark.parametrize("limit", [0, 101])
def test_a_batch_holds_1_to_100(
    database: FakeDatabase, records: InMemorySubmissionRepository, limit: int
) -> None:
    with pytest.raises(InvalidInputError, match="1 to 100"):
        StatementSubmitter(database, records, batch_limit=limit)


def _decided(item_id: int, statement_id: str) -> ReviewItem:
    decision = Decision(
        kind=DecisionKind.CONFIRM,
        action=RemovalAction.REMOVE,
        ground="terms-ncii",
        facts="",
        reason="",
        reviewer="r",
        at=START,
        automated_detection=True,
        automated_decision=AutomatedDecision.PARTIALLY,
        statement_id=statement_id,
    )
    return ReviewItem(
        id=item_id,
        source=ItemSource.PLATFORM,
        state=ItemState.DECIDED,
        opened_at=START,
        deadline=START,
        minor=False,
        trusted_flagger=False,
        case_number="",
        content_ref="",
        opened_by_key=None,
        content_address="",
        signals=(),
        matches=(),
        decisions=(decision,),
    )


def test_each_statement_is_paired_with_the_item_it_explains() -> None:
    items = [_decided(3, "sw-a"), _decided(9, "sw-b")]
    pending = pending_statements(items, [{"puid": "sw-b"}, {"puid": "sw-a"}])
    assert [(p.item_id, p.puid) for p in pending] == [(9, "sw-b"), (3, "sw-a")]
    with pytest.raises(InvalidInputError, match="sw-c"):
        pending_statements(items, [{"puid": "sw-c"}])
