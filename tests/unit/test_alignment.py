"""The second stage's aligned search: Placement arithmetic by hand, and `align` finding
where a cropped copy of a banked scene came from, from a seed a few per cent off."""

from __future__ import annotations

import pytest

from shieldwall.config import MediaLimits
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.matching.alignment import (
    EDGE_SLACK,
    MIN_AGREEING,
    Alignment,
    Bits,
    Placement,
    align,
    stored_windows,
)
from shieldwall.normalise.views import working_pixels
from shieldwall.signals.pdq import pdq_hex_to_bytes
from shieldwall.signals.regions import FULL, Box, RegionHasher
from tests.support.edits import as_jpeg_pixels, cut_sides, jpeg_bytes
from tests.support.images import scene

THRESHOLD = 31
SIZE = (640, 480)


def close(found: tuple[float, ...], expected: tuple[float, ...], tol: float = 1e-9) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(found, expected, strict=True))


def as_tuple(box: Box | None) -> tuple[float, float, float, float]:
    assert box is not None
    return (box.left, box.top, box.right, box.bottom)


# Placement arithmetic


def test_matching_puts_the_banked_box_on_the_seen_box() -> None:
    banked = Box(0.1, 0.2, 0.9, 0.8)
    placement = Placement.matching(banked, FULL)
    assert close(
        (placement.x_scale, placement.x_offset, placement.y_scale, placement.y_offset),
        (1.25, -0.125, 1 / 0.6, -0.2 / 0.6),
    )
    assert close(placement.place(banked), (0.0, 0.0, 1.0, 1.0))
    # The whole banked picture reaches past the query on every side.
    assert close(placement.place(FULL), (-0.125, -1 / 3, 1.125, 4 / 3))
    # Its centre stays its centre.
    assert close(placement.place(Box(0.4, 0.4, 0.6, 0.6)), (0.375, 1 / 3, 0.625, 2 / 3))


def test_matching_a_seen_box_inside_the_query() -> None:
    placement = Placement.matching(Box(0.0, 0.0, 0.5, 1.0), Box(0.2, 0.1, 0.6, 0.5))
    assert close(
        (placement.x_scale, placement.x_offset, placement.y_scale, placement.y_offset),
        (0.8, 0.2, 0.4, 0.1),
    )
    assert close(placement.place(FULL), (0.2, 0.1, 1.0, 0.5))
    assert close(as_tuple(placement.inside(FULL)), (0.2, 0.1, 1.0, 0.5))


def test_inside_allows_a_sliver_past_the_edge_and_clamps_it() -> None:
    placement = Placement(1.0, 0.003, 1.0, -0.002)
    assert EDGE_SLACK > 0.003
    assert close(as_tuple(placement.inside(Box(0.0, 0.0, 0.5, 0.5))), (0.003, 0.0, 0.503, 0.498))
    assert close(as_tuple(placement.inside(Box(0.5, 0.5, 1.0, 1.0))), (0.503, 0.498, 1.0, 0.998))
    # 0.005 past the right edge is more than the slack.
    further = Placement(1.0, 0.005, 1.0, 0.0)
    assert further.inside(Box(0.5, 0.0, 1.0, 1.0)) is None
    assert further.inside(Box(0.0, 0.0, 0.99, 1.0)) is not None
    # And past the top or left likewise.
    assert Placement(1.0, 0.0, 1.0, -0.005).inside(Box(0.0, 0.0, 0.5, 0.5)) is None
    assert Placement(1.0, -0.005, 1.0, 0.0).inside(Box(0.0, 0.0, 0.5, 0.5)) is None


def test_inside_refuses_boxes_narrower_than_a_twentieth() -> None:
    identity = Placement(1.0, 0.0, 1.0, 0.0)
    assert identity.inside(Box(0.2, 0.2, 0.24, 0.5)) is None
    assert identity.inside(Box(0.2, 0.2, 0.5, 0.24)) is None
    assert identity.inside(Box(0.2, 0.2, 0.26, 0.26)) is not None
    # Clamping can make a box too narrow: 0.052 wide, 0.003 of it past the left edge.
    assert Placement(1.0, -0.003, 1.0, 0.0).inside(Box(0.0, 0.0, 0.052, 0.5)) is None


def test_moved_moves_one_axis_edges_by_shares_of_the_query() -> None:
    placement = Placement.matching(Box(0.1, 0.2, 0.9, 0.8), FULL)
    across = placement.moved(0, 0.02, -0.01)
    assert close(across.place(FULL), (-0.105, -1 / 3, 1.115, 4 / 3))
    assert (across.y_scale, across.y_offset) == (placement.y_scale, placement.y_offset)
    assert close((across.x_scale, across.x_offset), (1.22, -0.105))
    down = placement.moved(1, -0.03, 0.04)
    assert close(down.place(FULL), (-0.125, -1 / 3 - 0.03, 1.125, 4 / 3 + 0.04))
    assert (down.x_scale, down.x_offset) == (placement.x_scale, placement.x_offset)
    # Moving by nothing is the same placement; moves add up.
    assert placement.moved(0, 0.0, 0.0) == placement
    twice = placement.moved(0, 0.01, 0.02).moved(0, 0.01, -0.03)
    assert close(twice.place(FULL), across.place(FULL))


def test_alignment_reports_its_nearest_window_and_names_them_all() -> None:
    found = Alignment(Placement(1.0, 0.0, 1.0, 0.0), (("zoom825", 4), ("crop80:x05:y10", 9)))
    assert found.distance == 4
    assert found.variant == "aligned:zoom825+crop80:x05:y10"


