"""Every ReviewRepository adapter (memory, SQLite, PostgreSQL) behaves the same: items and
their dedupe, claims (conflict, renewal, expiry, release), decisions only by the claim's
holder, reveals and grounds; racing threads never both win a claim or open a key twice
(separate SQL engines race in test_review_repository_races.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from shieldwall.errors import ConflictError, InvalidInputError, NotFoundError
from shieldwall.review.memory import InMemoryReviewRepository
from shieldwall.review.models import (
    CLAIM_DURATION,
    AutomatedDecision,
    Claim,
    Decision,
    DecisionKind,
    DetectorFindings,
    EnrolledLikeness,
    Ground,
    ItemMatch,
    ItemSource,
    ItemState,
    NewItem,
    RemovalAction,
    ReviewItem,
)
from shieldwall.review.ports import ReviewRepository
from shieldwall.signals.models import Signal
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.review_repositories import SqlReviewRepository
from tests.integration.conftest import SQL_BACKENDS

NOW = datetime(2026, 12, 4, 10, 0, 0, 250000, tzinfo=UTC)
UNTIL = NOW + CLAIM_DURATION


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def reviews(request: pytest.FixtureRequest) -> Iterator[ReviewRepository]:
    """Each ReviewRepository adapter, with no items."""
    if request.param == "memory":
        yield InMemoryReviewRepository()
        return
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade_database(url)
    engine = create_database_engine(url)
    yield SqlReviewRepository(engine)
    engine.dispose()


def new_item(**changes: object) -> NewItem:
    item = NewItem(ItemSource.PLATFORM, opened_at=NOW, deadline=NOW + timedelta(hours=24))
    return replace(item, **changes)  # type: ignore[arg-type]


def decision(kind: DecisionKind = DecisionKind.CONFIRM, **changes: object) -> Decision:
    made = Decision(
        kind=kind,
        action=RemovalAction.REMOVE,
        ground="take-it-down-act",
        facts="Matched a victim's reported image.",
        reason="",
        reviewer="ana",
        at=NOW,
        automated_detection=True,
        automated_decision=AutomatedDecision.PARTIALLY,
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def decide(
    reviews: ReviewRepository,
    item_id: int,
    made: Decision,
    state: ItemState = ItemState.DECIDED,
) -> ReviewItem:
    """Claim as the decision's reviewer at its time, then record it."""
    reviews.claim(item_id, made.reviewer, made.at, made.at + CLAIM_DURATION)
    return reviews.record_decision(item_id, made, state, made.at)


# Items and dedupe -----------------------------------------------------------------------


def test_an_item_round_trips_with_every_field(reviews: ReviewRepository) -> None:
    signals = (
        Signal.of("pdq", "f0" * 32, quality=87),
        Signal.of("md5", "0a" * 16, variant="crop-1"),
        Signal.of("sha256", "ab" * 32),
    )
    matches = (
        ItemMatch("victims", 41, "pdq", 12, "original"),
        ItemMatch("partners", 7, "md5", 0, "crop-1"),
    )
    item, created = reviews.open(
        new_item(
            minor=True,
            trusted_flagger=True,
            case_number="SW-AAAA-BBBB",
            content_ref="https://platform.example/p/1",
            opened_by_key=3,
            content_address="c" * 64,
            signals=signals,
            matches=matches,
            dedupe_key="platform:3:" + "ab" * 32,
        )
    )
    assert created
    assert (item.state, item.claim, item.decisions, item.decision) == (
        ItemState.OPEN,
        None,
        (),
        None,
    )
    assert (item.signals, item.matches, item.banks) == (signals, matches, ("victims", "partners"))
    assert (item.minor, item.trusted_flagger, item.opened_by_key) == (True, True, 3)
    assert (item.opened_at, item.deadline) == (NOW, NOW + timedelta(hours=24))
    assert (item.case_number, item.content_address) == ("SW-AAAA-BBBB", "c" * 64)
    assert reviews.get(item.id) == item


def test_an_unknown_item_is_not_found(reviews: ReviewRepository) -> None:
    for missing in (1, 999, 2**63):
        with pytest.raises(NotFoundError):
            reviews.get(missing)


