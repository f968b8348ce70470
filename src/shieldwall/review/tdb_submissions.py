"""Statements of reasons sent to the EU DSA Transparency Database, and tracked. No I/O.

The database's API (../shared/reference/review.md) takes 1 to 100 statements a bulk request;
only 201 means the whole batch was stored. A 422 refuses the whole batch: a `puid` it already
holds (a resend after a partial failure) or one invalid statement. So after a 422 each
statement is checked with `exists`: a known one is recorded stored, the others are sent one
by one, so that one bad statement does not hold back 99 good ones. Network errors and
server errors leave statements `failed` for the next run; a puid recorded stored is never
sent again. Every attempt is recorded per puid in the SubmissionRepository.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final, Protocol

from shieldwall.clock import Clock, utc_now
from shieldwall.errors import InvalidInputError, UnavailableError
from shieldwall.review.models import ReviewItem

BATCH_LIMIT: Final = 100
"""The most statements the Transparency Database takes in one request."""
MAX_ERROR: Final = 1000
"""The most characters of an error kept with a submission."""

Statement = Mapping[str, object]
"""One statement of reasons in the database's schema (review/statements.py builds them)."""


class SubmissionState(StrEnum):
    """Where a statement stands with the database."""

    STORED = "stored"
    """The database answered that it holds it (201, or its puid is known)."""
    FAILED = "failed"
    """Not stored yet: refused, or the database could not be reached; retried next run."""


class Answer(StrEnum):
    """How the database answered one request."""

    STORED = "stored"
    """201: every statement of the request is stored."""
    REFUSED = "refused"
    """422: nothing of the request is stored (an invalid statement or a known puid)."""
    FAILED = "failed"
    """No answer, a server error or anything else: nothing is known to be stored."""


@dataclass(frozen=True)
class BatchOutcome:
    """The database's answer to one request, and its reasons when it is not `stored`."""

    answer: Answer
    detail: str = ""


@dataclass(frozen=True)
class PendingStatement:
    """A statement to send and the review item whose decision it explains."""

    item_id: int
    statement: Statement

    @property
    def puid(self) -> str:
        """The statement's platform-unique id (its decision's statement id)."""
        return str(self.statement["puid"])


@dataclass(frozen=True)
class Attempt:
    """The outcome of one try at one statement, as the repository records it."""

    puid: str
    item_id: int
    state: SubmissionState
    error: str
    at: datetime


@dataclass(frozen=True)
class Submission:
    """A statement's record: its latest state, tries, last error and when it was tried."""

    puid: str
    item_id: int
    state: SubmissionState
    attempts: int
    last_error: str
    first_attempt_at: datetime
    last_attempt_at: datetime


@dataclass(frozen=True)
class SubmissionReport:
    """What one run did: statements stored, failed, skipped (stored before), and requests."""

    stored: int = 0
    failed: int = 0
    skipped: int = 0
    requests: int = 0
    failures: tuple[Attempt, ...] = ()


class TransparencyDatabase(Protocol):
    """The EU DSA Transparency Database's API (the HTTP adapter: integrations/)."""

    def submit(self, batch: Sequence[Statement]) -> BatchOutcome:
        """Send 1 to 100 statements in one request (`POST /api/v1/statements`)."""
        ...

    def submit_one(self, statement: Statement) -> BatchOutcome:
        """Send one statement (`POST /api/v1/statement`)."""
        ...

    def exists(self, puid: str) -> bool:
        """Whether the database holds a statement with this puid; UnavailableError when it
        cannot tell."""
        ...


class SubmissionRepository(Protocol):
    """The record of every statement sent, by puid. Adapters: memory, SQL."""

    def stored_among(self, puids: Collection[str]) -> set[str]:
        """The puids among `puids` recorded stored."""
        ...

    def record(self, attempts: Sequence[Attempt]) -> None:
        """Record tries (one transaction): a new puid starts at one attempt, a known one
        counts one more. A puid recorded stored stays stored, whatever comes after."""
        ...

    def get(self, puid: str) -> Submission:
        """The record of a puid; NotFoundError if it was never sent."""
        ...

    def listed(self, state: SubmissionState | None = None) -> list[Submission]:
        """Every record (or those in `state`), by first attempt then puid."""
        ...


