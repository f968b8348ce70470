"""Give freed heap memory back to the system now and then, while a worker serves.

An image lookup decodes a picture into tens of MiB of buffers and frees them; glibc keeps
freed chunks in its arenas, so a worker's resident memory climbs to the high-water mark of
its busiest second and stays there (280 -> 394 MiB after a burst of uploads at 1M hashes,
bench/RESULTS.md section 8). `malloc_trim` every few seconds hands it back; it takes a few
milliseconds and only holds the allocator's lock, never the GIL for long.
"""

from __future__ import annotations

from typing import Final

from shieldwall.allocator import give_back_free_memory
from shieldwall.background import DaemonLoop

TRIM_INTERVAL: Final = 5.0
"""Seconds between trims."""


class MemoryTrimmer:
    """A daemon thread calling malloc_trim every `interval` seconds until stopped."""

    def __init__(self, interval: float = TRIM_INTERVAL) -> None:
        self._interval = interval
        self._loop = DaemonLoop("shieldwall-memory-trim", self._run)
        self.trims = 0
        """Trims done so far (tests)."""

    def start(self) -> None:
        """Start trimming (no-op if it runs already)."""
        self._loop.start()

    def stop(self) -> None:
        """Stop trimming."""
        self._loop.stop()

    def _run(self) -> None:
        while not self._loop.stopping.wait(self._interval):
            give_back_free_memory()
            self.trims += 1
