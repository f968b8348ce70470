"""What the bank stores and what a query looks for, besides the whole image's PDQ hash.

Bank side: PDQ hashes of the regions in regions.BANK_REGIONS (crops, zooms, bands), each a
signal of the entry named after its region.

Query side: the views that undo edits (borders trimmed, caption bars cut, the photo taken
out of a screenshot, a small rotation turned back), each hashed with its mirrors and
rotations, plus the bands of the cleaned-up picture. Every signal's variant name says
which view produced it, so every match can say how it was made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from shieldwall.normalise.borders import find_caption_bars, trim_borders
from shieldwall.normalise.rotation import clear_centre, measure_rotation, rotate_back
from shieldwall.normalise.screenshot import find_photo
from shieldwall.signals.models import DIHEDRAL_VARIANTS, ORIGINAL, Signal
from shieldwall.signals.regions import (
    BANDS,
    FULL,
    REGION_MIN_QUALITY,
    Box,
    RegionHasher,
    bank_regions_for,
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


def working_pixels(pixels: Pixels) -> Pixels:
    """The image reduced (area averaging) to at most about WORKING_LONG_SIDE on its long side."""
    height, width = pixels.shape[:2]
    factor = -(-max(height, width) // WORKING_LONG_SIDE)
    if factor < 2:
        return pixels
    size = (max(1, width // factor), max(1, height // factor))
    reduced: Pixels = np.asarray(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), np.uint8)
    return reduced


def _region_signal(hasher: RegionHasher, name: str, box: Box) -> Signal | None:
    value, quality = hasher.pdq(box)
    if quality < REGION_MIN_QUALITY:
        return None
    return Signal.of("pdq", value, variant=name, quality=quality)


def bank_regions(pixels: Pixels, full_size: tuple[int, int]) -> list[Signal]:
    """The PDQ hashes of an image's bank regions that are detailed enough to keep."""
    if min(pixels.shape[:2]) < MIN_SIDE:
        return []
    hasher = RegionHasher(pixels, full_size)
    found = (_region_signal(hasher, name, box) for name, box in bank_regions_for(*full_size))
    return [signal for signal in found if signal is not None]


def _dihedral_signals(hasher: RegionHasher, name: str, box: Box) -> list[Signal]:
    """A view's PDQ hash and its seven mirrors and rotations, named `<view>` and `<view>:<t>`."""
    values, quality = hasher.pdq_dihedral(box)
    if quality < REGION_MIN_QUALITY:
        return []
    return [
        Signal.of(
            "pdq",
            value,
            variant=name if transform == ORIGINAL else f"{name}:{transform}",
            quality=quality,
        )
        for transform, value in zip(DIHEDRAL_VARIANTS, values, strict=True)
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


def _derotated(pixels: Pixels, full_size: tuple[int, int], image: Pixels) -> list[Signal]:
    """Views of the image turned back from a small rotation that left fill in its corners."""
    rotation = measure_rotation(image)
    if rotation is None:
        return []
    hasher = RegionHasher(rotate_back(pixels, rotation), full_size)
    signals = []
    centre = clear_centre(full_size[0], full_size[1], rotation.degrees)
    if centre is not None:
        signals += _dihedral_signals(hasher, "derotated", centre)
    box = trim_borders(rotate_back(image, rotation))
    if box is not None:
        signals += _dihedral_signals(hasher, "derotated-trimmed", box)
    return signals


def _screenshot(hasher: RegionHasher, pixels: Pixels, image: Pixels) -> list[Signal]:
    """Views of the photo inside a screenshot, with what is left of the app's frame cut off."""
    photo = find_photo(pixels)
    if photo is None:
        return []
    signals = _dihedral_signals(hasher, "screenshot", photo)
    margin = trim_borders(crop(image, photo))
    if margin is not None:
        signals += _dihedral_signals(hasher, "screenshot-trimmed", margin.within(photo))
    return signals


def query_views(pixels: Pixels, full_size: tuple[int, int]) -> list[Signal]:
    """PDQ hashes of the views that undo common edits, and of the cleaned picture's bands.

    `pixels` may be a reduced decode of an image of `full_size` (as in regions.RegionHasher).
    """
    if min(pixels.shape[:2]) < MIN_SIDE:
        return []
    hasher = RegionHasher(pixels, full_size)
    image = working_pixels(pixels)
    signals: list[Signal] = []
    picture = FULL
    for name, box in _cleaned(image):
        signals += _dihedral_signals(hasher, name, box)
        picture = box
    signals += _screenshot(hasher, pixels, image)
    signals += _derotated(pixels, full_size, image)
    for name, band in BANDS:
        signal = _region_signal(hasher, name, band.within(picture))
        if signal is not None:
            signals.append(signal)
    return signals
