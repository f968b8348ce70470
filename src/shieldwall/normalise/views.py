"""What the bank stores and what a query looks for, besides the whole image's PDQ hash.

Bank side: PDQ hashes of the regions in regions.BANK_REGIONS (crops, zooms, cuts, bands), each a
signal of the entry named after its region.

Query side: the views that undo edits (borders trimmed, caption bars cut, the photo taken
out of a screenshot, a small rotation turned back), each hashed with its mirrors and
rotations, plus the bands of the cleaned-up picture. Every signal's variant name says
which view produced it, so every match can say how it was made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

import numpy as np
import numpy.typing as npt

from shieldwall.normalise.borders import find_caption_bars, trim_borders
from shieldwall.normalise.insets import find_insets
from shieldwall.normalise.keystone import find_quad, rectify
from shieldwall.normalise.panels import find_panels
from shieldwall.normalise.rotation import clear_centre, measure_rotation, rotate_back
from shieldwall.normalise.screenshot import find_photo_boxes
from shieldwall.signals.models import DIHEDRAL_VARIANTS, ORIGINAL, Signal
from shieldwall.signals.pairs import bank_pairs
from shieldwall.signals.pdq_quality import pdq_refusals
from shieldwall.signals.regions import (
    BANDS,
    FULL,
    REGION_MIN_QUALITY,
    Box,
    RegionHasher,
    bank_windows_for,
    crop,
)

Pixels = npt.NDArray[np.uint8]

WORKING_LONG_SIDE: Final = 768
"""Images are looked at reduced to about this long side when looking for edits."""

MIN_SIDE: Final = 32
"""Images with a side shorter than this get no region variants or views: their regions
would be a few pixels, and PDQ of a few pixels says nothing."""


def _trimmed(pixels: Pixels) -> list[Box]:
    box = trim_borders(pixels)
    return [] if box is None else [box]


_CLEANUPS: Final[tuple[tuple[str, Callable[[Pixels], list[Box]]], ...]] = (
    ("uncaptioned", find_caption_bars),
    ("trimmed", _trimmed),
)
"""Each finds ways to cut an edit off; the last way found is the one cleaning goes on from."""
_MAX_CLEANUPS: Final = 4
MIRROR: Final = "mirror"

SECOND_STAGE_VIEWS: Final = ("panel-", "rectified", "inset")
"""Names (prefixes) of the views that belong to the second stage, which a bank may turn off."""

CLEANED_FRAMES: Final = "cleaned-frames"
"""Where a lookup's views leave the boxes of its cleaned views (caption bars, borders cut)
in its RegionHasher's `derived`: the second stage's aligned search seeds from them too, so
a copy that was cropped and then captioned or framed is searched as the crop it holds."""

SAME_BOX: Final = 0.01
"""Views whose boxes differ by at most this share of the image on every side are one view."""


def working_pixels(pixels: Pixels) -> Pixels:
    """The image reduced (area averaging) to at most about WORKING_LONG_SIDE on its long side."""
    import cv2  # here, not at the top: OpenCV (16 MiB) loads on first use

    height, width = pixels.shape[:2]
    factor = -(-max(height, width) // WORKING_LONG_SIDE)
    if factor < 2:
        return pixels
    size = (max(1, width // factor), max(1, height // factor))
    reduced: Pixels = np.asarray(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), np.uint8)
    return reduced


def _kept(named: list[tuple[str, tuple[str, int]]]) -> list[Signal]:
    """Signals of the named (hash, quality) pairs detailed enough to keep."""
    return [
        Signal.of("pdq", value, variant=name, quality=quality)
        for name, (value, quality) in named
        if quality >= REGION_MIN_QUALITY
    ]


def _bands(hasher: RegionHasher, frame: Box, prefix: str = "") -> list[Signal]:
    """The bands of a frame (the whole image or a view of it), hashed on PDQ's own grid."""
    hashed = hasher.pdq_area([band.within(frame) for _, band in BANDS])
    return _kept([(prefix + name, value) for (name, _), value in zip(BANDS, hashed, strict=True)])


