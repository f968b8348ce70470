"""The second stage's pair search (matching/pairs.py): the similarity a seed implies, the
store's bookkeeping, and BankMatcher finding zoomed-in crops by their landmarks only where
two windows agree and the bank's policy allows."""

from __future__ import annotations

import functools
import pickle
import random
from collections.abc import Iterator, Sequence

import numpy as np
import pytest
from PIL import Image

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import IndexBatch, NewEntry, pdq_columns_of
from shieldwall.banks.service import BankService
from shieldwall.config import MediaLimits
from shieldwall.hashing import service as hashing_service
from shieldwall.hashing.service import ContentSignals, Purpose, hash_content
from shieldwall.matching.models import Stage
from shieldwall.matching.pairs import MAX_TURN_DEGREES, PairStore, Similarity, find_pairs
from shieldwall.matching.pdq_index import BUFFER_ROWS
from shieldwall.matching.service import BankMatcher
from shieldwall.screening.service import ScreeningService
from shieldwall.signals.models import Signal
from shieldwall.signals.pairs import Pair, is_pair_name, parse_pair, query_pairs, query_pairs_of
from tests.support.edits import jpeg_bytes
from tests.support.factories import random_pdq
from tests.support.images import sample_photos
from tests.support.policy_banks import banked_on_and_off

BANKED = ("astronaut", "coffee", "chelsea")
"""Sample photos banked in both banks (`on`: the default policy; `off`: no second stage)."""

ZOOMS = ((0.08, 0.2, 0.7, 0.75), (0.25, 0.05, 0.65, 0.8), (0.3, 0.22, 0.82, 0.68))
"""(left, top, width, height) of zoomed-in crops, as shares: no stored region is near them."""


def photo(name: str) -> Image.Image:
    return dict(sample_photos())[name].convert("RGB")


def zoom(image: Image.Image, left: float, top: float, width: float, height: float) -> Image.Image:
    w, h = image.size
    box = (round(left * w), round(top * h), round((left + width) * w), round((top + height) * h))
    return image.crop(box)


def lookup(image: Image.Image) -> ContentSignals:
    return hash_content(jpeg_bytes(image, 85), MediaLimits(), purpose=Purpose.LOOKUP)


@pytest.fixture(scope="module")
def world() -> tuple[BankMatcher, dict[str, dict[str, int]], BankService]:
    return banked_on_and_off({name: photo(name) for name in BANKED})


def test_a_similarity_maps_one_pair_onto_another_in_either_order() -> None:
    stored = Pair(0.2, 0.3, 0.6, 0.3)
    seen = Pair(0.1 + 1.5 * 0.2, 0.05 + 1.5 * 0.3, 0.1 + 1.5 * 0.6, 0.05 + 1.5 * 0.3)
    for order in (seen, Pair(seen.x2, seen.y2, seen.x1, seen.y1)):
        similarity = Similarity.between(stored, order)
        assert similarity is not None
        assert (similarity.scale, similarity.shift_x, similarity.shift_y) == pytest.approx(
            (1.5, 0.1, 0.05)
        )
        moved = similarity.apply(Pair(0.0, 0.0, 1.0, 1.0))
        assert (moved.x1, moved.y1, moved.x2, moved.y2) == pytest.approx((0.1, 0.05, 1.6, 1.55))


def test_a_turned_or_implausibly_scaled_pair_implies_no_similarity() -> None:
    stored = Pair(0.2, 0.3, 0.6, 0.3)
    turn = np.radians(MAX_TURN_DEGREES * 2)
    turned = Pair(0.2, 0.3, 0.2 + 0.4 * np.cos(turn), 0.3 + 0.4 * np.sin(turn))
    assert Similarity.between(stored, turned) is None
    assert Similarity.between(stored, Pair(0.2, 0.3, 0.21, 0.3)) is None  # 40 times smaller


def test_the_store_names_its_windows_and_forgets_removed_entries() -> None:
    store = PairStore()
    hashes = np.arange(3 * 32, dtype=np.uint8).reshape(3, 32)
    store.add(
        hashes, np.array([7, 7, 9], np.int64), ["pair:1-2-3-4", "pair:5-6-7-8", "pair:1-1-2-2"]
    )
    assert len(store) == 3
    assert [pair.name for pair, _ in store.stored(7)] == ["pair:1-2-3-4", "pair:5-6-7-8"]
    assert store.stored(7)[1][1] == hashes[1].tobytes()
    store.remove([7])
    assert store.stored(7) == []
    assert [pair.name for pair, _ in store.stored(9)] == ["pair:1-1-2-2"]
    store.add(hashes[:1], np.array([7], np.int64), ["pair:9-9-9-9"])  # re-activated
    assert [pair.name for pair, _ in store.stored(7)] == ["pair:9-9-9-9"]


def test_an_entry_holds_at_most_256_pair_windows() -> None:
    store = PairStore()
    count = 300
    hashes = np.random.default_rng(3).integers(0, 256, (count, 32), dtype=np.uint8)
    names = [f"pair:{i}-0-{i + 400}-0" for i in range(count)]
    store.add(hashes, np.full(count, 5, np.int64), names)
    assert len(store) == 256
    assert [pair.name for pair, _ in store.stored(5)] == names[:256]


