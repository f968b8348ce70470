"""Each normalisation finds the picture inside a known edit of a generated scene."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shieldwall.normalise.borders import find_caption_bars, trim_borders
from shieldwall.normalise.rotation import clear_centre, measure_rotation, rotate_back
from shieldwall.normalise.screenshot import find_photo
from shieldwall.signals.regions import Box
from tests.support.edits import (
    as_jpeg_pixels,
    bordered,
    captioned,
    chat_screenshot,
    rotated,
)
from tests.support.images import scene

PICTURE = scene(7, 480, 320)


def _close(box: Box | None, expected: tuple[float, float, float, float], tol: float) -> bool:
    assert box is not None
    got = (box.left, box.top, box.right, box.bottom)
    return all(abs(a - b) <= tol for a, b in zip(got, expected, strict=True))


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (128, 128, 128), (200, 30, 40)])
def test_uniform_borders_of_any_colour_are_trimmed(colour: tuple[int, int, int]) -> None:
    pixels = as_jpeg_pixels(bordered(PICTURE, 24, 16, 24, 16, colour))
    height, width = pixels.shape[:2]
    expected = (24 / width, 16 / height, 1 - 24 / width, 1 - 16 / height)
    assert _close(trim_borders(pixels), expected, 1.5 / min(width, height))


def test_letterbox_bars_are_trimmed_and_the_sides_kept() -> None:
    pixels = as_jpeg_pixels(bordered(PICTURE, 0, 60, 0, 60, (0, 0, 0)))
    box = trim_borders(pixels)
    assert _close(box, (0.0, 60 / 440, 1.0, 380 / 440), 2 / 440)


def test_no_border_and_hairlines_are_left_alone() -> None:
    assert trim_borders(as_jpeg_pixels(PICTURE)) is None
    # A 2-pixel line is under 1.5% of either side: it barely moves PDQ, so it is not cut.
    assert trim_borders(as_jpeg_pixels(bordered(PICTURE, 2, 2, 2, 2, (0, 0, 0)))) is None


@pytest.mark.parametrize(
    ("top", "bar", "ink"),
    [
        (False, (255, 255, 255), (0, 0, 0)),
        (True, (255, 255, 255), (0, 0, 0)),
        (False, (20, 20, 20), (250, 250, 250)),
    ],
)
def test_a_caption_bar_with_text_is_cut_off(
    top: bool, bar: tuple[int, int, int], ink: tuple[int, int, int]
) -> None:
    pixels = as_jpeg_pixels(captioned(PICTURE, 60, top=top, bar=bar, ink=ink))
    boxes = find_caption_bars(pixels)
    assert len(boxes) == 1
    expected = (0.0, 60 / 380, 1.0, 1.0) if top else (0.0, 0.0, 1.0, 320 / 380)
    assert _close(boxes[0], expected, 2 / 380)


def test_bars_on_both_edges_give_each_cut_and_both() -> None:
    pixels = as_jpeg_pixels(captioned(captioned(PICTURE, 50), 50, top=True))
    boxes = find_caption_bars(pixels)
    assert len(boxes) == 3
    assert _close(boxes[-1], (0.0, 50 / 420, 1.0, 370 / 420), 2 / 420)


def test_a_plain_border_is_not_a_caption_and_a_picture_has_none() -> None:
    assert find_caption_bars(as_jpeg_pixels(bordered(PICTURE, 0, 0, 0, 60, (255, 255, 255)))) == []
    assert find_caption_bars(as_jpeg_pixels(PICTURE)) == []


@pytest.mark.parametrize("dark", [False, True])
def test_the_photo_inside_a_chat_screenshot_is_found(dark: bool) -> None:
    screenshot, (left, top, right, bottom) = chat_screenshot(PICTURE, dark=dark)
    pixels = as_jpeg_pixels(screenshot)
    width, height = screenshot.size
    box = find_photo(pixels)
    # Within the 12-pixel bubble margin the app draws around it (trimmed afterwards).
    expected = (left / width, top / height, right / width, bottom / height)
    assert _close(box, expected, 14 / min(width, height))


def test_a_plain_photo_or_a_flat_image_is_not_a_screenshot() -> None:
    assert find_photo(as_jpeg_pixels(PICTURE)) is None
    assert find_photo(np.full((400, 300, 3), 200, dtype=np.uint8)) is None


@pytest.mark.parametrize(
    ("degrees", "fill"),
    [(3.0, (0, 0, 0)), (-3.0, (0, 0, 0)), (7.0, (255, 255, 255)), (-11.0, (0, 0, 0))],
)
def test_a_small_rotation_is_measured_from_the_fill_corners(
    degrees: float, fill: tuple[int, int, int]
) -> None:
    pixels = as_jpeg_pixels(rotated(PICTURE, degrees, fill))
    rotation = measure_rotation(pixels)
    assert rotation is not None
    assert abs(rotation.degrees - degrees) < 0.3
    assert max(abs(a - b) for a, b in zip(rotation.fill, fill, strict=True)) <= 20


def test_an_upright_picture_has_no_rotation() -> None:
    assert measure_rotation(as_jpeg_pixels(PICTURE)) is None
    assert measure_rotation(as_jpeg_pixels(bordered(PICTURE, 20, 20, 20, 20, (0, 0, 0)))) is None


def test_the_clear_centre_holds_no_fill_after_turning_back() -> None:
    pixels = as_jpeg_pixels(rotated(PICTURE, 6.0, (0, 0, 0)))
    rotation = measure_rotation(pixels)
    assert rotation is not None
    turned = rotate_back(pixels, rotation)
    centre = clear_centre(480, 320, rotation.degrees)
    assert centre is not None
    assert centre.width < 0.9  # 6 degrees on a 3:2 canvas reaches past the 90% window
    left, top, right, bottom = centre.pixels(480, 320)
    inside = turned[top:bottom, left:right].astype(int)
    assert (inside.max(axis=-1) > 30).mean() > 0.99  # (the scene itself has no black areas)


def test_no_centred_window_survives_a_large_turn() -> None:
    assert clear_centre(480, 320, 40.0) is None
    assert _close(clear_centre(480, 320, 0.0), (0.0125, 0.0125, 0.9875, 0.9875), 1e-9)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 70),
    st.integers(1, 70),
    st.sampled_from(["noise", "flat", "stripes"]),
)
def test_normalisers_never_fail_on_odd_images(width: int, height: int, kind: str) -> None:
    rng = np.random.default_rng(width * 100 + height)
    if kind == "noise":
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    elif kind == "flat":
        pixels = np.zeros((height, width, 3), dtype=np.uint8)
    else:
        pixels = np.zeros((height, width, 3), dtype=np.uint8)
        pixels[::2] = 255
    for result in (trim_borders(pixels), find_photo(pixels), measure_rotation(pixels)):
        assert result is None or hasattr(result, "degrees") or isinstance(result, Box)
    assert isinstance(find_caption_bars(pixels), list)


def test_a_box_within_another_composes() -> None:
    outer = Box(0.1, 0.2, 0.9, 0.8)
    inner = Box(0.5, 0.0, 1.0, 0.5)
    got = inner.within(outer)
    assert (got.left, got.top, got.right, got.bottom) == pytest.approx((0.5, 0.2, 0.9, 0.5))
    assert Box(0.25, 0.5, 0.75, 1.0).pixels(100, 10) == (25, 5, 75, 10)
    with pytest.raises(ValueError, match="not a region"):
        Box(0.5, 0.0, 0.4, 1.0)
