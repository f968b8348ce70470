"""Complaints about decisions (DSA Art. 20) in the in-memory review world: who may lodge
one and until when, the reviewer who decided kept away from it, and what upholding and
reversing do to the banks, the case, the audit log and the reporter's mailbox."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shieldwall.audit.models import Actor, ActorKind, AuditAction
from shieldwall.banks.models import EntryState, MatchAction
from shieldwall.cases.models import Case, CaseState
from shieldwall.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from shieldwall.review.complaint_models import (
    DECIDER_BARRED,
    MAX_EXPLANATION,
    Complainant,
    ComplaintOutcome,
)
from shieldwall.review.effects import ALLOWED_BANK
from shieldwall.review.models import (
    DecisionInput,
    DecisionKind,
    ItemSource,
    ItemState,
    RemovalAction,
    ReviewItem,
)
from shieldwall.review.queue import QueueFilter
from shieldwall.review.sweeps import HitOutcome
from shieldwall.signals.models import Signal
from tests.support.complaint_world import ComplaintWorld, complaint_world
from tests.support.factories import jpeg
from tests.support.review_world import ALICE, BOB, LEAD, ReviewWorld

KEY = 7
CONFIRM = DecisionInput(
    DecisionKind.CONFIRM, RemovalAction.REMOVE, "take-it-down-act", "the reported image"
)
REJECT = DecisionInput(DecisionKind.REJECT, reason="a landscape, not the reported image")
UPHOLD = DecisionInput(DecisionKind.UPHOLD, reason="the upload is the reported image")
REVERSE = DecisionInput(DecisionKind.REVERSE, reason="the upload is a different photo")


@pytest.fixture
def cw() -> ComplaintWorld:
    return complaint_world()


def queued(world: ReviewWorld, content: bytes, key_id: int = KEY) -> ReviewItem:
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


def decided_upload(world: ReviewWorld, seed: int, given: DecisionInput) -> ReviewItem:
    """An upload matching a filed case, decided by alice."""
    photo = jpeg(seed)
    world.file_case(photo)
    item = queued(world, photo)
    world.review.claim(item.id, ALICE)
    return world.review.decide(item.id, ALICE, given)


def decided_case(world: ReviewWorld, seed: int, given: DecisionInput) -> Case:
    """A filed case whose own item alice decided."""
    case = world.file_case(jpeg(seed))
    [item] = [i for i in world.items.items_of_case(case.number) if i.source is ItemSource.CASE]
    world.review.claim(item.id, ALICE)
    world.review.decide(item.id, ALICE, given)
    return world.cases.get(case.number)


def test_a_platform_complaint_opens_a_complaint_item_linked_to_the_decision(
    cw: ComplaintWorld,
) -> None:
    world = cw.world
    item = decided_upload(world, 31, CONFIRM)
    world.clock.advance(timedelta(days=10))
    complaint = cw.complaints.lodge_for_platform(item.id, KEY, "  My user took this photo.  ")
    assert (complaint.complainant, complaint.key_id, complaint.explanation) == (
        Complainant.PLATFORM,
        KEY,
        "My user took this photo.",
    )
    assert complaint.is_open
    assert complaint.lodged_at == world.clock()
    assert complaint.complaint_item_id is not None
    opened = world.review.item(complaint.complaint_item_id)
    assert (opened.source, opened.state, opened.case_number) == (
        ItemSource.COMPLAINT,
        ItemState.OPEN,
        item.case_number,
    )
    assert opened.deadline == world.clock() + world.review.policy.deadline
    assert opened.matches == item.matches
    # The case itself is not decided yet: it stays where it was.
    assert world.cases.get(item.case_number).state is CaseState.RECEIVED
    lodged = [r for r in world.audit.records() if r.action is AuditAction.COMPLAINT]
    assert [(r.actor.kind, r.actor.id, r.details["event"]) for r in lodged] == [
        (ActorKind.API_KEY, f"key:{KEY}", "lodged")
    ]
    assert lodged[0].subject.id == str(item.id)
    assert cw.complaints.about_item(item.id) == complaint


def test_complaints_are_refused_after_the_window_for_others_and_when_undecided(
    cw: ComplaintWorld,
) -> None:
    world = cw.world
    item = decided_upload(world, 32, CONFIRM)
    with pytest.raises(NotFoundError):  # another platform's key: as if there were no item
        cw.complaints.lodge_for_platform(item.id, KEY + 1, "mine")
    with pytest.raises(NotFoundError):
        cw.complaints.lodge_for_platform(10_000, KEY, "mine")
    for empty in ("", "   ", "x" * (MAX_EXPLANATION + 1), "bell\x07"):
        with pytest.raises(InvalidInputError):
            cw.complaints.lodge_for_platform(item.id, KEY, empty)
    world.file_case(jpeg(33))
    waiting = queued(world, jpeg(33))
    with pytest.raises(ConflictError, match="not decided"):
        cw.complaints.lodge_for_platform(waiting.id, KEY, "not decided yet")
    world.clock.advance(timedelta(days=183))  # exactly six months after the decision
    with pytest.raises(InvalidInputError, match="ended on"):
        cw.complaints.lodge_for_platform(item.id, KEY, "too late")
    assert cw.repository.about_item(item.id) == []


def test_one_open_complaint_per_decision_and_one_per_kind_of_complainant(
    cw: ComplaintWorld,
) -> None:
    world = cw.world
    item = decided_upload(world, 48, REJECT)
    cw.complaints.lodge_for_platform(item.id, KEY, "first")
    with pytest.raises(ConflictError, match="already being looked at"):
        cw.complaints.lodge_for_platform(item.id, KEY, "second")
    case = world.cases.get(item.case_number)
    with pytest.raises(ConflictError, match="already being looked at"):
        cw.complaints.lodge_for_reporter(case, "it is my picture", item.id)
    [complaint] = cw.repository.about_item(item.id)
    assert complaint.complaint_item_id is not None
    world.review.claim(complaint.complaint_item_id, BOB)
    world.review.decide(complaint.complaint_item_id, BOB, UPHOLD)
    with pytest.raises(ConflictError, match="already looked at again"):
        cw.complaints.lodge_for_platform(item.id, KEY, "third")
    # The person shown has not complained yet: they still may.
    second = cw.complaints.lodge_for_reporter(case, "it is my picture", item.id)
    assert second.complainant is Complainant.REPORTER


def test_the_decider_can_neither_see_claim_nor_decide_the_complaint(cw: ComplaintWorld) -> None:
    world = cw.world
    item = decided_upload(world, 35, CONFIRM)
    complaint = cw.complaints.lodge_for_platform(item.id, KEY, "my user took this photo")
    assert complaint.complaint_item_id is not None
    waiting = complaint.complaint_item_id
    complaints_queue = QueueFilter(source=ItemSource.COMPLAINT)
    assert [i.id for i in world.review.queue(ALICE, complaints_queue)] == []
    assert [i.id for i in world.review.queue(BOB, complaints_queue)] == [waiting]
    assert [i.id for i in world.review.queue(LEAD, complaints_queue)] == [waiting]
    with pytest.raises(PermissionDeniedError, match="another reviewer") as refused:
        world.review.claim(waiting, ALICE)
    assert str(refused.value) == DECIDER_BARRED
    world.review.claim(waiting, BOB)
    world.clock.advance(timedelta(minutes=11))  # bob's claim lapsed: alice still may not
    with pytest.raises(PermissionDeniedError):
        world.review.claim(waiting, ALICE)
    with pytest.raises(PermissionDeniedError):
        world.review.decide(waiting, ALICE, REVERSE)
    world.review.claim(waiting, BOB)
    with pytest.raises(InvalidInputError):  # a complaint is upheld or reversed, not confirmed
        world.review.decide(waiting, BOB, CONFIRM)
    assert world.review.item(waiting).state is ItemState.OPEN


def test_upholding_keeps_the_block_and_records_the_outcome(cw: ComplaintWorld) -> None:
    world = cw.world
    item = decided_upload(world, 36, CONFIRM)
    complaint = cw.complaints.lodge_for_platform(item.id, KEY, "my user took this photo")
    assert complaint.complaint_item_id is not None
    world.clock.advance(timedelta(hours=2))
    world.review.claim(complaint.complaint_item_id, BOB)
    decided = world.review.decide(complaint.complaint_item_id, BOB, UPHOLD)
    assert decided.state is ItemState.DECIDED
    assert decided.decision is not None
    assert decided.decision.reason == UPHOLD.reason
    stored = cw.repository.get(complaint.id)
    assert (stored.outcome, stored.decided_at, stored.decided_by) == (
        ComplaintOutcome.UPHOLD,
        world.clock(),
        "bob",
    )
    assert world.screening.screen_content(jpeg(36), KEY).verdict is MatchAction.BLOCK
    assert world.mail.sent == []  # a platform's complaint: nobody is emailed
    events = [r.details for r in world.audit.records() if r.action is AuditAction.COMPLAINT]
    assert [e["event"] for e in events] == ["lodged", "decided"]
    assert events[1]["outcome"] == "uphold"
    assert world.audit.verify().problem is None


def test_reversing_a_confirm_withdraws_exactly_the_entries_it_made(cw: ComplaintWorld) -> None:
    world = cw.world
    photo = jpeg(37)
    item = decided_upload(world, 37, CONFIRM)
    made = item.decision.added_entries if item.decision else None
    assert made
    assert world.screening.screen_content(photo, KEY).verdict is MatchAction.BLOCK
    # Another confirmed picture, whose entries must stay.
    other = decided_upload(world, 38, CONFIRM)
    complaint = cw.complaints.lodge_for_platform(item.id, KEY, "my user took this photo")
    assert complaint.complaint_item_id is not None
    world.review.claim(complaint.complaint_item_id, BOB)
    decided = world.review.decide(complaint.complaint_item_id, BOB, REVERSE)
    assert decided.decision is not None
    assert set(decided.decision.added_entries or ()) == set(made)
    for entry_id in made:
        assert world.banks.get_entry(entry_id).state is EntryState.WITHDRAWN
    # Screened again: no longer blocked; the reported picture still asks for a review.
    assert world.screening.screen_content(photo, KEY).verdict is MatchAction.REVIEW
    assert world.screening.screen_content(jpeg(38), KEY).verdict is MatchAction.BLOCK
    assert other.decision is not None
    assert other.decision.added_entries
    assert all(
        world.banks.get_entry(e).state is EntryState.ACTIVE for e in other.decision.added_entries
    )
    [record] = [
        r
        for r in world.audit.records()
        if r.action is AuditAction.COMPLAINT and r.details["event"] == "decided"
    ]
    assert (record.details["outcome"], record.details["entries"]) == ("reverse", len(made))
    assert cw.repository.get(complaint.id).outcome is ComplaintOutcome.REVERSE


def test_reversing_a_reject_removes_its_allow_list_entry(cw: ComplaintWorld) -> None:
    world = cw.world
    photo = jpeg(39)
    item = decided_upload(world, 39, REJECT)
    [allowed] = world.banks.list_entries(ALLOWED_BANK)
    assert world.screening.screen_content(photo, KEY).verdict is MatchAction.ALLOW
    case = world.cases.get(item.case_number)
    complaint = cw.complaints.lodge_for_reporter(case, "this is my picture", item.id)
    assert complaint.complaint_item_id is not None
    world.review.claim(complaint.complaint_item_id, BOB)
    world.review.decide(complaint.complaint_item_id, BOB, REVERSE)
    assert world.banks.get_entry(allowed.id).state is EntryState.WITHDRAWN
    # The picture asks for a review again: the next upload is queued and can be confirmed.
    again = queued(world, photo)
    assert again.id != item.id
    world.review.claim(again.id, BOB)
    world.review.decide(again.id, BOB, CONFIRM)
    assert world.screening.screen_content(photo, KEY).verdict is MatchAction.BLOCK


def test_a_reporters_complaint_reverses_a_refusal_and_the_hashes_match_again(
    cw: ComplaintWorld,
) -> None:
    world = cw.world
    refused = DecisionInput(DecisionKind.REFUSE, reason="the signature is missing")
    case = decided_case(world, 40, refused)
    assert case.state is CaseState.DECIDED
    assert world.screening.screen_content(jpeg(40), KEY).verdict is MatchAction.ALLOW
    world.clock.advance(timedelta(days=30))
    complaint = cw.complaints.lodge_for_reporter(case, "I did sign it: see the form")
    assert complaint.complaint_item_id is not None
    assert world.cases.get(case.number).state is CaseState.COMPLAINT
    assert world.cases.get(case.number).events[-1].kind == "complaint"
    [record] = [r for r in world.audit.records() if r.action is AuditAction.COMPLAINT]
    assert (record.actor.kind, record.actor.id) == (ActorKind.PERSON, case.number)
    with pytest.raises(PermissionDeniedError):
        world.review.claim(complaint.complaint_item_id, ALICE)
    world.review.claim(complaint.complaint_item_id, BOB)
    world.review.decide(complaint.complaint_item_id, BOB, REVERSE)
    after = world.cases.get(case.number)
    assert after.state is CaseState.DECIDED
    assert after.events[-1].detail == "complaint reversed"
    [entry_id] = case.entry_ids
    assert world.banks.get_entry(entry_id).state is EntryState.ACTIVE
    assert world.screening.screen_content(jpeg(40), KEY).verdict is MatchAction.REVIEW
    [mail] = world.mail.sent
    assert mail["To"] == case.report.email
    assert case.number in mail["Subject"]
    body = mail.get_content()
    assert "The decision was reversed" in body
    assert "bob" not in body
    assert not any(s.value in body for item in case.report.hashes for s in item)


def test_reversing_an_acceptance_refuses_the_case(cw: ComplaintWorld) -> None:
    world = cw.world
    accepted = DecisionInput(DecisionKind.ACCEPT, ground="take-it-down-act", facts="valid")
    case = decided_case(world, 41, accepted)
    item = queued(world, jpeg(41))  # still asks for review while the case stands
    assert item.case_number == case.number
    [own] = [i for i in world.items.items_of_case(case.number) if i.source is ItemSource.CASE]
    # The platform did not open the case's item: only its reporter can complain about it.
    with pytest.raises(NotFoundError):
        cw.complaints.lodge_for_platform(own.id, KEY, "not ours")
    complaint = cw.complaints.lodge_for_reporter(case, "please look again")
    assert complaint.item_id == own.id
    assert complaint.complaint_item_id is not None
    world.review.claim(complaint.complaint_item_id, LEAD)
    world.review.decide(complaint.complaint_item_id, LEAD, REVERSE)
    [entry_id] = case.entry_ids
    assert world.banks.get_entry(entry_id).state is EntryState.DISABLED
    assert world.screening.screen_content(jpeg(41), KEY).verdict is MatchAction.ALLOW


def test_reporters_complain_only_about_their_own_case(cw: ComplaintWorld) -> None:
    world = cw.world
    mine = decided_case(world, 42, DecisionInput(DecisionKind.REFUSE, reason="no"))
    other = decided_upload(world, 43, REJECT)
    with pytest.raises(NotFoundError):  # an item of another case
        cw.complaints.lodge_for_reporter(mine, "look again", other.id)
    confirmed = decided_upload(world, 44, CONFIRM)
    theirs = world.cases.get(confirmed.case_number)
    with pytest.raises(NotFoundError):  # a confirmed upload is not the reporter's to dispute
        cw.complaints.lodge_for_reporter(theirs, "look again", confirmed.id)
    undecided = world.file_case(jpeg(45))
    with pytest.raises(ConflictError):
        cw.complaints.lodge_for_reporter(undecided, "look again")
    assert world.cases.get(confirmed.case_number).state is not CaseState.COMPLAINT
    assert {c.item_id for c in cw.complaints.of_case(mine.number)} == set()


def test_the_transparency_counts_come_from_the_repository(cw: ComplaintWorld) -> None:
    world = cw.world
    start = world.clock()
    first = decided_upload(world, 46, CONFIRM)
    second = decided_upload(world, 47, CONFIRM)
    one = cw.complaints.lodge_for_platform(first.id, KEY, "one")
    world.clock.advance(timedelta(days=1))
    two = cw.complaints.lodge_for_platform(second.id, KEY, "two")
    assert two.complaint_item_id is not None
    world.review.claim(two.complaint_item_id, BOB)
    world.review.decide(two.complaint_item_id, BOB, REVERSE)
    end = world.clock() + timedelta(seconds=1)
    lodged = cw.complaints.lodged_between(start, end)
    assert [(c.id, c.complainant) for c in lodged] == [
        (one.id, Complainant.PLATFORM),
        (two.id, Complainant.PLATFORM),
    ]
    [decided] = cw.complaints.decided_between(start, end)
    assert (decided.id, decided.outcome, decided.decided_at) == (
        two.id,
        ComplaintOutcome.REVERSE,
        world.clock(),
    )
    assert cw.complaints.lodged_between(end, end + timedelta(days=1)) == []


def test_a_reversed_confirmation_stops_asking_platforms_to_remove_its_copies(
    cw: ComplaintWorld,
) -> None:
    world = cw.world
    world.screening.screen_content(jpeg(39, quality=60), 8, content_ref="other/39")
    world.screening.screen_content(jpeg(39, quality=70), 9, content_ref="third/39")
    item = decided_upload(world, 39, CONFIRM)
    [answered] = world.sweeps.to_remove(9)
    world.sweeps.report(answered.id, 9, HitOutcome.REMOVED, Actor(ActorKind.API_KEY, "third"))
    assert [h.hit.content_ref for h in world.sweeps.to_remove(8)] == ["other/39"]
    complaint = cw.complaints.lodge_for_platform(item.id, KEY, "my user took this photo")
    assert complaint.complaint_item_id is not None
    world.review.claim(complaint.complaint_item_id, BOB)
    world.review.decide(complaint.complaint_item_id, BOB, REVERSE)
    assert world.sweeps.to_remove(8) == []
    [withdrawn] = world.sweeps.to_remove(8, HitOutcome.WITHDRAWN)
    assert withdrawn.hit.content_ref == "other/39"
    assert [h.outcome for h in world.sweeps.to_remove(9, None)] == [HitOutcome.REMOVED]
    logged = [r.details for r in world.audit.records() if r.action is AuditAction.SWEEP]
    assert logged[-1]["change"] == "withdrawn"
    with pytest.raises(InvalidInputError):
        world.sweeps.report(withdrawn.id, 8, HitOutcome.WITHDRAWN, Actor(ActorKind.API_KEY, "o"))