def pending_statements(
    items: Iterable[ReviewItem], statements: Iterable[Statement]
) -> list[PendingStatement]:
    """The statements, each with the item whose decision's statement id is its puid."""
    item_of = {
        item.decision.statement_id: item.id
        for item in items
        if item.decision is not None and item.decision.statement_id
    }
    pending = []
    for statement in statements:
        puid = str(statement.get("puid", ""))
        if puid not in item_of:
            raise InvalidInputError(f"statement {puid!r} belongs to none of the items")
        pending.append(PendingStatement(item_of[puid], statement))
    return pending


class StatementSubmitter:
    """Sends the statements of a period that are not stored yet, in batches, and records
    each one's outcome."""

    def __init__(
        self,
        database: TransparencyDatabase,
        submissions: SubmissionRepository,
        *,
        clock: Clock = utc_now,
        batch_limit: int = BATCH_LIMIT,
    ) -> None:
        if not 1 <= batch_limit <= BATCH_LIMIT:
            raise InvalidInputError(f"a batch holds 1 to {BATCH_LIMIT} statements")
        self._database = database
        self._submissions = submissions
        self._clock = clock
        self._batch_limit = batch_limit

    def submit(self, statements: Sequence[PendingStatement]) -> SubmissionReport:
        """Send every statement not recorded stored; a puid given twice is sent once."""
        unique: dict[str, PendingStatement] = {}
        for pending in statements:
            unique.setdefault(pending.puid, pending)
        stored_before = self._submissions.stored_among(list(unique))
        todo = [s for puid, s in unique.items() if puid not in stored_before]
        run = _Run(skipped=len(statements) - len(todo))
        for start in range(0, len(todo), self._batch_limit):
            self._send_batch(todo[start : start + self._batch_limit], run)
        return run.report()

    def _send_batch(self, batch: Sequence[PendingStatement], run: _Run) -> None:
        outcome = self._database.submit([s.statement for s in batch])
        run.requests += 1
        if outcome.answer is Answer.REFUSED:
            self._record(run, [self._one_by_one(s, run) for s in batch])
            return
        stored = outcome.answer is Answer.STORED
        self._record(run, [self._attempt(s, stored, outcome.detail) for s in batch])

    def _one_by_one(self, pending: PendingStatement, run: _Run) -> Attempt:
        """After a refused batch: stored if the database knows the puid, else sent alone."""
        run.requests += 1
        try:
            known = self._database.exists(pending.puid)
        except UnavailableError as exc:
            return self._attempt(pending, False, f"checking the puid: {exc}")
        if known:
            return self._attempt(pending, True, "")
        outcome = self._database.submit_one(pending.statement)
        run.requests += 1
        return self._attempt(pending, outcome.answer is Answer.STORED, outcome.detail)

    def _attempt(self, pending: PendingStatement, stored: bool, error: str) -> Attempt:
        if stored:
            return Attempt(pending.puid, pending.item_id, SubmissionState.STORED, "", self._clock())
        reason = (error.strip() or "no reason given")[:MAX_ERROR]
        return Attempt(pending.puid, pending.item_id, SubmissionState.FAILED, reason, self._clock())

    def _record(self, run: _Run, attempts: Sequence[Attempt]) -> None:
        # Recorded after each batch: a run stopped midway keeps what it learnt.
        self._submissions.record(attempts)
        run.add(attempts)


class _Run:
    """The counts of one run, as it goes."""

    def __init__(self, skipped: int) -> None:
        self.skipped = skipped
        self.requests = 0
        self.attempts: list[Attempt] = []

    def add(self, attempts: Sequence[Attempt]) -> None:
        self.attempts.extend(attempts)

    def report(self) -> SubmissionReport:
        failures = tuple(a for a in self.attempts if a.state is SubmissionState.FAILED)
        return SubmissionReport(
            stored=len(self.attempts) - len(failures),
            failed=len(failures),
            skipped=self.skipped,
            requests=self.requests,
            failures=failures,
        )