def test_stored_windows_keeps_the_variants_with_a_known_box_as_bits() -> None:
    stored = {
        "original": bytes(32),
        "crop90:x00:y00": b"\xff" * 32,
        "crop80:x00:y00": b"\x0f" * 32,  # an earlier window, still known
        "band:top": b"\x01" * 32,  # bands are hashed on PDQ's grid: no use here
        "aspect16x9": b"\x02" * 32,
    }
    windows = stored_windows(stored)
    assert set(windows) == {"original", "crop90:x00:y00", "crop80:x00:y00"}
    assert windows["original"].shape == (256,)
    assert not windows["original"].any()
    assert windows["crop90:x00:y00"].all()
    assert int(windows["crop80:x00:y00"].sum()) == 128
    assert stored_windows({"band:top": bytes(32)}) == {}


# align on a generated scene


def banked_windows(seed: int) -> dict[str, Bits]:
    """The stored windows of a scene banked as a bank stores it."""
    banked = hash_content(jpeg_bytes(scene(seed, *SIZE)), MediaLimits(), purpose=Purpose.BANK)
    stored = {
        signal.variant: pdq_hex_to_bytes(signal.value)
        for signal in banked.entry_signals()
        if signal.type == "pdq"
    }
    return stored_windows(stored)


def cropped(seed: int, insets: tuple[float, float, float, float]) -> tuple[RegionHasher, Box]:
    """A JPEG copy of the scene with each side cut by its inset (left, top, right, bottom),
    as a lookup's hasher sees it, and the box of the scene it shows."""
    width, height = SIZE
    left, top, right, bottom = insets
    pixels = as_jpeg_pixels(cut_sides(scene(seed, *SIZE), *insets))
    hasher = RegionHasher(working_pixels(pixels), (pixels.shape[1], pixels.shape[0]))
    # cut_sides rounds each cut to whole pixels: the box shown is the rounded one.
    shown = Box(
        round(left * width) / width,
        round(top * height) / height,
        1 - round(right * width) / width,
        1 - round(bottom * height) / height,
    )
    assert pixels.shape[:2] == (
        round((shown.bottom - shown.top) * height),
        round((shown.right - shown.left) * width),
    )
    return hasher, shown


def shown_box(placement: Placement) -> tuple[float, float, float, float]:
    """Where the query's edges lie in the banked picture, by the placement."""
    return (
        -placement.x_offset / placement.x_scale,
        -placement.y_offset / placement.y_scale,
        (1 - placement.x_offset) / placement.x_scale,
        (1 - placement.y_offset) / placement.y_scale,
    )


INSETS = (0.03, 0.08, 0.06, 0.01)

SEED_ERRORS = [(0.02, -0.02, -0.02, 0.02), (-0.02, 0.02, 0.02, -0.02), (0.02, 0.02, 0.02, 0.02)]
"""How far the seed puts the banked picture's left, top, right and bottom edges from the
truth, in shares of the query."""


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("errors", SEED_ERRORS)
def test_align_finds_where_a_crop_came_from(
    seed: int, errors: tuple[float, float, float, float]
) -> None:
    windows = banked_windows(seed)
    hasher, shown = cropped(seed, INSETS)
    truth = Placement.matching(shown, FULL)
    left, top, right, bottom = errors
    start = truth.moved(0, left, right).moved(1, top, bottom)
    assert not close(start.place(FULL), truth.place(FULL), 0.019)
    found = align(hasher, windows, start, THRESHOLD)
    assert found is not None
    assert close(found.placement.place(FULL), truth.place(FULL), 0.01)
    assert close(shown_box(found.placement), as_tuple(shown), 0.01)
    assert len(found.agreeing) >= MIN_AGREEING
    names = [name for name, _ in found.agreeing]
    assert len(set(names)) == len(names)
    assert all(name in windows for name in names)
    assert all(0 <= distance <= THRESHOLD for _, distance in found.agreeing)
    assert [distance for _, distance in found.agreeing] == sorted(
        distance for _, distance in found.agreeing
    )
    assert found.distance == found.agreeing[0][1]
    assert found.variant.startswith("aligned:")
    assert found.variant == "aligned:" + "+".join(names)


def test_one_stored_window_is_never_enough() -> None:
    windows = banked_windows(1)
    hasher, shown = cropped(1, INSETS)
    start = Placement.matching(shown, FULL)
    found = align(hasher, windows, start, THRESHOLD)
    assert found is not None  # all of them agree...
    for name, _ in found.agreeing:
        # ...but each one alone, even where it matches, is not a match.
        assert align(hasher, {name: windows[name]}, start, THRESHOLD) is None


@pytest.mark.parametrize("other", [2, 5, 9])
def test_another_pictures_windows_do_not_align(other: int) -> None:
    hasher, shown = cropped(1, INSETS)
    assert align(hasher, banked_windows(other), Placement.matching(shown, FULL), THRESHOLD) is None


def test_a_seed_that_puts_no_window_inside_the_query_gives_none() -> None:
    windows = banked_windows(1)
    hasher, _ = cropped(1, INSETS)
    # The banked picture placed off to the right of the query, and one placed too large.
    assert align(hasher, windows, Placement(1.0, 1.5, 1.0, 0.0), THRESHOLD) is None
    assert align(hasher, windows, Placement(3.0, -1.0, 3.0, -1.0), THRESHOLD) is None
    # With no windows at all, likewise.
    assert align(hasher, {}, Placement(1.0, 0.0, 1.0, 0.0), THRESHOLD) is None
