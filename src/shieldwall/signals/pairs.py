"""Pair windows: regions placed by the picture's own landmarks, for crops of any size and place.

A fixed grid of regions cannot cover a copy that shows a random 60-85% window of a picture,
perhaps scaled: the copy's frame lies anywhere. Its *content* does not move, though. So the
bank also hashes regions placed by the content itself:

1. *Landmarks*: blobs found as extrema of a difference-of-Gaussians scale space (Lowe's
   SIFT detector, without its descriptor), on the working image's luminance reduced to at
   most DETECTION_LONG_SIDE. Their places are found again, to a fraction of a pixel, in a
   crop, a resize or a re-encoding of the picture; the strongest are kept, spread apart.
2. *Pair windows*: for two landmarks p and q, the square centred between them with a side
   as long as p-q. A crop or a resize moves, scales or cuts the frame but not this square
   relative to p and q, so the copy's square shows the same content and hashes within a
   few bits (PDQ on its own 64x64 grid, from cell means: RegionHasher.pdq_area).
3. The bank keeps the PDQ hashes of up to MAX_PAIRS such windows, each named by its two
   landmarks (`pair:x1-y1-x2-y2`, in thousandths of the picture's short side). A query
   hashes the pairs of its own strongest landmarks; a hit gives the similarity (scale and
   shift) mapping the banked picture into the query, and the match is reported only if
   another stored window, hashed where that mapping puts it, agrees too
   (matching/pairs.py).

The windows are square in pixels, so a copy stretched unevenly (a different aspect ratio)
is not found this way; rotations are left to the views of stage one.
"""

from __future__ import annotations

import math
import os
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final, cast

import numpy as np
import numpy.typing as npt

from shieldwall.signals import _dogscan
from shieldwall.signals.pdq_grid import LUMA_WEIGHTS
from shieldwall.signals.regions import REGION_MIN_QUALITY, Box, RegionHasher

DETECTION_LONG_SIDE: Final = 512
"""Landmarks are found on the working image's luminance averaged down by the smallest whole
factor that brings its long side to at most this many pixels."""

SIGMA0: Final = 1.6
"""Blur of each octave's first level (Lowe's choice)."""

INTERVALS: Final = 3
"""Scales per octave searched for extrema."""

INPUT_BLUR: Final = 0.5
"""Blur assumed already present in the pixels (the camera's)."""

MIN_OCTAVE_SIDE: Final = 24
"""No octave is built whose short side is below this."""

CONTRAST: Final = 0.02
"""Least difference-of-Gaussians response (luminance 0-1) of a landmark."""

EDGE_RATIO: Final = 10.0
"""Landmarks on edges (principal curvature ratio above this) are dropped: they slide."""

SPREAD: Final = 0.04
"""Landmarks kept lie at least this share of the short side apart (strongest first)."""

BANK_LANDMARKS: Final = 16
"""Landmarks whose pairs the bank hashes."""

QUERY_LANDMARKS: Final = 12
"""Landmarks whose pairs a query hashes (more: a crop shows only some of the bank's)."""

BANK_SPAN: Final = (0.15, 0.4)
"""Distances (shares of the short side) between the two landmarks of a stored pair."""

QUERY_SPAN: Final = (0.12, 0.9)
"""The same for a query: a crop's short side is shorter, so its pairs reach further."""

MAX_PAIRS: Final = 24
"""Pair windows stored per picture at most (strongest landmarks first)."""

PAIR_PREFIX: Final = "pair:"
"""The variant name of a pair window: `pair:x1-y1-x2-y2`."""

UNIT: Final = 1000
"""Landmarks are named in thousandths of the picture's short side."""

_NAME: Final = re.compile(r"pair:(\d{1,5})-(\d{1,5})-(\d{1,5})-(\d{1,5})")
_MAX_COORDINATE: Final = 20 * UNIT  # pictures up to 20:1


@dataclass(frozen=True)
class Pair:
    """Two landmarks, in units of the picture's short side (x right, y down)."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def length(self) -> float:
        """Distance between the landmarks (in short sides)."""
        return math.hypot(self.x2 - self.x1, self.y2 - self.y1)

    @property
    def name(self) -> str:
        """The stored variant's name (coordinates rounded to thousandths)."""
        values = (self.x1, self.y1, self.x2, self.y2)
        return PAIR_PREFIX + "-".join(str(round(value * UNIT)) for value in values)

    def window(self, width: int, height: int) -> Box | None:
        """The pair's square window as a box of a picture of this size, if inside it."""
        short = min(width, height)
        centre_x = (self.x1 + self.x2) / 2 * short
        centre_y = (self.y1 + self.y2) / 2 * short
        half = self.length * short / 2
        left, top = (centre_x - half) / width, (centre_y - half) / height
        right, bottom = (centre_x + half) / width, (centre_y + half) / height
        if left < 0 or top < 0 or right > 1 or bottom > 1 or half <= 0:
            return None
        return Box(left, top, right, bottom)


