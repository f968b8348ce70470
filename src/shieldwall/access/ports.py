"""What access control needs from storage. Adapters: memory, SQLAlchemy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from shieldwall.access.models import ApiKey, LookupEvent, Role


class ApiKeyRepository(Protocol):
    """Stored API keys; secrets are only ever stored as SHA-256 hex digests."""

    def create(
        self, name: str, role: Role, see_details: bool, prefix: str, secret_hash: str
    ) -> ApiKey:
        """Store a new key; ConflictError if the prefix is taken."""
        ...

    def find_by_prefix(self, prefix: str) -> tuple[ApiKey, str] | None:
        """The key with this prefix and its secret hash, or None."""
        ...

    def list_keys(self) -> list[ApiKey]:
        """Every key, revoked ones included, by id."""
        ...

    def list_with_hashes(self) -> list[tuple[ApiKey, str]]:
        """Every key, revoked ones included, with its secret hash, by id (one read)."""
        ...

    def revoke(self, key_id: int) -> ApiKey:
        """Revoke a key (idempotent); NotFoundError if none."""
        ...

    def count_active(self) -> int:
        """How many keys are not revoked."""
        ...


class LookupLog(Protocol):
    """Append-only record of lookups."""

    def record(self, event: LookupEvent) -> None:
        """Append one event."""
        ...

    def record_many(self, events: Sequence[LookupEvent]) -> None:
        """Append events in their order, in one transaction: all of them or none."""
        ...

    def verdicts_between(self, start: datetime, end: datetime) -> dict[str, int]:
        """How many lookups in [start, end) answered each verdict (the transparency report)."""
        ...

    def recent(self, key_id: int | None = None, limit: int = 100) -> list[LookupEvent]:
        """The newest events, optionally of one key, newest first."""
        ...
