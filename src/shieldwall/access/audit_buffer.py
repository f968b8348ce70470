"""Rows written behind the request (the lookup audit, the screened record): buffered,
flushed in batches by a thread."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Generic, Protocol, TypeVar

from shieldwall.background import DaemonLoop
from shieldwall.errors import InvalidInputError

log = logging.getLogger(__name__)

FLUSH_INTERVAL: Final = 0.25
"""Seconds between flushes at most: a crash loses at most this window of lookups."""
FLUSH_ROWS: Final = 256
"""A buffer this deep is flushed at once, before the interval ends."""
MAX_BATCH_ROWS: Final = 5_000
"""Rows per transaction at most (a backlog after an outage goes in several)."""
MAX_BUFFER_ROWS: Final = 100_000
"""Rows kept while the database is down; beyond it the oldest are dropped (and counted)."""
MAX_RETRY_DELAY: Final = 5.0
"""Longest wait between attempts while flushes fail (the delay doubles up to it)."""


@dataclass(frozen=True)
class AuditBufferStats:
    """What /metrics shows of the buffer."""

    depth: int
    """Rows waiting to be written."""
    last_flush_seconds: float
    """How long the last successful flush took (0 before the first)."""
    dropped: int
    """Rows dropped since start because the buffer overflowed while flushes failed."""
    failed_flushes: int
    """Flush attempts that failed since start."""


Row = TypeVar("Row")
RowIn_contra = TypeVar("RowIn_contra", contravariant=True)


class BatchSink(Protocol[RowIn_contra]):
    """Where a buffer's rows go: one transaction per batch, all of them or none."""

    def record_many(self, rows: Sequence[RowIn_contra], /) -> None:
        """Write the rows in their order."""
        ...


class AuditBuffer(Generic[Row]):
    """Appends rows in memory; a daemon thread writes them through the sink's `record_many`.

    The thread starts with the first append and flushes every `interval` seconds, or at
    once when `flush_rows` are waiting. A failed flush keeps its rows (in order) and is
    retried with a doubling delay; at most `max_rows` are kept, the oldest dropped first.
    """

    def __init__(
        self,
        target: BatchSink[Row],
        *,
        name: str = "shieldwall-audit-flush",
        interval: float = FLUSH_INTERVAL,
        flush_rows: int = FLUSH_ROWS,
        max_rows: int = MAX_BUFFER_ROWS,
        max_retry_delay: float = MAX_RETRY_DELAY,
    ) -> None:
        if interval <= 0 or flush_rows < 1 or max_rows < flush_rows or max_retry_delay <= 0:
            raise InvalidInputError("audit buffer: positive interval, 1 <= flush_rows <= max_rows")
        self._target = target
        self._interval = interval
        self._flush_rows = flush_rows
        self._max_rows = max_rows
        self._max_retry_delay = max_retry_delay
        self._lock = threading.Lock()  # guards the fields below
        self._pending: deque[Row] = deque()
        self._dropped = 0
        self._dropped_unlogged = 0
        self._failed = 0
        self._last_flush_seconds = 0.0
        self._started = False
        # Held for a whole flush, so an explicit flush and the thread's never interleave
        # (rows reach the database in the order they were appended).
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._loop = DaemonLoop(name, self._run)

    def append(self, event: Row) -> None:
        """Buffer one (already validated) row; never waits on the database."""
        self.extend((event,))

    def extend(self, rows: Sequence[Row]) -> None:
        """Buffer rows in their order; never waits on the database."""
        with self._lock:
            self._pending.extend(rows)
            self._drop_overflow()
            depth = len(self._pending)
            start = not self._started
            self._started = True
        if start:
            self._loop.start()
        if depth >= self._flush_rows:
            self._wake.set()

    def flush(self) -> None:
        """Write every buffered row now; StorageError (rows kept) if the database fails."""
        with self._flush_lock:
            while True:
                with self._lock:
                    count = min(len(self._pending), MAX_BATCH_ROWS)
                    batch = [self._pending.popleft() for _ in range(count)]
                if not batch:
                    return
                self._write(batch)

    def stats(self) -> AuditBufferStats:
        """Depth, last flush time, dropped rows and failed flushes."""
        with self._lock:
            return AuditBufferStats(
                len(self._pending), self._last_flush_seconds, self._dropped, self._failed
            )

    def close(self) -> None:
        """Stop the thread and write what is buffered (graceful shutdown); logs a failure."""
        self._loop.stopping.set()
        self._wake.set()
        self._loop.stop()
        with self._lock:
            self._started = False  # a later append starts a new thread
        try:
            self.flush()
        except Exception:
            log.exception("audit rows not written at shutdown: %d lost", self.stats().depth)
        self._log_drops()

    def _write(self, batch: list[Row]) -> None:
        started = time.perf_counter()
        try:
            self._target.record_many(batch)
        except BaseException:
            with self._lock:
                self._pending.extendleft(reversed(batch))  # back in front, order kept
                self._failed += 1
                self._drop_overflow()
            raise
        with self._lock:
            self._last_flush_seconds = time.perf_counter() - started

    def _drop_overflow(self) -> None:
        # Called with the lock held: the oldest rows go, so the newest activity stays visible.
        while len(self._pending) > self._max_rows:
            self._pending.popleft()
            self._dropped += 1
            self._dropped_unlogged += 1

    def _log_drops(self) -> None:
        with self._lock:
            count, self._dropped_unlogged = self._dropped_unlogged, 0
        if count:
            log.error("audit buffer full while the database failed: %d oldest rows dropped", count)

    def _run(self) -> None:
        delay = 0.0  # while flushes fail: the back-off before the next attempt
        while not self._loop.stopping.is_set():
            if delay:
                # A full buffer must not cut the back-off short: only stopping does.
                self._loop.stopping.wait(delay)
            else:
                self._wake.wait(self._interval)
            self._wake.clear()
            if self._loop.stopping.is_set():
                return  # close() writes what is left
            try:
                self.flush()
            except Exception as exc:  # the thread must outlive any database failure
                delay = min(max(delay * 2, self._interval), self._max_retry_delay)
                log.warning("audit flush failed (%s); retrying in %.2f s", exc, delay)
            else:
                delay = 0.0
            self._log_drops()