def test_pair_windows_are_kept_apart_from_the_stored_variants(
    world: tuple[BankMatcher, dict[str, dict[str, int]], BankService],
) -> None:
    matcher, _, banks = world
    pairs = sum(
        is_pair_name(s.variant)
        for name in BANKED
        for s in banks.get_entry(world[1][name]["on"]).signals
    )
    assert pairs >= 3 * 10
    held = matcher.size()["on"]
    assert held == sum(
        not is_pair_name(s.variant) and s.type == "pdq"
        for name in BANKED
        for s in banks.get_entry(world[1][name]["on"]).signals
    )


@pytest.mark.parametrize("share", ZOOMS)
def test_a_zoomed_crop_is_found_by_two_agreeing_pair_windows(
    world: tuple[BankMatcher, dict[str, dict[str, int]], BankService],
    share: tuple[float, float, float, float],
) -> None:
    matcher, ids, _ = world
    for name in BANKED:
        signals = lookup(zoom(photo(name), *share))
        first = matcher.match_signals(signals.lookup_signals(), pixels=None)
        assert all(m.entry_id != ids[name]["on"] for m in first)  # stage one misses it
        found = matcher.match_signals(signals.lookup_signals(), pixels=signals.pixels)
        mine = [m for m in found if m.entry_id in ids[name].values()]
        assert [(m.bank, m.entry_id, m.stage) for m in mine] == [
            ("on", ids[name]["on"], Stage.SECOND)
        ]
        view, windows = mine[0].variant.split("/")
        seed, other = windows.split("+")
        assert view == "pairs"
        assert is_pair_name(seed)
        assert is_pair_name(other)
        assert seed != other
        assert all(m.entry_id in ids[name].values() for m in found)


def test_the_pair_search_runs_before_the_aligned_search(
    world: tuple[BankMatcher, dict[str, dict[str, int]], BankService],
) -> None:
    """A copy with its sides cut by a few per cent, which both searches can find, is found
    by the pair search (the cheaper), and the aligned search is not run."""
    matcher, ids, _ = world
    image = photo("astronaut")
    w, h = image.size
    signals = lookup(image.crop((round(0.06 * w), round(0.09 * h), round(0.97 * w), h)))
    first = matcher.match_signals(signals.lookup_signals(), pixels=None)
    assert all(m.entry_id != ids["astronaut"]["on"] for m in first)
    found = matcher.match_signals(signals.lookup_signals(), pixels=signals.pixels)
    assert [(m.entry_id, m.variant.split("/")[0]) for m in found] == [
        (ids["astronaut"]["on"], "pairs")
    ]


def test_unrelated_photos_find_nothing(
    world: tuple[BankMatcher, dict[str, dict[str, int]], BankService],
) -> None:
    matcher, _, _ = world
    for name in ("camera", "rocket", "hubble"):
        if name not in dict(sample_photos()):
            continue
        signals = lookup(zoom(photo(name), 0.1, 0.1, 0.75, 0.75))
        assert matcher.match_signals(signals.lookup_signals(), pixels=signals.pixels) == []


def test_one_seed_without_a_second_window_is_no_match() -> None:
    image = zoom(photo("coffee"), 0.08, 0.2, 0.7, 0.75)
    signals = lookup(image)
    assert signals.pixels is not None
    seen = query_pairs(signals.pixels)
    store = PairStore()
    pair, value = seen[0]
    # The query's own window, stored alone: the seed is exact, but nothing can agree.
    store.add(np.frombuffer(value, np.uint8).reshape(1, 32), np.array([1], np.int64), [pair.name])
    assert find_pairs(store, seen, signals.pixels, 31) == []


def test_withdrawn_entries_stop_matching_by_pairs() -> None:
    repository = InMemoryBankRepository()
    banks = BankService(repository)
    banks.create_bank("reported")
    banked = hash_content(jpeg_bytes(photo("coffee")), MediaLimits(), purpose=Purpose.BANK)
    entry_id = banks.add_entries("reported", [NewEntry(banked.entry_signals())])[0].entry_id
    matcher = BankMatcher.load(repository)
    signals = lookup(zoom(photo("coffee"), *ZOOMS[0]))
    assert [
        m.entry_id for m in matcher.match_signals(signals.lookup_signals(), pixels=signals.pixels)
    ] == [entry_id]
    matcher.apply_removed(banks.get_entry(entry_id))
    assert matcher.match_signals(signals.lookup_signals(), pixels=signals.pixels) == []


def test_hash_only_signals_of_pairs_are_ordinary_signals() -> None:
    signal = Signal.of("pdq", "0" * 63 + "1", variant="pair:12-34-560-78", quality=60)
    assert signal.variant == "pair:12-34-560-78"


