"""find_panels: collages of generated scenes split back into their pictures, to the pixel.

Collages are built from known scenes pasted at known places, so every panel's true box is
known. Lossless pixels are split exactly; a JPEG round trip is checked for the panels'
names, and a gutter's edges ringing after JPEG still go with the gutter.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from shieldwall.normalise.panels import MIN_PANEL, Panel, find_panels
from shieldwall.signals.regions import Box
from tests.support.edits import as_jpeg_pixels, beside
from tests.support.images import sample_photos, scene

Pixels = npt.NDArray[np.uint8]
Colour = tuple[int, int, int]
PixelBox = tuple[int, int, int, int]

LIGHT: Colour = (248, 248, 248)


def _pixels(image: Image.Image) -> Pixels:
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _collage(
    pictures: list[tuple[Image.Image, tuple[int, int]]], size: tuple[int, int], gutter: Colour
) -> Image.Image:
    """The pictures pasted at their (left, top) on a canvas of the gutter's colour."""
    canvas = Image.new("RGB", size, gutter)
    for picture, at in pictures:
        canvas.paste(picture, at)
    return canvas


def side_by_side(
    left: Image.Image, right: Image.Image, gutter: int, colour: Colour = LIGHT
) -> tuple[Image.Image, PixelBox, PixelBox]:
    """Two pictures of one size next to each other, `gutter` pixels apart; their boxes."""
    image = beside(left, right, gutter=gutter, colour=colour)
    width, height = image.size
    return image, (0, 0, left.width, height), (left.width + gutter, 0, width, height)


def stacked(
    top: Image.Image, bottom: Image.Image, gutter: int, colour: Colour = LIGHT
) -> tuple[Image.Image, PixelBox, PixelBox]:
    """Two pictures of one size one above the other, `gutter` pixels apart; their boxes."""
    image = beside(top, bottom, across=False, gutter=gutter, colour=colour)
    width, height = image.size
    return image, (0, 0, width, top.height), (0, top.height + gutter, width, height)


def _in_pixels(box: Box, size: tuple[int, int]) -> tuple[float, float, float, float]:
    width, height = size
    return (box.left * width, box.top * height, box.right * width, box.bottom * height)


def assert_box(panel: Panel, expected: PixelBox, size: tuple[int, int]) -> None:
    """The panel's box lies within one pixel of the expected one on every side."""
    found = _in_pixels(panel.box, size)
    off = max(abs(a - b) for a, b in zip(found, expected, strict=True))
    assert off <= 1.0, (panel.name, found, expected)


def by_name(panels: list[Panel]) -> dict[str, Panel]:
    named = {panel.name: panel for panel in panels}
    assert len(named) == len(panels), "panel names are unique"
    return named


# (scene seeds, scene size): pairs of scenes none of which splits by itself at that size.
PAIRS = [((1, 2), (480, 320)), ((5, 9), (640, 480)), ((20, 21), (900, 700)), ((3, 4), (300, 400))]


@pytest.mark.parametrize(("seeds", "size"), PAIRS)
@pytest.mark.parametrize("share", [0.01, 0.015, 0.02])
def test_side_by_side_with_a_light_gutter_gives_left_and_right(
    seeds: tuple[int, int], size: tuple[int, int], share: float
) -> None:
    gutter = round(share * 2 * size[0])
    image, left, right = side_by_side(scene(seeds[0], *size), scene(seeds[1], *size), gutter)
    panels = find_panels(_pixels(image))
    assert [panel.name for panel in panels] == ["panel-left", "panel-right"]
    assert_box(panels[0], left, image.size)
    assert_box(panels[1], right, image.size)


@pytest.mark.parametrize(("seeds", "size"), PAIRS)
@pytest.mark.parametrize("share", [0.01, 0.015, 0.02])
def test_stacked_with_a_light_gutter_gives_top_and_bottom(
    seeds: tuple[int, int], size: tuple[int, int], share: float
) -> None:
    gutter = round(share * 2 * size[1])
    image, top, bottom = stacked(scene(seeds[0], *size), scene(seeds[1], *size), gutter)
    panels = find_panels(_pixels(image))
    assert [panel.name for panel in panels] == ["panel-top", "panel-bottom"]
    assert_box(panels[0], top, image.size)
    assert_box(panels[1], bottom, image.size)


@pytest.mark.parametrize(("seeds", "size"), PAIRS[:3])
def test_pictures_edge_to_edge_are_split_at_the_seam(
    seeds: tuple[int, int], size: tuple[int, int]
) -> None:
    first, second = scene(seeds[0], *size), scene(seeds[1], *size)
    across, left, right = side_by_side(first, second, 0)
    panels = find_panels(_pixels(across))
    assert [panel.name for panel in panels] == ["panel-left", "panel-right"]
    assert_box(panels[0], left, across.size)
    assert_box(panels[1], right, across.size)
    down, top, bottom = stacked(first, second, 0)
    panels = find_panels(_pixels(down))
    assert [panel.name for panel in panels] == ["panel-top", "panel-bottom"]
    assert_box(panels[0], top, down.size)
    assert_box(panels[1], bottom, down.size)


