"""The server's quarantine sweeper: expired content goes, content under review stays, and
a failing store does not end the loop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shieldwall.errors import NotFoundError, StorageError
from shieldwall.review.quarantine import InMemoryQuarantine
from shieldwall.web.quarantine_sweeper import QuarantineSweeper
from tests.support.clock import FakeClock

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def test_a_sweep_removes_only_what_expired() -> None:
    clock = FakeClock(NOW)
    store = InMemoryQuarantine(clock)
    old = store.put(b"expires soon", NOW + timedelta(days=1))
    kept = store.put(b"under review", NOW + timedelta(days=14))
    sweeper = QuarantineSweeper(store, clock)
    assert sweeper.sweep_once() == 0
    clock.advance(timedelta(days=2))
    assert sweeper.sweep_once() == 1
    with pytest.raises(NotFoundError):
        store.get(old)
    assert store.get(kept) == b"under review"
    assert sweeper.removed == 1


class Failing(InMemoryQuarantine):
    def sweep(self, now: datetime) -> int:
        raise StorageError("disk full")


def test_a_failing_sweep_is_logged_and_the_next_one_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sweeper = QuarantineSweeper(Failing(FakeClock(NOW)), FakeClock(NOW))
    assert sweeper.sweep_once() == 0
    assert sweeper.sweep_once() == 0
    assert "quarantine sweep failed" in caplog.text