def test_a_lookup_starts_its_pair_windows_ahead_and_they_are_the_same() -> None:
    signals = lookup(zoom(photo("coffee"), *ZOOMS[1]))
    assert signals.pixels is not None
    assert "query_pairs" in signals.pixels.derived  # started while the views were hashed
    ahead = query_pairs_of(signals.pixels)
    assert ahead == query_pairs(signals.pixels)
    assert len(ahead) >= 10


def test_pair_windows_made_ahead_travel_to_another_process_with_the_pixels() -> None:
    signals = lookup(zoom(photo("coffee"), *ZOOMS[1]))
    assert signals.pixels is not None
    copied = pickle.loads(pickle.dumps(signals.pixels))
    assert isinstance(copied.derived["query_pairs"], list)
    assert query_pairs_of(copied) == query_pairs(signals.pixels)


def test_pair_windows_are_made_ahead_only_where_a_bank_searches_them(
    world: tuple[BankMatcher, dict[str, dict[str, int]], BankService],
) -> None:
    matcher, ids, _ = world
    assert matcher.searches_pairs
    repository = InMemoryBankRepository()
    banks = BankService(repository)
    banks.create_bank("hashes")  # hash-only entries from an older device: no pair windows
    banks.add_entries("hashes", [NewEntry((Signal.of("pdq", random_pdq()),))])
    banks.create_bank("off", second_stage=False)
    banked = hash_content(jpeg_bytes(photo("coffee")), MediaLimits(), purpose=Purpose.BANK)
    banks.add_entries("off", [NewEntry(banked.entry_signals())])
    assert not BankMatcher.load(repository).searches_pairs  # pairs only where stage 2 is off
    assert not BankMatcher([]).searches_pairs
    data = jpeg_bytes(zoom(photo("coffee"), *ZOOMS[0]), 85)
    skipped = hash_content(data, MediaLimits(), purpose=Purpose.LOOKUP, pair_windows=False)
    assert skipped.pixels is not None
    assert "query_pairs" not in skipped.pixels.derived
    # A matcher that needs them after all (a bank gained pair windows meanwhile) makes them.
    found = matcher.match_signals(skipped.lookup_signals(), pixels=skipped.pixels)
    assert [m.entry_id for m in found] == [ids["coffee"]["on"]]


def test_screening_makes_pair_windows_ahead_only_for_a_matcher_that_searches_them(
    world: tuple[BankMatcher, dict[str, dict[str, int]], BankService],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    matcher, ids, _ = world
    started: list[object] = []
    monkeypatch.setattr(hashing_service, "start_query_pairs", started.append)
    data = jpeg_bytes(zoom(photo("chelsea"), *ZOOMS[2]), 85)
    for searched, expected in ((BankMatcher([]), 0), (matcher, 1)):
        screening = ScreeningService(
            functools.partial(lambda m: m, searched), MediaLimits(), lambda event: None
        )
        screening.screen_content(data, None)
        assert len(started) == expected
    assert [m.entry_id for m in screening.screen_content(data, None).matches] == [
        ids["chelsea"]["on"]
    ]


class SmallBatches(InMemoryBankRepository):
    """Index loads in batches of 1,000 rows, as a large bank's load comes in many."""

    def iter_index_batches(self, bank_ids: Sequence[int]) -> Iterator[IndexBatch]:
        for rows in self.iter_index_rows(bank_ids, batch_size=1000):
            yield IndexBatch(pdq_columns_of(rows), [r for r in rows if r.signal_type != "pdq"])


def pair_entry(rng: random.Random) -> NewEntry:
    """A hash-only entry of 24 random pair windows (the bench's padding, in small)."""
    names = {
        f"pair:{rng.randrange(900)}-{rng.randrange(900)}-{rng.randrange(900)}-1" for _ in range(24)
    }
    return NewEntry(
        tuple(Signal.of("pdq", random_pdq(rng), variant=name) for name in sorted(names))
    )


def test_a_load_builds_each_pair_store_in_one_piece() -> None:
    rng = random.Random(7)
    repository = SmallBatches()
    banks = BankService(repository)
    banks.create_bank("reported")
    added = banks.add_entries("reported", [pair_entry(rng) for _ in range(300)])
    stored = sum(len(e.signals) for e in repository.get_entries([a.entry_id for a in added]))
    assert stored > BUFFER_ROWS  # more than a live addition's buffer holds
    matcher = BankMatcher.load(repository)
    assert matcher.segment_sizes()["reported"] == {"pdq": [], "pairs": [stored]}
    # An entry whose windows straddle two batches: its landmarks and places still agree.
    entry = repository.get_entries([added[41].entry_id])[0]
    signals = lookup(photo("coffee"))
    assert signals.pixels is not None
    seen = [(parse_pair(s.variant), bytes.fromhex(s.value)) for s in entry.signals]
    signals.pixels.derived["query_pairs"] = seen  # as if the picture showed these windows
    found = matcher.match_signals([], pixels=signals.pixels)
    assert [(m.entry_id, m.distance, m.variant[:6]) for m in found] == [(entry.id, 0, "pairs/")]
