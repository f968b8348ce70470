"""Pictures put beside or above other pictures: split a collage into its panels.

Apps and people re-share a picture next to another one (a before/after, a meme template, a
"who is this" collage), usually with a thin plain gutter between them, sometimes edge to
edge. Either way the panels meet along a straight line across the whole image: a gutter is
a run of plain lines (rows or columns) of one colour, a seam a line where every row (or
column) changes at once. Cutting along it gives back each picture as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest
from typing import Final

import numpy as np
import numpy.typing as npt

from shieldwall.normalise.borders import COLOUR_TOLERANCE, UNIFORM_SHARE
from shieldwall.signals.pdq_grid import LUMA_WEIGHTS
from shieldwall.signals.regions import Box

Pixels = npt.NDArray[np.uint8]

MIN_PANEL: Final = 0.2
"""A panel is at least this share of the image along the split (smaller is a border or a bar)."""

MAX_GUTTER: Final = 0.08
"""A gutter is at most this share of the image along the split."""

SEAM_STEP: Final = 24.0
"""A seam: the median change of luminance across it, over all its pixels, is at least this."""

SEAM_CONTRAST: Final = 4.0
"""...and at least this many times the median change across the lines near it."""

SEAM_NEIGHBOURHOOD: Final = 6
"""Lines on each side of a seam that its change is compared with."""

RINGING: Final = 2
"""Lines along each edge of a gutter that JPEG ringing may leave not quite uniform."""

MIN_DISTINCTNESS: Final = 0.3
"""A gutter's colour is missing from at least this share of the lines on each side of it."""

MAX_SPLITS: Final = 2
"""Splits per direction at most (three panels in a row)."""

MAX_PANELS: Final = 8
"""Panels returned at most (the first level's first, then a grid's)."""


@dataclass(frozen=True)
class Panel:
    """One picture of a collage: its box in the image and a name that says where it sits."""

    name: str
    box: Box


SAMPLES: Final = 64
"""Pixels per line looked at, evenly spaced (a gutter is plain all along, a seam changes
nearly all of them)."""

LOOK_LINES: Final = 256
"""Gutters and seams are looked for on at most this many lines, then placed exactly."""


def _sampled(lines: Pixels) -> Pixels:
    """About SAMPLES evenly spaced pixels of each line."""
    return lines[:, :: max(1, lines.shape[1] // SAMPLES)]


def _line_colours(lines: Pixels) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16]]:
    """Evenly spaced pixels of each line, (lines, 3, samples), and each line's median colour."""
    sampled = np.ascontiguousarray(_sampled(lines).transpose(0, 2, 1), dtype=np.int16)
    return sampled, np.median(sampled, axis=2).astype(np.int16)


def _changes(lines: Pixels) -> npt.NDArray[np.float32]:
    """The median change of luminance from each line to the next (one fewer than lines)."""
    luma = np.ascontiguousarray(_sampled(lines)) @ LUMA_WEIGHTS
    change: npt.NDArray[np.float32] = np.median(np.abs(np.diff(luma, axis=0)), axis=1)
    return change


def _uniform_lines(
    sampled: npt.NDArray[np.int16], colours: npt.NDArray[np.int16]
) -> npt.NDArray[np.bool_]:
    """For each line, whether nearly all of it has its median colour."""
    near = np.abs(sampled - colours[:, :, None]).max(axis=1) <= COLOUR_TOLERANCE
    uniform: npt.NDArray[np.bool_] = near.mean(axis=1) >= UNIFORM_SHARE
    return uniform


