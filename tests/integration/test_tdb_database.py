"""Transparency Database submissions: the record on every back end, the HTTP adapter against
the local stand-in (tests/support/tdb_standin.py), and the key check: the stand-in, which
applies the database's schema table, takes every statement Shieldwall makes for real decided
items."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shieldwall.errors import InvalidInputError, NotFoundError, UnavailableError
from shieldwall.integrations.transparency_db import HttpTransparencyDatabase
from shieldwall.review.models import DEFAULT_GROUNDS
from shieldwall.review.statements import statements_between
from shieldwall.review.tdb_memory import InMemorySubmissionRepository
from shieldwall.review.tdb_submissions import (
    Answer,
    Attempt,
    StatementSubmitter,
    SubmissionRepository,
    SubmissionState,
    pending_statements,
)
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.review_repositories import SqlReviewRepository
from shieldwall.storage.tdb_submission_repositories import SqlSubmissionRepository
from tests.integration.conftest import SQL_BACKENDS
from tests.integration.test_cli_decisions import seed
from tests.support.backends import on_backend
from tests.support.decided_items import seed_varied, statement_id
from tests.support.server import free_port
from tests.support.tdb_standin import TOKEN, TdbStandIn, running_standin

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
STATEMENT: dict[str, Any] = {
    "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
    "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "incompatible_content_ground": "Terms of service 4.2",
    "incompatible_content_explanation": "Intimate image shared without consent.",
    "content_type": ["CONTENT_TYPE_IMAGE"],
    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "category_specification": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
    "territorial_scope": [],
    "content_date": "2026-11-30",
    "application_date": "2026-12-01",
    "decision_facts": "A reviewer confirmed a hash-bank match.",
    "source_type": "SOURCE_VOLUNTARY",
    "automated_detection": "Yes",
    "automated_decision": "AUTOMATED_DECISION_PARTIALLY",
    "puid": "sw-0c6f3f0e",
}
DECEMBER = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC))


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def records(request: pytest.FixtureRequest) -> Iterator[SubmissionRepository]:
    made: Iterator[SubmissionRepository] = on_backend(
        request, InMemorySubmissionRepository, SqlSubmissionRepository
    )
    yield from made


@pytest.fixture
def standin() -> Iterator[TdbStandIn]:
    with running_standin() as running:
        yield running


def _attempt(puid: str, state: SubmissionState, at: datetime, error: str = "") -> Attempt:
    return Attempt(puid, int(puid.rsplit("-", 1)[-1]), state, error, at)


def test_submissions_are_recorded_by_puid(records: SubmissionRepository) -> None:
    later = NOW + timedelta(hours=1)
    records.record(
        [
            _attempt("sw-2", SubmissionState.FAILED, NOW, "HTTP 500: Server Error"),
            _attempt("sw-1", SubmissionState.STORED, NOW),
        ]
    )
    records.record([_attempt("sw-3", SubmissionState.FAILED, later, "refused (422): puid")])
    assert records.stored_among(["sw-1", "sw-2", "sw-3", "sw-9"]) == {"sw-1"}
    assert [s.puid for s in records.listed()] == ["sw-1", "sw-2", "sw-3"]
    assert [s.puid for s in records.listed(SubmissionState.FAILED)] == ["sw-2", "sw-3"]
    records.record(
        [
            _attempt("sw-2", SubmissionState.STORED, later),
            _attempt("sw-1", SubmissionState.FAILED, later, "must not count"),
        ]
    )
    retried = records.get("sw-2")
    assert (retried.item_id, retried.state, retried.attempts, retried.last_error) == (
        2,
        SubmissionState.STORED,
        2,
        "",
    )
    assert (retried.first_attempt_at, retried.last_attempt_at) == (NOW, later)
    kept = records.get("sw-1")
    assert (kept.state, kept.attempts, kept.last_attempt_at) == (SubmissionState.STORED, 1, NOW)
    with pytest.raises(NotFoundError):
        records.get("sw-9")
    records.record([])


def test_many_puids_are_looked_up_at_once(records: SubmissionRepository) -> None:
    puids = [f"sw-{i}" for i in range(1200)]
    records.record([_attempt(p, SubmissionState.STORED, NOW) for p in puids[::2]])
    assert records.stored_among(puids) == set(puids[::2])


def test_the_adapter_speaks_the_wire_format(standin: TdbStandIn) -> None:
    statement = dict(STATEMENT)
    with HttpTransparencyDatabase(standin.url + "/", TOKEN) as api:
        assert api.exists(statement["puid"]) is False
        assert api.submit([statement]).answer is Answer.STORED
        assert api.exists(statement["puid"]) is True
        refused = api.submit([statement, {**statement, "puid": "sw-new", "category": "X"}])
        assert refused.answer is Answer.REFUSED
        assert "statements.0.puid: The identifier given is not unique" in refused.detail
        assert "statements.1.category: The selected category is invalid." in refused.detail
        alone = api.submit_one({**statement, "puid": "sw-alone"})
        assert alone.answer is Answer.STORED
        standin.fail_next(2)
        failed = api.submit([{**statement, "puid": "sw-later"}])
        assert (failed.answer, failed.detail) == (Answer.FAILED, "HTTP 500: Server Error")
        with pytest.raises(UnavailableError, match="HTTP 500"):
            api.exists("sw-later")
    assert set(standin.statements) == {statement["puid"], "sw-alone"}
    assert {r.authorization for r in standin.seen} == {f"Bearer {TOKEN}"}
    assert {r.accept for r in standin.seen} == {"application/json"}
    assert [r.path for r in standin.seen][:2] == [
        f"/api/v1/statement/existing-puid/{statement['puid']}",
        "/api/v1/statements",
    ]


def test_a_refused_token_stops_without_saying_it(standin: TdbStandIn) -> None:
    with HttpTransparencyDatabase(standin.url, "not-the-token") as api:
        with pytest.raises(UnavailableError, match="401") as refused:
            api.submit([dict(STATEMENT)])
        with pytest.raises(UnavailableError, match="401"):
            api.exists("sw-1")
    assert "not-the-token" not in str(refused.value)
    assert standin.statements == {}


def test_no_answer_is_a_failure_to_retry() -> None:
    with HttpTransparencyDatabase(f"http://127.0.0.1:{free_port()}", TOKEN) as api:
        outcome = api.submit([dict(STATEMENT)])
        assert outcome.answer is Answer.FAILED
        assert outcome.detail.startswith("no answer from the Transparency Database (ConnectError")
        with pytest.raises(UnavailableError, match="no answer"):
            api.exists("sw-1")


@pytest.mark.parametrize(("url", "token"), [("ftp://tdb.test", TOKEN), ("http://tdb.test", " ")])
def test_the_adapter_needs_an_http_url_and_a_token(url: str, token: str) -> None:
    with pytest.raises(InvalidInputError, match="tdb_"):
        HttpTransparencyDatabase(url, token)


@pytest.mark.parametrize(
    "options",
    [{}, {"territorial_scope": ["de", "GR", "IE"], "content_language": "el", "synthetic": True}],
)
def test_the_database_takes_every_statement_shieldwall_makes(
    standin: TdbStandIn, tmp_path: Path, options: dict[str, Any]
) -> None:
    """The key check: real decided items of every kind, their statements built as
    `decisions submit` builds them (with and without scope and language), all taken."""
    url = f"sqlite:///{tmp_path / 'variety.db'}"
    seed(url)
    seed_varied(url, 150)
    engine = create_database_engine(url)
    try:
        items = SqlReviewRepository(engine).decided_between(*DECEMBER)
    finally:
        engine.dispose()
    statements = statements_between(items, {g.code: g for g in DEFAULT_GROUNDS}, **options)
    assert len(statements) == 152
    with HttpTransparencyDatabase(standin.url, TOKEN) as api:
        submitter = StatementSubmitter(api, InMemorySubmissionRepository(), clock=lambda: NOW)
        report = submitter.submit(pending_statements(items, statements))
    assert report.failures == ()
    assert (report.stored, report.requests) == (152, 2)
    assert set(standin.statements) == {s["puid"] for s in statements}
    assert statement_id(149) in standin.statements
