"""Seqs a change-log reader saw skipped, kept until they turn up or time out.

On PostgreSQL a seq is drawn from a sequence when the row is inserted, but the row becomes
visible when its transaction commits: a transaction holding seq 7 may commit after one
holding seq 8 was read. A reader that only asks for "seq > last seen" would never see 7.
So skipped seqs are remembered and looked for again until they appear or the timeout
passes (a rolled-back transaction's seqs never appear). SQLite serialises writers and has
no such gaps, but it takes the same path.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

MAX_WINDOWS: Final = 64
"""Seq ranges per look-up: close gaps are joined (re-reading a few seen rows is cheap)."""


@dataclass
class _Gap:
    first: int
    last: int
    noticed: float


class SeqGaps:
    """Ranges of missing seqs, in seq order, each with the time it was first noticed."""

    def __init__(self, timeout: float, clock: Callable[[], float]) -> None:
        self._timeout = timeout
        self._clock = clock
        self._gaps: list[_Gap] = []

    def __len__(self) -> int:
        """How many seqs are missing."""
        return sum(gap.last - gap.first + 1 for gap in self._gaps)

    def __contains__(self, seq: object) -> bool:
        """Whether `seq` is one of the missing ones."""
        if not isinstance(seq, int):
            return False
        index = bisect.bisect_right(self._gaps, seq, key=lambda gap: gap.first) - 1
        return index >= 0 and self._gaps[index].last >= seq

    def note(self, first: int, last: int) -> None:
        """Seqs first..last were skipped; each must lie above every seq noted before."""
        if first > last:
            return
        if self._gaps and first <= self._gaps[-1].last:
            raise ValueError("gaps must be noted in seq order")
        self._gaps.append(_Gap(first, last, self._clock()))

    def found(self, seqs: Iterable[int]) -> None:
        """These seqs turned up: stop looking for them."""
        wanted = sorted(set(seqs))
        if not wanted:
            return
        kept: list[_Gap] = []
        for gap in self._gaps:
            start = bisect.bisect_left(wanted, gap.first)
            end = bisect.bisect_right(wanted, gap.last)
            first = gap.first
            for seq in wanted[start:end]:
                if seq > first:
                    kept.append(_Gap(first, seq - 1, gap.noticed))
                first = seq + 1
            if first <= gap.last:
                kept.append(_Gap(first, gap.last, gap.noticed))
        self._gaps = kept

    def expire(self) -> int:
        """Forget gaps noticed longer ago than the timeout; returns how many seqs went."""
        deadline = self._clock() - self._timeout
        expired = [gap for gap in self._gaps if gap.noticed <= deadline]
        self._gaps = [gap for gap in self._gaps if gap.noticed > deadline]
        return sum(gap.last - gap.first + 1 for gap in expired)

    def windows(self, after: int = 0, most: int = MAX_WINDOWS) -> list[tuple[int, int]]:
        """At most `most` inclusive ranges covering every missing seq above `after`."""
        ranges = [(max(gap.first, after + 1), gap.last) for gap in self._gaps if gap.last > after]
        join_within = 2  # ranges never touch: the nearest lie two seqs apart
        while len(ranges) > most:
            joined: list[tuple[int, int]] = []
            for first, last in ranges:
                if joined and first - joined[-1][1] <= join_within:
                    joined[-1] = (joined[-1][0], last)
                else:
                    joined.append((first, last))
            ranges, join_within = joined, join_within * 2
        return ranges
