"""BankMatcher's second stage: crops of any amount found by the aligned search, collage
panels matched, both only where the bank's policy allows; every match says its stage."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageOps

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import BankPolicy, MatchAction, NewEntry
from shieldwall.banks.service import BankService
from shieldwall.config import MediaLimits
from shieldwall.hashing.service import ContentSignals, Purpose, hash_content
from shieldwall.matching.models import Match, Stage
from shieldwall.matching.pdq_index import BUFFER_ROWS, PdqIndex
from shieldwall.matching.service import BankMatcher
from shieldwall.signals.pairs import is_pair_name
from tests.support.edits import beside, bordered, captioned, cut_sides, jpeg_bytes
from tests.support.images import scene

SIZE = (640, 480)
BANKED = (1, 2, 3, 4)
"""Scenes banked in both banks; each query below is an edit of one of them or unrelated."""

Insets = tuple[float, float, float, float]

STAGE_TWO_CROPS: list[tuple[int, Insets]] = [
    (1, (0.05, 0.095, 0.015, 0.095)),
    (2, (0.085, 0.05, 0.05, 0.075)),
    (3, (0.08, 0.095, 0.015, 0.05)),
    (4, (0.09, 0.04, 0.06, 0.0)),
]
"""(scene, left/top/right/bottom cut): copies that no stored window or query view is near
enough to for stage one (asserted), each side cut by its own 0-10%."""


@pytest.fixture(scope="module")
def matcher_and_ids() -> tuple[BankMatcher, dict[int, dict[str, int]]]:
    """One matcher over two banks holding the same scenes: `on` (the default policy) and
    `off` (second stage off); entry ids by scene and bank. The entries hold no pair
    windows."""
    repository = InMemoryBankRepository()
    banks = BankService(repository)
    banks.create_bank("on")
    banks.create_bank("off", second_stage=False)
    assert banks.get_bank("on").policy.second_stage is True
    assert banks.get_bank("off").policy == BankPolicy(second_stage=False)
    ids: dict[int, dict[str, int]] = {}
    for seed in BANKED:
        banked = hash_content(jpeg_bytes(picture(seed)), MediaLimits(), purpose=Purpose.BANK)
        # Without pair windows (as entries filed before them): the pair search, which runs
        # first, has its own tests (test_pair_matcher.py); these are the aligned search's.
        signals = [s for s in banked.entry_signals() if not is_pair_name(s.variant)]
        entry = NewEntry(tuple(signals))
        ids[seed] = {
            name: added.entry_id
            for name in ("on", "off")
            for added in banks.add_entries(name, [entry])
        }
    return BankMatcher.load(repository), ids


@pytest.fixture
def matcher(matcher_and_ids: tuple[BankMatcher, dict[int, dict[str, int]]]) -> BankMatcher:
    return matcher_and_ids[0]


@pytest.fixture
def ids(
    matcher_and_ids: tuple[BankMatcher, dict[int, dict[str, int]]],
) -> dict[int, dict[str, int]]:
    return matcher_and_ids[1]


def picture(seed: int) -> Image.Image:
    return scene(seed, *SIZE)


def lookup(image: Image.Image) -> ContentSignals:
    return hash_content(jpeg_bytes(image), MediaLimits(), purpose=Purpose.LOOKUP)


def cut(seed: int, insets: Insets) -> Image.Image:
    return cut_sides(picture(seed), *insets)


def both_stages(matcher: BankMatcher, query: ContentSignals) -> list[Match]:
    return matcher.match_signals(query.lookup_signals(), pixels=query.pixels)


def found(matches: list[Match]) -> set[tuple[str, int, Stage]]:
    return {(match.bank, match.entry_id, match.stage) for match in matches}


@pytest.mark.parametrize(("seed", "insets"), STAGE_TWO_CROPS)
def test_a_crop_stage_one_misses_is_found_by_the_aligned_search(
    matcher: BankMatcher, ids: dict[int, dict[str, int]], seed: int, insets: Insets
) -> None:
    query = lookup(cut(seed, insets))
    assert query.pixels is not None
    # Stage one alone (no pixels: no aligned search) finds it in neither bank.
    assert matcher.match_signals(query.lookup_signals()) == []
    matches = both_stages(matcher, query)
    # Found in the bank whose policy allows the second stage only.
    assert found(matches) == {("on", ids[seed]["on"], Stage.SECOND)}
    [match] = matches
    assert match.signal_type == "pdq"
    assert match.variant.startswith("whole/aligned:")
    assert len(match.variant.removeprefix("whole/aligned:").split("+")) >= 2
    assert 0 <= match.distance <= BankPolicy().pdq_threshold
    assert match.as_json()["stage"] == "second"


@pytest.mark.parametrize(
    ("seed", "insets", "framing", "seeded_by"),
    [
        (1, (0.05, 0.0, 0.05, 0.0), "caption below", "uncaptioned"),
        (2, (0.06, 0.04, 0.02, 0.0), "caption above", "uncaptioned"),
        (4, (0.09, 0.04, 0.06, 0.0), "white border", "trimmed"),
    ],
)
def test_a_crop_later_captioned_or_framed_is_aligned_inside_its_frame(
    matcher: BankMatcher,
    ids: dict[int, dict[str, int]],
    seed: int,
    insets: Insets,
    framing: str,
    seeded_by: str,
) -> None:
    """The whole hash of such a copy (crop plus caption bar) is near no stored window: the
    aligned search seeds from the view with the bar or border cut off instead."""
    cropped = cut(seed, insets)
    if framing == "white border":
        query = lookup(bordered(cropped, 24, 24, 24, 24, (255, 255, 255)))
    else:
        query = lookup(captioned(cropped, 70, top=framing == "caption above"))
    assert matcher.match_signals(query.lookup_signals()) == []
    matches = both_stages(matcher, query)
    assert found(matches) == {("on", ids[seed]["on"], Stage.SECOND)}
    [match] = matches
    assert match.variant.startswith(f"{seeded_by}/aligned:"), match.variant
    assert 0 <= match.distance <= BankPolicy().pdq_threshold


def test_unrelated_captioned_crops_never_match(matcher: BankMatcher) -> None:
    for seed in (40, 41, 42):
        query = captioned(cut(seed, (0.05, 0.0, 0.05, 0.0)), 70)
        assert both_stages(matcher, lookup(query)) == []


@pytest.mark.parametrize(("seed", "other", "side"), [(1, 30, "left"), (3, 31, "right")])
def test_a_collage_panel_matches_in_the_second_stage_only_where_allowed(
    matcher: BankMatcher, ids: dict[int, dict[str, int]], seed: int, other: int, side: str
) -> None:
    query = lookup(beside(picture(seed), picture(other), first=side == "left", gutter=12))
    matches = both_stages(matcher, query)
    assert found(matches) == {("on", ids[seed]["on"], Stage.SECOND)}
    [match] = matches
    assert match.variant.startswith(f"panel-{side}")
    # Without its panel views (and its pixels) the same lookup finds nothing.
    first_stage = [s for s in query.lookup_signals() if not s.variant.startswith("panel-")]
    assert len(first_stage) < len(query.lookup_signals())
    assert matcher.match_signals(first_stage) == []


def test_a_plain_copy_matches_whole_in_both_banks(
    matcher: BankMatcher, ids: dict[int, dict[str, int]]
) -> None:
    # Re-encoded (other bytes, so no digest match) and mirrored. (A resized copy may be
    # reported as `regions`: the nearest match is kept, and a band can be nearer.)
    for copy, variant in (
        (jpeg_bytes(picture(2), quality=75), "original"),
        (jpeg_bytes(ImageOps.mirror(picture(2))), "mirror"),
    ):
        matches = both_stages(matcher, hash_content(copy, MediaLimits(), purpose=Purpose.LOOKUP))
        assert found(matches) == {
            ("on", ids[2]["on"], Stage.WHOLE),
            ("off", ids[2]["off"], Stage.WHOLE),
        }
        assert all(match.variant == variant for match in matches)
        assert all(match.as_json()["stage"] == "whole" for match in matches)


def test_the_same_file_matches_exactly_on_its_digests(
    matcher: BankMatcher, ids: dict[int, dict[str, int]]
) -> None:
    query = hash_content(jpeg_bytes(picture(3)), MediaLimits(), purpose=Purpose.LOOKUP)
    matches = both_stages(matcher, query)
    stages = {(match.bank, match.signal_type): match.stage for match in matches}
    for bank in ("on", "off"):
        assert stages[(bank, "md5")] is Stage.EXACT
        assert stages[(bank, "sha256")] is Stage.EXACT
        assert stages[(bank, "pdq")] is Stage.WHOLE
    exact = [match for match in matches if match.stage is Stage.EXACT]
    assert {match.entry_id for match in exact} == {ids[3]["on"], ids[3]["off"]}
    assert all(match.distance == 0 and match.as_json()["stage"] == "exact" for match in exact)


def test_a_cropped_centre_matches_in_stage_one_regions(
    matcher: BankMatcher, ids: dict[int, dict[str, int]]
) -> None:
    centre = cut(4, (0.05, 0.05, 0.05, 0.05))
    matches = both_stages(matcher, lookup(centre))
    assert found(matches) == {
        ("on", ids[4]["on"], Stage.REGIONS),
        ("off", ids[4]["off"], Stage.REGIONS),
    }
    assert all(match.as_json()["stage"] == "regions" for match in matches)
    assert all(match.variant != "original" for match in matches)


@pytest.mark.parametrize("seed", [30, 41, 57, 66, 78, 95])
def test_unrelated_scenes_never_match_with_the_second_stage_on(
    matcher: BankMatcher, seed: int
) -> None:
    image = picture(seed)
    for query in (image, cut(seed, (0.05, 0.08, 0.02, 0.06)), beside(image, picture(seed + 1))):
        assert both_stages(matcher, lookup(query)) == []


def test_match_as_json_names_the_stage() -> None:
    variant = "whole/aligned:zoom825+crop80:x05:y10"
    match = Match("bank", 7, "pdq", 12, variant, MatchAction.BLOCK, Stage.SECOND)
    assert match.as_json() == {
        "bank": "bank",
        "entry_id": 7,
        "signal_type": "pdq",
        "distance": 12,
        "variant": variant,
        "stage": "second",
    }
    # A match made without naming its stage is a whole-picture one.
    assert Match("bank", 7, "pdq", 0, "original", MatchAction.BLOCK).stage is Stage.WHOLE


# PdqIndex.rows_of


def _hashes(count: int, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    return rng.integers(0, 256, (count, 32), dtype=np.uint8)


def test_rows_of_gives_the_live_rows_of_one_key_from_segments_and_buffer() -> None:
    rng = np.random.default_rng(3)
    index = PdqIndex()
    # A full buffer's worth at once becomes a segment; the later rows stay in the buffer.
    segment_hashes = _hashes(BUFFER_ROWS, rng)
    segment_keys = np.arange(BUFFER_ROWS, dtype=np.int64) % 1000
    segment_labels = (np.arange(BUFFER_ROWS) % 7).astype(np.uint8)
    index.add(segment_hashes, segment_keys, segment_labels)
    buffer_hashes = _hashes(3, rng)
    index.add(buffer_hashes, np.array([5, 2000, 5], dtype=np.int64), np.array([9, 1, 11], np.uint8))
    expected = {
        (int(segment_labels[row]), segment_hashes[row].tobytes())
        for row in np.flatnonzero(segment_keys == 5).tolist()
    } | {(9, buffer_hashes[0].tobytes()), (11, buffer_hashes[2].tobytes())}
    rows = index.rows_of(5)
    assert len(rows) == len(expected) == 7  # rows 5, 1005, 2005, 3005, 4005 and two more
    assert set(rows) == expected
    assert all(isinstance(value, bytes) and len(value) == 32 for _, value in rows)
    assert index.rows_of(2000) == [(1, buffer_hashes[1].tobytes())]
    assert index.rows_of(123456) == []
    # Removed: nothing, from the segment and the buffer alike; other keys untouched.
    assert index.remove([5]) == 7
    assert index.rows_of(5) == []
    assert index.rows_of(2000) == [(1, buffer_hashes[1].tobytes())]
    assert len(index.rows_of(6)) == 5
