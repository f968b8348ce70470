"""Notices for a case's links: the platform each is on, email where the platform has an
address (once), export for its web form, and the platforms' answers against their
deadlines (no answer by then reads `no_answer`); tests move the injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shieldwall.audit.memory import InMemoryAuditLog
from shieldwall.audit.models import Actor, ActorKind
from shieldwall.deadlines import ClockState, DeadlinePolicy
from shieldwall.errors import InvalidInputError
from shieldwall.integrations.mail import NullNotifier
from shieldwall.integrations.notices import notice_subject_and_body
from shieldwall.review.deadlines import DeadlineWatch
from shieldwall.review.memory import InMemoryAlertStore
from shieldwall.takedown.directory import PlatformDirectory
from shieldwall.takedown.memory import InMemoryNoticeRepository, InMemoryPlatformRepository
from shieldwall.takedown.service import NoticeService, Signatory
from shieldwall.takedown.tracking import NoticeMethod, NoticeState
from tests.support.factories import jpeg
from tests.support.review_world import NOW, ReviewWorld, review_world

SIGNATORY = Signatory("Helpline <help@helpline.example>", "Helpline", "help@helpline.example")
LOCATORS = [
    {"kind": "url", "value": "https://m.examplegram.example/p/1"},
    {"kind": "url", "value": "https://formgram.example/v/2"},
    {"kind": "url", "value": "https://unknown.example/x"},
    {"kind": "platform", "value": "a school group chat"},
]


def platforms() -> PlatformDirectory:
    """Examplegram (abuse email, 48 h) and Formgram (web form, 24 h), both under the TIDA."""
    directory = PlatformDirectory(InMemoryPlatformRepository())
    common = {"jurisdiction": "US", "bases": ["take_it_down"], "deadline_hours": 48}
    directory.add(
        {
            **common,
            "name": "examplegram",
            "abuse_email": "abuse@examplegram.example",
            "hosts": ["examplegram.example"],
        }
    )
    directory.add(
        {
            **common,
            "name": "formgram",
            "abuse_form": "https://formgram.example/report",
            "hosts": ["formgram.example"],
            "deadline_hours": 24,
        }
    )
    return directory


def service(
    world: ReviewWorld, audit: InMemoryAuditLog | None = None
) -> tuple[NoticeService, NullNotifier]:
    mail = NullNotifier()
    notices = NoticeService(
        world.cases,
        platforms(),
        InMemoryNoticeRepository(),
        notice_subject_and_body,
        SIGNATORY,
        sender=mail,
        clock=world.clock,
        audit=audit,
    )
    return notices, mail


def test_each_link_on_a_known_platform_gets_its_notice_once() -> None:
    world = review_world()
    case = world.file_case(jpeg(83), locators=LOCATORS)
    notices, mail = service(world)
    prepared = notices.prepared(case.number)
    assert [(p.platform.name, p.method) for p in prepared] == [
        ("examplegram", NoticeMethod.EMAIL),
        ("formgram", NoticeMethod.EXPORT),
    ]
    [sent] = notices.send(case.number)
    assert (sent.platform, sent.method, sent.deadline) == (
        "examplegram",
        NoticeMethod.EMAIL,
        NOW + timedelta(hours=48),
    )
    [message] = mail.sent
    assert message["To"] == "abuse@examplegram.example"
    assert case.number in message["Subject"]
    assert "https://m.examplegram.example/p/1" in message.get_content()
    assert not message.is_multipart()
    assert notices.send(case.number) == []  # sent once
    exported = notices.exported(case.number, prepared[1])
    assert exported.method is NoticeMethod.EXPORT
    assert [n.platform for n in notices.notices(case.number)] == ["examplegram", "formgram"]


def test_answers_and_deadlines_give_each_notice_its_state() -> None:
    world = review_world()
    case = world.file_case(jpeg(84), locators=LOCATORS)
    notices, _ = service(world)
    [emailed] = notices.send(case.number)
    form = notices.exported(case.number, notices.prepared(case.number)[1])
    assert emailed.state(world.clock()) is NoticeState.NOTIFIED
    acknowledged = notices.answer(emailed.id, NoticeState.ACKNOWLEDGED, "ref 77", "ana")
    assert acknowledged.state(world.clock()) is NoticeState.ACKNOWLEDGED
    world.clock.advance(timedelta(hours=25))
    assert notices.notices(case.number)[1].state(world.clock()) is NoticeState.NO_ANSWER
    refused = notices.answer(form.id, NoticeState.REFUSED, "says it is satire", "ana")
    assert refused.state(world.clock()) is NoticeState.REFUSED
    world.clock.advance(timedelta(hours=24))
    assert notices.notices(case.number)[0].state(world.clock()) is NoticeState.NO_ANSWER
    removed = notices.answer(emailed.id, NoticeState.REMOVED, "", "ana")
    assert removed.state(world.clock()) is NoticeState.REMOVED
    with pytest.raises(InvalidInputError):
        notices.answer(emailed.id, NoticeState.NO_ANSWER, "", "ana")


def test_without_a_mail_server_notices_are_exported_not_sent() -> None:
    world = review_world()
    case = world.file_case(jpeg(85), locators=LOCATORS)
    notices, _ = service(world)
    unsent = NoticeService(
        world.cases,
        PlatformDirectory(InMemoryPlatformRepository()),
        InMemoryNoticeRepository(),
        notice_subject_and_body,
        SIGNATORY,
    )
    with pytest.raises(InvalidInputError, match="smtp_url"):
        unsent.send(case.number)
    assert notices.prepared(case.number)  # the directory of `service` knows them


def test_a_recheck_date_brings_the_link_back_and_leads_hear_once_per_date() -> None:
    world = review_world()
    case = world.file_case(jpeg(86), locators=LOCATORS)
    notices, _ = service(world)
    [emailed] = notices.send(case.number)
    leads = NullNotifier(leads=["lena@helpline.example"])
    watch = DeadlineWatch(
        world.items, InMemoryAlertStore(), leads, DeadlinePolicy(), world.clock, notices
    )
    policy = DeadlinePolicy()
    [clock] = notices.clocks(policy)
    assert (clock.due, clock.clock) == (emailed.deadline, ClockState.ON_TIME)
    world.clock.advance(timedelta(hours=49))  # the platform's 48 hours passed unanswered
    [clock] = notices.clocks(policy)
    assert (clock.state, clock.clock) == (NoticeState.NO_ANSWER, ClockState.OVERDUE)
    first = watch.check()
    assert (clock.subject, ClockState.OVERDUE) in first.sent
    assert (clock.subject, ClockState.OVERDUE) not in watch.check().sent  # told once
    [alert] = [m for m in leads.sent if "notice to examplegram" in m["Subject"]]
    assert "no answer by its deadline" in alert["Subject"]
    assert "https://" not in alert.get_content()  # never the link: it may name the person
    recheck = world.clock() + timedelta(days=7)
    notices.answer(emailed.id, NoticeState.REMOVED, "gone", "ana", recheck)
    [clock] = notices.clocks(policy)
    assert (clock.due, clock.state, clock.clock) == (
        recheck,
        NoticeState.REMOVED,
        ClockState.ON_TIME,
    )
    world.clock.advance(timedelta(days=7))
    watch.check()
    [recheck_alert] = [m for m in leads.sent if "re-check" in m["Subject"]]
    assert case.number in recheck_alert["Subject"]
    notices.answer(emailed.id, NoticeState.REMOVED, "still gone", "ana")
    assert notices.clocks(policy) == []  # settled, nothing left to look at


def test_a_recheck_date_is_in_the_next_ninety_days_and_answers_are_audited() -> None:
    world = review_world()
    case = world.file_case(jpeg(87), locators=LOCATORS)
    audit = InMemoryAuditLog()
    notices, _ = service(world, audit)
    [emailed] = notices.send(case.number, actor=Actor(ActorKind.REVIEWER, "ana"))
    for when in (world.clock() - timedelta(hours=1), world.clock() + timedelta(days=91)):
        with pytest.raises(InvalidInputError, match="re-check"):
            notices.answer(emailed.id, NoticeState.ACKNOWLEDGED, "", "ana", when)
    with pytest.raises(InvalidInputError, match="who records"):
        notices.answer(emailed.id, NoticeState.ACKNOWLEDGED, "", "  ")
    notices.answer(emailed.id, NoticeState.ACKNOWLEDGED, "ref 9", "ana")
    exported = notices.prepared(case.number)[1]
    first = notices.exported(case.number, exported)
    assert notices.exported(case.number, exported) == first  # written out twice, one clock
    changes = [(r.actor.id, r.details["change"], r.subject.id) for r in audit.records()]
    assert changes == [
        ("ana", "sent", case.number),
        ("cli", "answer", case.number),
        ("cli", "sent", case.number),
    ]
