"""Spotting keys that probe the matcher with runs of near-identical PDQ hashes.

A screener only learns yes or no, but yes/no answers to many small variations of one
hash still walk towards a stored hash (flip a bit, ask, keep what matched). Platforms
look up their users' uploads: different pictures give hashes about 128 bits apart, and
re-uploads of the same picture the same hash. A run of hashes that are each within a
few bits of one of the key's recent hashes, yet not equal to it, is what probing looks
like. Such a run is flagged (the caller logs it and counts it in /metrics); nothing is
refused, since a single busy re-share can look alike.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

NEAR_BITS: Final = 12
"""Hashes at most this far apart count as near-identical (PDQ's match threshold is 31)."""
RECENT: Final = 64
"""How many of a key's latest distinct hashes a new one is compared with."""
RUN_TO_FLAG: Final = 16
"""Near-identical hashes in a row that raise the flag (and then every such further run)."""
MAX_KEYS: Final = 10_000
"""Keys tracked at once; the oldest is forgotten past this (memory stays bounded)."""


@dataclass
class _KeyHistory:
    recent: deque[int] = field(default_factory=lambda: deque(maxlen=RECENT))
    run: int = 0


@dataclass(frozen=True)
class ProbeAlert:
    """A key sent `run` near-identical hashes in a row."""

    key_id: int
    run: int


class ProbeDetector:
    """Per-key runs of near-identical PDQ hashes; thread-safe, bounded memory."""

    def __init__(self, on_alert: Callable[[ProbeAlert], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._keys: dict[int, _KeyHistory] = {}
        self._on_alert = on_alert

    def observe(self, key_id: int, pdq_hashes: Iterable[str]) -> list[ProbeAlert]:
        """Record a key's PDQ hashes (hex, in the order sent); the alerts they raised."""
        alerts: list[ProbeAlert] = []
        with self._lock:
            history = self._history(key_id)
            for text in pdq_hashes:
                try:
                    value = int(text, 16)
                except ValueError:
                    continue  # the lookup itself reports malformed hashes
                alert = _observe_one(history, key_id, value)
                if alert is not None:
                    alerts.append(alert)
        for alert in alerts:
            if self._on_alert is not None:
                self._on_alert(alert)
        return alerts

    def _history(self, key_id: int) -> _KeyHistory:
        history = self._keys.pop(key_id, None) or _KeyHistory()
        self._keys[key_id] = history  # most recently used last
        if len(self._keys) > MAX_KEYS:
            del self._keys[next(iter(self._keys))]
        return history

    def tracked_keys(self) -> int:
        """How many keys have a history (for tests)."""
        with self._lock:
            return len(self._keys)


def _observe_one(history: _KeyHistory, key_id: int, value: int) -> ProbeAlert | None:
    distances = [(value ^ seen).bit_count() for seen in history.recent]
    if 0 in distances:
        return None  # the same hash again: a re-upload, not a probe; the run stands
    history.recent.append(value)
    if distances and min(distances) <= NEAR_BITS:
        history.run += 1
        if history.run % RUN_TO_FLAG == 0:
            return ProbeAlert(key_id, history.run)
        return None
    history.run = 0
    return None
