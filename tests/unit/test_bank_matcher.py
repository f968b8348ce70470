"""BankMatcher and BankService over the in-memory repository: policy, variants, freshness."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import EntryState, MatchAction, NewEntry, Provenance
from shieldwall.banks.service import BankService
from shieldwall.config import MediaLimits
from shieldwall.errors import ConflictError, NotFoundError
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.matching.models import verdict_of
from shieldwall.matching.service import BankMatcher
from shieldwall.signals.models import Signal
from shieldwall.signals.pdq import pdq_distance
from shieldwall.signals.pdq_quality import signal_refusal
from tests.support.factories import pdq_entry, random_pdq


def flip(hex_value: str, bits: int, rng: random.Random) -> str:
    value = int(hex_value, 16)
    for bit in rng.sample(range(256), bits):
        value ^= 1 << bit
    return f"{value:064x}"


@pytest.fixture
def repository() -> InMemoryBankRepository:
    return InMemoryBankRepository()


@pytest.fixture
def service(repository: InMemoryBankRepository) -> BankService:
    return BankService(repository)


@pytest.fixture
def rng() -> random.Random:
    return random.Random(7)


def test_match_within_bank_threshold_only(
    service: BankService, repository: InMemoryBankRepository, rng: random.Random
) -> None:
    service.create_bank("tight", pdq_threshold=10)
    service.create_bank("loose", pdq_threshold=40)
    stored = random_pdq(rng)
    [tight] = service.add_entries("tight", [pdq_entry(stored)])
    [loose] = service.add_entries("loose", [pdq_entry(stored)])
    matcher = BankMatcher.load(repository)
    query = Signal.of("pdq", flip(stored, 20, rng))
    matches = matcher.match_signals([query])
    assert [(m.bank, m.entry_id, m.distance) for m in matches] == [("loose", loose.entry_id, 20)]
    assert tight.entry_id != loose.entry_id
    assert matcher.match_signals([query], max_threshold=15) == []


def test_per_request_threshold_only_tightens(
    service: BankService, repository: InMemoryBankRepository, rng: random.Random
) -> None:
    service.create_bank("bank", pdq_threshold=10)
    stored = random_pdq(rng)
    service.add_entries("bank", [pdq_entry(stored)])
    matcher = BankMatcher.load(repository)
    assert matcher.match_signals([Signal.of("pdq", flip(stored, 20, rng))], 63) == []


def test_exact_digest_match(service: BankService, repository: InMemoryBankRepository) -> None:
    service.create_bank("bank", action=MatchAction.REVIEW)
    md5 = "0" * 31 + "1"
    [added] = service.add_entries("bank", [NewEntry((Signal.of("md5", md5),))])
    matcher = BankMatcher.load(repository)
    matches = matcher.match_signals([Signal.of("md5", md5.upper())])
    assert [(m.entry_id, m.signal_type, m.distance) for m in matches] == [
        (added.entry_id, "md5", 0)
    ]
    assert verdict_of(matches) is MatchAction.REVIEW
    assert matcher.match_signals([Signal.of("md5", "f" * 32)]) == []


def test_variant_reported_and_nearest_kept(
    service: BankService, repository: InMemoryBankRepository, rng: random.Random
) -> None:
    service.create_bank("bank")
    stored = random_pdq(rng)
    [added] = service.add_entries("bank", [pdq_entry(stored)])
    matcher = BankMatcher.load(repository)
    signals = [
        Signal.of("pdq", random_pdq(rng), "original"),
        Signal.of("pdq", flip(stored, 3, rng), "mirror"),
        Signal.of("pdq", flip(stored, 9, rng), "rotate90"),
    ]
    [match] = matcher.match_signals(signals)
    assert (match.entry_id, match.variant, match.distance) == (added.entry_id, "mirror", 3)


def test_stored_variant_named_in_match(
    service: BankService, repository: InMemoryBankRepository, rng: random.Random
) -> None:
    service.create_bank("bank")
    stored = random_pdq(rng)
    entry = NewEntry(
        (Signal.of("pdq", random_pdq(rng)), Signal.of("pdq", stored, "crop_center_80"))
    )
    service.add_entries("bank", [entry])
    matcher = BankMatcher.load(repository)
    [match] = matcher.match_signals([Signal.of("pdq", stored)])
    assert match.variant == "crop_center_80"
    [both] = matcher.match_signals([Signal.of("pdq", stored, "mirror")])
    assert both.variant == "mirror/crop_center_80"


def test_changes_visible_to_next_query(
    service: BankService, repository: InMemoryBankRepository, rng: random.Random
) -> None:
    service.create_bank("bank")
    first = random_pdq(rng)
    service.add_entries("bank", [pdq_entry(first)])
    matcher = BankMatcher.load(repository)
    service.subscribe(matcher)
    second = random_pdq(rng)
    [added] = service.add_entries("bank", [pdq_entry(second)])
    query = [Signal.of("pdq", second)]
    assert [m.entry_id for m in matcher.match_signals(query)] == [added.entry_id]
    service.set_entry_state(added.entry_id, EntryState.DISABLED)
    assert matcher.match_signals(query) == []
    service.set_entry_state(added.entry_id, EntryState.ACTIVE)
    assert [m.entry_id for m in matcher.match_signals(query)] == [added.entry_id]
    service.set_entry_state(added.entry_id, EntryState.WITHDRAWN)
    assert matcher.match_signals(query) == []
    with pytest.raises(ConflictError):
        service.set_entry_state(added.entry_id, EntryState.ACTIVE)
    assert service.get_entry(added.entry_id).state is EntryState.WITHDRAWN


def test_allow_list_suppresses_other_banks(
    service: BankService, repository: InMemoryBankRepository, rng: random.Random
) -> None:
    benign = random_pdq(rng)
    service.create_bank("benign", action=MatchAction.ALLOW)
    service.add_entries("benign", [pdq_entry(benign)])
    service.create_bank("abuse", allow_list_banks=["benign"])
    service.add_entries("abuse", [pdq_entry(flip(benign, 4, rng))])
    other = random_pdq(rng)
    service.add_entries("abuse", [pdq_entry(other)])
    matcher = BankMatcher.load(repository, ["abuse"])  # loads its allow-list too
    collided = matcher.match_signals([Signal.of("pdq", benign)])
    assert {m.bank for m in collided} == {"benign"}
    assert verdict_of(collided) is MatchAction.ALLOW
    blocked = matcher.match_signals([Signal.of("pdq", other)])
    assert {m.bank for m in blocked} == {"abuse"}
    assert verdict_of(blocked) is MatchAction.BLOCK


def test_disabled_bank_never_matches(
    service: BankService, repository: InMemoryBankRepository, rng: random.Random
) -> None:
    service.create_bank("bank")
    stored = random_pdq(rng)
    service.add_entries("bank", [pdq_entry(stored)])
    service.set_bank_enabled("bank", False)
    matcher = BankMatcher.load(repository)
    assert matcher.match_signals([Signal.of("pdq", stored)]) == []


def test_unknown_bank_is_an_error(service: BankService, repository: InMemoryBankRepository) -> None:
    with pytest.raises(NotFoundError):
        BankMatcher.load(repository, ["missing"])


def test_verdict_order_block_before_review(
    service: BankService, repository: InMemoryBankRepository, rng: random.Random
) -> None:
    stored = random_pdq(rng)
    service.create_bank("review", action=MatchAction.REVIEW)
    service.create_bank("block", action=MatchAction.BLOCK)
    service.add_entries("review", [pdq_entry(stored)])
    service.add_entries("block", [pdq_entry(flip(stored, 5, rng))])
    matches = BankMatcher.load(repository).match_signals([Signal.of("pdq", stored)])
    assert [m.bank for m in matches] == ["block", "review"]
    assert verdict_of(matches) is MatchAction.BLOCK


def test_update_policy_keeps_unchanged_parts(service: BankService) -> None:
    service.create_bank("bank", pdq_threshold=20, action=MatchAction.REVIEW)
    changed = service.update_policy("bank", pdq_threshold=12)
    assert (changed.policy.pdq_threshold, changed.policy.action) == (12, MatchAction.REVIEW)


def test_apply_added_twice_is_harmless(
    service: BankService, repository: InMemoryBankRepository, rng: random.Random
) -> None:
    service.create_bank("bank")
    loaded_value, fresh_value = random_pdq(rng), random_pdq(rng)
    md5 = f"{rng.getrandbits(128):032x}"
    [loaded] = service.add_entries("bank", [pdq_entry(loaded_value)])
    matcher = BankMatcher.load(repository)
    both = NewEntry((Signal.of("pdq", fresh_value), Signal.of("md5", md5)))
    [fresh] = service.add_entries("bank", [both])
    entries = [service.get_entry(loaded.entry_id), service.get_entry(fresh.entry_id)]
    # The loaded entry again, the new one twice over, then everything once more in a batch.
    matcher.apply_added(entries[0])
    matcher.apply_added(entries[1])
    matcher.apply_added(entries[1])
    matcher.apply_added_many([*entries, *entries])
    assert matcher.size() == {"bank": 2}
    query = [Signal.of("pdq", loaded_value), Signal.of("pdq", fresh_value), Signal.of("md5", md5)]
    matches = matcher.match_signals(query)
    assert sorted((m.entry_id, m.signal_type) for m in matches) == [
        (loaded.entry_id, "pdq"),
        (fresh.entry_id, "md5"),
        (fresh.entry_id, "pdq"),
    ]
    # Removed, then added again (twice): matchable once more, still one row.
    matcher.apply_removed_many(entries)
    assert matcher.match_signals(query) == []
    matcher.apply_added_many(entries)
    matcher.apply_added(entries[1])
    assert matcher.size() == {"bank": 2}
    assert len(matcher.match_signals(query)) == 3


def test_apply_added_ignores_inactive_entries_and_unknown_banks(
    service: BankService, repository: InMemoryBankRepository, rng: random.Random
) -> None:
    service.create_bank("bank")
    service.create_bank("other")
    matcher = BankMatcher.load(repository, ["bank"])
    [paused] = service.add_entries("bank", [pdq_entry(random_pdq(rng))])
    [elsewhere] = service.add_entries("other", [pdq_entry(random_pdq(rng))])
    disabled = service.set_entry_state(paused.entry_id, EntryState.DISABLED)
    matcher.apply_added_many([disabled, service.get_entry(elsewhere.entry_id)])
    assert matcher.size() == {"bank": 0}


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels), "RGB").save(buffer, "PNG")
    return buffer.getvalue()


def _black(width: int, height: int) -> bytes:
    return _png(np.zeros((height, width, 3), dtype=np.uint8))


def test_a_legacy_all_zero_entry_never_makes_blank_images_answer_review(
    service: BankService,
    repository: InMemoryBankRepository,
) -> None:
    """Issue 9 item 6: a report filed with an all-zero PDQ made every black image `review`."""
    service.create_bank("reported", action=MatchAction.REVIEW)
    legacy = NewEntry((Signal.of("pdq", "0" * 64),), Provenance(note="banked before the rule"))
    # Written at the repository level, as data banked before the acceptance rule was.
    [loaded] = repository.add_entries("reported", [legacy])
    matcher = BankMatcher.load(repository)
    assert matcher.size() == {"reported": 0}
    for width, height in ((640, 480), (32, 32)):
        black = hash_content(_black(width, height), MediaLimits(), purpose=Purpose.LOOKUP)
        assert black.pdq.value == "0" * 64  # what every all-black image hashes to
        matches = matcher.match_signals(black.lookup_signals())
        assert matches == []
        assert verdict_of(matches) is MatchAction.ALLOW
    # Heard later (another worker's write, the change log): still never indexed.
    [fresh] = repository.add_entries("reported", [NewEntry((Signal.of("pdq", "1" * 64),))])
    matcher.apply_added_many([service.get_entry(e.entry_id) for e in (loaded, fresh)])
    assert matcher.size() == {"reported": 0}
    assert matcher.match_signals([Signal.of("pdq", "0" * 64), Signal.of("pdq", "1" * 64)]) == []


def test_a_low_quality_query_is_not_matched_on_pdq_but_its_digests_are(
    service: BankService,
    repository: InMemoryBankRepository,
) -> None:
    service.create_bank("bank", action=MatchAction.REVIEW)
    y, x = np.mgrid[0:320, 0:480].astype(np.float32)
    ramp = np.stack([x / 480 * 200, y / 320 * 200, (x + y) / 800 * 200], axis=-1)
    plain = _png(ramp.astype(np.uint8))
    banked = hash_content(plain, MediaLimits())
    assert banked.pdq.quality is not None
    assert banked.pdq.quality < 50
    # A gradient's PDQ value looks like any other (a hash file carries no quality)...
    stored_pdq = Signal.of("pdq", banked.pdq.value)
    assert signal_refusal(stored_pdq) is None
    [stored] = repository.add_entries("bank", [NewEntry((stored_pdq, banked.sha256))])
    matcher = BankMatcher.load(repository)
    # ...but a query knows its quality: too little detail to search on PDQ.
    same = hash_content(plain, MediaLimits(), purpose=Purpose.LOOKUP)
    matches = matcher.match_signals(same.lookup_signals())
    assert [(m.entry_id, m.signal_type) for m in matches] == [(stored.entry_id, "sha256")]
    shifted = _png(np.clip(ramp + 1, 0, 255).astype(np.uint8))
    near = hash_content(shifted, MediaLimits(), purpose=Purpose.LOOKUP)
    assert pdq_distance(near.pdq.value, banked.pdq.value) <= 31  # PDQ alone would match
    assert matcher.match_signals(near.lookup_signals()) == []
