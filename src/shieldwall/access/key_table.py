"""A per-process table of API keys, refreshed in the background: no database read per request."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Final

from shieldwall.access.models import ApiKey
from shieldwall.access.ports import ApiKeyRepository
from shieldwall.background import DaemonLoop

log = logging.getLogger(__name__)

REFRESH_INTERVAL: Final = 0.5
"""Seconds between re-reads of the key table: a key revoked elsewhere is refused within it."""
MAX_STALENESS: Final = 2.0
"""A table older than this (its refreshes fail) is bypassed: each request reads the database."""
FALLBACK_READS_PER_SECOND: Final = 5.0
"""Database reads per second (and burst) for prefixes the table does not hold yet."""


class _Bucket:
    """A token bucket; not thread-safe (the table's lock guards it)."""

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        self._rate = rate
        self._clock = clock
        self._tokens = rate
        self._at = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self._rate, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class KeyTable:
    """prefix -> (key, secret hash) of every stored key, re-read every `refresh_interval`.

    Keys are never deleted and a revocation is never undone, so a refresh is merged into
    the table (revoked wins): a refresh that read the database before this process's own
    create or revoke cannot undo it. A prefix the table does not hold (a key created by
    another process since the last refresh) is read from the database at most
    `fallback_rate` times a second, so random prefixes cannot force a read per request;
    past that budget such a key works after the next refresh.
    """

    def __init__(
        self,
        keys: ApiKeyRepository,
        *,
        refresh_interval: float = REFRESH_INTERVAL,
        max_staleness: float = MAX_STALENESS,
        fallback_rate: float = FALLBACK_READS_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys = keys
        self._refresh_interval = refresh_interval
        self._max_staleness = max_staleness
        self._clock = clock
        self._lock = threading.Lock()  # guards the fields below
        self._table: dict[str, tuple[ApiKey, str]] = {}
        self._loaded_at: float | None = None
        self._fallback = _Bucket(fallback_rate, clock)
        self._failing = False
        self._loop = DaemonLoop("shieldwall-key-table", self._run)

    def find(self, prefix: str) -> tuple[ApiKey, str] | None:
        """The key with this prefix and its secret hash, or None (StorageError if unreadable)."""
        if self._loaded_at is None:
            self.refresh()  # the first call loads synchronously, then the thread keeps it fresh
            self._loop.start()
        with self._lock:
            stale = self._loaded_at is None or (
                self._clock() - self._loaded_at > self._max_staleness
            )
            found = self._table.get(prefix)
            fall_back = stale or (found is None and self._fallback.take())
        if not fall_back:
            return found
        # Stale: refreshes fail, so a revocation might be missed; read as before the table.
        found = self._keys.find_by_prefix(prefix)
        if found is not None:
            self.put(*found)
        return found

    def put(self, key: ApiKey, secret_hash: str) -> None:
        """Add or update one key at once (this process's own create or revoke)."""
        with self._lock:
            self._merge(key, secret_hash)

    def revoked(self, key: ApiKey) -> None:
        """Mark a key revoked at once (this process revoked it)."""
        with self._lock:
            held = self._table.get(key.prefix)
            if held is not None:
                self._merge(key, held[1])

    def refresh(self) -> None:
        """Re-read every key (one query); StorageError if the database fails."""
        started = self._clock()
        rows = self._keys.list_with_hashes()
        with self._lock:
            for key, secret_hash in rows:
                self._merge(key, secret_hash)
            self._loaded_at = started  # the read began then: later changes may be missing

    def close(self) -> None:
        """Stop the refresh thread (the table stays usable, refreshed on demand if stale)."""
        self._loop.stop()

    def _merge(self, key: ApiKey, secret_hash: str) -> None:
        # Called with the lock held. Revocation is final: an older read cannot undo it.
        held = self._table.get(key.prefix)
        if held is not None and held[0].revoked_at is not None and key.revoked_at is None:
            key = replace(key, revoked_at=held[0].revoked_at)
        self._table[key.prefix] = (key, secret_hash)

    def _run(self) -> None:
        while not self._loop.stopping.wait(self._refresh_interval):
            try:
                self.refresh()
            except Exception as exc:  # keep serving from the table; retried next interval
                if not self._failing:
                    log.warning("API key table refresh failed (%s); retrying", exc)
                self._failing = True
            else:
                if self._failing:
                    log.info("API key table refresh works again")
                self._failing = False
