"""Queries and row conversions behind SqlBankRepository (one connection, caller's transaction)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from typing import Any, Final, TypeVar

from sqlalchemy import BigInteger, Row, Select, any_, bindparam, delete, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from shieldwall.banks.models import (
    Bank,
    BankPolicy,
    Entry,
    EntrySource,
    EntryState,
    IndexRow,
    MatchAction,
    Provenance,
)
from shieldwall.errors import NotFoundError
from shieldwall.signals.models import Signal
from shieldwall.storage.tables import BankAllowListRow, BankRow, EntryRow, EntrySignalRow

IN_CHUNK: Final = 900
"""Values per IN list on SQLite: under its oldest bound-parameter limit (999)."""

_T = TypeVar("_T")
_STATES: Final = {state.value: state for state in EntryState}


def chunks(values: Sequence[_T], size: int = IN_CHUNK) -> Iterator[Sequence[_T]]:
    """Consecutive slices of at most `size` values."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


# Banks


def find_bank_id(connection: Connection, name: str) -> int | None:
    """The id of the bank called `name`, or None."""
    return connection.execute(select(BankRow.id).where(BankRow.name == name)).scalar_one_or_none()


def bank_id(connection: Connection, name: str) -> int:
    """The id of the bank called `name`; NotFoundError if none."""
    found = find_bank_id(connection, name)
    if found is None:
        raise NotFoundError(f"no bank called {name!r}")
    return found


def policy_values(policy: BankPolicy) -> dict[str, Any]:
    """The bank columns that hold a policy (allow-lists live in their own table)."""
    return {
        "pdq_threshold": policy.pdq_threshold,
        "action": MatchAction(policy.action).value,
        "matching_ratio": policy.matching_ratio,
        "second_stage": policy.second_stage,
    }


def replace_allow_list(connection: Connection, owner_id: int, allow_ids: Collection[int]) -> None:
    """Make `allow_ids` the allow-list of bank `owner_id`."""
    connection.execute(delete(BankAllowListRow).where(BankAllowListRow.bank_id == owner_id))
    if allow_ids:
        connection.execute(
            insert(BankAllowListRow),
            [{"bank_id": owner_id, "allow_bank_id": other} for other in sorted(allow_ids)],
        )


_BANK_COLUMNS: Final = (
    BankRow.id,
    BankRow.name,
    BankRow.enabled,
    BankRow.pdq_threshold,
    BankRow.action,
    BankRow.matching_ratio,
    BankRow.second_stage,
    BankRow.created_at,
    BankRow.updated_at,
)


def _allow_lists(connection: Connection, owner_id: int | None) -> dict[int, list[str]]:
    query = (
        select(BankAllowListRow.bank_id, BankRow.name)
        .join(BankRow, BankRow.id == BankAllowListRow.allow_bank_id)
        .order_by(BankRow.name)
    )
    if owner_id is not None:
        query = query.where(BankAllowListRow.bank_id == owner_id)
    names: dict[int, list[str]] = defaultdict(list)
    for owner, name in connection.execute(query):
        names[owner].append(name)
    return names


def _bank(row: Row[*tuple[Any, ...]], allow_list: Sequence[str]) -> Bank:
    policy = BankPolicy(
        row.pdq_threshold,
        MatchAction(row.action),
        tuple(allow_list),
        row.matching_ratio,
        bool(row.second_stage),
    )
    return Bank(row.id, row.name, bool(row.enabled), policy, row.created_at, row.updated_at)


def load_bank(connection: Connection, owner_id: int) -> Bank:
    """One bank with its allow-list (names, sorted)."""
    row = connection.execute(select(*_BANK_COLUMNS).where(BankRow.id == owner_id)).one()
    return _bank(row, _allow_lists(connection, owner_id)[owner_id])


def load_banks(connection: Connection) -> list[Bank]:
    """Every bank, by name."""
    allow_lists = _allow_lists(connection, None)
    result = connection.execute(select(*_BANK_COLUMNS).order_by(BankRow.name))
    return [_bank(row, allow_lists[row.id]) for row in result]


# Entries