def test_open_returns_the_waiting_item_with_the_same_key(reviews: ReviewRepository) -> None:
    first, created = reviews.open(new_item(dedupe_key="k"))
    assert created
    again, created_again = reviews.open(new_item(dedupe_key="k", content_ref="other"))
    assert (again, created_again) == (first, False)
    other, created_other = reviews.open(new_item(dedupe_key="k2"))
    assert created_other
    assert other.id != first.id
    # Escalated still waits, so it still dedupes.
    decide(reviews, first.id, decision(DecisionKind.ESCALATE, reason="lead"), ItemState.ESCALATED)
    assert reviews.open(new_item(dedupe_key="k"))[0].id == first.id


def test_open_after_a_final_decision_makes_a_new_item(reviews: ReviewRepository) -> None:
    first, _ = reviews.open(new_item(dedupe_key="k"))
    decide(reviews, first.id, decision())
    second, created = reviews.open(new_item(dedupe_key="k"))
    assert created
    assert second.id != first.id
    assert reviews.open(new_item(dedupe_key="k")) == (second, False)


def test_items_without_a_key_never_dedupe(reviews: ReviewRepository) -> None:
    ids = {reviews.open(new_item())[0].id for _ in range(3)}
    assert len(ids) == 3


def test_waiting_and_the_items_of_a_case(reviews: ReviewRepository) -> None:
    case_item, _ = reviews.open(new_item(source=ItemSource.CASE, case_number="SW-1"))
    linked, _ = reviews.open(new_item(case_number="SW-1"))
    unlinked, _ = reviews.open(new_item())
    decided, _ = reviews.open(new_item(case_number="SW-1"))
    decide(reviews, decided.id, decision())
    escalated, _ = reviews.open(new_item())
    decide(reviews, escalated.id, decision(DecisionKind.ESCALATE), ItemState.ESCALATED)
    waiting = sorted(reviews.waiting(), key=lambda i: i.id)
    assert [i.id for i in waiting] == [case_item.id, linked.id, unlinked.id, escalated.id]
    assert waiting[-1].state is ItemState.ESCALATED
    of_case = reviews.items_of_case("SW-1")
    assert [i.id for i in of_case] == [case_item.id, linked.id, decided.id]
    assert of_case[-1].decision == decision()
    assert reviews.items_of_case("SW-NONE") == []


# Claims ---------------------------------------------------------------------------------


def test_a_claim_locks_out_others_until_it_expires(reviews: ReviewRepository) -> None:
    item, _ = reviews.open(new_item())
    claimed = reviews.claim(item.id, "ana", NOW, UNTIL)
    assert claimed.claim == Claim("ana", UNTIL)
    assert reviews.get(item.id).claimed_by(NOW) == "ana"
    with pytest.raises(ConflictError):
        reviews.claim(item.id, "bob", UNTIL - timedelta(microseconds=1), UNTIL + CLAIM_DURATION)
    # At the claim's end it holds nothing: another reviewer takes the item.
    taken = reviews.claim(item.id, "bob", UNTIL, UNTIL + CLAIM_DURATION)
    assert taken.claim == Claim("bob", UNTIL + CLAIM_DURATION)
    with pytest.raises(ConflictError):
        reviews.claim(item.id, "ana", UNTIL, UNTIL + CLAIM_DURATION)


def test_the_holder_renews_a_claim(reviews: ReviewRepository) -> None:
    item, _ = reviews.open(new_item())
    reviews.claim(item.id, "ana", NOW, UNTIL)
    later = NOW + timedelta(minutes=5)
    renewed = reviews.claim(item.id, "ana", later, later + CLAIM_DURATION)
    assert renewed.claim == Claim("ana", later + CLAIM_DURATION)
    assert reviews.get(item.id).claim == Claim("ana", later + CLAIM_DURATION)
    with pytest.raises(ConflictError):
        reviews.claim(item.id, "bob", UNTIL, UNTIL + CLAIM_DURATION)


def test_decided_and_unknown_items_cannot_be_claimed(reviews: ReviewRepository) -> None:
    item, _ = reviews.open(new_item())
    decide(reviews, item.id, decision())
    with pytest.raises(InvalidInputError):
        reviews.claim(item.id, "ana", NOW, UNTIL)
    with pytest.raises(InvalidInputError):
        reviews.claim(item.id, "bob", NOW, UNTIL)
    with pytest.raises(NotFoundError):
        reviews.claim(item.id + 1, "ana", NOW, UNTIL)


