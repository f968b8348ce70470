"""Pair windows (signals/pairs.py): landmarks found again after crops and resizes, pair
windows named by them and placed inside the picture, hashed alike in a crop."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from shieldwall.signals.pairs import (
    BANK_SPAN,
    MAX_PAIRS,
    Pair,
    bank_pairs,
    is_pair_name,
    landmarks,
    pair_table,
    parse_pair,
    query_pairs,
)
from shieldwall.signals.pdq import pdq_distance
from shieldwall.signals.regions import REGION_MIN_QUALITY, RegionHasher
from tests.support.images import sample_photos

BLOBS = ((60.0, 50.0, 6.0), (170.0, 60.0, 9.0), (110.0, 150.0, 5.0), (220.0, 170.0, 7.0))
"""(x, y, radius) of the dark blobs on the synthetic picture."""


def blobs(width: int = 300, height: int = 220, scale: float = 1.0) -> npt.NDArray[np.float32]:
    """A light luminance picture with dark Gaussian blobs at BLOBS (scaled)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    luma = np.full((height, width), 200.0, np.float32)
    for blob in BLOBS:
        cx, cy, radius = (value * scale for value in blob)
        luma -= 150 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius * radius))
    return luma


def nearest(points: npt.NDArray[np.float64], x: float, y: float) -> float:
    return float(np.min(np.hypot(points[:, 0] - x, points[:, 1] - y)))


def photo(name: str) -> npt.NDArray[np.uint8]:
    return np.asarray(dict(sample_photos())[name].convert("RGB"))


def test_names_carry_the_landmarks_in_thousandths_of_the_short_side() -> None:
    pair = Pair(0.1234, 0.5, 1.25, 0.0)
    assert pair.name == "pair:123-500-1250-0"
    assert parse_pair(pair.name) == Pair(0.123, 0.5, 1.25, 0.0)
    assert is_pair_name("pair:1-2-3-4")
    for bad in ("pair:1-2-3", "pair:1,2,3,4", "pair:-1-2-3-4", "pair:1-2-3-999999", "crop90"):
        assert not is_pair_name(bad)
    with pytest.raises(ValueError, match="not a pair window"):
        parse_pair("pair:1-2-3")


def test_a_window_is_the_square_between_its_landmarks_inside_the_picture() -> None:
    # 400 x 200: the short side is 200 pixels; landmarks at (100, 100) and (180, 100).
    box = Pair(0.5, 0.5, 0.9, 0.5).window(400, 200)
    assert box is not None
    assert (box.left, box.top, box.right, box.bottom) == pytest.approx((0.25, 0.3, 0.45, 0.7))
    assert Pair(0.1, 0.1, 0.5, 0.1).window(400, 200) is None  # reaches above the top
    assert Pair(1.95, 0.3, 1.95, 0.7).window(400, 200) is None  # past the right edge


def test_landmarks_are_the_blobs() -> None:
    points = landmarks(blobs(), 8)
    assert len(points) >= len(BLOBS)
    for x, y, radius in BLOBS:
        assert nearest(points, x, y) < 1.0
        sigma = points[np.argmin(np.hypot(points[:, 0] - x, points[:, 1] - y)), 2]
        assert radius / 1.5 < sigma < radius * 1.5  # a blob's scale is about its radius


def test_landmarks_follow_a_resize_and_a_crop() -> None:
    doubled = landmarks(blobs(600, 440, scale=2.0), 8)
    for x, y, _ in BLOBS:
        assert nearest(doubled, 2 * x, 2 * y) < 2.0
    cropped = landmarks(blobs()[30:, 40:], 8)
    for x, y, _ in BLOBS:
        assert nearest(cropped, x - 40, y - 30) < 1.0


def test_a_flat_picture_has_no_landmarks() -> None:
    assert len(landmarks(np.full((200, 300), 128, np.float32), 8)) == 0


def test_bank_pairs_are_few_detailed_and_within_their_span() -> None:
    pixels = photo("astronaut")
    stored = bank_pairs(RegionHasher(pixels, (pixels.shape[1], pixels.shape[0])))
    assert 10 <= len(stored) <= MAX_PAIRS
    assert len({name for name, _, _ in stored}) == len(stored)
    for name, _, quality in stored:
        assert quality >= REGION_MIN_QUALITY
        assert BANK_SPAN[0] - 0.002 <= parse_pair(name).length <= BANK_SPAN[1] + 0.002


def test_a_zoomed_crop_hashes_some_of_the_same_pair_windows() -> None:
    pixels = photo("chelsea")  # 451 x 300
    height, width = pixels.shape[:2]
    stored = bank_pairs(RegionHasher(pixels, (width, height)))
    top, left = int(0.15 * height), int(0.2 * width)  # 75% x 70%, off centre
    crop = np.ascontiguousarray(
        pixels[top : top + int(0.75 * height), left : left + int(0.7 * width)]
    )
    seen = query_pairs(RegionHasher(crop, (crop.shape[1], crop.shape[0])))
    short, crop_short = min(width, height), min(crop.shape[:2])
    near = []
    for name, value, _ in stored:
        pair = parse_pair(name)
        # In the crop's short sides: the same pixels, shifted by the cut.
        expected = (
            (pair.x1 * short - left) / crop_short,
            (pair.y1 * short - top) / crop_short,
            (pair.x2 * short - left) / crop_short,
            (pair.y2 * short - top) / crop_short,
        )
        for other, hashed in seen:
            ends = zip((other.x1, other.y1, other.x2, other.y2), expected, strict=True)
            if all(abs(a - b) < 0.01 for a, b in ends):
                near.append(pdq_distance(hashed.hex(), value))
    assert sum(distance <= 10 for distance in near) >= 5


def test_the_table_for_devices_states_the_bank_parameters() -> None:
    table = pair_table()
    assert table["max_pairs"] == MAX_PAIRS
    assert table["span"] == list(BANK_SPAN)
    assert table["prefix"] == "pair:"
