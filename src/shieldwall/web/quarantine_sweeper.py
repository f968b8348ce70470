"""Expire quarantined content while a worker serves: the retention limit holds even when
no one runs `shieldwall quarantine sweep` from cron.

Every worker sweeps (the store locks its folder, so two sweeps never trip over each
other); expired content is gone within one interval of its retention time.
"""

from __future__ import annotations

import logging
from typing import Final

from shieldwall.background import DaemonLoop
from shieldwall.clock import Clock, utc_now
from shieldwall.review.quarantine import QuarantineStore

SWEEP_INTERVAL: Final = 600.0
"""Seconds between sweeps."""

log = logging.getLogger("shieldwall.quarantine")


class QuarantineSweeper:
    """A daemon thread sweeping the quarantine every `interval` seconds until stopped."""

    def __init__(
        self, store: QuarantineStore, clock: Clock = utc_now, interval: float = SWEEP_INTERVAL
    ) -> None:
        self._store = store
        self._clock = clock
        self._interval = interval
        self._loop = DaemonLoop("shieldwall-quarantine-sweep", self._run)
        self.removed = 0
        """Items removed so far (tests)."""

    def start(self) -> None:
        """Start sweeping (the first sweep at once)."""
        self._loop.start()

    def stop(self) -> None:
        """Stop sweeping."""
        self._loop.stop()

    def sweep_once(self) -> int:
        """One sweep; a failure is logged, never raised (the next sweep tries again)."""
        try:
            removed = self._store.sweep(self._clock())
        except Exception:  # a full disk or a permissions slip must not end the worker
            log.exception("quarantine sweep failed")
            return 0
        if removed:
            log.info("quarantine sweep removed %d expired items", removed)
        self.removed += removed
        return removed

    def _run(self) -> None:
        self.sweep_once()
        while not self._loop.stopping.wait(self._interval):
            self.sweep_once()
