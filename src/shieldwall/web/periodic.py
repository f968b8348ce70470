"""Housekeeping a worker runs by itself while it serves, so retention and expiry hold even
when no one runs the matching commands from cron (`quarantine sweep`, `enrolments expire`).

Every worker runs each job; the jobs are safe to run at once in several workers (the
quarantine store locks its folder; an enrolment ends once, whoever ends it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from shieldwall.background import DaemonLoop

log = logging.getLogger("shieldwall.housekeeping")


class PeriodicJob:
    """A daemon thread running `work` (which returns how many things it did) every
    `interval` seconds until stopped, the first time at once."""

    def __init__(self, name: str, work: Callable[[], int], interval: float) -> None:
        self._name = name
        self._work = work
        self._interval = interval
        self._loop = DaemonLoop(f"shieldwall-{name.replace(' ', '-')}", self._run)
        self.done = 0
        """Things done so far (tests, metrics)."""

    def start(self) -> None:
        """Start running."""
        self._loop.start()

    def stop(self) -> None:
        """Stop running."""
        self._loop.stop()

    def run_once(self) -> int:
        """One run; a failure is logged, never raised (the next run tries again)."""
        try:
            done = self._work()
        except Exception:  # a full disk or a database hiccup must not end the worker
            log.exception("%s failed", self._name)
            return 0
        if done:
            log.info("%s: %d", self._name, done)
        self.done += done
        return done

    def _run(self) -> None:
        self.run_once()
        while not self._loop.stopping.wait(self._interval):
            self.run_once()
