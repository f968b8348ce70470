"""The quarantine store: content kept only while a reviewer decides on it.

For file lookups queued for review, the uploaded content is kept so that a reviewer can
see it, and for nothing else: sealed at rest, addressed by the SHA-256 of its bytes,
deleted when the item is decided or when its retention ends, never exported. The port
below is what the review service will use; `storage/quarantine_files.py` keeps it in
sealed files and `InMemoryQuarantine` is the fake for tests.

Nothing here logs or returns content except `get`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Protocol

from shieldwall.clock import Clock, utc_now
from shieldwall.errors import InvalidInputError, NotFoundError

DEFAULT_RETENTION_DAYS: Final = 14
_ADDRESS = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class QuarantineUsage:
    """What the store holds now: items (expired ones not yet swept included) and bytes
    (as stored: sealed files take a little more than their content)."""

    count: int
    bytes: int


class QuarantineStore(Protocol):
    """Content under review, content-addressed, kept until a retention time."""

    def put(self, content: bytes, retain_until: datetime) -> str:
        """Keep `content` until `retain_until` (aware, in the future); its address.

        The same content put twice is kept once, until the later of the two times.
        """
        ...

    def get(self, address: str) -> bytes:
        """The content at `address`; NotFoundError if absent, deleted or expired."""
        ...

    def delete(self, address: str) -> None:
        """Remove the content at `address`, if any (deleting twice is fine)."""
        ...

    def sweep(self, now: datetime) -> int:
        """Remove every item whose retention ended by `now`; how many were removed."""
        ...

    def usage(self) -> QuarantineUsage:
        """How many items and bytes the store holds."""
        ...


def content_address(content: bytes) -> str:
    """The address of `content`: the SHA-256 of its bytes, in lowercase hex."""
    return hashlib.sha256(content).hexdigest()


def check_address(address: str) -> str:
    """`address` if it is one (64 lowercase hex digits); InvalidInputError if not."""
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
        raise InvalidInputError("a quarantine address is 64 lowercase hex digits")
    return address


def check_retention(retain_until: datetime, now: datetime) -> datetime:
    """`retain_until` if it is an aware time after `now`; InvalidInputError if not."""
    if retain_until.tzinfo is None or retain_until.utcoffset() is None:
        raise InvalidInputError("a quarantine retention time must carry its time zone")
    if retain_until <= now:
        raise InvalidInputError("a quarantine retention time must be in the future")
    return retain_until


def retention_end(now: datetime, retention_days: int = DEFAULT_RETENTION_DAYS) -> datetime:
    """When content quarantined at `now` is deleted at the latest (`retention_days` on)."""
    if retention_days <= 0:
        raise InvalidInputError("the quarantine retention must be a positive number of days")
    return now + timedelta(days=retention_days)


def not_found(address: str) -> NotFoundError:
    """The error for an address with no content (never kept, deleted or expired)."""
    return NotFoundError(f"no quarantined content at {address} (deleted, expired or never kept)")


@dataclass
class _Held:
    content: bytes = field(repr=False)  # never in a repr, so never in a log line
    retain_until: datetime


class InMemoryQuarantine:
    """A QuarantineStore in a dict: for tests, and the contract the file store meets."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._items: dict[str, _Held] = {}

    def put(self, content: bytes, retain_until: datetime) -> str:
        check_retention(retain_until, self._clock())
        address = content_address(content)
        held = self._items.get(address)
        if held is None:
            self._items[address] = _Held(bytes(content), retain_until)
        else:
            held.retain_until = max(held.retain_until, retain_until)
        return address

    def get(self, address: str) -> bytes:
        held = self._items.get(check_address(address))
        if held is None or held.retain_until <= self._clock():
            raise not_found(address)
        return held.content

    def delete(self, address: str) -> None:
        self._items.pop(check_address(address), None)

    def sweep(self, now: datetime) -> int:
        expired = [key for key, held in self._items.items() if held.retain_until <= now]
        for address in expired:
            del self._items[address]
        return len(expired)

    def usage(self) -> QuarantineUsage:
        return QuarantineUsage(
            count=len(self._items),
            bytes=sum(len(held.content) for held in self._items.values()),
        )