def test_release_drops_only_the_holders_claim(reviews: ReviewRepository) -> None:
    item, _ = reviews.open(new_item())
    reviews.claim(item.id, "ana", NOW, UNTIL)
    reviews.release(item.id, "bob")
    assert reviews.get(item.id).claim == Claim("ana", UNTIL)
    reviews.release(item.id, "ana")
    assert reviews.get(item.id).claim is None
    reviews.release(item.id, "ana")  # twice is fine
    assert reviews.claim(item.id, "bob", NOW, UNTIL).claim == Claim("bob", UNTIL)
    with pytest.raises(NotFoundError):
        reviews.release(item.id + 1, "ana")


# Decisions ------------------------------------------------------------------------------


def test_only_the_claims_holder_records_a_decision(reviews: ReviewRepository) -> None:
    item, _ = reviews.open(new_item())
    with pytest.raises(ConflictError):  # nobody holds it
        reviews.record_decision(item.id, decision(), ItemState.DECIDED, NOW)
    reviews.claim(item.id, "bob", NOW, UNTIL)
    with pytest.raises(ConflictError):  # someone else holds it
        reviews.record_decision(item.id, decision(), ItemState.DECIDED, NOW)
    late = decision(reviewer="bob", at=UNTIL)
    with pytest.raises(ConflictError):  # the holder's claim expired
        reviews.record_decision(item.id, late, ItemState.DECIDED, UNTIL)
    unchanged = reviews.get(item.id)
    assert (unchanged.state, unchanged.decisions) == (ItemState.OPEN, ())
    with pytest.raises(NotFoundError):
        reviews.record_decision(item.id + 1, decision(), ItemState.DECIDED, NOW)


def test_decisions_round_trip_with_every_field(reviews: ReviewRepository) -> None:
    item, _ = reviews.open(new_item())
    escalation = decision(
        DecisionKind.ESCALATE,
        action=RemovalAction.NONE,
        ground="",
        facts="",
        reason="A lead should see this one.",
        automated_detection=False,
        automated_decision=AutomatedDecision.NOT_AUTOMATED,
    )
    escalated = decide(reviews, item.id, escalation, ItemState.ESCALATED)
    assert (escalated.state, escalated.claim, escalated.decision) == (
        ItemState.ESCALATED,
        None,
        None,
    )
    final = decision(
        action=RemovalAction.RESTRICT,
        facts="Ünïcode facts ✓ " + "x" * 4000,
        reviewer="lead-1",
        at=NOW + timedelta(minutes=3, microseconds=17),
        automated_decision=AutomatedDecision.FULLY,
        statement_id="sw-0b6c4c1e-8f35-4f7e-9d64-3d4f5e6a7b8c",
    )
    decided = decide(reviews, item.id, final)
    assert decided.decisions == (escalation, final)
    assert (decided.state, decided.claim, decided.decision) == (ItemState.DECIDED, None, final)
    assert reviews.get(item.id) == decided
    with pytest.raises(ConflictError):  # decided: nobody decides it again
        reviews.record_decision(item.id, final, ItemState.DECIDED, final.at)


def test_decided_between_takes_final_decisions_in_the_window(reviews: ReviewRepository) -> None:
    start, end = NOW, NOW + timedelta(hours=1)
    late, _ = reviews.open(new_item())
    early, _ = reviews.open(new_item())
    before, _ = reviews.open(new_item())
    at_end, _ = reviews.open(new_item())
    escalated, _ = reviews.open(new_item())
    decide(reviews, late.id, decision(at=end - timedelta(microseconds=1)))
    decide(reviews, early.id, decision(at=start))
    decide(reviews, before.id, decision(at=start - timedelta(microseconds=1)))
    decide(reviews, at_end.id, decision(at=end))
    mid = start + timedelta(minutes=1)
    decide(reviews, escalated.id, decision(DecisionKind.ESCALATE, at=mid), ItemState.ESCALATED)
    assert [i.id for i in reviews.decided_between(start, end)] == [early.id, late.id]
    assert reviews.decided_between(end, end) == []


# Reveals and grounds --------------------------------------------------------------------


