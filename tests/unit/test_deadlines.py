"""Takedown clocks: per jurisdiction, fixed at receipt; at risk and overdue; the leads told
once per case and state, whoever checks; tests move the injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shieldwall.deadlines import ClockState, DeadlinePolicy, clock_hours, country_hours
from shieldwall.errors import InvalidInputError
from shieldwall.integrations.mail import NullNotifier
from shieldwall.review.deadlines import DeadlineWatch
from shieldwall.review.memory import InMemoryAlertStore
from shieldwall.review.models import DecisionInput, DecisionKind
from tests.support.factories import jpeg
from tests.support.review_world import ALICE, NOW, ReviewWorld, review_world

POLICY = DeadlinePolicy(timedelta(hours=48), {"DE": timedelta(hours=24)}, timedelta(hours=12))


def watch(
    world: ReviewWorld, leads: tuple[str, ...] = ("lead@ngo.example",)
) -> tuple[DeadlineWatch, NullNotifier]:
    mail = NullNotifier(leads=leads)
    return DeadlineWatch(world.items, InMemoryAlertStore(), mail, POLICY, world.clock), mail


@pytest.mark.parametrize(
    ("left", "state"),
    [
        (timedelta(hours=13), ClockState.ON_TIME),
        (timedelta(hours=12), ClockState.AT_RISK),
        (timedelta(seconds=1), ClockState.AT_RISK),
        (timedelta(0), ClockState.OVERDUE),
        (timedelta(hours=-5), ClockState.OVERDUE),
    ],
)
def test_a_clock_is_on_time_at_risk_or_overdue(left: timedelta, state: ClockState) -> None:
    assert POLICY.state(NOW + left, NOW) is state


def test_a_case_takes_its_jurisdictions_clock_fixed_when_received() -> None:
    world = review_world(deadlines=POLICY)
    german = world.file_case(jpeg(71), country="de")
    spanish = world.file_case(jpeg(79), country="es")
    assert german.deadline == NOW + timedelta(hours=24)
    assert spanish.deadline == NOW + timedelta(hours=48)
    assert world.cases.get(german.number).deadline == NOW + timedelta(hours=24)
    [item] = world.items.items_of_case(german.number)
    assert item.deadline == german.deadline  # the review item carries the case's clock


def test_leads_are_told_once_when_a_case_turns_at_risk_and_once_when_overdue() -> None:
    world = review_world(deadlines=POLICY)
    case = world.file_case(jpeg(73), depicted_minor=True, name="")
    checker, mail = watch(world)
    assert checker.check().sent == []
    world.clock.advance(timedelta(hours=36, minutes=1))
    first = checker.check()
    assert first.sent == [(case.number, ClockState.AT_RISK)]
    assert first.count(ClockState.AT_RISK) == 1
    assert checker.check().sent == []  # told once
    world.clock.advance(timedelta(hours=12))
    assert checker.check().sent == [(case.number, ClockState.OVERDUE)]
    at_risk, overdue = mail.sent
    assert at_risk["To"] == "lead@ngo.example"
    assert at_risk["Subject"] == f"[Shieldwall] {case.number} is at risk"
    assert "11 h 59 min left" in at_risk.get_content()
    assert "Shows a minor: yes" in at_risk.get_content()
    assert overdue["Subject"] == f"[Shieldwall] {case.number} is OVERDUE"
    assert "0 h 1 min past the deadline" in overdue.get_content()
    for message in mail.sent:  # nothing about the person
        assert "ana@example.org" not in message.get_content()


def test_two_workers_checking_at_once_send_one_alert() -> None:
    world = review_world(deadlines=POLICY)
    world.file_case(jpeg(74))
    store, mail = InMemoryAlertStore(), NullNotifier(leads=("lead@ngo.example",))
    workers = [DeadlineWatch(world.items, store, mail, POLICY, world.clock) for _ in range(2)]
    world.clock.advance(timedelta(hours=40))
    assert [len(w.check().sent) for w in workers] == [1, 0]
    assert len(mail.sent) == 1


def test_a_decided_case_stops_its_clock() -> None:
    world = review_world(deadlines=POLICY)
    case = world.file_case(jpeg(75))
    [item] = world.items.items_of_case(case.number)
    world.review.claim(item.id, ALICE)
    accept = DecisionInput(DecisionKind.ACCEPT, ground="take-it-down-act", facts="A valid notice.")
    world.review.decide(item.id, ALICE, accept)
    checker, mail = watch(world)
    world.clock.advance(timedelta(days=3))
    assert checker.check().clocks == []
    assert mail.sent == []


def test_without_lead_emails_the_alert_is_recorded_and_nothing_is_sent() -> None:
    world = review_world(deadlines=POLICY)
    world.file_case(jpeg(76))
    checker, mail = watch(world, leads=())
    world.clock.advance(timedelta(hours=47))
    assert len(checker.check().sent) == 1
    assert mail.sent == []


def test_clocks_group_a_cases_items_and_put_the_nearest_first() -> None:
    world = review_world(deadlines=POLICY)
    later = world.file_case(jpeg(77), country="es")
    sooner = world.file_case(jpeg(78), country="de")
    world.screening.screen_content(jpeg(78), None)
    checker, _ = watch(world)
    clocks = checker.clocks()
    assert [c.subject for c in clocks] == [sooner.number, later.number]
    assert clocks[0].state is ClockState.ON_TIME


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("DE=24, fr=12", {"DE": timedelta(hours=24), "FR": timedelta(hours=12)}),
        ({"de": 24}, {"DE": timedelta(hours=24)}),
        ("", {}),
    ],
)
def test_clocks_by_country_are_read_from_a_table_or_a_list(
    value: object, expected: dict[str, timedelta]
) -> None:
    assert country_hours(value, "deadline_hours_by_country") == expected


@pytest.mark.parametrize("value", ["DE", "DEU=24", "DE=0", "DE=721", "DE=soon", 24])
def test_a_wrong_clock_by_country_is_refused_by_name(value: object) -> None:
    with pytest.raises(InvalidInputError, match="deadline_hours_by_country"):
        country_hours(value, "deadline_hours_by_country")


def test_a_clock_is_whole_hours_from_one_to_a_month() -> None:
    assert clock_hours("48", "deadline_hours") == 48
    for wrong in ("0", "721", "1.5", True):
        with pytest.raises(InvalidInputError, match="deadline_hours"):
            clock_hours(wrong, "deadline_hours")
