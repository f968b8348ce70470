"""A picture set inside a larger one: a photo pasted on a poster, a template, another photo.

Where the inner picture meets what surrounds it, the image changes abruptly along four
straight, axis-aligned lines, each as long as the picture's side. Unlike a panel's seam
(panels.py), such an edge does not run across the whole image, and unlike a border
(borders.py) or a screenshot's margin (screenshot.py), what surrounds the picture need not
be plain. So: the rows and columns holding the longest runs of abrupt change are the
candidate sides, and two rows and two columns whose rectangle is outlined by abrupt change
along most of each side make an inset, looked up as a view of its own (`inset`). The
outline may fade for a stretch where the picture's colour matches its surroundings.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from shieldwall.signals.pdq_grid import LUMA_WEIGHTS
from shieldwall.signals.regions import Box

Pixels = npt.NDArray[np.uint8]

LOOK_SIDE: Final = 560
"""Insets are looked for on the image averaged down to at most this long side (a box placed
to a quarter of a per cent is as good as one placed to the pixel)."""

STEP: Final = 12.0
"""An edge pixel: the luminance (0-255) differs by at least this across the line (over two
pixels, so an edge softened by resampling still counts)."""

MAX_GAP: Final = 0.04
"""Gaps in a line's run of edge pixels up to this share of the image's side are bridged."""

MIN_RUN: Final = 0.15
"""A candidate line holds a bridged run of edge pixels at least this share of the side."""

CANDIDATES: Final = 16
"""Candidate lines kept each way: those with the longest runs."""

AWAY: Final = 4
"""A row this far from a candidate's, on one side, holds at most half its edge pixels
along its run."""

MIN_SIDE: Final = 0.3
"""An inset spans at least this share of the image each way (smaller is a detail of a
picture, or too small to hash well)."""

MAX_SIDE: Final = 0.9
"""...and at most this share on at least one side (a picture with a thin frame of its own,
or a photo with a dark rim, is not an inset: the whole picture and its trimmed views
cover those)."""

MARGIN: Final = 0.02
"""Lines this close to the image's edge are no inset's side (JPEG and scanning leave edges
there)."""

MIN_SIDE_COVER: Final = 0.5
"""Each side of an inset: edge pixels (within a pixel of its line) along at least this
share of it."""

MIN_COVER: Final = 0.75
"""...and along at least this share of its whole outline."""

MAX_INSETS: Final = 2
"""Insets returned at most, largest first (a shape inside the picture, or in what
surrounds it, is outlined as well as the picture, but smaller)."""

SAME: Final = 0.03
"""Insets whose sides are all within this share of the image are one."""


def find_insets(pixels: Pixels) -> list[Box]:
    """Boxes of pictures set inside the image (at most MAX_INSETS, largest first)."""
    luma = _looked_at(pixels)
    height, width = luma.shape
    if min(height, width) < 8:
        return []
    across = _stepping(luma)
    down = _stepping(np.ascontiguousarray(luma.T))
    rows, cols = np.array(_candidates(across)), np.array(_candidates(down))
    if len(rows) < 2 or len(cols) < 2:
        return []
    # Each candidate row's cover between any two candidate columns, and the other way.
    along_rows = _sides_cover(_near_line_sums(across, rows)[:, cols], cols)  # [t, i, j]
    along_cols = _sides_cover(_near_line_sums(down, cols)[:, rows], rows)  # [i, t, b]
    top = along_rows[:, None, :, :]
    bottom = along_rows[None, :, :, :]
    left = along_cols.transpose(1, 2, 0)[:, :, :, None]
    right = along_cols.transpose(1, 2, 0)[:, :, None, :]
    high = (rows[None, :] - rows[:, None]).astype(np.float64)[:, :, None, None]
    wide = (cols[None, :] - cols[:, None]).astype(np.float64)[None, None, :, :]
    whole = (wide * (top + bottom) + high * (left + right)) / np.maximum(2 * (wide + high), 1)
    sides = np.minimum(np.minimum(top, bottom), np.minimum(left, right))
    fits = (high >= MIN_SIDE * height) & (wide >= MIN_SIDE * width)
    fits &= np.minimum(wide / width, high / height) <= MAX_SIDE
    good = fits & (sides >= MIN_SIDE_COVER) & (whole >= MIN_COVER)
    kept: list[Box] = []
    areas = np.broadcast_to(wide * high, good.shape)[good]
    for t, b, i, j in np.argwhere(good)[np.argsort(-areas, kind="stable")].tolist():
        # The picture begins past its outline (each side lies on the line where the
        # change is largest: half a pixel inside or outside).
        box = Box((cols[i] + 1) / width, (rows[t] + 1) / height, cols[j] / width, rows[b] / height)
        if all(box.farthest_side(other) > SAME for other in kept):
            kept.append(box)
            if len(kept) == MAX_INSETS:
                break
    return kept


def _sides_cover(
    sums: npt.NDArray[np.int32], places: npt.NDArray[np.intp]
) -> npt.NDArray[np.float64]:
    """[line, i, j]: share of the places between candidates i and j (i < j) that a line's
    cumulative counts `sums` (taken at the candidates) counted."""
    counted = (sums[:, None, :] - sums[:, :, None]).astype(np.float64)
    apart = (places[None, :] - places[:, None]).astype(np.float64)
    return counted / np.maximum(apart, 1)[None, :, :]


def _looked_at(pixels: Pixels) -> npt.NDArray[np.float32]:
    """Luminance, averaged down by a whole factor to at most LOOK_SIDE on the long side."""
    import cv2  # here, not at the top: OpenCV (16 MiB) loads on first use

    luma = np.asarray(pixels.astype(np.float32) @ LUMA_WEIGHTS, np.float32)
    factor = -(-max(luma.shape) // LOOK_SIDE)
    if factor < 2:
        return luma
    size = (luma.shape[1] // factor, luma.shape[0] // factor)
    return np.asarray(cv2.resize(luma, size, interpolation=cv2.INTER_AREA), np.float32)


def _stepping(luma: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """1 where the luminance differs by STEP between the rows above and below."""
    marked = np.zeros(luma.shape, np.uint8)
    marked[1:-1] = np.abs(luma[2:] - luma[:-2]) >= STEP
    return marked


def _candidates(marked: npt.NDArray[np.uint8]) -> list[int]:
    """Rows holding the CANDIDATES longest bridged runs of edge pixels (at least MIN_RUN of
    the width) that stand out: a row AWAY pixels off on one side, along the same run,
    holds at most half as many (inside a texture's stripes, neither does). One row per
    edge (a softened edge marks two or three neighbouring rows)."""
    import cv2  # here, not at the top: OpenCV (16 MiB) loads on first use

    height, width = marked.shape
    shortest = MIN_RUN * width
    margin = max(2, round(MARGIN * height))
    rows = np.flatnonzero(marked.sum(axis=1) >= shortest / 2)
    rows = rows[(rows >= margin) & (rows < height - margin)]
    if not len(rows):
        return []
    gap = max(1, round(MAX_GAP * width))
    kernel = np.ones((1, gap + 1), np.uint8)
    bridged = np.asarray(cv2.morphologyEx(marked[rows], cv2.MORPH_CLOSE, kernel), np.uint8)
    at, start, end = _longest_runs(bridged)
    row = rows[at]
    long_enough = end - start >= shortest
    row, start, end = row[long_enough], start[long_enough], end[long_enough]
    counts = np.zeros((height, width + 1), np.int32)
    np.cumsum(marked, axis=1, out=counts[:, 1:])
    own = counts[row, end] - counts[row, start]
    above = np.where(row >= AWAY, counts[row - AWAY, end] - counts[row - AWAY, start], 0)
    below_row = np.minimum(row + AWAY, height - 1)
    below = np.where(row + AWAY < height, counts[below_row, end] - counts[below_row, start], 0)
    stands_out = 2 * np.minimum(above, below) <= own
    kept: list[int] = []
    for _, line in sorted(
        zip((end - start)[stands_out].tolist(), row[stands_out].tolist(), strict=True),
        reverse=True,
    ):
        if all(abs(line - other) > 2 for other in kept):
            kept.append(line)
            if len(kept) == CANDIDATES:
                break
    return sorted(kept)


def _longest_runs(
    lines: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """For each line (of zeros and ones) holding any ones: its index, and the start and
    end (exclusive) of its longest run of ones."""
    padded = np.zeros((lines.shape[0], lines.shape[1] + 2), np.int8)
    padded[:, 1:-1] = lines
    steps = np.diff(padded, axis=1)
    line, start = np.nonzero(steps == 1)
    _, end = np.nonzero(steps == -1)  # in the same order: each run's end follows its start
    order = np.lexsort((start - end, line))  # by line, longest run first
    first = np.unique(line[order], return_index=True)[1]
    chosen = order[first]
    return line[chosen], start[chosen], end[chosen]


def _near_line_sums(
    marked: npt.NDArray[np.uint8], lines: npt.NDArray[np.intp]
) -> npt.NDArray[np.int32]:
    """For each line, cumulative counts along it of the places marked on it or on a line
    next to it."""
    last = marked.shape[0] - 1
    near = np.stack(
        [marked[max(0, line - 1) : min(last, line + 1) + 1].max(axis=0) for line in lines.tolist()]
    )
    sums = np.zeros((len(lines), marked.shape[1] + 1), np.int32)
    np.cumsum(near, axis=1, out=sums[:, 1:])
    return sums