def _gutters(lines: Pixels) -> list[tuple[float, int, int]]:
    """(distinctness, first, end) of each gutter: a run of uniform lines of one colour away
    from the edges, whose colour the lines just outside it mostly do not have (a plain run
    inside a dark sky is not a gutter)."""
    count = len(lines)
    sampled, colours = _line_colours(lines)
    uniform = _uniform_lines(sampled, colours)
    runs, start = [], None
    for index in range(count + 1):
        inside = index < count and bool(uniform[index])
        if (
            inside
            and start is not None
            and np.abs(colours[index] - colours[start]).max() > COLOUR_TOLERANCE
        ):
            inside = False  # a different plain colour: the run ends here
        if inside and start is None:
            start = index
        elif not inside and start is not None:
            runs.append((start, index))
            start = index if index < count and uniform[index] else None
    limit = max(1, round(MAX_GUTTER * count))
    found = []
    for run in runs:
        first, end = _with_ringing(colours, run)
        if end - first > limit or first < MIN_PANEL * count or end > (1 - MIN_PANEL) * count:
            continue
        colour = colours[first][:, None]
        outside = sampled[[first - 1, end]]  # the line before and the line after the run
        alike = (np.abs(outside - colour).max(axis=1) <= COLOUR_TOLERANCE).mean(axis=1)
        distinctness = 1.0 - float(alike.max())
        if distinctness >= MIN_DISTINCTNESS:
            found.append((distinctness, first, end))
    return found


def _with_ringing(colours: npt.NDArray[np.int16], run: tuple[int, int]) -> tuple[int, int]:
    """A run of uniform lines with up to RINGING lines on each side that are not uniform
    (JPEG rings along a gutter's edges) but still have its colour, by their median."""
    first, end = run
    colour = colours[first]
    for _ in range(RINGING):
        if first > 1 and np.abs(colours[first - 1] - colour).max() <= COLOUR_TOLERANCE:
            first -= 1
        if end < len(colours) - 1 and np.abs(colours[end] - colour).max() <= COLOUR_TOLERANCE:
            end += 1
    return first, end


def _seams(lines: Pixels) -> list[tuple[float, int, int]]:
    """(strength, first, end) of each seam: a line after which nearly every pixel of the
    next line changes, much more than between the lines around it."""
    change = _changes(lines)  # change[i]: line i to i + 1
    count = len(lines)
    # About the median change over the lines on each side (the line itself left out).
    padded = np.pad(change, SEAM_NEIGHBOURHOOD, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * SEAM_NEIGHBOURHOOD + 1)
    around = np.concatenate(
        [windows[:, :SEAM_NEIGHBOURHOOD], windows[:, SEAM_NEIGHBOURHOOD + 1 :]], axis=1
    )
    middle = SEAM_NEIGHBOURHOOD
    nearby = np.maximum(np.partition(around, middle, axis=1)[:, middle], 1.0)
    strong = (change >= SEAM_STEP) & (change >= SEAM_CONTRAST * nearby)
    low, high = round(MIN_PANEL * count), round((1 - MIN_PANEL) * count)
    return [
        (float(change[index] / nearby[index]), index + 1, index + 1)
        for index in (np.flatnonzero(strong[low:high]) + low).tolist()
    ]


