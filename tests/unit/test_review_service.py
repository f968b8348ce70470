"""The review service: queue order, claims and their locks, decisions and what they change
in the banks (a confirmed picture and its edited copies block; a rejected one is not
queued again), case items, escalations, reveals and their cap, and the audit trail."""

from __future__ import annotations

import io
from dataclasses import replace
from dataclasses import replace as with_changes
from datetime import timedelta

import pytest

from shieldwall.audit.models import ActorKind, AuditAction
from shieldwall.banks.models import EntryState, MatchAction
from shieldwall.cases.models import CaseState, validate_report
from shieldwall.config import MediaLimits
from shieldwall.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.review.effects import ALLOWED_BANK, CONFIRMED_BANK
from shieldwall.review.models import (
    DecisionInput,
    DecisionKind,
    ItemSource,
    ItemState,
    RemovalAction,
    ReviewItem,
    ReviewPolicy,
)
from shieldwall.review.queue import QueueFilter, queue_key
from shieldwall.signals.models import Signal
from shieldwall.signals.pdq_quality import signal_refusal, without_refused
from tests.support.factories import jpeg, report_fields
from tests.support.images import scene
from tests.support.review_world import ALICE, BOB, LEAD, NOW, ReviewWorld, review_world

CONFIRM = DecisionInput(
    DecisionKind.CONFIRM, RemovalAction.REMOVE, "take-it-down-act", "the reported image"
)
REJECT = DecisionInput(DecisionKind.REJECT, reason="a landscape, not the reported image")


def cropped(seed: int, share: float) -> bytes:
    image = scene(seed)
    width, height = image.size
    box = (int(width * share), 0, width, height)
    buffer = io.BytesIO()
    image.crop(box).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def queued(world: ReviewWorld, content: bytes, key_id: int = 7) -> ReviewItem:
    result = world.screening.screen_content(content, key_id)
    assert result.verdict is MatchAction.REVIEW
    signals = [
        Signal.of(k, v) for k, v in (result.signals or {}).items() if k in {"pdq", "md5", "sha256"}
    ]
    item = world.review.queue_lookup(
        result, signals, content_ref="upload-1", key_id=key_id, content=content
    )
    assert item is not None
    return item


@pytest.fixture
def world() -> ReviewWorld:
    return review_world()


def test_the_queue_goes_by_deadline_then_minor_then_trusted_flagger_then_age(
    world: ReviewWorld,
) -> None:
    adult = world.file_case(jpeg(1))
    world.clock.advance(timedelta(minutes=1))
    minor = world.file_case(jpeg(2), depicted_minor=True, name="")
    world.clock.advance(timedelta(hours=1))
    later = world.file_case(jpeg(3), depicted_minor=True, name="")
    queue = world.review.queue(ALICE)
    assert [item.case_number for item in queue] == [adult.number, minor.number, later.number]
    # Due at the same time: minor first, then a trusted flagger, then the rest, then age.
    first = queue[0]
    plain = replace(first, minor=False, trusted_flagger=False, id=1)
    flagged = replace(first, minor=False, trusted_flagger=True, id=2)
    child = replace(first, minor=True, trusted_flagger=False, id=3)
    older = replace(plain, id=4, opened_at=first.opened_at - timedelta(minutes=5))
    assert sorted([plain, flagged, child, older], key=queue_key) == [child, flagged, older, plain]


def test_filing_a_case_opens_one_item_with_the_48_hour_clock(world: ReviewWorld) -> None:
    case = world.file_case(jpeg(4))
    [item] = world.review.queue(ALICE)
    assert (item.source, item.case_number, item.deadline) == (
        ItemSource.CASE,
        case.number,
        NOW + timedelta(hours=48),
    )
    assert world.review.open_case_item(case).id == item.id  # one item per case


