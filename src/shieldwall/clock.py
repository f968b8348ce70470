"""The `Clock` port: where every service and repository reads the wall time.

Production code takes `utc_now`; tests pass a fake (tests/support/clock.py) that moves
only when told. A clock returns a timezone-aware datetime in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Gives the current time, timezone-aware (UTC)."""

    def __call__(self) -> datetime: ...


def utc_now() -> datetime:
    """The current time in UTC (the system's wall clock)."""
    return datetime.now(UTC)
