"""Regions of an image (boxes in fractions of its size) and the PDQ hashes of what they show.

A copy of an image that was cropped, or partly covered, hashes far from the original: PDQ
moves about 30 bits when one edge moves by 2.5% of the width (bench/RESULTS.md, section 6).
So the bank also keeps PDQ hashes of regions of each image (its *bank variants*, named
here), and a query hashes the same regions of what it finds; two copies then meet wherever
they show the same region.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from shieldwall.signals import pdq_quality
from shieldwall.signals.pdq_grid import LUMA_WEIGHTS, pdq_of_grids
from shieldwall.signals.pdq_pixels import GRID, pdq_from_pixels

REGION_MIN_QUALITY: Final = pdq_quality.REGION_MIN_QUALITY
"""Region hashes below this PDQ quality are neither stored nor searched (signals/pdq_quality.py)."""


@dataclass(frozen=True)
class Box:
    """A region as fractions of an image's width and height: left, top, right, bottom."""

    left: float
    top: float
    right: float
    bottom: float

    def __post_init__(self) -> None:
        if not (0.0 <= self.left < self.right <= 1.0 and 0.0 <= self.top < self.bottom <= 1.0):
            raise ValueError(f"not a region inside the image: {self}")

    @property
    def width(self) -> float:
        """Width as a fraction of the image's."""
        return self.right - self.left

    @property
    def height(self) -> float:
        """Height as a fraction of the image's."""
        return self.bottom - self.top

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in whole pixels of an image of this size, never empty."""
        left = min(round(self.left * width), width - 1)
        top = min(round(self.top * height), height - 1)
        right = max(round(self.right * width), left + 1)
        bottom = max(round(self.bottom * height), top + 1)
        return left, top, right, bottom

    def within(self, outer: Box) -> Box:
        """This box, given relative to `outer`, as a box of the whole image."""
        return Box(
            outer.left + self.left * outer.width,
            outer.top + self.top * outer.height,
            outer.left + self.right * outer.width,
            outer.top + self.bottom * outer.height,
        )

    def farthest_side(self, other: Box) -> float:
        """How far apart the two boxes' corresponding sides are at most (shares)."""
        return max(
            abs(self.left - other.left),
            abs(self.top - other.top),
            abs(self.right - other.right),
            abs(self.bottom - other.bottom),
        )


FULL: Final = Box(0.0, 0.0, 1.0, 1.0)


def crop(pixels: npt.NDArray[np.uint8], box: Box) -> npt.NDArray[np.uint8]:
    """The pixels inside `box` (a view, not a copy)."""
    height, width = pixels.shape[:2]
    left, top, right, bottom = box.pixels(width, height)
    return pixels[top:bottom, left:right]


class RegionHasher:
    """PDQ hashes of regions of one image, as the full-size image would give them.

    `pixels` may be a reduced decode of an image of `full_size` (see signals/pdq_pixels.py):
    each region is cut from it and hashed as the matching region of the full-size image, so
    the bank and a query agree whatever resolution each copy was decoded at.
    """

    def __init__(self, pixels: npt.NDArray[np.uint8], full_size: tuple[int, int]) -> None:
        self._pixels = pixels
        self._integral: npt.NDArray[np.float64] | None = None
        self.derived: dict[str, object] = {}
        """What other modules derive from these pixels, kept here by them (a lookup's pair
        windows, computed ahead: signals/pairs.py)."""
        self._scale = (full_size[0] / pixels.shape[1], full_size[1] / pixels.shape[0])

    def __getstate__(self) -> dict[str, object]:
        """For another process (`shieldwall match` hashes in a process pool): what was
        derived in a thread is waited for and sent as it came out."""
        state = dict(self.__dict__)
        state["derived"] = {
            name: value.result() if isinstance(value, Future) else value
            for name, value in self.derived.items()
        }
        return state

    @property
    def pixels(self) -> npt.NDArray[np.uint8]:
        """The pixels regions are cut from."""
        return self._pixels

    def _cut(self, box: Box) -> tuple[npt.NDArray[np.uint8], tuple[int, int]]:
        region = crop(self._pixels, box)
        height, width = region.shape[:2]
        full = (
            max(width, round(width * self._scale[0])),
            max(height, round(height * self._scale[1])),
        )
        return region, full

    def pdq(self, box: Box) -> tuple[str, int]:
        """PDQ hex hash and quality of one region."""
        region, full = self._cut(box)
        (value,), quality = pdq_from_pixels(region, full)
        return value, quality

    def pdq_area(self, boxes: Sequence[Box]) -> list[tuple[str, int]]:
        """PDQ of each region averaged down to PDQ's own 64x64 grid (box, not tent, weights).

        Not what PDQ gives for the region at full size (a median 8 bits away), but steadier
        across re-encodings and resizes (median 6 bits after a 50% resize and JPEG 70, where
        the full-size hashes move 20) and a fraction of the cost: every cell is a mean read
        from one summed-area table of the image's luminance. For regions compared only with
        regions hashed the same way: the bands.
        """
        import cv2  # here, not at the top: OpenCV (16 MiB) loads on first use

        if not boxes:
            return []
        if self._integral is None:
            luma = self._pixels.astype(np.float32) @ LUMA_WEIGHTS
            self._integral = np.asarray(cv2.integral(luma, sdepth=cv2.CV_64F), np.float64)
        height, width = self._pixels.shape[:2]
        pixel_boxes = np.array([box.pixels(width, height) for box in boxes], np.intp)
        return pdq_of_grids(_cell_means(self._integral, pixel_boxes))

    def pdq_dihedral(self, box: Box) -> tuple[tuple[str, ...], int]:
        """The region's PDQ hash and its 7 rotations/mirrors (DIHEDRAL_VARIANTS order)."""
        region, full = self._cut(box)
        return pdq_from_pixels(region, full, dihedral=True)


