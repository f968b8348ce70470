"""The change log (`entry_changes`): written in each change's transaction, read by tailers.

The writing functions run on the caller's connection, inside the caller's transaction, so
a change and its log row commit (or roll back) together. SqlChangeLog is the ChangeLog
port's adapter: each read in its own short transaction.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, insert, or_, select
from sqlalchemy.engine import Connection

from shieldwall.banks.models import ChangeKind, EntryChange
from shieldwall.errors import InvalidInputError, StorageError
from shieldwall.storage.sql_adapter import SqlAdapter
from shieldwall.storage.tables import MAX_ID, EntryChangeRow

RANGES_PER_QUERY: Final = 400
"""Seq ranges per statement: two bound parameters each, under SQLite's oldest limit (999)."""

# The new entries of one SQLite transaction are exactly the bank's entries in their id
# range: writers hold the database lock and AUTOINCREMENT ids only grow, so no other
# transaction's entries can lie in between.
_SQLITE_LOG_ADDED: Final = (
    "INSERT INTO entry_changes (kind, bank_id, entry_id, at) "
    "SELECT 'entry_added', bank_id, id, ? FROM entries "
    "WHERE bank_id = ? AND id BETWEEN ? AND ? ORDER BY id"
)
_PG_LOG_ADDED: Final = (
    "INSERT INTO entry_changes (kind, bank_id, entry_id, at) "
    "SELECT 'entry_added', %s, t.id, %s FROM unnest(%s::bigint[]) AS t(id) ORDER BY t.id"
)

_COLUMNS: Final = (
    EntryChangeRow.seq,
    EntryChangeRow.kind,
    EntryChangeRow.bank_id,
    EntryChangeRow.entry_id,
    EntryChangeRow.at,
)
_KINDS: Final = {kind.value: kind for kind in ChangeKind}


def log_change(
    connection: Connection,
    kind: ChangeKind,
    bank_id: int,
    at: datetime,
    entry_id: int | None = None,
) -> None:
    """Record one change to a bank or an entry."""
    connection.execute(
        insert(EntryChangeRow).values(kind=kind.value, bank_id=bank_id, entry_id=entry_id, at=at)
    )


def log_added_entries(
    connection: Connection, owner_id: int, entry_ids: Sequence[int], stored_at: Any
) -> None:
    """Record `entry_added` for new entries of one bank in one statement (the import path).

    `stored_at` is the timestamp already converted for the driver (see bulk.py).
    """
    if not entry_ids:
        return
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_PG_LOG_ADDED, (owner_id, stored_at, sorted(entry_ids)))
        return
    parameters = (stored_at, owner_id, min(entry_ids), max(entry_ids))
    connection.exec_driver_sql(_SQLITE_LOG_ADDED, parameters)


def latest_seq(connection: Connection) -> int:
    """The highest seq visible to this transaction (0 when the log is empty)."""
    found = connection.execute(select(func.max(EntryChangeRow.seq))).scalar_one_or_none()
    return int(found or 0)


def _changes(rows: Sequence[Any]) -> list[EntryChange]:
    changes = []
    for seq, kind, bank_id, entry_id, at in rows:
        known = _KINDS.get(kind)
        if known is None:  # written by a newer Shieldwall: guessing could lose a change
            raise StorageError(f"unknown change kind {kind!r} at seq {seq}: upgrade Shieldwall")
        changes.append(EntryChange(seq, known, bank_id, entry_id, at))
    return changes


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise InvalidInputError(f"limit must be at least 1, got {limit}")


def changes_since(connection: Connection, seq: int, limit: int) -> list[EntryChange]:
    """Up to `limit` changes with seq > `seq`, in seq order."""
    _check_limit(limit)
    if seq >= MAX_ID:
        return []
    query = (
        select(*_COLUMNS)
        .where(EntryChangeRow.seq > max(seq, 0))
        .order_by(EntryChangeRow.seq)
        .limit(limit)
    )
    return _changes(connection.execute(query).all())


def changes_in(
    connection: Connection, ranges: Sequence[tuple[int, int]], limit: int
) -> list[EntryChange]:
    """Up to `limit` changes whose seq lies in any inclusive (first, last) range, by seq."""
    _check_limit(limit)
    clipped = ((max(first, 1), min(last, MAX_ID)) for first, last in ranges)
    wanted = [(first, last) for first, last in clipped if first <= last]
    found: list[list[EntryChange]] = []
    for start in range(0, len(wanted), RANGES_PER_QUERY):
        chunk = wanted[start : start + RANGES_PER_QUERY]
        query = (
            select(*_COLUMNS)
            .where(or_(*(EntryChangeRow.seq.between(first, last) for first, last in chunk)))
            .order_by(EntryChangeRow.seq)
            .limit(limit)
        )
        found.append(_changes(connection.execute(query).all()))
    merged: list[EntryChange] = []
    seen: set[int] = set()  # overlapping ranges in two chunks could find a row twice
    for change in heapq.merge(*found, key=lambda change: change.seq):
        if change.seq not in seen:
            seen.add(change.seq)
            merged.append(change)
            if len(merged) == limit:
                break
    return merged


class SqlChangeLog(SqlAdapter):
    """ChangeLog on SQLite or PostgreSQL: what SqlBankRepository writes on the same engine."""

    def latest_change_seq(self) -> int:
        """The highest seq in the change log visible now (0 when it is empty)."""
        with self._read() as connection:
            return latest_seq(connection)

    def changes_since(self, seq: int, limit: int = 10_000) -> list[EntryChange]:
        """Up to `limit` changes with seq > `seq`, in seq order."""
        with self._read() as connection:
            return changes_since(connection, seq, limit)

    def changes_in(
        self, ranges: Sequence[tuple[int, int]], limit: int = 10_000
    ) -> list[EntryChange]:
        """Up to `limit` changes whose seq lies in any inclusive (first, last) range, by seq."""
        with self._read() as connection:
            return changes_in(connection, ranges, limit)