def test_a_claim_locks_the_item_to_one_reviewer_until_it_expires(world: ReviewWorld) -> None:
    world.file_case(jpeg(5))
    [item] = world.review.queue(ALICE)
    world.review.claim(item.id, ALICE)
    with pytest.raises(ConflictError):
        world.review.claim(item.id, BOB)
    world.clock.advance(timedelta(minutes=9))
    renewed = world.review.claim(item.id, ALICE)  # still active: renewed
    assert renewed.claim is not None
    assert renewed.claim.until == world.clock() + timedelta(minutes=10)
    world.clock.advance(timedelta(minutes=9))
    with pytest.raises(ConflictError):
        world.review.claim(item.id, BOB)
    world.clock.advance(timedelta(minutes=2))  # alice went quiet: her lock expired
    assert world.review.claim(item.id, BOB).claimed_by(world.clock()) == "bob"
    with pytest.raises(PermissionDeniedError):
        world.review.decide(
            item.id, ALICE, DecisionInput(DecisionKind.NEED_INFO, reason="which post?")
        )
    claims = [r for r in world.audit.records() if r.action is AuditAction.CLAIM]
    assert [r.actor.id for r in claims] == ["alice", "bob"]  # renewals are not new claims


def test_only_fitting_decisions_with_their_reasons_are_taken(world: ReviewWorld) -> None:
    world.file_case(jpeg(6))
    [item] = world.review.queue(ALICE)
    world.review.claim(item.id, ALICE)
    with pytest.raises(InvalidInputError, match="cannot be given confirm"):
        world.review.decide(item.id, ALICE, CONFIRM)
    with pytest.raises(InvalidInputError, match="needs a reason"):
        DecisionInput(DecisionKind.REFUSE)
    with pytest.raises(InvalidInputError, match="needs a ground"):
        DecisionInput(DecisionKind.ACCEPT)
    with pytest.raises(InvalidInputError, match="unknown ground"):
        world.review.decide(
            item.id,
            ALICE,
            DecisionInput(DecisionKind.ACCEPT, ground="nope", facts="a valid notice"),
        )


def test_confirming_a_queued_upload_blocks_it_and_its_edited_copies(world: ReviewWorld) -> None:
    photo = jpeg(11)
    case = world.file_case(photo, depicted_minor=True, name="")
    item = queued(world, photo)
    assert (item.source, item.case_number, item.minor) == (ItemSource.PLATFORM, case.number, True)
    assert item.deadline == case.deadline
    assert world.quarantine.get(item.content_address) == photo
    assert queued(world, photo).id == item.id  # the same upload again: the same item
    world.review.claim(item.id, ALICE)
    assert world.review.reveal(item.id, ALICE) == photo
    world.clock.advance(timedelta(minutes=3))
    decided = world.review.decide(item.id, ALICE, CONFIRM)
    assert decided.state is ItemState.DECIDED
    decision = decided.decision
    assert decision is not None
    assert (decision.reviewer, decision.at, decision.automated_detection) == (
        "alice",
        world.clock(),
        True,
    )
    assert decision.statement_id.startswith("sw-")
    assert world.screening.screen_content(photo, 7).verdict is MatchAction.BLOCK
    assert world.screening.screen_content(cropped(11, 0.10), 7).verdict is MatchAction.BLOCK
    confirmed = world.banks.list_entries(CONFIRMED_BANK)
    assert confirmed
    assert all("confirmed by reviewer alice" in e.provenance.note for e in confirmed)
    assert all(e.provenance.case_id == case.number for e in confirmed)
    assert set(world.cases.get(case.number).entry_ids) >= {e.id for e in confirmed}
    with pytest.raises(NotFoundError):  # deleted at the decision
        world.quarantine.get(item.content_address)
    actions = [(r.action, r.actor.kind) for r in world.audit.records()]
    assert (AuditAction.REVEAL, ActorKind.REVIEWER) in actions
    assert (AuditAction.DECISION, ActorKind.REVIEWER) in actions
    assert world.audit.verify().problem is None


def test_a_rejected_picture_is_not_queued_again(world: ReviewWorld) -> None:
    photo = jpeg(12)
    world.file_case(photo)
    item = queued(world, photo)
    world.review.claim(item.id, BOB)
    world.review.decide(item.id, BOB, REJECT)
    again = world.screening.screen_content(photo, 7)
    assert again.verdict is MatchAction.ALLOW
    assert world.review.queue_lookup(again, [], content_ref="x", key_id=7, content=photo) is None
    [allowed] = world.banks.list_entries(ALLOWED_BANK)
    assert "a landscape" in allowed.provenance.note
    assert str(item.matches[0].entry_id) in allowed.provenance.note
    # Only this picture is allowed: another reported one still asks for review.
    world.file_case(jpeg(20))
    assert world.screening.screen_content(jpeg(20), 7).verdict is MatchAction.REVIEW