def _cell_edges(
    start: npt.NDArray[np.intp], stop: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """First and one-past-last pixel of each of GRID cells across [start, stop) of each of
    several spans (rows), never empty."""
    edges = start[:, None] + (np.arange(GRID + 1) * (stop - start)[:, None]) // GRID
    first = edges[:, :-1]
    return first, np.maximum(edges[:, 1:], first + 1)


def _cell_means(
    integral: npt.NDArray[np.float64], boxes: npt.NDArray[np.intp]
) -> npt.NDArray[np.float32]:
    """The mean of each of GRID x GRID cells of each pixel box (rows of left, top, right,
    bottom), from a summed-area table: an (n, GRID, GRID) array."""
    wide = ((boxes[:, 2:] - boxes[:, :2]) >= GRID).all(axis=1)
    if wide.all():
        return _wide_cell_means(integral, boxes)
    if wide.any():
        means = np.empty((len(boxes), GRID, GRID), np.float32)
        means[wide] = _wide_cell_means(integral, boxes[wide])
        means[~wide] = _cell_means(integral, boxes[~wide])
        return means
    x0, x1 = _cell_edges(boxes[:, 0], boxes[:, 2])
    y0, y1 = _cell_edges(boxes[:, 1], boxes[:, 3])
    # Each cell's sum from the table at its four corners.
    bottom, top = y1[:, :, None], y0[:, :, None]
    right, left = x1[:, None, :], x0[:, None, :]
    sums = (
        integral[bottom, right]
        - integral[top, right]
        - integral[bottom, left]
        + integral[top, left]
    )
    areas = (y1 - y0)[:, :, None] * (x1 - x0)[:, None, :]
    return (sums / areas).astype(np.float32)


def _wide_cell_means(
    integral: npt.NDArray[np.float64], boxes: npt.NDArray[np.intp]
) -> npt.NDArray[np.float32]:
    """_cell_means of boxes at least GRID pixels each way (no cell is empty, so each cell
    ends where the next begins): one read of the table per cell corner instead of four."""
    steps = np.arange(GRID + 1)
    xs = boxes[:, :1] + (steps * (boxes[:, 2:3] - boxes[:, :1])) // GRID
    ys = boxes[:, 1:2] + (steps * (boxes[:, 3:4] - boxes[:, 1:2])) // GRID
    stride = integral.shape[1]
    corners = integral.ravel().take(ys[:, :, None] * stride + xs[:, None, :])
    sums = corners[:, 1:, 1:] - corners[:, :-1, 1:] - corners[:, 1:, :-1] + corners[:, :-1, :-1]
    areas = np.diff(ys, axis=1)[:, :, None] * np.diff(xs, axis=1)[:, None, :]
    return np.asarray(sums / areas, np.float32)


def _spans(span: float, step: float, first: float = 0.0) -> list[tuple[float, float]]:
    """Every (start, end) of a `span`-long window slid in `step`s from `first` to as far
    from the other end."""
    count = round((1.0 - span - 2 * first) / step)
    return [
        (round(first + i * step, 4), round(first + i * step + span, 4)) for i in range(count + 1)
    ]


CROP_GRID: Final = ((0.9, 0.0), (0.8, 0.05))
"""(span, first offset) of the crop grid's windows, slid in 5% steps to as far from the
other side: 90% windows everywhere, 80% ones at the inner offsets (5-15%)."""


def _crop_grid() -> list[tuple[str, Box]]:
    """Windows of 90% of each side at every 5% offset, and of 80% at the inner 5% offsets
    (5-15%): the common crops, matched as they are."""
    grid: list[tuple[str, Box]] = []
    for span, first in CROP_GRID:
        for top, bottom in _spans(span, 0.05, first):
            for left, right in _spans(span, 0.05, first):
                name = f"crop{round(span * 100)}:x{round(left * 100):02d}:y{round(top * 100):02d}"
                grid.append((name, Box(left, top, right, bottom)))
    return grid


SIDE_INSETS: Final = (0.025, 0.075)
"""Each side of a `sides` window is cut by one of these shares, independently of the others."""


def _side_windows() -> list[tuple[str, Box]]:
    """Windows with each of the four sides cut by its own 2.5% or 7.5%: with the whole
    image and the windows above, a copy whose sides were each cut by any 0-10% lies within
    2.5% of one of them on every side, near enough for the second stage to find it
    (matching/alignment.py), and often near enough to match at once."""
    windows = []
    for top in SIDE_INSETS:
        for bottom in SIDE_INSETS:
            for left in SIDE_INSETS:
                for right in SIDE_INSETS:
                    cuts = (left, right, top, bottom)
                    name = "sides:" + "-".join(f"{round(cut * 1000):02d}" for cut in cuts)
                    windows.append((name, Box(left, top, 1 - right, 1 - bottom)))
    return windows


def _centred(span_x: float, span_y: float) -> Box:
    return Box((1 - span_x) / 2, (1 - span_y) / 2, (1 + span_x) / 2, (1 + span_y) / 2)


ZOOM_SPANS: Final = (0.975, 0.95, 0.925, 0.875, 0.85, 0.825, 0.775, 0.75, 0.7)
"""Centred windows between and beyond the grid's spans: a zoom in on the middle. Together
with the grid's centred 90% and 80% windows they form a ladder of 2.5% steps down to 75%."""


GRID_SPANS: Final = tuple(span for span, _ in CROP_GRID)
"""Spans of the crop grid's windows (each has a centred window among them)."""

CENTRED_SPANS: Final = tuple(sorted({*ZOOM_SPANS, *GRID_SPANS}, reverse=True))
"""Spans of every centred window the bank hashes, largest first."""


def _zooms() -> list[tuple[str, Box]]:
    return [(f"zoom{round(span * 1000):03d}", _centred(span, span)) for span in ZOOM_SPANS]


ASPECTS: Final = ((1, 1), (4, 5), (16, 9), (9, 16))
"""Shapes that apps crop pictures to (square, portrait 4:5, wide 16:9, tall 9:16)."""

MIN_ASPECT_CUT: Final = 0.03
"""An aspect crop is kept only when it cuts at least this share off one side."""


def aspect_regions(width: int, height: int) -> list[tuple[str, Box]]:
    """Centred crops of an image of this size to the shapes apps use (when they cut enough)."""
    regions = []
    for across, down in ASPECTS:
        ratio = (across / down) / (width / height)  # the crop's width over the image's
        span_x, span_y = (ratio, 1.0) if ratio < 1 else (1.0, 1 / ratio)
        if min(span_x, span_y) <= 1 - MIN_ASPECT_CUT and min(span_x, span_y) >= MIN_ASPECT_SPAN:
            regions.append((f"{ASPECT_PREFIX}{across}x{down}", _centred(span_x, span_y)))
    return regions


BANDS: Final = (
    ("band:top", Box(0.0, 0.0, 1.0, 0.35)),
    ("band:middle", Box(0.0, 0.3, 1.0, 0.7)),
    ("band:bottom", Box(0.0, 0.65, 1.0, 1.0)),
    ("band:left", Box(0.0, 0.0, 0.35, 1.0)),
    ("band:centre", Box(0.3, 0.0, 0.7, 1.0)),
    ("band:right", Box(0.65, 0.0, 1.0, 1.0)),
)
"""Bands of 40% of the height or width. Text, stickers or logos laid over one part of an
image leave the bands away from that part as they were; a query hashes the same bands."""


def _side_cuts() -> list[tuple[str, Box]]:
    """The picture with 10% or 20% cut off one side only (a watermark, a neighbour, a bar)."""
    cuts = []
    for share in (0.1, 0.2):
        percent = round(share * 100)
        cuts += [
            (f"cut:left{percent}", Box(share, 0.0, 1.0, 1.0)),
            (f"cut:right{percent}", Box(0.0, 0.0, 1.0 - share, 1.0)),
            (f"cut:top{percent}", Box(0.0, share, 1.0, 1.0)),
            (f"cut:bottom{percent}", Box(0.0, 0.0, 1.0, 1.0 - share)),
        ]
    return cuts


BANK_WINDOWS: Final[tuple[tuple[str, Box], ...]] = (
    *_crop_grid(),
    *_zooms(),
    *_side_cuts(),
    *_side_windows(),
)
"""Crops the bank hashes as PDQ hashes them at full size (a cropped query hashes the same)."""


def _earlier_windows() -> list[tuple[str, Box]]:
    """80% windows at the outer offsets (0% or 20% on a side), which banks made before the
    `sides` windows took their place: entries and submission files may still hold them."""
    kept = {name for name, _ in BANK_WINDOWS}
    earlier = []
    for top, bottom in _spans(0.8, 0.05):
        for left, right in _spans(0.8, 0.05):
            name = f"crop80:x{round(left * 100):02d}:y{round(top * 100):02d}"
            if name not in kept:
                earlier.append((name, Box(left, top, right, bottom)))
    return earlier


EARLIER_WINDOWS: Final[tuple[tuple[str, Box], ...]] = tuple(_earlier_windows())
"""Windows no longer hashed for new entries but still known by name (see _earlier_windows)."""

BANK_REGIONS: Final[tuple[tuple[str, Box], ...]] = (*BANK_WINDOWS, *BANDS)
"""The regions whose PDQ hashes the bank keeps for every image besides the whole image:
the windows, and the bands (hashed on PDQ's own grid: RegionHasher.pdq_area)."""

MAX_STORED_PDQ: Final = 64
"""Stored PDQ hashes per banked image at most: the whole image plus its region variants."""


def bank_windows_for(width: int, height: int) -> list[tuple[str, Box]]:
    """The windows the bank hashes for an image of this size: fixed ones, then aspect crops."""
    return [*BANK_WINDOWS, *aspect_regions(width, height)]


def bank_regions_for(width: int, height: int) -> list[tuple[str, Box]]:
    """Every region the bank hashes for an image of this size: its windows, then the bands."""
    return [*bank_windows_for(width, height), *BANDS]


assert len(BANK_REGIONS) + len(ASPECTS) + 1 <= MAX_STORED_PDQ


ASPECT_PREFIX: Final = "aspect"
MIN_ASPECT_SPAN: Final = 0.5
"""An aspect crop keeping less than half of a side is not hashed (aspect_regions)."""
REGION_NAMES: Final = frozenset(
    {name for name, _ in (*BANK_REGIONS, *EARLIER_WINDOWS)}
    | {f"{ASPECT_PREFIX}{across}x{down}" for across, down in ASPECTS}
)
"""Every region name a bank entry may hold besides the whole image (devices send these)."""
MAX_REGIONS: Final = MAX_STORED_PDQ - 1
"""Region hashes per image at most (the whole image's PDQ takes the last place)."""


def region_table(min_side: int, working_long_side: int, min_short_side: int) -> dict[str, object]:
    """The bank's regions as a JSON-ready table, so that devices (the /protect page) hash
    exactly the regions `bank add` does from this one definition.

    Windows are hashed as PDQ hashes the cropped region at full size; bands on PDQ's own
    64x64 grid from cell means (RegionHasher.pdq_area); aspect crops are centred and made
    per image size by the rule of aspect_regions. Images with a side under `min_side` have
    no regions. The server hashes regions from the decode reduced to keep `min_short_side`
    on the short side, then to about `working_long_side` on the long one: the device
    reduces the same way, so both cut the same pixels."""

    def boxes(named: Sequence[tuple[str, Box]]) -> list[dict[str, object]]:
        return [
            {"name": name, "box": [box.left, box.top, box.right, box.bottom]} for name, box in named
        ]

    return {
        "windows": boxes(BANK_WINDOWS),
        "aspects": {
            "shapes": [list(shape) for shape in ASPECTS],
            "min_cut": MIN_ASPECT_CUT,
            "min_span": MIN_ASPECT_SPAN,
            "prefix": ASPECT_PREFIX,
        },
        "bands": boxes(BANDS),
        "min_quality": REGION_MIN_QUALITY,
        "max_regions": MAX_REGIONS,
        "min_side": min_side,
        "working_long_side": working_long_side,
        "min_short_side": min_short_side,
    }