def thousandths(name: str) -> tuple[int, int, int, int]:
    """The landmarks a pair window's name records, as it records them (ValueError if it is
    not one: malformed, or past a 20:1 picture)."""
    found = _NAME.fullmatch(name)
    x1, y1, x2, y2 = (int(part) for part in found.groups()) if found else (-1, -1, -1, -1)
    if not all(0 <= value <= _MAX_COORDINATE for value in (x1, y1, x2, y2)):
        raise ValueError(f"not a pair window: {name!r}")
    return x1, y1, x2, y2


def is_pair_name(name: str) -> bool:
    """Whether a variant name is a pair window's (well formed, inside a sane picture)."""
    try:
        thousandths(name)
    except ValueError:
        return False
    return True


def parse_pair(name: str) -> Pair:
    """The landmarks a pair window's name records (ValueError if it is not one)."""
    x1, y1, x2, y2 = (part / UNIT for part in thousandths(name))
    return Pair(x1, y1, x2, y2)


Landmarks = npt.NDArray[np.float64]
"""(n, 4): x, y (pixels of the image searched), scale (sigma, pixels), response."""


def _kernel(sigma: float) -> npt.NDArray[np.float32]:
    radius = max(1, math.ceil(3 * sigma))
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-(offsets**2) / (2 * sigma * sigma))
    return np.asarray(weights / weights.sum(), np.float32)


def _blur(image: npt.NDArray[np.float32], sigma: float) -> npt.NDArray[np.float32]:
    """Separable Gaussian blur, borders mirrored without repeating the edge pixel."""
    import cv2  # here, not at the top: OpenCV (16 MiB) loads on first use

    kernel = _kernel(sigma)
    blurred = cv2.sepFilter2D(image, cv2.CV_32F, kernel, kernel, borderType=cv2.BORDER_REFLECT_101)
    return np.asarray(blurred, np.float32)