def test_an_escalated_item_waits_for_a_lead(world: ReviewWorld) -> None:
    photo = jpeg(13)
    world.file_case(photo)
    item = queued(world, photo)
    world.review.claim(item.id, ALICE)
    world.review.decide(item.id, ALICE, DecisionInput(DecisionKind.ESCALATE, reason="unsure"))
    assert item.id not in [
        i.id for i in world.review.queue(ALICE, QueueFilter(source=ItemSource.PLATFORM))
    ]
    with pytest.raises(PermissionDeniedError):
        world.review.queue(ALICE, QueueFilter(states=frozenset({ItemState.ESCALATED})))
    with pytest.raises(PermissionDeniedError):
        world.review.claim(item.id, BOB)
    escalated = world.review.queue(LEAD, QueueFilter(states=frozenset({ItemState.ESCALATED})))
    assert [i.id for i in escalated] == [item.id]
    world.review.claim(item.id, LEAD)
    decided = world.review.decide(item.id, LEAD, CONFIRM)
    assert [d.kind for d in decided.decisions] == [DecisionKind.ESCALATE, DecisionKind.CONFIRM]
    assert AuditAction.ESCALATION in [r.action for r in world.audit.records()]


def test_accepting_and_refusing_cases_moves_them_and_their_hashes(world: ReviewWorld) -> None:
    accepted = world.file_case(jpeg(14))
    refused = world.file_case(jpeg(15))
    items = {i.case_number: i for i in world.review.queue(ALICE)}
    world.review.claim(items[accepted.number].id, ALICE)
    assert world.cases.get(accepted.number).state is CaseState.UNDER_REVIEW
    world.review.decide(
        items[accepted.number].id,
        ALICE,
        DecisionInput(DecisionKind.ACCEPT, ground="take-it-down-act", facts="a valid notice"),
    )
    assert world.cases.get(accepted.number).state is CaseState.DECIDED
    # A person's own report keeps answering `review` until a reviewer confirms a match.
    assert world.screening.screen_content(jpeg(14), 7).verdict is MatchAction.REVIEW
    decision = world.review.case_decision(accepted.number)
    assert decision is not None
    assert decision.kind is DecisionKind.ACCEPT
    world.review.claim(items[refused.number].id, ALICE)
    world.review.decide(
        items[refused.number].id,
        ALICE,
        DecisionInput(DecisionKind.REFUSE, reason="not an intimate image"),
    )
    assert world.cases.get(refused.number).events[-1].detail == "refused"
    [entry_id] = refused.entry_ids
    assert world.banks.get_entry(entry_id).state is EntryState.DISABLED
    assert world.screening.screen_content(jpeg(15), 7).verdict is MatchAction.ALLOW


def test_a_trusted_flaggers_accepted_case_blocks_at_once() -> None:
    world = review_world()
    photo = jpeg(16)
    plain = world.file_case(photo)
    report = with_changes(plain.report, flagger="hotline-es")
    case = world.cases.file(report).case
    item = next(i for i in world.review.queue(ALICE) if i.case_number == case.number)
    assert item.trusted_flagger
    world.review.claim(item.id, ALICE)
    world.review.decide(
        item.id,
        ALICE,
        DecisionInput(DecisionKind.ACCEPT, ground="dsa-illegal-ncii", facts="seen by the hotline"),
    )
    assert world.screening.screen_content(photo, 7).verdict is MatchAction.BLOCK
    assert validate_report(report_fields()).flagger == ""  # a public form cannot claim it


