"""find_quad and rectify: a scene warped onto a known quadrilateral on a plain rim is found
to within a pixel and a half, and mapped back to a picture whose PDQ hash is the original's.

The warp (tests/support/edits.off_axis) is PIL's PERSPECTIVE transform from the scene's
rectangle onto chosen corners, so the true corners are known exactly (in continuous image
coordinates, pixel edges at whole numbers). find_quad gives each corner as the pixel of
the picture's first (left, top) or last (right, bottom) row and column, which is how
rectify reads it: the outline it maps is the quad plus one pixel on the right and bottom
corners.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from shieldwall.normalise.keystone import MIN_DEPTH, find_quad, rectify
from shieldwall.signals.pdq import pdq_distance
from shieldwall.signals.pdq_pixels import pdq_from_pixels
from tests.support.edits import as_jpeg_pixels, bordered, off_axis
from tests.support.images import scene

Pixels = npt.NDArray[np.uint8]
Colour = tuple[int, int, int]
Corners = npt.NDArray[np.float64]
Insets = tuple[tuple[float, float], ...]
"""Per corner (top-left, top-right, bottom-right, bottom-left): how far it moved inwards,
as shares of the image's width and height."""

DARK: Colour = (0, 0, 0)
LIGHT: Colour = (250, 250, 250)
GREY: Colour = (128, 128, 128)

PIXEL_EDGES = np.array([(0, 0), (1, 0), (1, 1), (0, 1)], dtype=np.float64)
"""What rectify adds to a quad's corners to get the outline it maps (see the docstring)."""


def keystoned(picture: Image.Image, insets: Insets, rim: Colour) -> tuple[Pixels, Corners]:
    """The picture warped onto corners moved inwards by `insets` on a rim of `rim`
    (tests/support/edits.off_axis), and the corners (x, y) where it now lies."""
    width, height = picture.size
    outer = np.array([(0, 0), (width, 0), (width, height), (0, height)], dtype=np.float64)
    inwards = np.array([(1, 1), (-1, 1), (-1, -1), (1, -1)], dtype=np.float64)
    corners = outer + inwards * np.array(insets, dtype=np.float64) * (width, height)
    return np.asarray(off_axis(picture, insets, rim), dtype=np.uint8), corners


def pdq(pixels: Pixels) -> str:
    (value,), _ = pdq_from_pixels(pixels, (pixels.shape[1], pixels.shape[0]))
    return value


KEYSTONES: list[Insets] = [
    ((0.04, 0.03), (0.01, 0.0), (0.0, 0.02), (0.05, 0.05)),
    ((0.0, 0.05), (0.0, 0.01), (0.03, 0.0), (0.02, 0.04)),
    ((0.02, 0.02), (0.03, 0.02), (0.02, 0.02), (0.02, 0.03)),
    ((0.05, 0.0), (0.0, 0.01), (0.0, 0.03), (0.05, 0.03)),
    # One corner that did not move: three image corners show the rim, enough to go by.
    ((0.05, 0.0), (0.0, 0.0), (0.0, 0.03), (0.03, 0.05)),
    ((0.03, 0.02), (0.03, 0.02), (0.0, 0.0), (0.0, 0.04)),
]
"""Corners moved by 0-5% of each side."""


@pytest.mark.parametrize("rim", [DARK, LIGHT, GREY], ids=["dark", "light", "grey"])
@pytest.mark.parametrize("insets", KEYSTONES)
@pytest.mark.parametrize("seed", [1, 6, 14])
def test_the_quad_is_found_and_rectified_back_to_the_picture(
    seed: int, insets: Insets, rim: Colour
) -> None:
    picture = scene(seed, 640, 480)
    pixels, corners = keystoned(picture, insets, rim)
    quad = find_quad(pixels)
    assert quad is not None
    assert quad.shape == (4, 2)
    assert np.abs(quad + PIXEL_EDGES - corners).max() <= 1.5, (quad, corners)
    flat = rectify(pixels, quad)
    assert flat.dtype == np.uint8
    assert pdq_distance(pdq(flat), pdq(np.asarray(picture))) <= 20
    # Without rectifying, the warped copy hashes far away: the test is about the undoing.
    assert pdq_distance(pdq(pixels), pdq(np.asarray(picture))) > 31


def test_a_keystone_survives_a_jpeg_round_trip() -> None:
    picture = scene(3, 640, 480)
    warped, corners = keystoned(picture, KEYSTONES[0], DARK)
    pixels = as_jpeg_pixels(Image.fromarray(warped))
    quad = find_quad(pixels)
    assert quad is not None
    assert np.abs(quad + PIXEL_EDGES - corners).max() <= 1.5
    assert pdq_distance(pdq(rectify(pixels, quad)), pdq(np.asarray(picture))) <= 20


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_picture_without_a_rim_gives_none(seed: int) -> None:
    assert find_quad(np.asarray(scene(seed, 640, 480))) is None


def test_corners_of_other_colours_give_none() -> None:
    pixels, _ = keystoned(scene(1, 640, 480), KEYSTONES[2], LIGHT)
    assert find_quad(pixels) is not None
    # Two corners no longer the rim's colour, nor each other's: no rim to go by.
    patched = pixels.copy()
    patched[-3:, -3:] = (200, 30, 30)
    patched[-3:, :3] = (30, 30, 200)
    assert find_quad(patched) is None


@pytest.mark.parametrize("rim", [DARK, LIGHT])
def test_a_picture_that_fills_the_image_gives_none(rim: Colour) -> None:
    # Every corner 0.3% in: under MIN_DEPTH (1%) of either side whatever it is measured on.
    share = 0.003
    assert share < MIN_DEPTH
    pixels, _ = keystoned(scene(2, 640, 480), ((share, share),) * 4, rim)
    assert find_quad(pixels) is None


@pytest.mark.parametrize("border", [0.012, 0.02, 0.05])
def test_a_plain_border_without_keystone_is_left_to_trimming(border: float) -> None:
    picture = scene(4, 640, 480)
    across, down = round(border * 640), round(border * 480)
    framed = np.asarray(bordered(picture, across, down, across, down, LIGHT), dtype=np.uint8)
    # Upright edges on every side: a plain border, which the `trimmed` view cuts off
    # (normalise/views.py); a `rectified` view of it would only repeat that view.
    assert find_quad(framed) is None
    leaning = ((border, border), (border, border), (border, border), (border + 0.01, border))
    pixels, corners = keystoned(picture, leaning, LIGHT)
    quad = find_quad(pixels)
    assert quad is not None
    assert np.abs(quad + PIXEL_EDGES - corners).max() <= 1.5


def test_a_border_thinner_than_min_depth_gives_none() -> None:
    picture = scene(4, 640, 480)
    framed = np.asarray(bordered(picture, 2, 2, 2, 2, LIGHT), dtype=np.uint8)
    assert find_quad(framed) is None
