"""The second stage's aligned search: copies cropped by any amount, at any place.

A copy with each side cut by its own few per cent shows a window of the banked picture that
none of the stored regions (a 5% grid, a 2.5% ladder of centred windows) covers exactly, and
PDQ moves about 30 bits per 2.5% an edge moves. But it stays near one of them: within about
60 bits, where unrelated pictures stay above 80. So:

1. *Seed*: the query's own hash is searched at a loose threshold
   (SEED_THRESHOLD) among the stored windows. A hit names an entry and, through the
   window's known box, roughly where the banked picture lies in the query (a `Placement`).
2. *Align*: the placement is refined, edge by edge, until the stored windows it puts inside
   the query hash (cheaply, on PDQ's own 64x64 grid) closest to what the entry stores.
3. *Agree*: the refined placement is accepted only if at least MIN_AGREEING of the entry's
   stored windows, hashed exactly as the bank hashed them, are each within the bank's own
   threshold there. One loose seed never matches anything by itself; independent regions
   agreeing on one placement do.

Every such match names the stored windows that agreed (`aligned:<window>+<window>`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import numpy.typing as npt

from shieldwall.signals.models import ORIGINAL
from shieldwall.signals.pdq import pdq_hex_to_bytes
from shieldwall.signals.regions import BANK_WINDOWS, EARLIER_WINDOWS, FULL, Box, RegionHasher

SEED_THRESHOLD: Final = 60
"""Bits within which the query's whole hash must come to a stored window to seed a search.
The whole is enough: with the `sides` windows (signals/regions.py) a copy with each side
cut by up to 10% seeds 95% of the time on the tuning images; a seed from any other view of
the query would cost one more loose search per bank."""

MAX_SEEDS: Final = 3
"""Entries whose placement is searched per bank and lookup at most (nearest seeds first)."""

MIN_AGREEING: Final = 2
"""Stored windows that must each match within the bank's threshold at one placement."""

REFINE_STEPS: Final = (0.02, 0.008, 0.003)
"""Edge moves tried when refining, as shares of the query's side (coarse to fine)."""

SEARCH_WINDOWS: Final = 3
"""The largest stored windows inside the query that guide the refinement."""

CHECKED_WINDOWS: Final = 10
"""Stored windows (the largest inside the query) hashed exactly to check a placement."""

REPORTED_WINDOWS: Final = 3
"""Checking stops once this many windows agree."""

GUIDE_MARGIN: Final = 0.04
"""Guides lie at least this share of the query inside its edges at the seed placement (a
seed may be 2.5% off on each side; a guide pushed out of the query cannot guide)."""

EDGE_SLACK: Final = 0.004
"""A placed window may reach this share past the query's edge and still count as inside."""

WINDOW_BOXES: Final[Mapping[str, Box]] = {
    ORIGINAL: FULL,
    **dict(BANK_WINDOWS),
    **dict(EARLIER_WINDOWS),
}
"""Stored variants with a fixed box in the banked picture, hashed as PDQ hashes a crop."""

Bits = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Placement:
    """Where the banked picture lies in the query, each axis on its own (a crop may change
    the shape): x in the query = x_scale * x in the banked picture + x_offset, in fractions."""

    x_scale: float
    x_offset: float
    y_scale: float
    y_offset: float

    @classmethod
    def matching(cls, banked: Box, seen: Box) -> Placement:
        """The placement that puts the banked picture's `banked` box on the query's `seen`."""
        x_scale, y_scale = seen.width / banked.width, seen.height / banked.height
        return cls(
            x_scale, seen.left - x_scale * banked.left, y_scale, seen.top - y_scale * banked.top
        )

    def place(self, box: Box) -> tuple[float, float, float, float]:
        """A box of the banked picture in the query's fractions (may reach outside it)."""
        return (
            self.x_offset + self.x_scale * box.left,
            self.y_offset + self.y_scale * box.top,
            self.x_offset + self.x_scale * box.right,
            self.y_offset + self.y_scale * box.bottom,
        )

    def inside(self, box: Box) -> Box | None:
        """The placed box, if it lies inside the query (within EDGE_SLACK)."""
        left, top, right, bottom = self.place(box)
        if min(left, top) < -EDGE_SLACK or max(right, bottom) > 1 + EDGE_SLACK:
            return None
        left, top = max(left, 0.0), max(top, 0.0)
        right, bottom = min(right, 1.0), min(bottom, 1.0)
        if right - left < 0.05 or bottom - top < 0.05:
            return None
        return Box(left, top, right, bottom)

    def moved(self, axis: int, first: float, last: float) -> Placement:
        """This placement with the banked picture's first and last edge on one axis (0: x,
        1: y) moved by these shares of the query."""
        if axis == 0:
            start = self.x_offset + first
            return replace(self, x_offset=start, x_scale=self.x_scale + last - first)
        start = self.y_offset + first
        return replace(self, y_offset=start, y_scale=self.y_scale + last - first)


