"""Bulk insert of new entries and their signals: the hot path of imports.

Per-row work in SQLAlchemy's parameter handling costs more than the database itself at
thousands of rows per call, so rows go to the driver as plain tuples: `executemany` on
SQLite, and on PostgreSQL one `INSERT .. SELECT FROM unnest(arrays)` per table (one round
trip each, whatever the batch size). Everything runs on the caller's connection, inside
the caller's transaction, which also records one `entry_added` change per new entry
(one more statement per batch, see change_log.py). On SQLite a large batch also has its
connection copy the log pages it wrote back once it commits (engine.checkpoint_after_commit).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy.engine import Connection

from shieldwall.banks.models import EntrySource, EntryState, NewEntry
from shieldwall.storage.change_log import log_added_entries
from shieldwall.storage.engine import checkpoint_after_commit
from shieldwall.storage.tables import UtcDateTime

_ENTRY_COLUMNS: Final = (
    "bank_id, dedupe_key, state, source, submitted_by, case_id, note, created_at, updated_at"
)
_SIGNAL_COLUMNS: Final = "entry_id, signal_type, value, variant, quality"

_SQLITE_INSERT_ENTRIES: Final = f"INSERT INTO entries ({_ENTRY_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)"
_SQLITE_INSERT_SIGNALS: Final = f"INSERT INTO entry_signals ({_SIGNAL_COLUMNS}) VALUES (?,?,?,?,?)"
_SQLITE_FIND: Final = (
    "SELECT dedupe_key, id, state FROM entries WHERE bank_id = ? AND dedupe_key IN ({marks})"
)
_SQLITE_IN_CHUNK: Final = 900  # under the oldest SQLite bound-parameter limit (999)
CHECKPOINT_AFTER: Final = 500
"""New entries from which a write copies its own log pages back after its commit (SQLite):
an import batch, not a web request adding one entry (the background checkpointer's job)."""

# One array parameter rather than an IN list: a prepared IN list of hundreds of values
# gets a generic plan that scans the whole table once psycopg prepares it.
_PG_FIND: Final = (
    "SELECT dedupe_key, id, state FROM entries WHERE bank_id = %s AND dedupe_key = ANY(%s::text[])"
)
_PG_INSERT_ENTRIES: Final = f"""
INSERT INTO entries ({_ENTRY_COLUMNS})
SELECT %s, t.dedupe_key, t.state, t.source, t.submitted_by, t.case_id, t.note, %s, %s
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])
    AS t(dedupe_key, state, source, submitted_by, case_id, note)
ON CONFLICT (bank_id, dedupe_key) DO NOTHING
RETURNING dedupe_key, id
"""
_PG_INSERT_SIGNALS: Final = f"""
INSERT INTO entry_signals ({_SIGNAL_COLUMNS})
SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::smallint[])
"""


# Enum attribute access is slow at this volume; plain dictionaries are not.
_STATES: Final = {state.value: state for state in EntryState}
_STATE_VALUES: Final = {state: state.value for state in EntryState}
_SOURCE_VALUES: Final = {source: source.value for source in EntrySource}


def find_existing(
    connection: Connection, owner_id: int, keys: Collection[str]
) -> dict[str, tuple[int, EntryState]]:
    """Id and state of the entries of a bank that hold any of the dedupe `keys`."""
    found: dict[str, tuple[int, EntryState]] = {}
    if connection.dialect.name == "postgresql":
        result = connection.exec_driver_sql(_PG_FIND, (owner_id, list(keys)))
        return {key: (entry_id, _STATES[state]) for key, entry_id, state in result.all()}
    ordered = sorted(keys)
    for start in range(0, len(ordered), _SQLITE_IN_CHUNK):
        chunk = ordered[start : start + _SQLITE_IN_CHUNK]
        query = _SQLITE_FIND.format(marks=",".join("?" * len(chunk)))
        result = connection.exec_driver_sql(query, (owner_id, *chunk))
        found.update((key, (entry_id, _STATES[state])) for key, entry_id, state in result.all())
    return found


def _stored_timestamp(connection: Connection, now: datetime) -> Any:
    # The column type's own conversion, applied once per batch instead of once per row.
    dialect = connection.dialect
    processor = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
    return processor(now) if processor is not None else now


def _entry_rows(owner_id: int, new_entries: Sequence[tuple[str, NewEntry]], now: Any) -> list[Any]:
    states, sources = _STATE_VALUES, _SOURCE_VALUES
    return [
        (
            owner_id,
            key,
            states[entry.state],
            sources[entry.provenance.source],
            entry.provenance.submitted_by,
            entry.provenance.case_id,
            entry.provenance.note,
            now,
            now,
        )
        for key, entry in new_entries
    ]


def _signal_rows(
    new_entries: Sequence[tuple[str, NewEntry]], ids: dict[str, int]
) -> list[tuple[int, str, str, str, int | None]]:
    return [
        (ids[key], signal.type, signal.value, signal.variant, signal.quality)
        for key, entry in new_entries
        if key in ids
        for signal in entry.signals
    ]


def insert_new_entries(
    connection: Connection,
    owner_id: int,
    new_entries: Sequence[tuple[str, NewEntry]],
    now: datetime,
) -> dict[str, int]:
    """Insert entries whose dedupe keys are distinct and new to the bank; their ids by key.

    Each inserted entry gets an `entry_added` row in the change log.

    On PostgreSQL a key that a concurrent transaction committed meanwhile is skipped (and
    missing from the answer); SQLite writers hold the database lock, so none can appear.
    """
    if not new_entries:
        return {}
    if len(new_entries) >= CHECKPOINT_AFTER:
        checkpoint_after_commit(connection)
    stored_now = _stored_timestamp(connection, now)
    if connection.dialect.name == "postgresql":
        return _insert_postgresql(connection, owner_id, new_entries, stored_now)
    return _insert_sqlite(connection, owner_id, new_entries, stored_now)


def _insert_sqlite(
    connection: Connection,
    owner_id: int,
    new_entries: Sequence[tuple[str, NewEntry]],
    now: Any,
) -> dict[str, int]:
    connection.exec_driver_sql(_SQLITE_INSERT_ENTRIES, _entry_rows(owner_id, new_entries, now))
    found = find_existing(connection, owner_id, [key for key, _ in new_entries])
    ids = {key: entry_id for key, (entry_id, _) in found.items()}
    connection.exec_driver_sql(_SQLITE_INSERT_SIGNALS, _signal_rows(new_entries, ids))
    log_added_entries(connection, owner_id, list(ids.values()), now)
    return ids


def _insert_postgresql(
    connection: Connection,
    owner_id: int,
    new_entries: Sequence[tuple[str, NewEntry]],
    now: Any,
) -> dict[str, int]:
    provenances = [entry.provenance for _, entry in new_entries]
    parameters = (
        owner_id,
        now,
        now,
        [key for key, _ in new_entries],
        [_STATE_VALUES[entry.state] for _, entry in new_entries],
        [_SOURCE_VALUES[provenance.source] for provenance in provenances],
        [provenance.submitted_by for provenance in provenances],
        [provenance.case_id for provenance in provenances],
        [provenance.note for provenance in provenances],
    )
    result = connection.exec_driver_sql(_PG_INSERT_ENTRIES, parameters)
    ids: dict[str, int] = dict(result.all())
    signal_rows = _signal_rows(new_entries, ids)
    if signal_rows:
        signal_columns = list(zip(*signal_rows, strict=True))
        connection.exec_driver_sql(_PG_INSERT_SIGNALS, tuple(map(list, signal_columns)))
    log_added_entries(connection, owner_id, list(ids.values()), now)
    return ids
