"""SQL adapters of ApiKeyRepository and LookupLog: SQLite and PostgreSQL through SQLAlchemy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Engine, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from shieldwall.access.models import ApiKey, LookupEvent, LookupKind, LookupVerdict, Role
from shieldwall.clock import Clock, utc_now
from shieldwall.errors import ConflictError, InvalidInputError, NotFoundError, StorageError
from shieldwall.storage.sql_adapter import SqlAdapter
from shieldwall.storage.tables import MAX_ID, ApiKeyRow, LookupEventRow

_KEY_COLUMNS: Final = (
    ApiKeyRow.id,
    ApiKeyRow.name,
    ApiKeyRow.role,
    ApiKeyRow.see_details,
    ApiKeyRow.prefix,
    ApiKeyRow.created_at,
    ApiKeyRow.revoked_at,
)
# Built once: the lookup log runs an INSERT per flush and should not recompile it.
_INSERT_EVENT: Final = insert(LookupEventRow)
_EVENT_COLUMNS: Final = (
    LookupEventRow.key_id,
    LookupEventRow.at,
    LookupEventRow.kind,
    LookupEventRow.queries,
    LookupEventRow.matches,
    LookupEventRow.verdict,
)


_MAX_PREFIX: Final = 32


def _api_key(row: Row[*tuple[Any, ...]]) -> ApiKey:
    try:
        role = Role(row.role)
    except ValueError:
        raise StorageError(f"API key {row.id} has an unknown role {row.role!r}") from None
    return ApiKey(
        id=row.id,
        name=row.name,
        role=role,
        see_details=bool(row.see_details),
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class SqlApiKeyRepository(SqlAdapter):
    """ApiKeyRepository on SQLite or PostgreSQL; each method runs in one transaction."""

    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        super().__init__(engine)
        self._clock = clock

    def create(
        self, name: str, role: Role, see_details: bool, prefix: str, secret_hash: str
    ) -> ApiKey:
        """Store a new key; ConflictError if the prefix is taken."""
        values = {
            "name": name,
            "role": Role(role).value,
            "see_details": bool(see_details),
            "prefix": prefix,
            "secret_hash": secret_hash,
            "created_at": self._clock(),
        }
        with self._write() as connection:
            try:
                row = connection.execute(
                    insert(ApiKeyRow).values(values).returning(*_KEY_COLUMNS)
                ).one()
            except IntegrityError:
                raise ConflictError("an API key with this prefix already exists") from None
            return _api_key(row)

    def find_by_prefix(self, prefix: str) -> tuple[ApiKey, str] | None:
        """The key with this prefix and its secret hash, or None (one indexed read)."""
        # Prefixes are short printable ASCII; anything else cannot be stored, so no such key.
        if len(prefix) > _MAX_PREFIX or not (prefix.isascii() and prefix.isprintable()):
            return None
        with self._read() as connection:
            row = connection.execute(
                select(*_KEY_COLUMNS, ApiKeyRow.secret_hash).where(ApiKeyRow.prefix == prefix)
            ).one_or_none()
        if row is None:
            return None
        return _api_key(row), row.secret_hash

    def list_keys(self) -> list[ApiKey]:
        """Every key, revoked ones included, by id."""
        with self._read() as connection:
            rows = connection.execute(select(*_KEY_COLUMNS).order_by(ApiKeyRow.id)).all()
        return [_api_key(row) for row in rows]

    def list_with_hashes(self) -> list[tuple[ApiKey, str]]:
        """Every key, revoked ones included, with its secret hash, by id (one read)."""
        with self._read() as connection:
            rows = connection.execute(
                select(*_KEY_COLUMNS, ApiKeyRow.secret_hash).order_by(ApiKeyRow.id)
            ).all()
        return [(_api_key(row), row.secret_hash) for row in rows]

    def revoke(self, key_id: int) -> ApiKey:
        """Revoke a key (idempotent: the first revocation time is kept); NotFoundError if none."""
        # Out-of-range ids would overflow the drivers' integer conversion; none can exist.
        if not 0 < key_id <= MAX_ID:
            raise NotFoundError(f"no API key {key_id}")
        with self._write() as connection:
            connection.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
                .values(revoked_at=self._clock())
            )
            row = connection.execute(
                select(*_KEY_COLUMNS).where(ApiKeyRow.id == key_id)
            ).one_or_none()
        if row is None:
            raise NotFoundError(f"no API key {key_id}")
        return _api_key(row)

    def count_active(self) -> int:
        """How many keys are not revoked."""
        with self._read() as connection:
            count: int = connection.execute(
                select(func.count()).select_from(ApiKeyRow).where(ApiKeyRow.revoked_at.is_(None))
            ).scalar_one()
        return count


class SqlLookupLog(SqlAdapter):
    """LookupLog on SQLite or PostgreSQL: one multi-row INSERT per batch of lookups."""

    def verdicts_between(self, start: datetime, end: datetime) -> dict[str, int]:
        """Lookups in [start, end) by verdict (one grouped scan of the period)."""
        with self._read() as connection:
            rows = connection.execute(
                select(LookupEventRow.verdict, func.count())
                .where(LookupEventRow.at >= start, LookupEventRow.at < end)
                .group_by(LookupEventRow.verdict)
            ).all()
        return {str(verdict): int(count) for verdict, count in rows}

    def record(self, event: LookupEvent) -> None:
        """Append one event (a single-statement transaction)."""
        self.record_many([event])

    def record_many(self, events: Sequence[LookupEvent]) -> None:
        """Append events in order in one transaction (executemany); all or none."""
        if any(event.at.tzinfo is None for event in events):
            raise InvalidInputError("lookup time must be timezone-aware")
        if not events:
            return
        rows = [
            {
                "key_id": event.key_id,
                "at": event.at,
                "kind": str(event.kind),
                "queries": event.queries,
                "matches": event.matches,
                "verdict": str(event.verdict),
            }
            for event in events
        ]
        with self._write() as connection:
            connection.execute(_INSERT_EVENT, rows)

    def recent(self, key_id: int | None = None, limit: int = 100) -> list[LookupEvent]:
        """The most recently recorded events, optionally of one key, newest first."""
        if limit < 1:
            raise InvalidInputError(f"limit must be at least 1, got {limit}")
        query = select(*_EVENT_COLUMNS).order_by(LookupEventRow.id.desc()).limit(limit)
        if key_id is not None:
            if not 0 < key_id <= MAX_ID:
                return []
            query = query.where(LookupEventRow.key_id == key_id)
        with self._read() as connection:
            rows = connection.execute(query).all()
        return [
            LookupEvent(
                key_id=row.key_id,
                at=row.at,
                kind=LookupKind(row.kind),
                queries=row.queries,
                matches=row.matches,
                verdict=LookupVerdict(row.verdict),
            )
            for row in rows
        ]
