"""The picture inside a screenshot: a chat, a feed or a gallery showing it among plain UI.

Screen chrome (bars, bubbles, buttons, text on flat colour) is made of flat areas, and
apps leave a flat margin around a picture they show. A photo varies nearly everywhere. So
the photo is the largest connected block of busy (textured) tiles, grown or shrunk until the
line just outside each edge is flat: the margin that frames it.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from shieldwall.signals.regions import Box

TILE: Final = 4
"""Side of the tiles whose texture is measured, in working pixels."""

WORKING_SHORT_SIDE: Final = 600
"""Screenshots are looked at reduced (block means) to about this short side: fine enough
that the margins between a photo and the text around it stay at least a few tiles wide."""

TILE_MIN_STD: Final = 1.0
"""A tile whose luminance varies more than this (standard deviation) is busy."""

FLAT_MAX_STD: Final = 3.0
"""A line of pixels whose luminance varies less than this (standard deviation) is flat."""

MARGIN_STEP: Final = 8.0
"""Change of mean luminance between flat rows that marks the end of a flat part of a photo."""

FLAT_PART_LIMIT: Final = 0.25
"""A flat part of a photo is at most this share of the photo's height (or width)."""

MIN_FLAT_SHARE: Final = 0.1
"""A screenshot has at least this share of flat tiles (its chrome and margins)."""

MIN_AREA, MAX_AREA = 0.04, 0.85
"""The photo covers 4-85% of the screenshot (more is just the whole image)."""


def _busy_tiles(luma: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    import cv2  # here, not at the top: OpenCV (16 MiB) loads on first use

    rows, cols = luma.shape[0] // TILE, luma.shape[1] // TILE
    whole = luma[: rows * TILE, : cols * TILE]
    mean = cv2.resize(whole, (cols, rows), interpolation=cv2.INTER_AREA)
    square = cv2.resize(whole * whole, (cols, rows), interpolation=cv2.INTER_AREA)
    variance = np.maximum(square - mean * mean, 0.0)
    return (variance > TILE_MIN_STD**2).astype(np.uint8)


def _largest_busy_box(busy: npt.NDArray[np.uint8]) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) in tiles of the largest connected busy area."""
    import cv2  # here, not at the top: OpenCV (16 MiB) loads on first use

    count, _, stats, _ = cv2.connectedComponentsWithStats(busy, connectivity=4)
    if count < 2:
        return None
    label = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    left, top, width, height = (int(v) for v in stats[label][:4])
    return left, top, left + width, top + height


def _flat(line: npt.NDArray[np.float32]) -> bool:
    return line.size < 2 or float(line.std()) < FLAT_MAX_STD


def _settle(luma: npt.NDArray[np.float32], edge: int, inner: int, outer: int, span: slice) -> int:
    """Move one edge of the box (a row of `luma`) to where the picture ends.

    Rows outwards of the edge have indexes towards `outer` (-1 or the row count); the edge
    never moves past `inner`. `span` is the columns the box covers.
    """
    step = 1 if outer > edge else -1
    while edge != inner and _flat(luma[edge, span]):
        edge -= step  # a flat row inside the guess: the box shrinks
    while edge + step != outer and not _flat(luma[edge + step, span]):
        edge += step  # a varied row just outside: the box grows
    return edge


def _flat_part(
    luma: npt.NDArray[np.float32], edge: int, outer: int, span: slice, limit: int
) -> int:
    """Where the picture ends if a flat part of it (a clear sky) lies just outside `edge`.

    Outside a photo, apps leave a flat margin. When the flat rows just outside the edge
    change colour, flat again, within `limit` rows, the first colour was the photo's own
    (its sky against the margin): the edge moves out to that change. Otherwise it stays.
    """
    step = 1 if outer > edge else -1
    row, first = edge + step, None
    while row != outer and abs(row - edge) <= limit:
        line = luma[row, span]
        if not _flat(line):
            return edge
        mean = float(line.mean())
        if first is None:
            first = mean
        elif abs(mean - first) > MARGIN_STEP:
            return row - step
        row += step
    return edge


def _inner_span(lo: int, hi: int) -> slice:
    """The columns from `lo` to `hi` without their ends (rounded corners)."""
    margin = max(1, (hi - lo) // 12)
    return slice(lo + margin, hi - margin)


def _working_luma(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    import cv2  # here, not at the top: OpenCV (16 MiB) loads on first use

    height, width = pixels.shape[:2]
    factor = max(1, min(height, width) // WORKING_SHORT_SIDE)
    if factor > 1:
        size = (width // factor, height // factor)
        pixels = np.asarray(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), np.uint8)
    grey = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY)
    return np.asarray(grey, dtype=np.float32)


def find_photo(pixels: npt.NDArray[np.uint8]) -> Box | None:
    """The box of the photo shown in a screenshot, or None when nothing looks like one."""
    boxes = find_photo_boxes(pixels)
    return boxes[0] if boxes else None


def _with_flat_parts(
    luma: npt.NDArray[np.float32], box: tuple[int, int, int, int]
) -> tuple[int, int, int, int]:
    """The box grown over flat parts of the photo at its edges (see _flat_part)."""
    left, top, right, bottom = box
    height, width = luma.shape
    columns, rows = _inner_span(left, right), _inner_span(top, bottom)
    reach_y, reach_x = int(FLAT_PART_LIMIT * (bottom - top)), int(FLAT_PART_LIMIT * (right - left))
    return (
        _flat_part(luma.T, left, -1, rows, reach_x),
        _flat_part(luma, top, -1, columns, reach_y),
        _flat_part(luma.T, right, width, rows, reach_x),
        _flat_part(luma, bottom, height, columns, reach_y),
    )


def find_photo_boxes(pixels: npt.NDArray[np.uint8]) -> list[Box]:
    """Boxes of the photo shown in a screenshot: where its varied part ends, then (if it
    differs) grown over flat parts at its edges. [] when nothing looks like a photo.

    A flat run just outside the varied part may be the photo's own sky or the app's margin
    (a bubble's padding against the chat background looks the same), so both are offered."""
    luma = _working_luma(pixels)
    height, width = luma.shape
    if min(height, width) < 4 * TILE:
        return []
    busy = _busy_tiles(luma)
    if busy.mean() > 1 - MIN_FLAT_SHARE:
        return []  # textured nearly everywhere: a photo, not a screen around one
    found = _largest_busy_box(busy)
    if found is None:
        return []
    left, top, right, bottom = (v * TILE for v in found)
    right, bottom = min(right, width) - 1, min(bottom, height) - 1
    middle_row, middle_col = (top + bottom) // 2, (left + right) // 2
    columns = _inner_span(left, right)
    top = _settle(luma, top, middle_row, -1, columns)
    bottom = _settle(luma, bottom, middle_row, height, columns)
    rows = _inner_span(top, bottom)
    left = _settle(luma.T, left, middle_col, -1, rows)
    right = _settle(luma.T, right, middle_col, width, rows)
    settled = (left, top, right, bottom)
    boxes = []
    for x0, y0, x1, y1 in dict.fromkeys((settled, _with_flat_parts(luma, settled))):
        if x1 - x0 < 16 or y1 - y0 < 16:
            continue
        box = Box(x0 / width, y0 / height, (x1 + 1) / width, (y1 + 1) / height)
        if MIN_AREA <= box.width * box.height <= MAX_AREA:
            boxes.append(box)
    return boxes
