"""Rate-limit buckets shared by every worker process of one host, in a memory-mapped file.

`shieldwall serve --workers N` runs N processes; with buckets in each, a key could make N
times its configured rate. Here the buckets live in one table that all workers map: a
fixed number of 32-byte slots (key hash, tokens, last update, when full again), found by
a keyed hash (so nobody can aim keys at one slot window) with a short linear probe, and
changed under an exclusive `flock` (between processes) and a thread lock (within one).
A bucket that has refilled is the same as a new one, so its slot may be reused; when a
probe window is all busy the bucket that will be full soonest gives way. The clock is
CLOCK_MONOTONIC, shared by all processes of a boot: `serve` makes the file anew at start.
Several hosts each keep their own table (see docs/security.md).
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import secrets
import struct
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from shieldwall.access.buckets import BucketState, take
from shieldwall.access.rate_limit import RateLimit

MAGIC: Final = b"SWRATE01"
_HEADER: Final = struct.Struct("<8sI4x32s")  # magic, slot count, hash key
_HEADER_SIZE: Final = 64
_SLOT: Final = struct.Struct("<Qddd")  # key hash (0: empty), tokens, updated, full_at
SLOTS: Final = 65_536
"""2 MiB: far more buckets than keys and recently busy addresses."""
PROBE: Final = 16


def create_table(path: Path, slots: int = SLOTS) -> Path:
    """Make a new, empty table at `path` (owner-only), replacing any old one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fresh = path.with_name(path.name + f".{os.getpid()}.new")
    descriptor = os.open(fresh, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.ftruncate(descriptor, _HEADER_SIZE + slots * _SLOT.size)
        os.pwrite(descriptor, _HEADER.pack(MAGIC, slots, secrets.token_bytes(32)), 0)
    finally:
        os.close(descriptor)
    os.replace(fresh, path)  # workers never see a half-made table
    return path


class SharedMemoryBuckets:
    """A BucketStore in a memory-mapped table shared by the processes that open `path`."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._descriptor = os.open(path, os.O_RDWR)
        size = os.fstat(self._descriptor).st_size
        self._map = mmap.mmap(self._descriptor, size)
        magic, self._slots, self._hash_key = _HEADER.unpack_from(self._map, 0)
        if magic != MAGIC or size != _HEADER_SIZE + self._slots * _SLOT.size:
            self.close()
            raise ValueError(f"{path} is not a rate-limit table")
        self._lock = threading.Lock()

    def take(
        self, bucket_key: Hashable, limit: RateLimit, cost: float, refuse: bool
    ) -> float | None:
        """Take tokens from the bucket (created full); the wait if refused."""
        key_hash = self._hash(bucket_key)
        with self._locked():
            now = self._clock()
            slot, state = self._find(key_hash, now)
            new_state, retry_after = take(state, now, limit, cost, refuse)
            offset = _HEADER_SIZE + slot * _SLOT.size
            _SLOT.pack_into(
                self._map, offset, key_hash, new_state.tokens, new_state.updated, new_state.full_at
            )
            return retry_after

    def tracked(self) -> int:
        """How many slots hold a bucket that has not refilled yet."""
        now = self._clock()
        with self._locked():
            return sum(1 for key, _, _, full_at in self._slots_iter() if key and full_at > now)

    def close(self) -> None:
        """Unmap the table and close the file."""
        self._map.close()
        os.close(self._descriptor)

    def _hash(self, bucket_key: Hashable) -> int:
        digest = hashlib.blake2b(repr(bucket_key).encode(), key=self._hash_key, digest_size=8)
        return int.from_bytes(digest.digest(), "little") or 1  # 0 marks an empty slot

    def _find(self, key_hash: int, now: float) -> tuple[int, BucketState | None]:
        """The slot of this bucket and its state, or a free slot and None."""
        start = key_hash % self._slots
        free: int | None = None
        soonest: tuple[float, int] | None = None
        for step in range(PROBE):
            slot = (start + step) % self._slots
            stored, tokens, updated, full_at = _SLOT.unpack_from(
                self._map, _HEADER_SIZE + slot * _SLOT.size
            )
            if stored == key_hash:
                return slot, BucketState(tokens, updated, full_at)
            if free is None and (stored == 0 or full_at <= now):
                free = slot  # empty, or a bucket that has refilled: the same as a new one
            if soonest is None or full_at < soonest[0]:
                soonest = (full_at, slot)
        assert soonest is not None
        return (free if free is not None else soonest[1]), None

    def _slots_iter(self) -> Iterator[tuple[int, float, float, float]]:
        for slot in range(self._slots):
            yield _SLOT.unpack_from(self._map, _HEADER_SIZE + slot * _SLOT.size)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            fcntl.flock(self._descriptor, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._descriptor, fcntl.LOCK_UN)