def _cuts(lines: Pixels) -> list[tuple[int, int]]:
    """Where to cut across these lines: the most distinct gutters, then the strongest seams;
    at most MAX_SPLITS, with at least MIN_PANEL between them.

    Looked for on every few lines (at most LOOK_LINES of them), then placed exactly."""
    step = -(-len(lines) // LOOK_LINES)
    # The most distinct gutter, the strongest seam, the next gutter, the next seam... (a
    # plain run inside a picture must not crowd out a real seam). On every `step`-th line a
    # seam that a reduced image blended into the line between still stands out.
    sampled = lines[::step]
    gutters = [(d, first * step, end * step) for d, first, end in _gutters(sampled)]
    # A gutter's own edges are seams too: those are not cuts of their own.
    seams = [
        (strength, first * step, end * step)
        for strength, first, end in _seams(sampled)
        if all(first * step < f - 2 * step or first * step > e + 2 * step for _, f, e in gutters)
    ]
    ranked = (sorted(gutters, reverse=True), sorted(seams, reverse=True))
    found = [cut for pair in zip_longest(*ranked) for cut in pair if cut is not None]
    kept: list[tuple[int, int]] = []
    apart = MIN_PANEL * len(lines)
    for _, first, end in found:
        if all(first - e >= apart or f - end >= apart for f, e in kept):
            kept.append((first, end))
        if len(kept) == MAX_SPLITS:
            break
    return [
        _placed_seam(lines, cut[0], step) if cut[0] == cut[1] else _placed_gutter(lines, *cut, step)
        for cut in sorted(kept)
    ]


def _placed_seam(lines: Pixels, cut: int, step: int) -> tuple[int, int]:
    """A seam found on every `step`-th line, placed after the line with the largest change."""
    if step == 1:
        return cut, cut
    low, high = max(1, cut - step), min(len(lines) - 1, cut + step)
    placed = low + int(_changes(lines[low - 1 : high + 1]).argmax())
    return placed, placed


def _placed_gutter(lines: Pixels, first: int, end: int, step: int) -> tuple[int, int]:
    """A gutter found on every `step`-th line, placed on the lines themselves."""
    if step == 1:
        return first, end
    low, high = max(1, first - step), min(len(lines) - 1, end + step)
    sampled, colours = _line_colours(lines[low:high])
    uniform = _uniform_lines(sampled, colours)
    gutter = colours[(first + end) // 2 - low]
    alike = uniform & (np.abs(colours - gutter).max(axis=1) <= COLOUR_TOLERANCE)
    inside = np.flatnonzero(alike)
    if not inside.size:
        return first, end
    return low + int(inside[0]), low + int(inside[-1]) + 1


_NAMES: Final = {
    (0, 1, 2): "left",
    (1, 2, 2): "right",
    (0, 1, 3): "left",
    (1, 2, 3): "middle",
    (2, 3, 3): "right",
    (0, 2, 3): "left-and-middle",
    (1, 3, 3): "middle-and-right",
}


def _spans(lines: Pixels) -> list[tuple[str, int, int]]:
    """(position name, first, end) of the panels between the cuts across these lines: each
    piece, and with three pieces also two neighbours together (a cut may be a line inside
    a picture)."""
    cuts = _cuts(lines)
    if not cuts:
        return []
    starts = [0, *(end for _, end in cuts)]
    ends = [*(first for first, _ in cuts), len(lines)]
    pieces = len(starts)
    return [
        (_NAMES[(first, last, pieces)], starts[first], ends[last - 1])
        for first in range(pieces)
        for last in range(first + 1, pieces + 1)
        if (first, last, pieces) in _NAMES
    ]


def _vertical(name: str) -> str:
    words = {"left": "top", "middle": "middle", "right": "bottom", "and": "and"}
    return "-".join(words[word] for word in name.split("-"))


def _split_across(pixels: Pixels) -> list[tuple[str, int, int]]:
    """Panels side by side: (name, first column, end column)."""
    return _spans(pixels.transpose(1, 0, 2))


def _split_down(pixels: Pixels) -> list[tuple[str, int, int]]:
    """Panels stacked: (name, first row, end row)."""
    return [(_vertical(name), first, end) for name, first, end in _spans(pixels)]


def find_panels(pixels: Pixels) -> list[Panel]:
    """The panels of a collage (pictures side by side or stacked), or [] for one picture.

    Splits across the image where a gutter or a seam runs its whole length, each way; then
    splits each panel found the other way in the same manner (a grid). A panel that splits
    again is kept whole as well: the line inside it may be part of its picture (a horizon).
    """
    height, width = pixels.shape[:2]
    panels: list[Panel] = []
    nested: list[Panel] = []
    for name, left, right in _split_across(pixels):
        panels.append(Panel(f"panel-{name}", Box(left / width, 0.0, right / width, 1.0)))
        for inner, top, bottom in _split_down(pixels[:, left:right]):
            box = Box(left / width, top / height, right / width, bottom / height)
            nested.append(Panel(f"panel-{name}-{inner}", box))
    for name, top, bottom in _split_down(pixels):
        panels.append(Panel(f"panel-{name}", Box(0.0, top / height, 1.0, bottom / height)))
        for inner, left, right in _split_across(pixels[top:bottom]):
            box = Box(left / width, top / height, right / width, bottom / height)
            nested.append(Panel(f"panel-{name}-{inner}", box))
    return [*panels, *nested][:MAX_PANELS]
