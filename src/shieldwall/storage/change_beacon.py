"""The host-wide change beacon: an 8-byte counter in a small memory-mapped file.

Every process that uses one data directory (server workers, CLI commands) maps
`<home>/changes.bin`; a writer bumps the counter under an exclusive `flock` after it
commits a change that can stop an entry matching, and lookups read it from
the mapping (no system call). Processes on other hosts do not see it: deployments where
several hosts write to one database set `SHIELDWALL_MATCH_RECHECK=always`
(docs/operations.md).
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading
from pathlib import Path
from typing import Final

BEACON_FILE: Final = "changes.bin"
_COUNTER: Final = struct.Struct("<Q")
_SIZE: Final = 64  # the counter, and room to grow


class FileChangeBeacon:
    """A ChangeBeacon shared by every process that opens the same file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._descriptor).st_size < _SIZE:
            os.ftruncate(self._descriptor, _SIZE)  # zeros; two processes doing so agree
        self._map = mmap.mmap(self._descriptor, _SIZE)
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def in_home(cls, home: Path) -> FileChangeBeacon:
        """The beacon of a data directory."""
        return cls(home / BEACON_FILE)

    def read(self) -> int:
        """The current value (-1 once closed: never equal to a noted one, so re-check)."""
        if self._closed:
            return -1
        value: int = _COUNTER.unpack_from(self._map, 0)[0]
        return value

    def bump(self) -> None:
        """Add one, atomically across processes."""
        with self._lock:
            if self._closed:
                return
            fcntl.flock(self._descriptor, fcntl.LOCK_EX)
            try:
                (value,) = _COUNTER.unpack_from(self._map, 0)
                _COUNTER.pack_into(self._map, 0, (value + 1) % 2**64)
            finally:
                fcntl.flock(self._descriptor, fcntl.LOCK_UN)

    def close(self) -> None:
        """Unmap and close the file (again: nothing)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._map.close()
            os.close(self._descriptor)
