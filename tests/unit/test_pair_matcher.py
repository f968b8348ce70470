"""The second stage's pair search (matching/pairs.py): the similarity a seed implies, the
store's bookkeeping, and BankMatcher finding zoomed-in crops by their landmarks only where
two windows agree and the bank's policy allows."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from PIL import Image

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import NewEntry
from shieldwall.banks.service import BankService
from shieldwall.config import MediaLimits
from shieldwall.hashing.service import ContentSignals, Purpose, hash_content
from shieldwall.matching.models import Stage
from shieldwall.matching.pairs import MAX_TURN_DEGREES, PairStore, Similarity, find_pairs
from shieldwall.matching.service import BankMatcher
from shieldwall.signals.models import Signal
from shieldwall.signals.pairs import Pair, is_pair_name, query_pairs, query_pairs_of
from tests.support.edits import jpeg_bytes
from tests.support.images import sample_photos

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
    repository = InMemoryBankRepository()
    banks = BankService(repository)
    banks.create_bank("on")
    banks.create_bank("off", second_stage=False)
    ids: dict[str, dict[str, int]] = {}
    for name in BANKED:
        banked = hash_content(jpeg_bytes(photo(name)), MediaLimits(), purpose=Purpose.BANK)
        entry = NewEntry(banked.entry_signals())
        ids[name] = {bank: banks.add_entries(bank, [entry])[0].entry_id for bank in ("on", "off")}
    return BankMatcher.load(repository), ids, banks


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
