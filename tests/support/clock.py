"""The tests' one fake clock: time moves only when the test says so.

Calling it gives an aware UTC datetime (the `Clock` port of the services and repositories);
`monotonic` gives seconds on the same timeline, for what takes a `time.monotonic`-like clock
(rate limits, the key table, the change tailer). `advance` moves both together.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
MONOTONIC_START = 1000.0


class FakeClock:
    """A settable clock: wall time by calling it, monotonic seconds by `monotonic()`."""

    def __init__(self, start: datetime = EPOCH, monotonic_start: float = MONOTONIC_START) -> None:
        if start.tzinfo is None:
            raise ValueError("a FakeClock starts at an aware datetime")
        self._now = start.astimezone(UTC)
        self._seconds = monotonic_start

    def __call__(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._seconds

    def advance(self, seconds: float | timedelta) -> None:
        """Move time by `seconds` (negative steps the clock back, as NTP can the wall clock)."""
        step = seconds.total_seconds() if isinstance(seconds, timedelta) else seconds
        self._now += timedelta(seconds=step)
        self._seconds += step
