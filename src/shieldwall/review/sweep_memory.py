"""Sweeps in memory (tests, the in-memory world)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from shieldwall.errors import NotFoundError
from shieldwall.review.sweeps import HitOutcome, NewHit, NewSweep, Sweep, SweepHit


class InMemorySweepRepository:
    """Sweeps and copies in lists."""

    def __init__(self) -> None:
        self._sweeps: list[Sweep] = []
        self._lock = threading.Lock()
        self._next_hit = 1

    def add(self, sweep: NewSweep, hits: Sequence[NewHit]) -> Sweep:
        """Store a sweep with its copies."""
        with self._lock:
            sweep_id = len(self._sweeps) + 1
            stored = []
            for hit in hits:
                stored.append(SweepHit(self._next_hit, sweep_id, hit, HitOutcome.PENDING, None))
                self._next_hit += 1
            made = Sweep(sweep_id, sweep, tuple(stored))
            self._sweeps.append(made)
            return made

    def of_case(self, case_number: str) -> list[Sweep]:
        """The case's sweeps."""
        with self._lock:
            return [s for s in self._sweeps if s.sweep.case_number == case_number]

    def of_item(self, item_id: int) -> list[Sweep]:
        """An item's sweeps."""
        with self._lock:
            return [s for s in self._sweeps if s.sweep.item_id == item_id]

    def hits_for_key(self, key_id: int, outcome: HitOutcome | None) -> list[SweepHit]:
        """One key's copies (with that outcome)."""
        with self._lock:
            return [
                h
                for s in self._sweeps
                for h in s.hits
                if h.hit.key_id == key_id and (outcome is None or h.outcome is outcome)
            ]

    def set_outcome(self, hit_id: int, key_id: int, outcome: HitOutcome, at: datetime) -> SweepHit:
        """Record a copy's outcome."""
        with self._lock:
            for position, sweep in enumerate(self._sweeps):
                for index, hit in enumerate(sweep.hits):
                    if hit.id == hit_id and hit.hit.key_id == key_id:
                        changed = replace(hit, outcome=outcome, outcome_at=at)
                        hits = (*sweep.hits[:index], changed, *sweep.hits[index + 1 :])
                        self._sweeps[position] = replace(sweep, hits=hits)
                        return changed
        raise NotFoundError(f"no copy {hit_id} for this key")

    def between(self, start: datetime, end: datetime) -> list[Sweep]:
        """Sweeps run in [start, end)."""
        with self._lock:
            return [s for s in self._sweeps if start <= s.sweep.ran_at < end]

    def withdraw_pending(self, item_id: int, at: datetime) -> int:
        """Mark an item's pending copies withdrawn."""
        count = 0
        with self._lock:
            for position, sweep in enumerate(self._sweeps):
                if sweep.sweep.item_id != item_id:
                    continue
                hits = tuple(
                    replace(h, outcome=HitOutcome.WITHDRAWN, outcome_at=at)
                    if h.outcome is HitOutcome.PENDING
                    else h
                    for h in sweep.hits
                )
                count += sum(h.outcome is HitOutcome.PENDING for h in sweep.hits)
                self._sweeps[position] = replace(sweep, hits=hits)
        return count
