"""Uniform borders (letterbox, pillarbox, frames of any colour) and caption bars.

Both are bands along an image's edges that hold no part of the picture: a border is all one
colour; a caption bar is one colour with a line of text in it, and meets the picture along
a straight edge. Cutting them off gives back the picture as it was before the edit.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from shieldwall.signals.regions import Box

COLOUR_TOLERANCE: Final = 28
"""Largest per-channel difference from a band's colour that still counts as that colour
(JPEG rings by up to about 20 levels next to sharp edges)."""

UNIFORM_SHARE: Final = 0.97
"""A row or column is uniform when at least this share of its pixels has the band's colour."""

CAPTION_SHARE: Final = 0.25
"""A row of a caption bar has the bar's colour in at least this share of its pixels (the
rest is text)."""

MIN_BORDER: Final = 0.015
"""Borders thinner than this share of the side are ignored (they barely move PDQ)."""

MAX_BORDER: Final = 0.45
"""No side is cut by more than this share of its length."""

MIN_CAPTION, MAX_CAPTION = 0.04, 0.4
"""A caption bar is 4-40% of the image height."""

Pixels = npt.NDArray[np.uint8]


def _share_of(lines: Pixels, colour: npt.NDArray[np.int16]) -> npt.NDArray[np.float64]:
    """For each line (row of pixels), the share of its pixels within tolerance of `colour`."""
    import cv2  # here, not at the top: OpenCV (16 MiB) loads on first use

    lower = np.clip(colour - COLOUR_TOLERANCE, 0, 255).astype(np.float64)
    upper = np.clip(colour + COLOUR_TOLERANCE, 0, 255).astype(np.float64)
    close = cv2.inRange(np.ascontiguousarray(lines), lower, upper)
    share: npt.NDArray[np.float64] = close.mean(axis=-1) / 255.0
    return share


def _edge_colour(line: Pixels) -> npt.NDArray[np.int16]:
    """The colour of an outermost row or column: the per-channel median."""
    colour: npt.NDArray[np.int16] = np.median(line, axis=0).astype(np.int16)
    return colour


def corner_colour(
    pixels: Pixels, tolerance: float, *, one_may_differ: bool = False
) -> npt.NDArray[np.int16] | None:
    """The colour the image's four corners (2x2 pixels each) share, each corner's mean
    within `tolerance` of their median on every channel; with `one_may_differ`, the
    colour three of them share will do. None when they share none."""
    corners = np.array(
        [pixels[:2, :2], pixels[:2, -2:], pixels[-2:, :2], pixels[-2:, -2:]], dtype=np.int16
    ).reshape(4, -1, 3)
    means = corners.mean(axis=1)
    left_out = (None, 0, 1, 2, 3) if one_may_differ else (None,)
    for corner in left_out:
        kept = means if corner is None else np.delete(means, corner, axis=0)
        median = np.median(kept, axis=0)
        if np.abs(kept - median).max() <= tolerance:
            colour: npt.NDArray[np.int16] = median.round().astype(np.int16)
            return colour
    return None


def _uniform_run(lines: Pixels) -> int:
    """How many lines, from the first, are uniform in the first line's colour."""
    limit = int(len(lines) * MAX_BORDER)
    colour = _edge_colour(lines[0])
    start, chunk = 0, 4
    while start < limit:  # most images have no border: look at a few lines first
        stop = min(start + chunk, limit)
        below = np.flatnonzero(_share_of(lines[start:stop], colour) < UNIFORM_SHARE)
        if below.size:
            return start + int(below[0])
        start, chunk = stop, chunk * 2
    return limit


def _sides(pixels: Pixels) -> dict[str, Pixels]:
    """The image as lines running inwards from each side (first line = outermost; views)."""
    image = pixels
    return {
        "top": image,
        "bottom": image[::-1],
        "left": image.transpose(1, 0, 2),
        "right": image.transpose(1, 0, 2)[::-1],
    }


def _box_from_cuts(cuts: dict[str, int], width: int, height: int) -> Box | None:
    if cuts["top"] + cuts["bottom"] >= height or cuts["left"] + cuts["right"] >= width:
        return None
    return Box(
        cuts["left"] / width,
        cuts["top"] / height,
        1 - cuts["right"] / width,
        1 - cuts["bottom"] / height,
    )


def trim_borders(pixels: Pixels) -> Box | None:
    """The picture inside uniform borders of any colour, or None when there are none."""
    height, width = pixels.shape[:2]
    cuts = {side: _uniform_run(lines) for side, lines in _sides(pixels).items()}
    lengths = {"top": height, "bottom": height, "left": width, "right": width}
    for side, cut in cuts.items():
        if cut < MIN_BORDER * lengths[side]:
            cuts[side] = 0
    if not any(cuts.values()):
        return None
    return _box_from_cuts(cuts, width, height)


def _caption_depth(lines: Pixels) -> int:
    """Rows of a caption bar at this edge (0 if none): bar-coloured rows with text, from the
    edge inwards, ending in a uniform row where the picture begins."""
    height = len(lines)
    limit = int(height * MAX_CAPTION) + 1
    colour = _edge_colour(lines[0])
    if _share_of(lines[:1], colour)[0] < UNIFORM_SHARE:
        return 0  # most images: no bar
    shares = _share_of(lines[:limit], colour)
    outside = np.flatnonzero(shares < CAPTION_SHARE)
    end = int(outside[0]) if outside.size else limit
    uniform = np.flatnonzero(shares[:end] >= UNIFORM_SHARE)
    depth = int(uniform[-1]) + 1
    has_text = bool((shares[:depth] < UNIFORM_SHARE).any())
    if not has_text or not (MIN_CAPTION * height <= depth <= MAX_CAPTION * height):
        return 0
    return depth


def find_caption_bars(pixels: Pixels) -> list[Box]:
    """The picture without the caption bars found along its top and bottom.

    When both edges look like bars, one of them may be part of the picture (a plain wall
    with a sign on it), so the answer is each cut alone, then both; [] when there are none.
    """
    height, width = pixels.shape[:2]
    sides = _sides(pixels)
    found = {"top": _caption_depth(sides["top"]), "bottom": _caption_depth(sides["bottom"])}
    cuts = [{side: depth} for side, depth in found.items() if depth]
    if len(cuts) == 2:
        cuts.append(found)
    boxes = []
    for cut in cuts:
        box = _box_from_cuts({"top": 0, "bottom": 0, "left": 0, "right": 0, **cut}, width, height)
        if box is not None:
            boxes.append(box)
    return boxes