def bank_regions(pixels: Pixels, full_size: tuple[int, int]) -> list[Signal]:
    """The PDQ hashes of an image's bank regions that are detailed enough to keep."""
    if min(pixels.shape[:2]) < MIN_SIDE:
        return []
    # Hashed from the reduced working image as the full-size regions would hash (the
    # reduction is block averaging, which signals/pdq_pixels.py undoes to within 2 bits).
    hasher = RegionHasher(working_pixels(pixels), full_size)
    windows = bank_windows_for(*full_size)
    regions = _kept([(name, hasher.pdq(box)) for name, box in windows]) + _bands(hasher, FULL)
    pairs = [
        Signal.of("pdq", value, variant=name, quality=quality)
        for name, value, quality in bank_pairs(hasher)
    ]
    # A window of a plain patch may hash to a pattern the bank refuses (and devices send
    # it: an import drops it just the same).
    usable = [pair for pair, refusal in zip(pairs, pdq_refusals(pairs), strict=True) if not refusal]
    return regions + usable


def _dihedral_signals(hasher: RegionHasher, name: str, box: Box) -> list[Signal]:
    """A view's PDQ hash and its mirror image's, named `<view>` and `<view>:mirror`.

    (The whole image is searched with all eight rotations and mirrors; a view that undoes
    an edit is searched as it is and mirrored, which copies often are, so that each lookup
    stays a few dozen index searches.)"""
    values, quality = hasher.pdq_dihedral(box)
    if quality < REGION_MIN_QUALITY:
        return []
    named = dict(zip(DIHEDRAL_VARIANTS, values, strict=True))
    return [
        Signal.of("pdq", named[ORIGINAL], variant=name, quality=quality),
        Signal.of("pdq", named[MIRROR], variant=f"{name}:{MIRROR}", quality=quality),
    ]


def _cleaned(image: Pixels) -> Iterator[tuple[str, Box]]:
    """Successive views with caption bars and borders cut off (a bar inside a border...)."""
    names: list[str] = []
    total = FULL
    for _ in range(_MAX_CLEANUPS):
        for name, find in _CLEANUPS:
            boxes = find(image)
            if boxes:
                names.append(name)
                label = "-".join(dict.fromkeys(names))
                for number, box in enumerate(boxes, start=1):
                    alternative = "" if number == len(boxes) else f".{number}"
                    yield label + alternative, box.within(total)
                image = crop(image, boxes[-1])
                total = boxes[-1].within(total)
                break
        else:
            return


def _derotated(image: Pixels, full_size: tuple[int, int]) -> list[Signal]:
    """Views of the image turned back from a small rotation that left fill in its corners."""
    rotation = measure_rotation(image)
    if rotation is None:
        return []
    turned = rotate_back(image, rotation)
    hasher = RegionHasher(turned, full_size)
    signals = []
    centre = clear_centre(full_size[0], full_size[1], rotation.degrees)
    if centre is not None:
        signals += _dihedral_signals(hasher, "derotated", centre)
    box = trim_borders(turned)
    if box is not None:
        signals += _dihedral_signals(hasher, "derotated-trimmed", box)
    return signals


def _screenshot(
    hasher: RegionHasher, pixels: Pixels, image: Pixels, seen: list[Box]
) -> list[Signal]:
    """Views of the photo inside a screenshot, with what is left of the app's frame cut off.

    A box that another view already hashed (a bordered photo looks like a screenshot of
    itself) is skipped, so each match is explained by the simplest view."""
    signals = []
    for number, photo in enumerate(find_photo_boxes(pixels)):
        name = "screenshot" if number == 0 else "screenshot-flat"
        if not _already(photo, seen):
            signals += _dihedral_signals(hasher, name, photo)
            seen.append(photo)
        margin = trim_borders(crop(image, photo))
        if margin is not None and not _already(inner := margin.within(photo), seen):
            signals += _dihedral_signals(hasher, f"{name}-trimmed", inner)
            seen.append(inner)
    return signals


