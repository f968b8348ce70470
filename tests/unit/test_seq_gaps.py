"""SeqGaps: the bookkeeping of change-log seqs seen skipped."""

from __future__ import annotations

import pytest

from shieldwall.matching.seq_gaps import SeqGaps
from tests.support.clock import FakeClock


def test_noted_gaps_are_missing_until_found() -> None:
    gaps = SeqGaps(30, FakeClock().monotonic)
    gaps.note(3, 2)  # empty: nothing skipped
    gaps.note(3, 7)
    gaps.note(10, 10)
    assert len(gaps) == 6
    assert [seq for seq in range(12) if seq in gaps] == [3, 4, 5, 6, 7, 10]
    assert "5" not in gaps
    gaps.found([4, 7, 10, 99])
    assert [seq for seq in range(12) if seq in gaps] == [3, 5, 6]
    assert gaps.windows() == [(3, 3), (5, 6)]
    gaps.found(range(20))
    assert len(gaps) == 0
    assert gaps.windows() == []


def test_gaps_must_be_noted_in_seq_order() -> None:
    gaps = SeqGaps(30, FakeClock().monotonic)
    gaps.note(5, 6)
    with pytest.raises(ValueError, match="seq order"):
        gaps.note(6, 9)


def test_windows_above_a_seq_and_joined_to_a_bounded_count() -> None:
    gaps = SeqGaps(30, FakeClock().monotonic)
    for seq in range(0, 400, 4):  # 100 single-seq gaps, 4 apart
        gaps.note(seq + 1, seq + 1)
    assert len(gaps.windows(most=100)) == 100
    assert gaps.windows(after=389) == [(393, 393), (397, 397)]
    joined = gaps.windows()
    assert 1 <= len(joined) <= 64
    covered = {seq for first, last in joined for seq in range(first, last + 1)}
    assert all(seq in covered for seq in range(400) if seq in gaps)
    assert gaps.windows(after=2, most=1) == [(5, 397)]


def test_gaps_expire_after_the_timeout_from_when_they_were_noticed() -> None:
    clock = FakeClock(monotonic_start=0.0)
    gaps = SeqGaps(30, clock.monotonic)
    gaps.note(1, 4)
    clock.advance(20)
    gaps.note(8, 8)
    gaps.found([2])  # the pieces keep the time their gap was noticed
    clock.advance(9.9)
    assert gaps.expire() == 0
    clock.advance(0.1)
    assert gaps.expire() == 3
    assert gaps.windows() == [(8, 8)]
    clock.advance(20)
    assert gaps.expire() == 1
    assert len(gaps) == 0
