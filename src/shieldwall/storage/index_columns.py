"""An index load's read: PDQ signals as columns, aggregated by the database itself.

Fetching a million PDQ rows one tuple at a time costs several microseconds each in the
driver and SQLAlchemy (6.5 s of a worker's start-up at 1M hashes). Here each window of
entry ids comes back as one row per variant name and bank, holding two strings the
database built: the hashes' hex joined, and the entry ids as 16 hex digits each. Both
aggregates of one group see its rows in the same order (one pass over one input), which
is all the columns need; numpy turns the strings into arrays without a Python object per
hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
from sqlalchemy import Select, String, and_, func, literal_column, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from shieldwall.banks.models import EntryState, PdqColumns
from shieldwall.storage.tables import EntryRow, EntrySignalRow

HASH_BYTES: Final = 32


def pdq_columns(
    connection: Connection, bank_ids: Sequence[int], after: int, until: int
) -> PdqColumns:
    """PDQ signals of the banks' active entries with after < id <= until, as columns."""
    postgres = connection.dialect.name == "postgresql"
    groups = connection.execute(columns_query(bank_ids, after, until, postgres)).all()
    return _columns([(str(v), int(b), str(h), str(e)) for v, b, h, e in groups])


def columns_query(bank_ids: Sequence[int], after: int, until: int, postgres: bool) -> Select[Any]:
    """The aggregating query of `pdq_columns` (one row per variant name and bank)."""
    rows = (
        select(
            EntrySignalRow.value.label("value"),
            EntrySignalRow.entry_id.label("entry_id"),
            EntryRow.bank_id.label("bank_id"),
            EntrySignalRow.variant.label("variant"),
        )
        .join(EntryRow, EntryRow.id == EntrySignalRow.entry_id)
        .where(
            EntryRow.bank_id.in_(list(bank_ids)),
            EntryRow.state == EntryState.ACTIVE.value,
            and_(EntryRow.id > after, EntryRow.id <= until),
            # The same range on the signals' side lets PostgreSQL read them by their
            # (entry_id, ...) index instead of scanning every signal for each window.
            and_(EntrySignalRow.entry_id > after, EntrySignalRow.entry_id <= until),
            _not_by_index(EntrySignalRow.signal_type, postgres) == "pdq",
        )
        .subquery()
    )
    return select(
        rows.c.variant,
        rows.c.bank_id,
        _joined(rows.c.value, postgres),
        _joined(_hex16(rows.c.entry_id, postgres), postgres),
    ).group_by(rows.c.variant, rows.c.bank_id)


def _not_by_index(column: InstrumentedAttribute[str], postgres: bool) -> ColumnElement[str]:
    """The signal type, kept from steering SQLite's plan. Without statistics SQLite reads
    `signal_type = 'pdq'` through the (signal_type, value) index, which holds every PDQ
    signal of every bank, once per window of entry ids: a load of 1M hashes took two
    minutes (1.1 s a window). Through an expression, the plan follows the entries' id
    range and each entry's signals (10 ms a window)."""
    return column.expression if postgres else func.coalesce(column, "")


def _joined(column: ColumnElement[str], postgres: bool) -> ColumnElement[str]:
    if postgres:
        return func.string_agg(column, literal_column("''"))
    return func.group_concat(column, literal_column("''"))


def _hex16(column: ColumnElement[int], postgres: bool) -> ColumnElement[str]:
    """An id as 16 hex digits (ids are positive 63-bit integers)."""
    if postgres:
        return func.lpad(func.to_hex(column), 16, literal_column("'0'"))
    return func.printf(literal_column("'%016x'", String), column)


def _columns(groups: list[tuple[str, int, str, str]]) -> PdqColumns:
    """(variant, bank id, hashes hex, entry ids hex) per group -> one set of columns."""
    names = tuple(sorted({variant for variant, *_ in groups}))
    position = {name: at for at, name in enumerate(names)}
    counts = [len(hashes) // (2 * HASH_BYTES) for _, _, hashes, _ in groups]
    hashes = bytes.fromhex("".join(group[2] for group in groups))
    entry_ids = bytes.fromhex("".join(group[3] for group in groups))
    return PdqColumns(
        np.frombuffer(entry_ids, dtype=">i8").astype(np.int64),
        np.repeat(np.array([group[1] for group in groups], dtype=np.int64), counts),
        np.frombuffer(hashes, dtype=np.uint8).reshape(-1, HASH_BYTES).copy(),
        names,
        np.repeat(np.array([position[g[0]] for g in groups], dtype=np.intp), counts),
    )
