"""Likeness review items: explicit content that seems to show an enrolled person opens an
item carrying the detectors' findings and the enrolment number (never a name), minors
first; it never blocks by itself. Confirming it blocks the content from then on and tells
the enrolled person (status page, and email if given) without showing them the image."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from shieldwall.banks.models import MatchAction
from shieldwall.errors import InvalidInputError
from shieldwall.likeness.models import Statement, consent_from_mapping
from shieldwall.review.effects import ALLOWED_BANK, CONFIRMED_BANK
from shieldwall.review.models import (
    AutomatedDecision,
    DecisionInput,
    DecisionKind,
    DetectorFindings,
    EnrolledLikeness,
    ItemSource,
    ItemState,
    RemovalAction,
)
from shieldwall.signals.models import Signal
from tests.support.edits import jpeg_bytes
from tests.support.images import scene
from tests.support.review_world import ALICE, ReviewWorld, review_world

CONFIRM = DecisionInput(
    DecisionKind.CONFIRM,
    RemovalAction.REMOVE,
    "dsa-illegal-ncii",
    "A generated explicit image showing the enrolled person; C2PA says generated.",
)


def enrol(world: ReviewWorld, *, guardian: bool = False, email: str = "") -> tuple[str, str]:
    fields: dict[str, object] = {
        "enrollee": "guardian" if guardian else "self",
        "statements": [s.value for s in Statement],
        "email": email,
    }
    if guardian:
        fields |= {"guardian_name": "Marta Example", "guardian_signature": "Marta Example"}
    consent = consent_from_mapping(fields, world.clock())
    template = np.ones(128, np.float32) / np.sqrt(128)
    enrolment, secret = world.enrolments.enrol(consent, [template])
    return enrolment.number, secret


def findings(*numbers: str) -> DetectorFindings:
    return DetectorFindings(
        nudity=0.93,
        faces=1,
        likeness=tuple(EnrolledLikeness(n, 0.81) for n in numbers),
        provenance=(("Test generator 1.0", "c2pa:digitalSourceType", "trainedAlgorithmicMedia"),),
    )


def queue(world: ReviewWorld, content: bytes, *numbers: str, key: int = 4) -> int:
    item = world.review.queue_likeness(
        findings(*numbers),
        [Signal.of("sha256", hashlib.sha256(content).hexdigest())],
        content_ref="https://chat.example/m/1",
        key_id=key,
        content=content,
        minor=world.enrolments.is_minor(numbers),
    )
    return item.id


def test_an_item_carries_the_findings_and_the_enrolment_number_and_blocks_nothing() -> None:
    world = review_world()
    number, _ = enrol(world)
    content = jpeg_bytes(scene(31))
    item = world.review.item(queue(world, content, number))
    assert item.source is ItemSource.LIKENESS
    assert item.findings == findings(number)
    assert item.findings is not None
    assert item.findings.enrolment_numbers == (number,)
    assert item.content_address  # kept sealed for the reviewer
    assert not item.minor
    assert queue(world, content, number) == item.id  # the same upload again: one item
    assert world.screening.screen_content(content, None).verdict is MatchAction.ALLOW


def test_a_childs_enrolment_puts_its_item_first() -> None:
    world = review_world()
    (adult, _), (child, _) = enrol(world), enrol(world, guardian=True)
    first = queue(world, jpeg_bytes(scene(32)), adult)
    second = queue(world, jpeg_bytes(scene(33)), child)
    assert [i.id for i in world.review.queue(ALICE)] == [second, first]
    assert world.review.item(second).minor


def test_confirming_blocks_the_copies_and_tells_the_enrolled_person() -> None:
    world = review_world()
    number, secret = enrol(world, email="ana@example.org")
    content = jpeg_bytes(scene(34))
    item_id = queue(world, content, number)
    world.review.claim(item_id, ALICE)
    decided = world.review.decide(item_id, ALICE, CONFIRM)
    assert decided.state is ItemState.DECIDED
    decision = decided.decision
    assert decision is not None
    assert decision.automated_detection
    assert decision.automated_decision is AutomatedDecision.PARTIALLY
    assert decision.statement_id.startswith("sw-")
    result = world.screening.screen_content(jpeg_bytes(scene(34), quality=80), None)
    assert result.verdict is MatchAction.BLOCK
    assert {m.bank for m in result.matches} == {CONFIRMED_BANK}
    assert world.enrolments.open(number, secret).acted_on == (world.clock(),)
    [mail] = world.mail.sent
    assert mail["To"] == "ana@example.org"
    assert number in mail["Subject"]
    body = mail.get_content()
    assert "blocked" in body
    assert "https://chat.example" not in body
    assert not mail.is_multipart()  # no attachment: never the image


def test_rejecting_tells_nobody_and_allows_the_content() -> None:
    world = review_world()
    number, secret = enrol(world, email="ana@example.org")
    content = jpeg_bytes(scene(35))
    item_id = queue(world, content, number)
    world.review.claim(item_id, ALICE)
    reject = DecisionInput(DecisionKind.REJECT, reason="a swimsuit photo, not explicit")
    world.review.decide(item_id, ALICE, reject)
    assert world.enrolments.open(number, secret).acted_on == ()
    assert world.mail.sent == []
    assert world.banks.get_bank(ALLOWED_BANK)


def test_a_withdrawn_enrolment_is_not_told() -> None:
    world = review_world()
    number, secret = enrol(world, email="ana@example.org")
    item_id = queue(world, jpeg_bytes(scene(36)), number)
    world.enrolments.withdraw(number, secret)
    world.review.claim(item_id, ALICE)
    world.review.decide(item_id, ALICE, CONFIRM)
    assert world.mail.sent == []


@pytest.mark.parametrize("kind", [DecisionKind.ACCEPT, DecisionKind.REFUSE])
def test_a_likeness_item_takes_content_decisions_only(kind: DecisionKind) -> None:
    world = review_world()
    item_id = queue(world, jpeg_bytes(scene(37)), enrol(world)[0])
    world.review.claim(item_id, ALICE)
    given = DecisionInput(kind, reason="x", ground="csam", facts="y")
    with pytest.raises(InvalidInputError, match="likeness item cannot be given"):
        world.review.decide(item_id, ALICE, given)