def _rectified(image: Pixels, full_size: tuple[int, int]) -> list[Signal]:
    """The picture of an image photographed off-axis on a plain rim, mapped back square."""
    quad = find_quad(image)
    if quad is None:
        return []
    flat = rectify(image, quad)
    scale = full_size[0] / image.shape[1]
    size = (round(flat.shape[1] * scale), round(flat.shape[0] * scale))
    return _dihedral_signals(RegionHasher(flat, size), "rectified", FULL)


def _panels(hasher: RegionHasher, image: Pixels, seen: list[Box]) -> list[Signal]:
    """Views of each picture of a collage (side by side, stacked, a grid), split at its
    gutters or seams."""
    return _boxed(hasher, image, [(panel.name, panel.box) for panel in find_panels(image)], seen)


def _insets(hasher: RegionHasher, image: Pixels, seen: list[Box]) -> list[Signal]:
    """Views of a picture set inside a larger one (insets.py)."""
    return _boxed(hasher, image, [("inset", box) for box in find_insets(image)], seen)


def _boxed(
    hasher: RegionHasher, image: Pixels, boxes: list[tuple[str, Box]], seen: list[Box]
) -> list[Signal]:
    """Views of named boxes, and of each with any margin left inside it cut off
    (`<name>-trimmed`); boxes already hashed are skipped."""
    signals = []
    for name, box in boxes:
        margin = trim_borders(crop(image, box))
        trimmed = [] if margin is None else [(f"{name}-trimmed", margin.within(box))]
        for view_name, view in [(name, box), *trimmed]:
            if not _already(view, seen):
                signals += _dihedral_signals(hasher, view_name, view)
                seen.append(view)
    return signals


def _already(box: Box, seen: list[Box]) -> bool:
    """Whether a box is within SAME_BOX of one already hashed, on every side."""
    return any(box.farthest_side(other) <= SAME_BOX for other in seen)


def query_views(
    pixels: Pixels, full_size: tuple[int, int], reduced: RegionHasher | None = None
) -> list[Signal]:
    """PDQ hashes of the views that undo common edits, and of the cleaned picture's bands.

    `pixels` may be a reduced decode of an image of `full_size` (as in regions.RegionHasher).
    `reduced` is the hasher of `working_pixels(pixels)` when the caller keeps one (a lookup
    hands it on to the second stage's aligned search, which reuses its summed-area table).
    """
    if min(pixels.shape[:2]) < MIN_SIDE:
        return []
    if reduced is None:
        reduced = RegionHasher(working_pixels(pixels), full_size)
    image = reduced.pixels
    # Views are hashed from the decode (a photo in a screenshot may be a small part of it);
    # bands, averaged to 64x64 cells, from the reduced image.
    hasher = RegionHasher(pixels, full_size)
    signals: list[Signal] = []
    picture = FULL
    seen = [FULL]
    frames: list[tuple[str, Box]] = []
    for name, box in _cleaned(image):
        signals += _dihedral_signals(hasher, name, box)
        seen.append(box)
        frames.append((name, box))
        picture = box
    reduced.derived[CLEANED_FRAMES] = tuple(frames)
    signals += _screenshot(hasher, pixels, image, seen)
    signals += _panels(hasher, image, seen)
    signals += _insets(hasher, image, seen)
    signals += _derotated(image, full_size)
    signals += _rectified(image, full_size)
    # Bands of the whole image, and of the cleaned picture when cleaning cut something: a
    # picture with a plain edge of its own (sky, a dark background) looks bordered too.
    signals += _bands(reduced, FULL)
    if picture != FULL:
        signals += _bands(reduced, picture, "cleaned-")
    return signals
