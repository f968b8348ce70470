"""Access use cases: issue, authenticate, list and revoke API keys; record lookups."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Final, TypeVar

from shieldwall.access.audit_buffer import AuditBuffer, AuditBufferStats
from shieldwall.access.key_table import KeyTable
from shieldwall.access.models import (
    ApiKey,
    IssuedKey,
    LookupEvent,
    LookupKind,
    LookupVerdict,
    Role,
)
from shieldwall.access.ports import ApiKeyRepository, LookupLog
from shieldwall.clock import Clock, utc_now
from shieldwall.errors import AuthenticationError, ConflictError, InvalidInputError, NotFoundError

TOKEN_PREFIX: Final = "sw_"
PREFIX_HEX_BYTES: Final = 6
"""`secrets.token_hex(6)`: the 12-character public part that finds a key."""
SECRET_BYTES: Final = 24
"""`secrets.token_urlsafe(24)`: 32 URL-safe characters, 192 bits of secret."""
TOKEN_LENGTH: Final = len(TOKEN_PREFIX) + 2 * PREFIX_HEX_BYTES + 1 + 4 * SECRET_BYTES // 3
_TOKEN_PATTERN: Final = re.compile(r"sw_([0-9a-f]{12})_([A-Za-z0-9_-]{32})", re.ASCII)
MAX_NAME_LENGTH: Final = 100
MAX_KEY_ID: Final = 2**63 - 1
BOOTSTRAP_NAME: Final = "bootstrap admin"
_ISSUE_ATTEMPTS: Final = 5
# Compared against when no key has the prefix, so unknown and wrong keys cost the same.
_DUMMY_HASH: Final = hashlib.sha256(b"shieldwall: no such key").hexdigest()

INVALID_KEY: Final = "invalid API key"
"""The one message for an unknown key and a wrong secret: neither tells which."""
MISSING_KEY: Final = "missing API key"
MALFORMED_KEY: Final = "malformed API key"
REVOKED_KEY: Final = "API key has been revoked"


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a whole token: the only form in which secrets are stored."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def parse_token(token: object) -> tuple[str, str]:
    """`(token, prefix)` of a well-formed token; AuthenticationError for anything else."""
    if token is None or (isinstance(token, str) and not token):
        raise AuthenticationError(MISSING_KEY)
    # Length first: huge or non-string values never reach the regular expression.
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH:
        raise AuthenticationError(MALFORMED_KEY)
    match = _TOKEN_PATTERN.fullmatch(token)
    if match is None:
        raise AuthenticationError(MALFORMED_KEY)
    return token, match.group(1)


def validate_key_name(name: str) -> str:
    """The name without surrounding spaces; InvalidInputError unless 1-100 printable chars."""
    if not isinstance(name, str):
        raise InvalidInputError("key name must be text")
    cleaned = name.strip()
    if not cleaned:
        raise InvalidInputError("key name must not be empty")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInputError(f"key name must be at most {MAX_NAME_LENGTH} characters")
    if not cleaned.isprintable():
        raise InvalidInputError("key name must contain only printable characters")
    return cleaned


def parse_role(role: Role | str) -> Role:
    """The role called `role`; InvalidInputError naming the known roles otherwise."""
    try:
        return Role(role)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise InvalidInputError(f"unknown role {role!r} (known: {known})") from None


_E = TypeVar("_E", bound=StrEnum)


def _event_enum(enum: type[_E], name: str, value: object) -> _E:
    """`value` as a member of `enum` (its member or value); InvalidInputError otherwise."""
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    known = ", ".join(member.value for member in enum)
    shown = str(value)[:40]
    raise InvalidInputError(f"lookup {name} must be one of {known}, got {shown!r}")


def _event_count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise InvalidInputError(f"lookup {name} must be a non-negative integer")
    return value


class AccessService:
    """API keys (shown once, stored hashed) and the lookup audit log.

    Keys are checked against a per-process table (`KeyTable`) refreshed in the background,
    and lookups are recorded through a buffer (`AuditBuffer`) flushed in batches behind
    the request: call `close` on shutdown so the last rows are written.
    """

    def __init__(
        self,
        keys: ApiKeyRepository,
        log: LookupLog,
        clock: Clock = utc_now,
        *,
        key_table: KeyTable | None = None,
        audit: AuditBuffer[LookupEvent] | None = None,
    ) -> None:
        self._keys = keys
        self._log = log
        self._clock = clock
        self._bootstrap_lock = threading.Lock()
        self._table = key_table if key_table is not None else KeyTable(keys)
        self._audit = audit if audit is not None else AuditBuffer(log)

    def issue_key(self, name: str, role: Role | str, see_details: bool = False) -> IssuedKey:
        """Create a key; the returned token is the only copy of its secret."""
        name = validate_key_name(name)
        role = parse_role(role)
        for _ in range(_ISSUE_ATTEMPTS):
            prefix = secrets.token_hex(PREFIX_HEX_BYTES)
            token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
            digest = hash_token(token)
            try:
                key = self._keys.create(name, role, bool(see_details), prefix, digest)
            except ConflictError:  # a 48-bit prefix collided: draw another
                continue
            self._table.put(key, digest)  # usable in this process at once
            return IssuedKey(key, token)
        raise ConflictError("could not draw an unused key prefix; try again")

    def authenticate(self, token: str | None) -> ApiKey:
        """The active key behind `token`; AuthenticationError for anything else."""
        token, prefix = parse_token(token)
        found = self._table.find(prefix)
        stored_hash = found[1] if found is not None else _DUMMY_HASH
        matches = hmac.compare_digest(hash_token(token), stored_hash)
        if found is None or not matches:
            raise AuthenticationError(INVALID_KEY)
        key = found[0]
        if key.revoked_at is not None:
            raise AuthenticationError(REVOKED_KEY)
        return key

    def list_keys(self) -> list[ApiKey]:
        """Every key, revoked ones included, by id (never a secret)."""
        return self._keys.list_keys()

    def revoke(self, key_id: int) -> ApiKey:
        """Revoke a key at once (idempotent); NotFoundError if none."""
        if isinstance(key_id, bool) or not isinstance(key_id, int) or key_id < 1:
            raise NotFoundError(f"no API key {key_id}")
        key = self._keys.revoke(key_id)
        self._table.revoked(key)  # refused in this process at once, elsewhere within 1 s
        return key

    def bootstrap_admin(self) -> IssuedKey | None:
        """An admin key when no active key exists (first start), else None.

        Serialised within this process; call it once at start-up, before serving.
        """
        with self._bootstrap_lock:
            if self._keys.count_active() > 0:
                return None
            return self.issue_key(BOOTSTRAP_NAME, Role.ADMIN)

    def lookup_event(
        self,
        key: ApiKey | None,
        kind: LookupKind | str,
        queries: int,
        matches: int,
        verdict: LookupVerdict | str,
    ) -> LookupEvent:
        """A lookup event stamped with this service's clock (validated, never content)."""
        return LookupEvent(
            key_id=key.id if key is not None else None,
            at=self._clock(),
            kind=_event_enum(LookupKind, "kind", kind),
            queries=_event_count("queries", queries),
            matches=_event_count("matches", matches),
            verdict=_event_enum(LookupVerdict, "verdict", verdict),
        )

    def record_lookup(self, event: LookupEvent) -> None:
        """Validate one lookup and buffer it; it reaches the audit log within 250 ms.

        Invalid events raise at once. Database failures do not reach the caller: the
        buffer keeps the rows and retries (see `AuditBuffer`).
        """
        if event.key_id is not None and not 0 < event.key_id <= MAX_KEY_ID:
            raise InvalidInputError(f"lookup key id out of range: {event.key_id}")
        if not isinstance(event.at, datetime) or event.at.tzinfo is None:
            raise InvalidInputError("lookup time must be a timezone-aware datetime")
        kind = _event_enum(LookupKind, "kind", event.kind)
        verdict = _event_enum(LookupVerdict, "verdict", event.verdict)
        _event_count("queries", event.queries)
        _event_count("matches", event.matches)
        self._audit.append(replace(event, kind=kind, verdict=verdict))

    def recent_lookups(self, key_id: int | None = None, limit: int = 100) -> list[LookupEvent]:
        """The newest recorded lookups, optionally of one key (this process's buffer first)."""
        if limit < 1:
            raise InvalidInputError(f"limit must be at least 1, got {limit}")
        self.flush()
        return self._log.recent(key_id, limit)

    def flush(self) -> None:
        """Write this process's buffered lookups now; StorageError (rows kept) on failure."""
        self._audit.flush()

    def audit_stats(self) -> AuditBufferStats:
        """The audit buffer's depth, last flush time, dropped rows and failed flushes."""
        return self._audit.stats()

    def close(self) -> None:
        """Stop the background threads and write the buffered lookups (graceful shutdown)."""
        self._table.close()
        self._audit.close()
