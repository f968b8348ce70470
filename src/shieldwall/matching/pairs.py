"""The second stage's pair search: a banked picture found by its landmarks in a zoomed crop.

Each banked picture may hold pair windows (signals/pairs.py): squares placed by two of its
landmarks, named by where those landmarks lie. A query hashes the pair windows of its own
landmarks. Then, per bank:

1. *Seed*: each query pair hash is searched among the stored pair windows within
   SEED_THRESHOLD bits. A hit says which two stored landmarks the query's two landmarks are,
   and so the similarity (scale and shift; no turn) that puts the banked picture into the
   query.
2. *Agree*: another seed of the same entry, on another stored window, that implies the
   same similarity agrees. Failing that, the entry's other stored pair windows are put
   where a seed's similarity says, and those that fall inside the query are hashed there;
   one within the bank's threshold agrees. The match stands only with such an agreeing
   window: two independent windows agreeing on one placement, as the aligned search asks
   (matching/alignment.py).

A match names the two windows (`pairs:<seed>+<agreeing>`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from shieldwall.matching.pdq_index import IndexColumns, PdqIndex
from shieldwall.signals.pairs import UNIT, Pair, thousandths
from shieldwall.signals.pdq import pdq_distance
from shieldwall.signals.regions import RegionHasher

MAX_TURN_DEGREES: Final = 3.0
"""A seed whose two landmarks turned by more than this (against the stored pair) is not
the same pair: pair windows are upright, so a turned copy would not hash alike anyway."""

SCALES: Final = (0.2, 5.0)
"""Scales (query over banked picture) a seed may imply."""

MAX_ENTRIES: Final = 3
"""Entries whose seeds are checked per bank and lookup at most (nearest seeds first)."""

SEED_THRESHOLD: Final = 20
"""Bits within which a query's pair window must come to a stored one to seed a search (or
the bank's threshold, if tighter). A copy's windows at the same landmarks are mostly within
10 bits; a tight seed keeps the search cheap at millions of stored windows (bench/RESULTS.md),
and the agreeing window is held to the bank's own threshold."""

MAX_SEEDS_COMPARED: Final = 8
"""Seeds of one entry compared with each other for an agreeing pair, at most (nearest first)."""

SAME_SCALE: Final = 0.03
"""Two seeds agree when their scales differ by at most this share..."""

SAME_SHIFT: Final = 0.01
"""...and their shifts by at most this many of the query's short sides."""

MAX_TRIES: Final = 3
"""Seeds checked per entry at most (nearest first)."""

MAX_PER_ENTRY: Final = 256
"""Pair windows indexed per entry at most (their place in the entry is the index's label)."""

VIEW: Final = "pairs"
"""How a pair match names the query's view."""


@dataclass(frozen=True)
class Similarity:
    """Banked picture -> query, both in units of their short sides: scale, then shift."""

    scale: float
    shift_x: float
    shift_y: float

    @classmethod
    def between(cls, stored: Pair, seen: Pair) -> Similarity | None:
        """The similarity that takes the stored pair's landmarks onto the seen pair's (in
        either order), if it is a plausible one (little turn, a sane scale)."""
        for first, second in (
            ((seen.x1, seen.y1), (seen.x2, seen.y2)),
            ((seen.x2, seen.y2), (seen.x1, seen.y1)),
        ):
            seen_angle = math.atan2(second[1] - first[1], second[0] - first[0])
            stored_angle = math.atan2(stored.y2 - stored.y1, stored.x2 - stored.x1)
            turn = math.degrees((seen_angle - stored_angle + math.pi) % (2 * math.pi) - math.pi)
            if abs(turn) > MAX_TURN_DEGREES or stored.length <= 0:
                continue
            scale = seen.length / stored.length
            if not SCALES[0] <= scale <= SCALES[1]:
                return None
            middle_x, middle_y = (first[0] + second[0]) / 2, (first[1] + second[1]) / 2
            return cls(
                scale,
                middle_x - scale * (stored.x1 + stored.x2) / 2,
                middle_y - scale * (stored.y1 + stored.y2) / 2,
            )
        return None

    def close_to(self, other: Similarity) -> bool:
        """Whether another similarity puts the banked picture in the same place."""
        return (
            abs(math.log(self.scale / other.scale)) <= SAME_SCALE
            and abs(self.shift_x - other.shift_x) <= SAME_SHIFT
            and abs(self.shift_y - other.shift_y) <= SAME_SHIFT
        )

    def apply(self, pair: Pair) -> Pair:
        """Where a stored pair's landmarks lie in the query."""
        return Pair(
            self.scale * pair.x1 + self.shift_x,
            self.scale * pair.y1 + self.shift_y,
            self.scale * pair.x2 + self.shift_x,
            self.scale * pair.y2 + self.shift_y,
        )


@dataclass(frozen=True)
class PairMatch:
    """An entry found by the pair search: the agreeing stored windows and the nearest one's
    distance."""

    entry_id: int
    distance: int
    windows: tuple[str, str]

    @property
    def variant(self) -> str:
        """How the match was made, for the match's `variant`."""
        return f"{VIEW}/" + "+".join(self.windows)


