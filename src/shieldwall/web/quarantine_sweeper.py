"""Expire quarantined content while a worker serves: the retention limit holds even when
no one runs `shieldwall quarantine sweep` from cron. Expired content is gone within one
interval of its retention time."""

from __future__ import annotations

from typing import Final

from shieldwall.clock import Clock, utc_now
from shieldwall.review.quarantine import QuarantineStore
from shieldwall.web.periodic import PeriodicJob

SWEEP_INTERVAL: Final = 600.0
"""Seconds between sweeps."""


class QuarantineSweeper(PeriodicJob):
    """Sweeps the quarantine every `interval` seconds until stopped."""

    def __init__(
        self, store: QuarantineStore, clock: Clock = utc_now, interval: float = SWEEP_INTERVAL
    ) -> None:
        super().__init__("quarantine sweep", lambda: store.sweep(clock()), interval)

    def sweep_once(self) -> int:
        """One sweep: the items removed (0 if it failed: logged, tried again next time)."""
        return self.run_once()

    @property
    def removed(self) -> int:
        """Items removed so far."""
        return self.done
