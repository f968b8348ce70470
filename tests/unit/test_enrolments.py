"""Enrolments for likeness protection: the consent record (a person, or a guardian with a
typed signature; every statement; a term of at most three years), templates sealed at
rest and never returned, the likeness question, withdrawal and expiry deleting templates
at once (and told to the audit), and a wrong secret answered like an unknown number."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from shieldwall.errors import InvalidInputError, NotFoundError, StorageError
from shieldwall.likeness.memory import InMemoryEnrolmentRepository
from shieldwall.likeness.models import (
    DEFAULT_TERM_DAYS,
    MAX_TERM_DAYS,
    Enrollee,
    Enrolment,
    EnrolmentState,
    Statement,
    consent_from_mapping,
    templates_from_lists,
)
from shieldwall.likeness.service import EnrolmentService, normalise_enrolment_number
from shieldwall.storage.sealing import Sealer
from tests.support.clock import FakeClock

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
EVERY_STATEMENT = [s.value for s in Statement]


def fields(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"enrollee": "self", "statements": EVERY_STATEMENT}
    values.update(changes)
    return values


def unit(rng: np.random.Generator) -> np.ndarray:
    vector = rng.normal(size=128).astype(np.float32)
    return np.asarray(vector / np.linalg.norm(vector), np.float32)


def near(template: np.ndarray, rng: np.random.Generator, noise: float = 0.03) -> np.ndarray:
    """Another photo of the same person, as far as templates go: a little off."""
    moved = template + rng.normal(scale=noise, size=128).astype(np.float32)
    return np.asarray(moved / np.linalg.norm(moved), np.float32)


KEY = Sealer(secrets.token_bytes(32))
"""The deployment's data key."""


@pytest.fixture
def world() -> tuple[EnrolmentService, InMemoryEnrolmentRepository, FakeClock, list[Any]]:
    repository = InMemoryEnrolmentRepository()
    clock = FakeClock(NOW)
    service = EnrolmentService(repository, KEY, clock)
    ended: list[Any] = []
    service.on_ended(lambda enrolment, why: ended.append((enrolment.number, why)))
    return service, repository, clock, ended