def detection_image(luma: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], int]:
    """Luminance (0-1) averaged down by a whole factor to the detection size, and the factor."""
    height, width = luma.shape
    factor = max(1, -(-max(height, width) // DETECTION_LONG_SIDE))
    if factor > 1:
        rows, cols = height // factor, width // factor
        blocks = luma[: rows * factor, : cols * factor].reshape(rows, factor, cols, factor)
        luma = blocks.mean(axis=(1, 3), dtype=np.float32)
    return np.ascontiguousarray(luma / 255.0, np.float32), factor


def landmarks(luma: npt.NDArray[np.float32], count: int) -> Landmarks:
    """The `count` strongest landmarks of a luminance image (0-255), spread apart, in its
    pixels: rows of x, y, scale (sigma), response, strongest first."""
    image, factor = detection_image(luma)
    step = 2 ** (1 / INTERVALS)
    image = _blur(image, math.sqrt(SIGMA0**2 - INPUT_BLUR**2))
    found: list[Landmarks] = []
    octave = 0
    while min(image.shape) >= MIN_OCTAVE_SIDE:
        levels = [image]
        for index in range(1, INTERVALS + 3):
            before = SIGMA0 * step ** (index - 1)
            levels.append(_blur(levels[-1], before * math.sqrt(step * step - 1)))
        height, width = image.shape
        scanned = _dogscan.octave_extrema(
            levels, width, height, 0.8 * CONTRAST, CONTRAST, EDGE_RATIO
        )
        rows = np.frombuffer(scanned, np.float64).reshape(-1, 4)
        if len(rows):
            size = 2**octave  # each octave keeps every other pixel: its pixel i is 2i here
            x, y = rows[:, 0] * size, rows[:, 1] * size
            sigma = SIGMA0 * step ** rows[:, 2] * size
            found.append(np.stack([x, y, sigma, rows[:, 3]], axis=1))
        image = np.ascontiguousarray(levels[INTERVALS][::2, ::2])
        octave += 1
    if not found:
        return np.zeros((0, 4))
    every = np.concatenate(found)
    every = every[np.lexsort((every[:, 1], every[:, 0], -every[:, 3]))]
    every[:, :3] = (every[:, :3] + [0.5, 0.5, 0.0]) * factor - [0.5, 0.5, 0.0]
    return _spread(every, SPREAD * min(luma.shape), count)


def _spread(ranked: Landmarks, apart: float, count: int) -> Landmarks:
    """The strongest landmarks at least `apart` pixels from every stronger one kept."""
    kept: list[int] = []
    for index in range(len(ranked)):
        x, y = ranked[index, 0], ranked[index, 1]
        if all(math.hypot(x - ranked[k, 0], y - ranked[k, 1]) >= apart for k in kept):
            kept.append(index)
            if len(kept) == count:
                break
    return ranked[kept]


def luminance(hasher: RegionHasher) -> npt.NDArray[np.float32]:
    """PDQ's luminance of the pixels a hasher cuts regions from."""
    return np.asarray(hasher.pixels.astype(np.float32) @ LUMA_WEIGHTS, np.float32)


def pairs_of(points: Landmarks, short: int, span: tuple[float, float]) -> list[Pair]:
    """Every pair of landmarks whose distance is within `span` short sides, strongest
    (by the weaker of the two) first; landmarks in pixels of a picture of this short side."""
    scored: list[tuple[float, int, int, Pair]] = []
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            first, second = sorted([(points[i, 0], points[i, 1]), (points[j, 0], points[j, 1])])
            pair = Pair(first[0] / short, first[1] / short, second[0] / short, second[1] / short)
            if span[0] <= pair.length <= span[1]:
                scored.append((-min(points[i, 3], points[j, 3]), i, j, pair))
    scored.sort(key=lambda item: item[:3])
    return [pair for *_, pair in scored]


def hashed_pairs(
    hasher: RegionHasher, pairs: list[Pair], limit: int
) -> list[tuple[Pair, str, int]]:
    """(pair, PDQ hex, quality) of up to `limit` pairs whose windows lie inside the picture
    and are detailed enough (REGION_MIN_QUALITY), in the order given."""
    height, width = hasher.pixels.shape[:2]
    placed = [(pair, box) for pair in pairs if (box := pair.window(width, height)) is not None]
    hashed = hasher.pdq_area([box for _, box in placed])
    kept = [
        (pair, value, quality)
        for (pair, _), (value, quality) in zip(placed, hashed, strict=True)
        if quality >= REGION_MIN_QUALITY
    ]
    return kept[:limit]


def bank_pairs(hasher: RegionHasher) -> list[tuple[str, str, int]]:
    """(name, PDQ hex, quality) of the pair windows the bank keeps for a picture."""
    height, width = hasher.pixels.shape[:2]
    points = landmarks(luminance(hasher), BANK_LANDMARKS)
    # Each window is placed where its name says (landmarks rounded to thousandths), as a
    # lookup will place it again from the name.
    pairs = [parse_pair(pair.name) for pair in pairs_of(points, min(height, width), BANK_SPAN)]
    return [
        (pair.name, value, quality)
        for pair, value, quality in hashed_pairs(hasher, pairs, MAX_PAIRS)
    ]


_AHEAD: Final = "query_pairs"
_WORKERS: Final[dict[int, ThreadPoolExecutor]] = {}
"""This process's threads for pair windows made ahead, by process id (made anew after a
fork: threads do not survive one)."""
_WORKERS_LOCK: Final = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    with _WORKERS_LOCK:
        pid = os.getpid()
        if pid not in _WORKERS:
            _WORKERS.clear()
            _WORKERS[pid] = ThreadPoolExecutor(2, thread_name_prefix="pair-windows")
        return _WORKERS[pid]


def start_query_pairs(hasher: RegionHasher) -> None:
    """Start making a lookup's pair windows in a thread, while the lookup's other views are
    hashed (the work releases the GIL: OpenCV's blur, the C kernel, numpy); the matcher
    takes them with `query_pairs_of` when it needs them."""
    hasher.derived[_AHEAD] = _executor().submit(query_pairs, hasher)


def query_pairs_of(hasher: RegionHasher) -> list[tuple[Pair, bytes]]:
    """A lookup's pair windows: those started ahead, or made now."""
    ahead = hasher.derived.get(_AHEAD)
    if isinstance(ahead, Future):
        return cast(list[tuple[Pair, bytes]], ahead.result())
    if isinstance(ahead, list):  # made ahead in another process (RegionHasher.__getstate__)
        return cast(list[tuple[Pair, bytes]], ahead)
    return query_pairs(hasher)


def query_pairs(hasher: RegionHasher) -> list[tuple[Pair, bytes]]:
    """(pair, PDQ hash bytes) of the pair windows a query searches with."""
    height, width = hasher.pixels.shape[:2]
    points = landmarks(luminance(hasher), QUERY_LANDMARKS)
    pairs = pairs_of(points, min(height, width), QUERY_SPAN)
    return [
        (pair, bytes.fromhex(value)) for pair, value, _ in hashed_pairs(hasher, pairs, len(pairs))
    ]


def pair_table() -> dict[str, object]:
    """The parameters of the bank's pair windows as a JSON-ready table, for devices (the
    region table's `pairs` section: web/static/protect/pairs.js follows it)."""
    return {
        "detection_long_side": DETECTION_LONG_SIDE,
        "sigma0": SIGMA0,
        "intervals": INTERVALS,
        "input_blur": INPUT_BLUR,
        "min_octave_side": MIN_OCTAVE_SIDE,
        "contrast": CONTRAST,
        "edge_ratio": EDGE_RATIO,
        "spread": SPREAD,
        "landmarks": BANK_LANDMARKS,
        "span": list(BANK_SPAN),
        "max_pairs": MAX_PAIRS,
        "unit": UNIT,
        "prefix": PAIR_PREFIX,
    }