_ENTRY_COLUMNS: Final = (
    EntryRow.id,
    BankRow.name.label("bank"),
    EntryRow.state,
    EntryRow.source,
    EntryRow.submitted_by,
    EntryRow.case_id,
    EntryRow.note,
    EntryRow.user_metadata,
    EntryRow.created_at,
    EntryRow.updated_at,
)


def entry_query() -> Select[*tuple[Any, ...]]:
    """Entries joined with their bank's name, ready for `load_entries`."""
    return select(*_ENTRY_COLUMNS).join(BankRow, BankRow.id == EntryRow.bank_id)


def _id_filters(connection: Connection, column: Any, entry_ids: Sequence[int]) -> Iterator[Any]:
    """Conditions `column` in `entry_ids`, together covering every id."""
    if connection.dialect.name == "postgresql":
        # One array parameter: a long IN list, once psycopg prepares it, can get a generic
        # plan that scans the table.
        ids = bindparam("entry_ids", list(entry_ids), type_=ARRAY(BigInteger()))
        yield column == any_(ids)
        return
    for chunk in chunks(entry_ids):
        yield column.in_(chunk)


def _signals_of(connection: Connection, entry_ids: Sequence[int]) -> dict[int, list[Signal]]:
    signals: dict[int, list[Signal]] = defaultdict(list)
    if not entry_ids:
        return signals
    for condition in _id_filters(connection, EntrySignalRow.entry_id, entry_ids):
        result = connection.execute(
            select(
                EntrySignalRow.entry_id,
                EntrySignalRow.signal_type,
                EntrySignalRow.value,
                EntrySignalRow.variant,
                EntrySignalRow.quality,
            )
            .where(condition)
            .order_by(EntrySignalRow.entry_id, EntrySignalRow.id)
        )
        for entry_id, signal_type, value, variant, quality in result:
            # Stored values were validated on the way in; rebuilding skips re-validation.
            signals[entry_id].append(Signal(signal_type, value, variant, quality))
    return signals


def load_entries(connection: Connection, query: Select[*tuple[Any, ...]]) -> list[Entry]:
    """The entries `query` (built on `entry_query`) selects, with their signals."""
    found = connection.execute(query).all()
    signals = _signals_of(connection, [row.id for row in found])
    return [
        Entry(
            id=row.id,
            bank=row.bank,
            signals=tuple(signals[row.id]),
            provenance=Provenance(
                EntrySource(row.source), row.submitted_by, row.case_id, row.note, row.user_metadata
            ),
            state=EntryState(row.state),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        for row in found
    ]


def load_entry(connection: Connection, entry_id: int) -> Entry:
    """One entry with its signals; NotFoundError if none."""
    found = load_entries(connection, entry_query().where(EntryRow.id == entry_id))
    if not found:
        raise NotFoundError(f"no entry {entry_id}")
    return found[0]


def load_entries_by_id(connection: Connection, entry_ids: Sequence[int]) -> list[Entry]:
    """The entries with these ids that exist, in id order."""
    found: list[Entry] = []
    for condition in _id_filters(connection, EntryRow.id, entry_ids):
        found += load_entries(connection, entry_query().where(condition))
    return sorted(found, key=lambda entry: entry.id)


def load_index_rows_by_id(
    connection: Connection, entry_ids: Sequence[int]
) -> tuple[dict[int, EntryState], list[IndexRow]]:
    """States of the entries with these ids that exist, and all their signals as index rows."""
    states: dict[int, EntryState] = {}
    rows: list[IndexRow] = []
    for condition in _id_filters(connection, EntryRow.id, entry_ids):
        result = connection.execute(
            select(
                EntryRow.id,
                EntryRow.bank_id,
                EntryRow.state,
                EntrySignalRow.signal_type,
                EntrySignalRow.value,
                EntrySignalRow.variant,
            )
            .outerjoin(EntrySignalRow, EntrySignalRow.entry_id == EntryRow.id)
            .where(condition)
            .order_by(EntryRow.id, EntrySignalRow.id)
        )
        for entry_id, owner_id, state, signal_type, value, variant in result.all():
            states[entry_id] = _STATES[state]
            if signal_type is not None:
                rows.append(IndexRow(entry_id, owner_id, signal_type, value, variant))
    return states, rows