def test_reveals_count_per_reviewer_since_a_time(reviews: ReviewRepository) -> None:
    item, _ = reviews.open(new_item())
    hour = timedelta(hours=1)
    for who, at in (("ana", NOW), ("ana", NOW + hour), ("bob", NOW + hour)):
        reviews.record_reveal(item.id, who, at)
    assert reviews.reveals_since("ana", NOW) == 2
    assert reviews.reveals_since("ana", NOW + hour) == 1
    assert reviews.reveals_since("ana", NOW + hour + timedelta(microseconds=1)) == 0
    assert reviews.reveals_since("bob", NOW - hour) == 1
    assert reviews.reveals_since("carl", NOW - hour) == 0
    with pytest.raises(NotFoundError):
        reviews.record_reveal(item.id + 1, "ana", NOW)


def test_grounds_are_put_replaced_removed_and_listed_by_code(reviews: ReviewRepository) -> None:
    for ground in reviews.grounds():  # SQL starts with the migration's defaults
        reviews.remove_ground(ground.code)
    assert reviews.grounds() == []
    b = Ground("terms-4.2", "Terms 4.2", "incompatible")
    a = Ground("a-law", "A law", "illegal", "https://law.example/a")
    c = Ground("csam", "Minors")
    for ground in (b, a, c):
        reviews.put_ground(ground)
    assert reviews.grounds() == [a, c, b]
    a2 = Ground("a-law", "A law, amended", "incompatible", "")
    reviews.put_ground(a2)
    assert reviews.grounds() == [a2, c, b]
    reviews.remove_ground("terms-4.2")
    reviews.remove_ground("never-there")
    assert reviews.grounds() == [a2, c]


# Races ----------------------------------------------------------------------------------


def race(attempts: list[Callable[[], object]]) -> list[object]:
    """Run the attempts at once (one thread each, started together); results or errors."""
    start = threading.Barrier(len(attempts))

    def attempt(call: Callable[[], object]) -> object:
        start.wait(timeout=30)
        try:
            return call()
        except ConflictError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(attempt, attempts))


def test_racing_claims_have_one_winner(reviews: ReviewRepository) -> None:
    for _ in range(10):
        item, _ = reviews.open(new_item())
        results = race([partial(reviews.claim, item.id, who, NOW, UNTIL) for who in ("ana", "bob")])
        winners = [r for r in results if isinstance(r, ReviewItem)]
        assert len(winners) == 1
        assert sum(isinstance(r, ConflictError) for r in results) == 1
        assert reviews.get(item.id).claim == winners[0].claim


def test_racing_opens_of_one_key_make_one_item(reviews: ReviewRepository) -> None:
    for n in range(5):
        results = race([partial(reviews.open, new_item(dedupe_key=f"k{n}"))] * 4)
        opened = [r for r in results if isinstance(r, tuple)]
        assert len({item.id for item, _ in opened}) == 1
        assert sorted(created for _, created in opened) == [False, False, False, True]


def test_a_withdrawn_cases_own_waiting_item_leaves_the_queue(reviews: ReviewRepository) -> None:
    own, _ = reviews.open(new_item(source=ItemSource.CASE, case_number="SW-AAAA-0001"))
    linked, _ = reviews.open(new_item(case_number="SW-AAAA-0001", dedupe_key="p:1"))
    reviews.claim(own.id, "ana", NOW, NOW + timedelta(minutes=10))
    withdrawn = reviews.withdraw_case_item("SW-AAAA-0001")
    assert withdrawn is not None
    assert (withdrawn.id, withdrawn.state, withdrawn.claim) == (own.id, ItemState.WITHDRAWN, None)
    assert [i.id for i in reviews.waiting()] == [linked.id]  # platform items stay
    assert reviews.withdraw_case_item("SW-AAAA-0001") is None
    assert reviews.withdraw_case_item("SW-NONE-0000") is None
    with pytest.raises(InvalidInputError):
        reviews.claim(own.id, "ana", NOW, NOW + timedelta(minutes=10))


def test_a_likeness_item_keeps_its_findings(reviews: ReviewRepository) -> None:
    findings = DetectorFindings(
        0.91,
        2,
        (EnrolledLikeness("EN-AAAA-0001", 0.83), EnrolledLikeness("EN-AAAA-0002", 0.51)),
        (("Stable Diffusion XL", "watermark:dwtDct (BGR)", "41 of its 48 bits read"),),
    )
    item, _ = reviews.open(new_item(source=ItemSource.LIKENESS, minor=True, findings=findings))
    assert reviews.get(item.id).findings == findings
    assert reviews.get(item.id).source is ItemSource.LIKENESS
    plain, _ = reviews.open(new_item())
    assert reviews.get(plain.id).findings is None
