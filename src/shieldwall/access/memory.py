"""In-memory ApiKeyRepository and LookupLog: the SQL adapters' semantics without a database."""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Final

from shieldwall.access.models import ApiKey, LookupEvent, Role
from shieldwall.clock import Clock, utc_now
from shieldwall.errors import ConflictError, InvalidInputError, NotFoundError

DEFAULT_MAX_EVENTS: Final = 100_000
"""Events an in-memory log keeps (oldest dropped first): memory stays bounded."""


class InMemoryApiKeyRepository:
    """ApiKeyRepository held in dictionaries; thread-safe, ids never reused."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._keys: dict[int, ApiKey] = {}
        self._hashes: dict[int, str] = {}
        self._by_prefix: dict[str, int] = {}
        self._next_id = 1

    def create(
        self, name: str, role: Role, see_details: bool, prefix: str, secret_hash: str
    ) -> ApiKey:
        """Store a new key; ConflictError if the prefix is taken."""
        with self._lock:
            if prefix in self._by_prefix:
                raise ConflictError("an API key with this prefix already exists")
            key = ApiKey(
                id=self._next_id,
                name=name,
                role=Role(role),
                see_details=bool(see_details),
                prefix=prefix,
                created_at=self._clock(),
            )
            self._next_id += 1
            self._keys[key.id] = key
            self._hashes[key.id] = secret_hash
            self._by_prefix[prefix] = key.id
            return key

    def find_by_prefix(self, prefix: str) -> tuple[ApiKey, str] | None:
        """The key with this prefix and its secret hash, or None."""
        with self._lock:
            key_id = self._by_prefix.get(prefix)
            if key_id is None:
                return None
            return self._keys[key_id], self._hashes[key_id]

    def list_keys(self) -> list[ApiKey]:
        """Every key, revoked ones included, by id."""
        with self._lock:
            return [self._keys[key_id] for key_id in sorted(self._keys)]

    def list_with_hashes(self) -> list[tuple[ApiKey, str]]:
        """Every key, revoked ones included, with its secret hash, by id."""
        with self._lock:
            return [(self._keys[key_id], self._hashes[key_id]) for key_id in sorted(self._keys)]

    def revoke(self, key_id: int) -> ApiKey:
        """Revoke a key (idempotent); NotFoundError if none."""
        with self._lock:
            key = self._keys.get(key_id)
            if key is None:
                raise NotFoundError(f"no API key {key_id}")
            if key.revoked_at is None:
                key = self._keys[key_id] = replace(key, revoked_at=self._clock())
            return key

    def count_active(self) -> int:
        """How many keys are not revoked."""
        with self._lock:
            return sum(1 for key in self._keys.values() if key.revoked_at is None)


class InMemoryLookupLog:
    """LookupLog in a bounded deque (the newest `max_events` kept); thread-safe."""

    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        if max_events < 1:
            raise InvalidInputError(f"max_events must be at least 1, got {max_events}")
        self._lock = threading.Lock()
        self._events: deque[LookupEvent] = deque(maxlen=max_events)

    def record(self, event: LookupEvent) -> None:
        """Append one event (its time kept in UTC, as the SQL adapter returns it)."""
        self.record_many([event])

    def verdicts_between(self, start: datetime, end: datetime) -> dict[str, int]:
        """Lookups in [start, end) by verdict (of the events still held)."""
        with self._lock:
            found = Counter(e.verdict.value for e in self._events if start <= e.at < end)
        return dict(found)

    def record_many(self, events: Sequence[LookupEvent]) -> None:
        """Append events in order; a naive time refuses them all (none is kept)."""
        if any(event.at.tzinfo is None for event in events):
            raise InvalidInputError("lookup time must be timezone-aware")
        in_utc = [replace(event, at=event.at.astimezone(UTC)) for event in events]
        with self._lock:
            self._events.extend(in_utc)

    def recent(self, key_id: int | None = None, limit: int = 100) -> list[LookupEvent]:
        """The most recently recorded events, optionally of one key, newest first."""
        if limit < 1:
            raise InvalidInputError(f"limit must be at least 1, got {limit}")
        found: list[LookupEvent] = []
        with self._lock:
            for event in reversed(self._events):
                if key_id is None or event.key_id == key_id:
                    found.append(event)
                    if len(found) == limit:
                        break
        return found