@dataclass(frozen=True)
class Alignment:
    """An accepted placement and the stored windows that agreed on it, nearest first."""

    placement: Placement
    agreeing: tuple[tuple[str, int], ...]

    @property
    def distance(self) -> int:
        """The nearest agreeing window's distance."""
        return self.agreeing[0][1]

    @property
    def variant(self) -> str:
        """How the match was made, for the match's `variant`."""
        return "aligned:" + "+".join(name for name, _ in self.agreeing)


def _bits(raw: Sequence[bytes]) -> Bits:
    """32-byte PDQ hashes as rows of 256 booleans."""
    packed = np.frombuffer(b"".join(raw), dtype=np.uint8).reshape(len(raw), 32)
    bits: Bits = np.unpackbits(packed, axis=1).astype(bool)
    return bits


def _hex_bits(values: Sequence[str]) -> Bits:
    return _bits([pdq_hex_to_bytes(value) for value in values])


def stored_windows(stored: Mapping[str, bytes]) -> dict[str, Bits]:
    """An entry's stored hashes that have a known box (the whole picture and its windows),
    as bit arrays by variant name."""
    known = {name: value for name, value in stored.items() if name in WINDOW_BOXES}
    if not known:
        return {}
    return dict(zip(known, _bits(list(known.values())), strict=True))


def _largest_first(names: Sequence[str]) -> list[str]:
    return sorted(names, key=lambda name: -WINDOW_BOXES[name].width * WINDOW_BOXES[name].height)


def _guides(placement: Placement, windows: Mapping[str, Bits]) -> list[str]:
    """The largest stored windows the seed placement puts inside the query with a margin
    (GUIDE_MARGIN), so that they stay inside while the placement is refined."""
    inside = [name for name in windows if _clear_inside(placement, WINDOW_BOXES[name])]
    return _largest_first(inside)[:SEARCH_WINDOWS]


def _clear_inside(placement: Placement, box: Box) -> bool:
    left, top, right, bottom = placement.place(box)
    return min(left, top) >= GUIDE_MARGIN and max(right, bottom) <= 1 - GUIDE_MARGIN


def _cost(
    hasher: RegionHasher,
    placements: Sequence[Placement],
    guides: Sequence[str],
    windows: Mapping[str, Bits],
) -> npt.NDArray[np.float64]:
    """Mean distance of the guide windows at each placement, hashed on PDQ's own grid (a
    placement that pushes a guide outside the query costs the most)."""
    boxes: list[Box] = []
    where: list[tuple[int, str]] = []
    for number, placement in enumerate(placements):
        for name in guides:
            box = placement.inside(WINDOW_BOXES[name])
            if box is not None:
                boxes.append(box)
                where.append((number, name))
    totals = np.zeros(len(placements))
    counts = np.zeros(len(placements))
    if boxes:
        hashed = _hex_bits([value for value, _ in hasher.pdq_area(boxes)])
        for (number, name), bits in zip(where, hashed, strict=True):
            totals[number] += int(np.count_nonzero(bits != windows[name]))
            counts[number] += 1
    cost: npt.NDArray[np.float64] = np.where(
        counts == len(guides), totals / np.maximum(counts, 1), 256.0
    )
    return cost


def _refined(
    hasher: RegionHasher, seed: Placement, guides: Sequence[str], windows: Mapping[str, Bits]
) -> Placement:
    """The seed placement with each axis's two edges moved to where the guides fit best."""
    best = seed
    best_cost = float(_cost(hasher, [seed], guides, windows)[0])
    for step in REFINE_STEPS:
        for axis in (0, 1):
            moves = [(first * step, last * step) for first in range(-2, 3) for last in range(-2, 3)]
            tried = [best.moved(axis, first, last) for first, last in moves]
            costs = _cost(hasher, tried, guides, windows)
            pick = int(costs.argmin())
            if costs[pick] < best_cost:
                best, best_cost = tried[pick], float(costs[pick])
    return best


def align(
    hasher: RegionHasher, windows: Mapping[str, Bits], seed: Placement, threshold: int
) -> Alignment | None:
    """The entry's windows aligned on the query from a seed placement, if enough agree."""
    guides = _guides(seed, windows)
    if not guides:
        return None
    placement = _refined(hasher, seed, guides, windows)
    placed = {name: placement.inside(WINDOW_BOXES[name]) for name in windows}
    inside = {name: box for name, box in placed.items() if box is not None}
    agreeing = []
    for name in _largest_first(list(inside))[:CHECKED_WINDOWS]:
        value, _quality = hasher.pdq(inside[name])
        distance = int(np.count_nonzero(_hex_bits([value])[0] != windows[name]))
        if distance <= threshold:
            agreeing.append((name, distance))
            if len(agreeing) == REPORTED_WINDOWS:
                break
    if len(agreeing) < MIN_AGREEING:
        return None
    agreeing.sort(key=lambda pair: (pair[1], pair[0]))
    return Alignment(placement, tuple(agreeing))
