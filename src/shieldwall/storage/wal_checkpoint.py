"""Keeping SQLite's write-ahead log small: checkpoints after bulk writes and in the background.

In WAL mode every commit appends pages to the -wal file; a checkpoint copies them back into
the database, and the next writer starts the log again from its beginning, but only once
every page is copied and no reader still reads an older snapshot from the log. SQLite's
own checkpoint runs in whichever connection commits past 1000 pages, so with readers busy
(change-log tailers, lookups) while an import wrote, resets were rare and the log grew
without bound (800 MB beside a 275 MB database), and a lookup's one-row commit now and then
copied an import's pages back.

Here the writer that fills the log copies it back (bulk writes, after their commit, see
engine.py), and a serving process runs a `WalCheckpointer`: often and without waiting for
anyone (PASSIVE); when the log has still outgrown its limit it resets and truncates it
(TRUNCATE), waiting at most `CHECKPOINT_BUSY_MS` at a time for the write lock and for
readers, so it never stalls lookups for long. Several processes doing this at once is
harmless: SQLite runs one checkpoint at a time and the others return at once.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from shieldwall.background import DaemonLoop

JOURNAL_SIZE_LIMIT: Final = 64 * 1024 * 1024
"""Bytes the log may keep on disk once reset (SQLite's journal_size_limit); beyond it, the
checkpointers reset and truncate it."""
CHECKPOINT_INTERVAL: Final = 1.0
"""Seconds between background checkpoints."""
CHECKPOINT_BUSY_MS: Final = 20
"""Most milliseconds one reset attempt waits for the write lock, then for readers to leave
the log (writers wait for it meanwhile)."""
RESET_PATIENCE: Final = 0.5
"""Seconds a background round keeps trying to reset an oversized log."""
RESET_RETRY: Final = 0.002

log = logging.getLogger("shieldwall.storage")


@dataclass(frozen=True)
class CheckpointResult:
    """One checkpoint: frames in the log, frames copied back, whether the log was reset."""

    frames: int
    copied: int
    reset: bool


def wal_file(database: Path) -> Path:
    """The write-ahead log beside a SQLite database file."""
    return Path(f"{database}-wal")


def wal_size(database: Path) -> int:
    """Bytes of the database's write-ahead log on disk (0 when there is none)."""
    try:
        return wal_file(database).stat().st_size
    except FileNotFoundError:
        return 0


def checkpoint(
    connection: sqlite3.Connection, database: Path, size_limit: int = JOURNAL_SIZE_LIMIT
) -> CheckpointResult:
    """Copy back what can be copied without waiting; then, if the log outgrew `size_limit`,
    try once to reset and truncate it (waiting as long as the connection's busy timeout).

    The connection must not be inside a transaction.
    """
    _busy, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    reset = False
    if wal_size(database) > size_limit:
        busy, frames, copied = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        reset = not busy
    return CheckpointResult(max(frames, 0), max(copied, 0), reset)


class WalCheckpointer:
    """Checkpoints one SQLite database file in a daemon thread; `run_once` runs one round."""

    def __init__(
        self,
        database: Path,
        interval: float = CHECKPOINT_INTERVAL,
        *,
        size_limit: int = JOURNAL_SIZE_LIMIT,
        patience: float = RESET_PATIENCE,
    ) -> None:
        self._database = database
        self._interval = interval
        self._size_limit = size_limit
        self._patience = patience
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._loop = DaemonLoop("shieldwall-wal-checkpoint", self._run)
        self.rounds = 0
        """Rounds completed (metrics, tests)."""
        self.resets = 0
        """Rounds that reset and truncated the log."""

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._loop.running

    def start(self) -> None:
        """Checkpoint every `interval` seconds in a daemon thread (no-op if running)."""
        self._loop.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and close its connection."""
        self._loop.stop(timeout)
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _run(self) -> None:
        while not self._loop.stopping.wait(self._interval):
            try:
                self.run_once()
            except sqlite3.Error:  # a locked or missing file must not end the thread
                log.warning("WAL checkpoint failed", exc_info=True)

    def run_once(self) -> CheckpointResult:
        """Copy back what can be copied now; reset the log too if it outgrew the limit,
        trying again for a while: an import holds the write lock most of the time, and
        SQLite's busy handler, sleeping ever longer, would miss its short gaps."""
        with self._lock:
            connection = self._connect()
            deadline = time.monotonic() + self._patience
            result = checkpoint(connection, self._database, self._size_limit)
            while wal_size(self._database) > self._size_limit and not result.reset:
                if time.monotonic() >= deadline or self._loop.stopping.is_set():
                    break
                time.sleep(RESET_RETRY)
                result = checkpoint(connection, self._database, self._size_limit)
            self.resets += result.reset
            self.rounds += 1
            return result

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            # Its own connection, not the pool's: its short busy timeout bounds how long a
            # resetting checkpoint makes writers wait.
            connection = sqlite3.connect(
                self._database, isolation_level=None, check_same_thread=False
            )
            connection.execute(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_MS}")
            connection.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
            self._connection = connection
        return self._connection
