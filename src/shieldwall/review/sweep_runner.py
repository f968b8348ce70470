"""Sweeps run behind the decision: a reviewer's confirmation returns at once and the sweep
(seconds over a large record: bench/sweep.py) runs in one background thread, one sweep at
a time, in the order of the decisions. A sweep that fails is logged; `drain` waits for the
queued ones (tests, shutdown)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait

from shieldwall.review.models import ReviewItem
from shieldwall.signals.models import Signal

_log = logging.getLogger(__name__)


class BackgroundSweeps:
    """Queues `run(item, queries)` calls on one worker thread."""

    def __init__(self, run: Callable[[ReviewItem, Sequence[Signal]], object]) -> None:
        self._run = run
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shieldwall-sweep")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def __call__(self, item: ReviewItem, queries: Sequence[Signal]) -> None:
        """Queue the sweep after the decision on `item`."""
        future = self._executor.submit(self._safely, item, tuple(queries))
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def _safely(self, item: ReviewItem, queries: Sequence[Signal]) -> None:
        try:
            self._run(item, queries)
        except Exception:  # the thread outlives any failure; the decision stands
            _log.exception("the sweep after the decision on item %d failed", item.id)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def drain(self, timeout: float = 120.0) -> None:
        """Wait until every queued sweep has run."""
        with self._lock:
            pending = set(self._pending)
        wait(pending, timeout=timeout)

    def close(self) -> None:
        """Run what is queued, then stop the thread."""
        self._executor.shutdown(wait=True)