@pytest.mark.parametrize("gutter", [0, 4, 10])
def test_a_two_by_two_grid_gives_nested_panels(gutter: int) -> None:
    width, height = 320, 240
    cells = {
        "left-top": (0, 0),
        "right-top": (width + gutter, 0),
        "left-bottom": (0, height + gutter),
        "right-bottom": (width + gutter, height + gutter),
    }
    pictures = [
        (scene(seed, width, height), at)
        for seed, at in zip(range(1, 5), cells.values(), strict=True)
    ]
    size = (2 * width + gutter, 2 * height + gutter)
    image = _collage(pictures, size, LIGHT)
    named = by_name(find_panels(_pixels(image)))
    for cell, (left, top) in cells.items():
        assert_box(named[f"panel-{cell}"], (left, top, left + width, top + height), size)
    # The first level's halves come first, each two pictures kept together.
    assert_box(named["panel-left"], (0, 0, width, size[1]), size)
    assert_box(named["panel-right"], (width + gutter, 0, size[0], size[1]), size)
    assert_box(named["panel-top"], (0, 0, size[0], height), size)
    assert_box(named["panel-bottom"], (0, height + gutter, size[0], size[1]), size)


def test_three_in_a_row_also_gives_neighbouring_pairs() -> None:
    width, height, gutter = 300, 300, 8
    pictures = [
        (scene(seed, width, height), (i * (width + gutter), 0)) for i, seed in enumerate((1, 2, 5))
    ]
    size = (3 * width + 2 * gutter, height)
    named = by_name(find_panels(_pixels(_collage(pictures, size, LIGHT))))
    starts = [i * (width + gutter) for i in range(3)]
    expected = {
        "panel-left": (starts[0], starts[0] + width),
        "panel-middle": (starts[1], starts[1] + width),
        "panel-right": (starts[2], starts[2] + width),
        "panel-left-and-middle": (starts[0], starts[1] + width),
        "panel-middle-and-right": (starts[1], starts[2] + width),
    }
    assert set(expected) <= set(named)
    for name, (left, right) in expected.items():
        assert_box(named[name], (left, 0, right, height), size)


def test_a_jpeg_collage_still_splits_into_its_two_pictures() -> None:
    image, _, _ = side_by_side(scene(1, 480, 320), scene(2, 480, 320), 12)
    assert [panel.name for panel in find_panels(as_jpeg_pixels(image))] == [
        "panel-left",
        "panel-right",
    ]
    image, _, _ = stacked(scene(5, 640, 480), scene(9, 640, 480), 14)
    assert [panel.name for panel in find_panels(as_jpeg_pixels(image))] == [
        "panel-top",
        "panel-bottom",
    ]


def test_a_jpeg_gutter_is_cut_off_both_panels() -> None:
    left, right = scene(5, 400, 300), scene(9, 400, 300)
    image, left_box, right_box = side_by_side(left, right, 8, colour=(235, 235, 235))
    panels = find_panels(as_jpeg_pixels(image))
    assert [panel.name for panel in panels] == ["panel-left", "panel-right"]
    assert_box(panels[0], left_box, image.size)
    assert_box(panels[1], right_box, image.size)


UNSPLIT_SAMPLES = (
    "astronaut",
    "chelsea",
    "coffee",
    "immunohistochemistry",
    "grass",
    "gravel",
    "moon",
    "coins",
    "clock",
)
"""Sample photos that hold no straight line across them. Others do (camera's horizon,
rocket's tower, brick's mortar): a line across a single photo may legitimately split it,
and find_panels then returns those pieces as panels too (the whole image stays searched
as it is, so a false split costs a few extra views, never a missed match)."""


@pytest.mark.parametrize("seed", range(12))
def test_a_single_scene_is_no_collage(seed: int) -> None:
    picture = scene(seed)
    assert find_panels(_pixels(picture)) == []
    assert find_panels(as_jpeg_pixels(picture)) == []


@pytest.mark.parametrize("name", UNSPLIT_SAMPLES)
def test_a_single_sample_photo_is_no_collage(name: str) -> None:
    photo = dict(sample_photos())[name]
    assert find_panels(_pixels(photo)) == []


def test_boxes_are_fractions_inside_the_image_and_at_least_a_fifth_along_the_split() -> None:
    images = [photo for _, photo in sample_photos()]
    images.append(side_by_side(scene(1, 480, 320), scene(2, 480, 320), 10)[0])
    images.append(stacked(scene(3, 300, 400), scene(4, 300, 400), 0)[0])
    seen = 0
    for image in images:
        for panel in find_panels(_pixels(image)):
            seen += 1
            box = panel.box
            assert 0.0 <= box.left < box.right <= 1.0, panel
            assert 0.0 <= box.top < box.bottom <= 1.0, panel
            assert max(box.width, box.height) == 1.0 or panel.name.count("-") >= 2, panel
            assert min(box.width, box.height) >= MIN_PANEL - 0.01, panel
    assert seen >= 6  # the two collages' four panels and the split sample photos'