class PairStore:
    """One bank's stored pair windows: their hashes in a PDQ index (key: the entry, label:
    the window's place in the entry) and the landmarks each names, kept per entry as a
    small array of thousandths (8 bytes a window, not a Python object each)."""

    def __init__(self) -> None:
        self.index = PdqIndex()
        self._landmarks: dict[int, npt.NDArray[np.uint16]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.index)

    def add(
        self, hashes: npt.NDArray[np.uint8], keys: npt.NDArray[np.int64], names: Sequence[str]
    ) -> None:
        """Index pair windows (rows of hashes, their entries, their variant names). An entry
        holds at most MAX_PER_ENTRY; windows past that are not indexed."""
        self.index_placed(self.place(hashes, keys, names))

    def index_placed(self, placed: IndexColumns) -> None:
        """Index windows `place` recorded (an index load gathers all its batches' first and
        indexes them in one piece: one segment to search, not one per batch)."""
        if len(placed.keys):
            self.index.add(placed.hashes, placed.keys, placed.labels)

    def place(
        self, hashes: npt.NDArray[np.uint8], keys: npt.NDArray[np.int64], names: Sequence[str]
    ) -> IndexColumns:
        """Record the landmarks of pair windows and give their rows to index (those an entry
        has room for), labelled by their place in the entry."""
        labels = np.zeros(len(names), np.uint8)
        kept = np.zeros(len(names), bool)
        rows: dict[int, list[tuple[int, int, int, int]]] = {}
        with self._lock:
            for row, (key, name) in enumerate(zip(keys.tolist(), names, strict=True)):
                held = rows.setdefault(key, [])
                label = len(self._landmarks.get(key, ())) + len(held)
                if label < MAX_PER_ENTRY:
                    labels[row], kept[row] = label, True
                    held.append(thousandths(name))
            for key, added in rows.items():
                if added:
                    fresh = np.array(added, np.uint16).reshape(-1, 4)
                    before = self._landmarks.get(key)
                    joined = fresh if before is None else np.vstack([before, fresh])
                    self._landmarks[key] = joined
        return IndexColumns(hashes[kept], keys[kept], labels[kept])

    def remove(self, keys: Sequence[int]) -> None:
        """Stop matching these entries' pair windows."""
        self.index.remove(keys)
        with self._lock:
            for key in keys:
                self._landmarks.pop(key, None)

    def stored(self, key: int) -> list[tuple[Pair, bytes]]:
        """An entry's live pair windows: landmarks and hash."""
        with self._lock:
            landmarks = self._landmarks.get(key)
            if landmarks is None:
                return []
            return [
                (Pair(*(landmarks[label] / UNIT).tolist()), value)
                for label, value in self.index.rows_of(key)
                if label < len(landmarks)
            ]


Seed = tuple[int, int, Pair, Similarity]
"""A seed: distance, the stored window's place in its entry, the query's pair, and the
similarity the two imply."""


def find_pairs(
    store: PairStore,
    seen: Sequence[tuple[Pair, bytes]],
    pixels: RegionHasher,
    threshold: int,
) -> list[PairMatch]:
    """Entries of one bank whose pair windows two of the query's agree with (see above)."""
    hits: dict[int, list[tuple[int, int, Pair]]] = {}  # entry: (distance, label, seen pair)
    for pair, value in seen:
        for hit in store.index.search(value, min(threshold, SEED_THRESHOLD)):
            hits.setdefault(hit.key, []).append((hit.distance, hit.label, pair))
    nearest = sorted(hits, key=lambda key: min(hit[0] for hit in hits[key]))
    height, width = pixels.pixels.shape[:2]
    found = []
    for key in nearest[:MAX_ENTRIES]:
        stored = store.stored(key)
        seeds = []
        for distance, label, pair in sorted(hits[key], key=lambda hit: hit[:2]):
            if label < len(stored):
                similarity = Similarity.between(stored[label][0], pair)
                if similarity is not None:
                    seeds.append((distance, label, pair, similarity))
        agreed = _two_seeds(seeds) or _placed(stored, seeds, pixels, (width, height), threshold)
        if agreed is not None:
            (first, second), distance = agreed
            found.append(PairMatch(key, distance, (stored[first][0].name, stored[second][0].name)))
    return found


def _two_seeds(seeds: Sequence[Seed]) -> tuple[tuple[int, int], int] | None:
    """Two seeds of one entry, on different stored windows, implying the same similarity:
    their windows (places in the entry) and the nearer distance."""
    for at, (distance, label, _, similarity) in enumerate(seeds[:MAX_SEEDS_COMPARED]):
        for other_distance, other_label, _, other in seeds[at + 1 : MAX_SEEDS_COMPARED]:
            if other_label != label and similarity.close_to(other):
                return (label, other_label), min(distance, other_distance)
    return None


def _placed(
    stored: list[tuple[Pair, bytes]],
    seeds: Sequence[Seed],
    pixels: RegionHasher,
    size: tuple[int, int],
    threshold: int,
) -> tuple[tuple[int, int], int] | None:
    """The nearest seeds' similarities tried in turn: a stored window they place inside the
    query that hashes within the threshold there (the seed's window and that one, and the
    nearer distance)."""
    for distance, label, _, similarity in seeds[:MAX_TRIES]:
        agreeing = _agreeing(stored, label, similarity, pixels, size, threshold)
        if agreeing is not None:
            other, other_distance = agreeing
            return (label, other), min(distance, other_distance)
    return None


def _agreeing(
    stored: list[tuple[Pair, bytes]],
    seed: int,
    similarity: Similarity,
    pixels: RegionHasher,
    size: tuple[int, int],
    threshold: int,
) -> tuple[int, int] | None:
    """The nearest other stored window within the threshold where the similarity puts it in
    the query (its place in `stored` and its distance), if any."""
    placed = []
    for position, (pair, _) in enumerate(stored):
        if position == seed:
            continue
        box = similarity.apply(pair).window(*size)
        if box is not None:
            placed.append((position, box))
    if not placed:
        return None
    hashed = pixels.pdq_area([box for _, box in placed])
    best: tuple[int, int] | None = None
    for (position, _), (value, _) in zip(placed, hashed, strict=True):
        distance = pdq_distance(value, stored[position][1].hex())
        if distance <= threshold and (best is None or distance < best[1]):
            best = (position, distance)
    return best