def test_needing_more_information_sends_a_case_back_to_triage(world: ReviewWorld) -> None:
    case = world.file_case(jpeg(17))
    [item] = world.review.queue(ALICE)
    world.review.claim(item.id, ALICE)
    waiting = world.review.decide(
        item.id, ALICE, DecisionInput(DecisionKind.NEED_INFO, reason="which post?")
    )
    assert waiting.state is ItemState.NEEDS_INFO
    assert world.cases.get(case.number).state is CaseState.TRIAGED
    assert [i.id for i in world.review.queue(BOB)] == [item.id]


def test_reveals_are_capped_per_day() -> None:
    world = review_world(ReviewPolicy(daily_reveals=2))
    photo = jpeg(18)
    world.file_case(photo)
    item = queued(world, photo)
    with pytest.raises(PermissionDeniedError, match="claim"):
        world.review.reveal(item.id, ALICE)
    world.review.claim(item.id, ALICE)
    world.review.reveal(item.id, ALICE)
    world.review.reveal(item.id, ALICE)
    assert world.review.reveals_left(ALICE) == 0
    with pytest.raises(PermissionDeniedError, match="daily limit"):
        world.review.reveal(item.id, ALICE)
    world.clock.advance(timedelta(days=1))
    world.review.claim(item.id, ALICE)
    assert world.review.reveal(item.id, ALICE) == photo


def test_a_platform_polls_only_its_own_items(world: ReviewWorld) -> None:
    photo = jpeg(19)
    world.file_case(photo)
    item = queued(world, photo, key_id=7)
    assert world.review.outcome_for(item.id, 7).state is ItemState.OPEN
    with pytest.raises(NotFoundError, match="no review item"):
        world.review.outcome_for(item.id, 8)


def test_withdrawing_a_case_takes_its_item_out_of_the_queue(world: ReviewWorld) -> None:
    photo = jpeg(21)
    case = world.file_case(photo)
    secret_case = world.cases.file(with_changes(case.report, email="x@example.org"))
    [own] = [i for i in world.review.queue(ALICE) if i.case_number == secret_case.case.number]
    world.review.claim(own.id, ALICE)
    world.cases.withdraw(secret_case.case.number, secret_case.secret)
    assert world.review.item(own.id).state is ItemState.WITHDRAWN
    assert own.id not in [i.id for i in world.review.queue(ALICE)]


def test_content_another_platform_queued_stays_until_its_own_decision(world: ReviewWorld) -> None:
    photo = jpeg(22)
    world.file_case(photo)
    first = queued(world, photo, key_id=7)
    second = queued(world, photo, key_id=9)
    assert first.id != second.id
    assert first.content_address == second.content_address
    world.review.claim(first.id, ALICE)
    world.review.decide(first.id, ALICE, REJECT)
    assert world.quarantine.get(second.content_address) == photo
    world.review.claim(second.id, BOB)
    world.review.decide(second.id, BOB, REJECT)
    with pytest.raises(NotFoundError):
        world.quarantine.get(second.content_address)


def _with_a_plain_region() -> bytes:
    """A JPEG scene some of whose bank regions are too plain to keep (the acceptance rule
    refuses them), as `bank add` would leave out."""
    for seed in range(60):
        buffer = io.BytesIO()
        scene(seed, 640, 480).save(buffer, "JPEG", quality=90)
        data = buffer.getvalue()
        signals = hash_content(data, MediaLimits(), purpose=Purpose.BANK).entry_signals()
        kept, whole_refused = without_refused(signals)
        if whole_refused is None and len(kept) < len(signals):
            return data
    raise AssertionError("no scene with a region too plain to bank")


def test_a_confirmation_leaves_out_regions_too_plain_to_bank(world: ReviewWorld) -> None:
    photo = _with_a_plain_region()
    world.file_case(photo)
    item = queued(world, photo)
    world.review.claim(item.id, ALICE)
    decided = world.review.decide(item.id, ALICE, CONFIRM)  # no RefusedPdqError
    assert decided.state is ItemState.DECIDED
    confirmed = world.banks.list_entries(CONFIRMED_BANK)
    held = [s for entry in confirmed for s in entry.signals]
    assert len([s for s in held if s.type == "pdq"]) > 40  # the content's regions are there
    assert all(signal_refusal(s) is None for s in held)
    assert world.screening.screen_content(photo, 7).verdict is MatchAction.BLOCK