def test_a_persons_own_consent_with_every_statement_and_the_default_term() -> None:
    consent = consent_from_mapping(fields(), NOW)
    assert consent.enrollee is Enrollee.SELF
    assert consent.statements == frozenset(Statement)
    assert consent.term_days == DEFAULT_TERM_DAYS
    assert consent.expires_at == NOW + timedelta(days=365)
    assert consent.purpose_version


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"statements": EVERY_STATEMENT[:-1]}, "every statement"),
        ({"statements": "all"}, "every statement"),
        ({"statements": [*EVERY_STATEMENT, {"a": 1}]}, "not one of the statements"),
        ({"statements": [*EVERY_STATEMENT, "something"]}, "not one of the statements"),
        ({"enrollee": "friend"}, "enrollee"),
        ({"term_days": MAX_TERM_DAYS + 1}, "term_days"),
        ({"term_days": 0}, "term_days"),
        ({"term_days": True}, "term_days"),
        ({"enrollee": "guardian"}, "guardian gives their name"),
        (
            {"enrollee": "guardian", "guardian_name": "Ana Ruiz", "guardian_signature": "A R"},
            "signature must be their name",
        ),
        ({"email": "not an address"}, "email"),
        ({"photo": "..."}, "unknown field 'photo'"),
        ({"guardian_name": "x" * 201}, "at most 200"),
    ],
)
def test_consent_without_each_required_part_is_refused(
    changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        consent_from_mapping(fields(**changes), NOW)


def test_a_guardian_enrols_a_child_with_a_typed_signature_for_up_to_three_years() -> None:
    consent = consent_from_mapping(
        fields(
            enrollee="guardian",
            guardian_name="  Ana   Ruiz ",
            guardian_signature="Ana Ruiz",
            term_days=MAX_TERM_DAYS,
        ),
        NOW,
    )
    assert (consent.enrollee, consent.guardian_name) == (Enrollee.GUARDIAN, "Ana Ruiz")
    assert consent.expires_at == NOW + timedelta(days=3 * 365)


def test_templates_are_checked_and_made_unit_length() -> None:
    [template] = templates_from_lists([[2.0] * 128])
    assert float(np.linalg.norm(template)) == pytest.approx(1.0)
    for bad in (
        [],
        [[0.0] * 128],
        [[1.0] * 127],
        [[float("nan")] * 128],
        [[True] * 128],
        [[1e308] * 128],
        [[10**400] * 128],
        [["1.0"] * 128],
        "x",
    ):
        with pytest.raises(InvalidInputError):
            templates_from_lists(bad)
    with pytest.raises(InvalidInputError, match="1 to 5"):
        templates_from_lists([[1.0] * 128] * 6)


def test_enrolled_templates_are_sealed_and_answer_only_the_likeness_question(
    world: tuple[EnrolmentService, InMemoryEnrolmentRepository, FakeClock, list[Any]],
) -> None:
    service, repository, _, _ = world
    rng = np.random.default_rng(1)
    person, other = unit(rng), unit(rng)
    enrolment, secret = service.enrol(consent_from_mapping(fields(), NOW), [person])
    assert enrolment.number.startswith("EN-")
    assert (enrolment.state, enrolment.templates) == (EnrolmentState.ACTIVE, 1)
    assert len(secret) >= 24
    stored = repository.sealed_of(enrolment.number)
    assert person.astype("<f4").tobytes() not in stored  # sealed, not the plain numbers
    assert not hasattr(enrolment, "template")  # an enrolment never carries its templates
    [match] = service.likeness(near(person, rng))
    assert match.number == enrolment.number
    assert match.similarity > 0.9
    assert service.likeness(other) == []  # someone else is no match


def test_the_index_is_rebuilt_from_the_sealed_store_and_needs_the_right_key(
    world: tuple[EnrolmentService, InMemoryEnrolmentRepository, FakeClock, list[Any]],
) -> None:
    service, repository, clock, _ = world
    rng = np.random.default_rng(2)
    person = unit(rng)
    enrolment, _ = service.enrol(consent_from_mapping(fields(), NOW), [person, near(person, rng)])
    restarted = EnrolmentService(repository, KEY, clock)  # a worker started afterwards
    assert [m.number for m in restarted.likeness(near(person, rng))] == [enrolment.number]
    stranger = EnrolmentService(repository, Sealer(secrets.token_bytes(32)), clock)
    with pytest.raises(StorageError):
        stranger.likeness(person)


def test_withdrawal_deletes_the_templates_at_once_and_is_told(
    world: tuple[EnrolmentService, InMemoryEnrolmentRepository, FakeClock, list[Any]],
) -> None:
    service, repository, _, ended = world
    rng = np.random.default_rng(3)
    person = unit(rng)
    enrolment, secret = service.enrol(consent_from_mapping(fields(), NOW), [person])
    assert service.likeness(person)
    typed = enrolment.number.lower().replace("-", " ")
    withdrawn = service.withdraw(typed, secret)
    assert (withdrawn.state, withdrawn.templates) == (EnrolmentState.WITHDRAWN, 0)
    assert withdrawn.ended_at == NOW
    assert repository.sealed_of(enrolment.number) == b""
    assert service.likeness(person) == []
    assert ended == [(enrolment.number, "withdrawn")]
    assert service.open(enrolment.number, secret).state is EnrolmentState.WITHDRAWN
    assert service.withdraw(enrolment.number, secret).state is EnrolmentState.WITHDRAWN
    assert ended == [(enrolment.number, "withdrawn")]  # told once


def test_expiry_ends_enrolments_past_their_term_only(
    world: tuple[EnrolmentService, InMemoryEnrolmentRepository, FakeClock, list[Any]],
) -> None:
    service, _, clock, ended = world
    rng = np.random.default_rng(4)
    short, long = unit(rng), unit(rng)
    first, _ = service.enrol(consent_from_mapping(fields(term_days=30), NOW), [short])
    second, _ = service.enrol(consent_from_mapping(fields(term_days=90), NOW), [long])
    assert service.expire() == []
    clock.advance(timedelta(days=30))
    expired: list[Enrolment] = service.expire()
    assert [(e.number, e.state) for e in expired] == [(first.number, EnrolmentState.EXPIRED)]
    assert service.likeness(short) == []
    assert [m.number for m in service.likeness(long)] == [second.number]
    assert ended == [(first.number, "expired")]
    assert service.expire() == []


def test_a_wrong_secret_and_an_unknown_number_get_the_same_answer(
    world: tuple[EnrolmentService, InMemoryEnrolmentRepository, FakeClock, list[Any]],
) -> None:
    service, _, _, _ = world
    enrolment, _ = service.enrol(
        consent_from_mapping(fields(), NOW), [unit(np.random.default_rng(5))]
    )
    with pytest.raises(NotFoundError) as wrong:
        service.open(enrolment.number, "x" * 24)
    with pytest.raises(NotFoundError) as unknown:
        service.open("EN-0000-0000", "x" * 24)
    assert str(wrong.value) == str(unknown.value)
    with pytest.raises(NotFoundError):
        service.withdraw(enrolment.number, "x" * 24)
    assert normalise_enrolment_number("en 0o00 1111") == "EN-0000-1111"


def test_two_workers_expiring_at_once_end_and_report_each_enrolment_once(
    world: tuple[EnrolmentService, InMemoryEnrolmentRepository, FakeClock, list[Any]],
) -> None:
    service, repository, clock, ended = world
    rng = np.random.default_rng(6)
    person = unit(rng)
    enrolment, _ = service.enrol(consent_from_mapping(fields(term_days=1), NOW), [person])
    other = EnrolmentService(repository, KEY, clock)  # another worker, its index loaded
    assert other.likeness(person)
    told: list[str] = []
    other.on_ended(lambda e, why: told.append(e.number))
    clock.advance(timedelta(days=1))
    stale = repository.due(clock())  # what the other worker read a moment before
    assert [e.number for e in service.expire()] == [enrolment.number]
    repository.due = lambda now: stale  # type: ignore[method-assign]
    assert other.expire() == []  # it was ended meanwhile: not reported twice
    assert told == []
    assert ended == [(enrolment.number, "expired")]
    assert other.likeness(person) == []
