"""Sweeps of known copies: platforms' lookups are kept as signals (never content) in the
screened record; a confirm decision searches it for the same picture and its edited copies
(re-encoded, cropped, captioned, mirrored), byte-identical copies by digest; each platform
lists its own copies and says what it did; everything is in the audit log."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image, ImageOps

from shieldwall.audit.models import Actor, ActorKind, AuditAction
from shieldwall.banks.models import MatchAction
from shieldwall.errors import InvalidInputError, NotFoundError
from shieldwall.review.models import DecisionInput, DecisionKind, RemovalAction
from shieldwall.review.sweeps import HitOutcome
from shieldwall.screening.record import screened_from_signals
from shieldwall.signals.models import Signal
from tests.support.edits import captioned, jpeg_bytes
from tests.support.factories import jpeg
from tests.support.images import scene
from tests.support.review_world import ALICE, NOW, ReviewWorld, review_world

CONFIRM = DecisionInput(
    DecisionKind.CONFIRM, RemovalAction.REMOVE, "take-it-down-act", "the reported image"
)
ACCEPT = DecisionInput(
    DecisionKind.ACCEPT, ground="take-it-down-act", facts="a valid report from the person shown"
)
PLATFORM, OTHER = 7, 8  # API key ids of two platforms


def edited_copies(seed: int) -> dict[str, bytes]:
    image = scene(seed)
    width, height = image.size
    return {
        "reencoded": jpeg_bytes(image.resize((width * 2 // 3, height * 2 // 3)), quality=60),
        "cropped": jpeg_bytes(image.crop((int(width * 0.08), 0, width, height))),
        "captioned": jpeg_bytes(captioned(image, height // 6)),
        "mirrored": jpeg_bytes(ImageOps.mirror(image)),
    }


def png_of(content: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(content)).save(buffer, "PNG")
    return buffer.getvalue()


def queued_item(world: ReviewWorld, content: bytes) -> int:
    result = world.screening.screen_content(content, PLATFORM, content_ref="up/first")
    assert result.verdict is MatchAction.REVIEW
    signals = [
        Signal.of(k, v) for k, v in (result.signals or {}).items() if k in {"pdq", "md5", "sha256"}
    ]
    item = world.review.queue_lookup(
        result,
        signals,
        content_ref="up/first",
        key_id=PLATFORM,
        content=content,
    )
    assert item is not None
    return item.id


def test_the_record_keeps_signals_and_refs_never_content() -> None:
    world = review_world()
    photo = jpeg(31)
    world.screening.screen_content(photo, PLATFORM, content_ref="https://ex.example/p/1")
    world.screening.screen_signals({"md5": "ab" * 16}, OTHER, content_ref="msg-9")
    world.screening.screen_signals({"md5": "ef" * 16}, OTHER)  # no reference: nothing to act on
    world.screening.screen_batch([{"sha256": "cd" * 32}, {"pdq": "zz"}], OTHER)
    world.screening.screen_content(photo, None, content_ref="cli")  # not a platform's lookup
    rows = world.record.get_many(range(1, 10))
    assert [(r.lookup.key_id, r.lookup.content_ref) for r in rows] == [
        (PLATFORM, "https://ex.example/p/1"),
        (OTHER, "msg-9"),
    ]
    first = rows[0].lookup
    assert first.pdq is not None
    assert len(first.pdq) == 64
    assert first.md5 is not None
    assert first.screened_at == NOW
    assert first.verdict == "allow"
    assert 0 < len(first.views) <= 16  # the views that undo edits, not the rotations
    assert first.pdq not in first.views
    assert (rows[1].lookup.pdq, rows[1].lookup.md5) == (None, "ab" * 16)


def test_a_plain_picture_keeps_only_its_digests() -> None:
    blank = Signal.of("pdq", "0" * 64, quality=0)
    kept = screened_from_signals([blank, Signal.of("md5", "ef" * 16)], 1, "", NOW, "allow")
    assert kept is not None
    assert (kept.pdq, kept.md5) == (None, "ef" * 16)
    assert screened_from_signals([blank], 1, "", NOW, "allow") is None


def test_a_confirm_decision_sweeps_the_record_for_copies_and_edited_copies() -> None:
    world = review_world()
    photo = jpeg(42)
    world.file_case(photo)
    earlier = world.clock()
    for name, content in edited_copies(42).items():
        world.screening.screen_content(content, OTHER, content_ref=f"other/{name}")
    world.screening.screen_content(png_of(photo), OTHER, content_ref="other/png")
    world.screening.screen_content(jpeg(33), OTHER, content_ref="other/unrelated")
    world.screening.screen_content(photo, OTHER, content_ref="other/exact")
    world.clock.advance(timedelta(hours=1))
    item_id = queued_item(world, photo)
    world.review.claim(item_id, ALICE)
    world.review.decide(item_id, ALICE, CONFIRM)
    [sweep] = world.sweeps.of_item(item_id)
    found = {h.hit.content_ref: h for h in sweep.hits}
    assert set(found) == {
        "other/reencoded",
        "other/cropped",
        "other/captioned",
        "other/mirrored",
        "other/png",
        "other/exact",
        "up/first",  # the decided upload itself is listed too: its platform removes it
    }
    assert found["other/exact"].hit.matched_by == "sha256"
    assert found["other/png"].hit.matched_by == "pdq"
    assert found["other/png"].hit.distance is not None
    assert found["other/mirrored"].hit.screened_at == earlier
    assert all(h.outcome is HitOutcome.PENDING for h in sweep.hits)
    assert sweep.sweep.case_number == world.review.item(item_id).case_number
    [logged] = [r for r in world.audit.records() if r.action is AuditAction.SWEEP]
    assert logged.details["copies"] == len(found)
    assert logged.details["platforms"] == 2
    assert "other/" not in str(logged.details)  # never a platform's reference in the log


def test_platforms_see_their_own_copies_and_say_what_they_did() -> None:
    world = review_world()
    photo = jpeg(43)
    world.file_case(photo)
    world.screening.screen_content(jpeg_bytes(scene(43), quality=70), OTHER, content_ref="o/1")
    item_id = queued_item(world, photo)
    world.review.claim(item_id, ALICE)
    world.review.decide(item_id, ALICE, CONFIRM)
    [mine] = world.sweeps.to_remove(OTHER)
    assert mine.hit.content_ref == "o/1"
    assert [h.hit.content_ref for h in world.sweeps.to_remove(PLATFORM)] == ["up/first"]
    platform = Actor(ActorKind.API_KEY, "other")
    with pytest.raises(NotFoundError):  # not this key's copy
        world.sweeps.report(mine.id, PLATFORM, HitOutcome.REMOVED, platform)
    with pytest.raises(InvalidInputError):
        world.sweeps.report(mine.id, OTHER, HitOutcome.PENDING, platform)
    world.clock.advance(timedelta(hours=2))
    removed = world.sweeps.report(mine.id, OTHER, HitOutcome.REMOVED, platform)
    assert (removed.outcome, removed.outcome_at) == (HitOutcome.REMOVED, world.clock())
    assert world.sweeps.to_remove(OTHER) == []
    assert world.sweeps.to_remove(OTHER, HitOutcome.REMOVED) == [removed]
    outcomes = [
        r.details.get("outcome") for r in world.audit.records() if r.action is AuditAction.SWEEP
    ]
    assert outcomes == [None, "removed"]


def test_an_accepted_case_sweeps_with_the_hashes_made_on_the_device() -> None:
    world = review_world()
    photo = jpeg(35)
    world.screening.screen_content(edited_copies(35)["reencoded"], OTHER, content_ref="o/2")
    world.screening.screen_content(jpeg(36), OTHER, content_ref="o/3")
    case = world.file_case(photo)
    [item] = [i for i in world.review.queue(ALICE) if i.case_number == case.number]
    world.review.claim(item.id, ALICE)
    world.review.decide(item.id, ALICE, ACCEPT)
    [sweep] = world.sweeps.of_case(case.number)
    assert [h.hit.content_ref for h in sweep.hits] == ["o/2"]


def test_lookups_past_the_retention_are_not_swept_and_are_purged() -> None:
    world = review_world()
    photo = jpeg(37)
    world.screening.screen_content(photo, OTHER, content_ref="o/old")
    world.clock.advance(timedelta(days=181))
    world.file_case(photo)
    item_id = queued_item(world, photo)
    world.review.claim(item_id, ALICE)
    world.review.decide(item_id, ALICE, CONFIRM)
    [sweep] = world.sweeps.of_item(item_id)
    assert [h.hit.content_ref for h in sweep.hits] == ["up/first"]
    assert world.record.purge(world.clock() - world.sweeps.retention) == 1
    assert len(world.record) == 1  # the decided upload's own lookup stays


def test_reuploads_after_the_decision_are_counted_for_the_case() -> None:
    world = review_world()
    photo = jpeg(44)
    case = world.file_case(photo)
    item_id = queued_item(world, photo)
    world.review.claim(item_id, ALICE)
    world.review.decide(item_id, ALICE, CONFIRM)
    assert world.cases.blocked_since_decision(world.cases.get(case.number)) == (0, None)
    world.clock.advance(timedelta(days=1))
    for content in (photo, edited_copies(44)["cropped"], jpeg(20)):
        world.screening.screen_content(content, OTHER)
    count, last = world.cases.blocked_since_decision(world.cases.get(case.number))
    assert (count, last) == (2, world.clock())  # the unrelated picture is not counted


def test_a_lost_sweep_runs_again_from_what_the_decision_banked() -> None:
    world = review_world()
    photo = jpeg(42)
    world.file_case(photo)
    item_id = queued_item(world, photo)
    world.review.claim(item_id, ALICE)
    world.review.decide(item_id, ALICE, CONFIRM)  # the content is deleted here
    world.clock.advance(timedelta(days=1))
    world.screening.screen_content(edited_copies(42)["cropped"], OTHER, content_ref="o/later")
    item, queries = world.review.sweep_again(item_id)
    assert any(q.variant.startswith("crop") for q in queries)  # the banked region variants
    again = world.sweeps.sweep(item.id, item.case_number, queries)
    assert "o/later" in {h.hit.content_ref for h in again.hits}
    assert len(world.sweeps.of_item(item_id)) == 2
    world.file_case(jpeg(20))
    waiting = queued_item(world, jpeg(20))
    with pytest.raises(InvalidInputError, match="not confirmed"):
        world.review.sweep_again(waiting)
