"""find_insets: a picture set inside a larger one (a scene around it, not a plain border)
found back to within a per cent of each side; ordinary pictures hold none; and through the
matcher, the `inset` view finds the banked picture in the second stage only."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from shieldwall.config import MediaLimits
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.matching.models import Stage
from shieldwall.matching.service import BankMatcher
from shieldwall.normalise.insets import MAX_INSETS, find_insets
from shieldwall.normalise.views import working_pixels
from shieldwall.signals.pairs import is_pair_name
from shieldwall.signals.regions import Box
from tests.support.edits import as_jpeg_pixels, jpeg_bytes
from tests.support.images import sample_photos, scene
from tests.support.policy_banks import banked_on_and_off

Pixels = npt.NDArray[np.uint8]

FRAMED = ("astronaut", "coffee", "chelsea", "camera")
"""Sample photos set inside generated scenes below."""

PLACES = ((0.1, 0.2, 1.3, 1.5), (0.6, 0.1, 1.5, 1.25), (0.3, 0.8, 1.2, 1.6))
"""(left, top, frame width, frame height): where the picture sits in its frame, as shares
of the room around it, and the frame's size in picture widths and heights."""


def photo(name: str) -> Image.Image:
    return dict(sample_photos())[name].convert("RGB")


def framed(
    picture: Image.Image, place: tuple[float, float, float, float], seed: int
) -> tuple[Image.Image, Box]:
    """The picture at its own size inside a scene; its true box in the frame."""
    left, top, wide, high = place
    size = (round(picture.width * wide), round(picture.height * high))
    frame = scene(seed, *size)
    x = round(left * (size[0] - picture.width))
    y = round(top * (size[1] - picture.height))
    frame.paste(picture, (x, y))
    box = Box(
        x / size[0], y / size[1], (x + picture.width) / size[0], (y + picture.height) / size[1]
    )
    return frame, box


@pytest.mark.parametrize("name", FRAMED)
@pytest.mark.parametrize("place", PLACES)
def test_a_photo_inside_a_scene_is_found_within_a_per_cent(
    name: str, place: tuple[float, float, float, float]
) -> None:
    image, expected = framed(photo(name), place, seed=FRAMED.index(name) + 40)
    insets = find_insets(working_pixels(as_jpeg_pixels(image, 85)))
    assert 1 <= len(insets) <= MAX_INSETS
    # Each inset found is looked up; a larger box outlined partly by the scene may come
    # first.
    assert min(box.farthest_side(expected) for box in insets) <= 0.01, (insets, expected)


@pytest.mark.parametrize("seed", range(8))
def test_a_scene_alone_is_no_inset(seed: int) -> None:
    assert find_insets(as_jpeg_pixels(scene(seed, 640, 480))) == []


def test_insets_of_ordinary_photos_are_rare_and_never_the_whole_image() -> None:
    found = {name: find_insets(working_pixels(as_jpeg_pixels(p))) for name, p in sample_photos()}
    assert sum(bool(boxes) for boxes in found.values()) <= len(found) // 4
    for boxes in found.values():
        for box in boxes:
            assert min(box.width, box.height) <= 0.9


def test_tiny_and_flat_images_have_none() -> None:
    assert find_insets(np.zeros((6, 6, 3), np.uint8)) == []
    assert find_insets(np.full((300, 400, 3), 128, np.uint8)) == []


@pytest.fixture(scope="module")
def world() -> tuple[BankMatcher, dict[str, dict[str, int]]]:
    """Two banks (second stage on and off) holding the framed photos without pair windows
    (so that the views, not the pair search, are what finds them)."""
    pictures = {name: photo(name) for name in FRAMED}
    matcher, ids, _ = banked_on_and_off(pictures, lambda s: not is_pair_name(s.variant))
    return matcher, ids


@pytest.mark.parametrize("name", FRAMED)
def test_a_framed_copy_is_found_by_its_inset_view_in_the_second_stage_only(
    world: tuple[BankMatcher, dict[str, dict[str, int]]], name: str
) -> None:
    matcher, ids = world
    image, _ = framed(photo(name), PLACES[0], seed=FRAMED.index(name) + 40)
    query = hash_content(jpeg_bytes(image, 85), MediaLimits(), purpose=Purpose.LOOKUP)
    assert any(s.variant.startswith("inset") for s in query.lookup_signals())
    matches = matcher.match_signals(query.lookup_signals(), pixels=query.pixels)
    assert {(m.bank, m.entry_id, m.stage) for m in matches} == {
        ("on", ids[name]["on"], Stage.SECOND)
    }
    assert matches[0].variant.split("/")[0].startswith("inset")
