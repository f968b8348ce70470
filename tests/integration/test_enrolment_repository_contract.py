"""EnrolmentRepository adapters (memory, SQLite, PostgreSQL): one contract. Consent
records and templates are stored sealed; ending an enrolment deletes its templates; the
service over a database finds enrolled faces again after a restart."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, text

from shieldwall.errors import ConflictError, NotFoundError
from shieldwall.likeness.memory import InMemoryEnrolmentRepository
from shieldwall.likeness.models import EnrolmentState, Statement, consent_from_mapping
from shieldwall.likeness.service import EnrolmentService
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.enrolment_repositories import SqlEnrolmentRepository
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.sealing import Sealer
from tests.integration.conftest import SQL_BACKENDS
from tests.support.clock import FakeClock

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
KEY = Sealer(secrets.token_bytes(32))
Repository = InMemoryEnrolmentRepository | SqlEnrolmentRepository


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def stores(request: pytest.FixtureRequest) -> Iterator[tuple[Repository, Engine | None]]:
    """Each adapter on empty storage, and its engine (None in memory)."""
    if request.param == "memory":
        yield InMemoryEnrolmentRepository(), None
        return
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade_database(url)
    engine = create_database_engine(url)
    yield SqlEnrolmentRepository(engine, KEY), engine
    engine.dispose()


def consent(**changes: Any) -> Any:
    values: dict[str, Any] = {
        "enrollee": "guardian",
        "guardian_name": "Ana Ruiz",
        "guardian_signature": "Ana Ruiz",
        "email": "ana@example.org",
        "statements": [s.value for s in Statement],
        **changes,
    }
    return consent_from_mapping(values, NOW)


def test_an_enrolment_is_kept_with_its_consent_and_found_by_number(
    stores: tuple[Repository, Engine | None],
) -> None:
    repository, _ = stores
    given = consent(term_days=30)
    created = repository.create("EN-AAAA-0001", "a" * 64, given, b"sealed", 2)
    assert created.state is EnrolmentState.ACTIVE
    found = repository.find("EN-AAAA-0001")
    assert found is not None
    assert (found.number, found.state, found.templates, found.ended_at) == (
        "EN-AAAA-0001",
        EnrolmentState.ACTIVE,
        2,
        None,
    )
    assert found.consent == given
    assert repository.secret_hash("EN-AAAA-0001") == "a" * 64
    assert repository.secret_hash("EN-ZZZZ-9999") is None
    assert repository.find("EN-ZZZZ-9999") is None
    assert repository.sealed_of("EN-AAAA-0001") == b"sealed"
    with pytest.raises(ConflictError):
        repository.create("EN-AAAA-0001", "b" * 64, given, b"other", 1)


def test_ending_deletes_the_templates_once_and_due_finds_terms_that_are_over(
    stores: tuple[Repository, Engine | None],
) -> None:
    repository, _ = stores
    repository.create("EN-AAAA-0001", "a" * 64, consent(term_days=10), b"one", 1)
    repository.create("EN-AAAA-0002", "a" * 64, consent(term_days=20), b"two", 1)
    repository.create("EN-AAAA-0003", "a" * 64, consent(term_days=5), b"three", 1)
    assert repository.due(NOW + timedelta(days=4)) == []
    assert repository.due(NOW + timedelta(days=10)) == ["EN-AAAA-0001", "EN-AAAA-0003"]
    withdrawn, ended_now = repository.end("EN-AAAA-0003", EnrolmentState.WITHDRAWN, NOW)
    assert (withdrawn.state, withdrawn.templates, withdrawn.ended_at, ended_now) == (
        EnrolmentState.WITHDRAWN,
        0,
        NOW,
        True,
    )
    assert repository.sealed_of("EN-AAAA-0003") == b""
    later, again = repository.end("EN-AAAA-0003", EnrolmentState.EXPIRED, NOW + timedelta(days=1))
    assert (later.state, later.ended_at, again) == (EnrolmentState.WITHDRAWN, NOW, False)
    assert repository.due(NOW + timedelta(days=10)) == ["EN-AAAA-0001"]
    assert [n for n, _, _ in repository.active_templates()] == ["EN-AAAA-0001", "EN-AAAA-0002"]
    with pytest.raises(NotFoundError):
        repository.end("EN-ZZZZ-9999", EnrolmentState.WITHDRAWN, NOW)


@pytest.fixture(params=SQL_BACKENDS)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An upgraded, empty database (rows to read behind the adapter's back)."""
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade_database(url)
    engine = create_database_engine(url)
    yield engine
    engine.dispose()


def test_the_database_holds_the_consent_and_templates_only_sealed(engine: Engine) -> None:
    repository = SqlEnrolmentRepository(engine, KEY)
    rng = np.random.default_rng(7)
    template = rng.normal(size=128).astype(np.float32)
    template /= np.linalg.norm(template)
    clock = FakeClock(NOW)
    service = EnrolmentService(repository, KEY, clock)
    enrolment, secret = service.enrol(consent(), [template])
    with engine.connect() as connection:
        consent_text, sealed = connection.execute(
            text("SELECT consent, templates FROM enrolments WHERE number = :n"),
            {"n": enrolment.number},
        ).one()
    assert "Ana Ruiz" not in consent_text
    assert "ana@example.org" not in consent_text
    assert template.astype("<f4").tobytes() not in bytes(sealed)
    restarted = EnrolmentService(SqlEnrolmentRepository(engine, KEY), KEY, clock)
    assert [m.number for m in restarted.likeness(template)] == [enrolment.number]
    assert restarted.withdraw(enrolment.number, secret).state is EnrolmentState.WITHDRAWN
    with engine.connect() as connection:
        gone = connection.execute(
            text("SELECT templates FROM enrolments WHERE number = :n"), {"n": enrolment.number}
        ).scalar_one()
    assert gone is None
    assert (
        EnrolmentService(SqlEnrolmentRepository(engine, KEY), KEY, clock).likeness(template) == []
    )


def test_notices_are_kept_in_order_per_enrolment(stores: tuple[Repository, Engine | None]) -> None:
    repository, _ = stores
    repository.create("EN-AAAA-0001", "a" * 64, consent(), b"one", 1)
    repository.create("EN-AAAA-0002", "a" * 64, consent(), b"two", 1)
    repository.add_notice("EN-AAAA-0001", NOW + timedelta(days=2))
    repository.add_notice("EN-AAAA-0001", NOW + timedelta(days=1))
    first = repository.find("EN-AAAA-0001")
    second = repository.find("EN-AAAA-0002")
    assert first is not None
    assert second is not None
    assert second.acted_on == ()
    assert first.acted_on == (NOW + timedelta(days=1), NOW + timedelta(days=2))


def test_an_enrolment_made_or_withdrawn_in_one_worker_counts_in_another_at_once(
    stores: tuple[Repository, Engine | None],
) -> None:
    repository, _ = stores
    clock = FakeClock(NOW)
    first, second = (
        EnrolmentService(repository, KEY, clock),
        EnrolmentService(repository, KEY, clock),
    )
    template = np.ones(128, np.float32) / np.sqrt(128)
    assert second.likeness(template) == []  # its index is built, empty
    enrolment, secret = first.enrol(consent(), [template])
    assert [m.number for m in second.likeness(template)] == [enrolment.number]
    first.withdraw(enrolment.number, secret)
    assert second.likeness(template) == []
    revision = repository.templates_revision()
    assert repository.templates_revision() == revision  # nothing changed: no rebuild
