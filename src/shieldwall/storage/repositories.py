"""SQL adapter of BankRepository: SQLite and PostgreSQL through SQLAlchemy Core."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

from sqlalchemy import Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from shieldwall.banks.models import (
    AddedEntry,
    Bank,
    BankPolicy,
    ChangeKind,
    Entry,
    EntryState,
    IndexBatch,
    IndexRow,
    NewEntry,
    Provenance,
    parse_entry_state,
    validate_bank_name,
)
from shieldwall.clock import Clock, utc_now
from shieldwall.errors import ConflictError, InvalidInputError, NotFoundError
from shieldwall.storage import bank_rows as rows
from shieldwall.storage import change_log
from shieldwall.storage.bulk import find_existing, insert_new_entries
from shieldwall.storage.index_columns import pdq_columns
from shieldwall.storage.sql_adapter import SqlAdapter
from shieldwall.storage.tables import MAX_ID, BankRow, EntryRow, EntrySignalRow

INDEX_WINDOW: Final = 10_000
"""Entry ids read per transaction when loading index rows (tens of milliseconds each)."""


def _store_metadata(
    connection: Connection, new_entries: Sequence[tuple[str, NewEntry]], new_ids: dict[str, int]
) -> None:
    """Write the submitters' metadata of just-inserted entries (the bulk insert leaves "")."""
    values = [
        {"entry_id": new_ids[key], "metadata": entry.provenance.metadata}
        for key, entry in new_entries
        if entry.provenance.metadata and key in new_ids
    ]
    if values:
        connection.execute(
            update(EntryRow)
            .where(EntryRow.id == bindparam("entry_id"))
            .values(user_metadata=bindparam("metadata")),
            values,
        )


def _index_rows(
    connection: Connection, bank_ids: list[int], after: int, until: int, *, pdq: bool = True
) -> list[IndexRow]:
    """Matchable signals of the banks' active entries with after < id <= until, by entry id
    (without PDQ hashes if not `pdq`: an index load reads those as columns)."""
    query = (
        select(
            EntrySignalRow.entry_id,
            EntryRow.bank_id,
            EntrySignalRow.signal_type,
            EntrySignalRow.value,
            EntrySignalRow.variant,
        )
        .join(EntryRow, EntryRow.id == EntrySignalRow.entry_id)
        .where(
            EntryRow.bank_id.in_(bank_ids),
            EntryRow.state == EntryState.ACTIVE.value,
            EntryRow.id > after,
            EntryRow.id <= until,
            EntrySignalRow.entry_id > after,  # the signals' own index, on PostgreSQL too
            EntrySignalRow.entry_id <= until,
            *(() if pdq else (EntrySignalRow.signal_type != "pdq",)),
        )
        .order_by(EntryRow.id, EntrySignalRow.id)
    )
    return [IndexRow(*row) for row in connection.execute(query).all()]  # one fetchall


def _check_entry_id(entry_id: int) -> None:
    # Out-of-range ids would overflow the drivers' integer conversion; none can exist.
    if not 0 < entry_id <= MAX_ID:
        raise NotFoundError(f"no entry {entry_id}")


class SqlBankRepository(SqlAdapter):
    """BankRepository on SQLite or PostgreSQL; every method runs in one transaction."""

    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        super().__init__(engine)
        self._clock = clock

    # Banks

    def create_bank(self, name: str, policy: BankPolicy) -> Bank:
        """Create a bank; ConflictError if the name is taken."""
        validate_bank_name(name)
        with self._write() as connection:
            if rows.find_bank_id(connection, name) is not None:
                raise ConflictError(f"bank {name!r} already exists")
            allow_ids = self._allow_list_ids(connection, name, policy)
            now = self._clock()
            try:
                bank_id = connection.execute(
                    insert(BankRow)
                    .values(name=name, enabled=True, created_at=now, updated_at=now)
                    .values(rows.policy_values(policy))
                    .returning(BankRow.id)
                ).scalar_one()
            except IntegrityError:  # created by another process since the check above
                raise ConflictError(f"bank {name!r} already exists") from None
            rows.replace_allow_list(connection, bank_id, allow_ids)
            change_log.log_change(connection, ChangeKind.BANK_CREATED, bank_id, now)
            return rows.load_bank(connection, bank_id)

    def get_bank(self, name: str) -> Bank:
        """The bank called `name`; NotFoundError if none."""
        with self._read() as connection:
            return rows.load_bank(connection, rows.bank_id(connection, name))

    def list_banks(self) -> list[Bank]:
        """All banks, by name."""
        with self._read() as connection:
            return rows.load_banks(connection)

    def rename_bank(self, name: str, new_name: str) -> Bank:
        """Rename a bank (allow-lists that name it follow); ConflictError if taken."""
        validate_bank_name(new_name)
        with self._write() as connection:
            bank_id = rows.bank_id(connection, name)
            if new_name != name:
                if rows.find_bank_id(connection, new_name) is not None:
                    raise ConflictError(f"bank {new_name!r} already exists")
                try:
                    self._update_bank(connection, bank_id, name=new_name)
                except IntegrityError:
                    raise ConflictError(f"bank {new_name!r} already exists") from None
                self._log(connection, ChangeKind.BANK_CHANGED, bank_id)
            return rows.load_bank(connection, bank_id)

    def set_bank_enabled(self, name: str, enabled: bool) -> Bank:
        """Enable or disable a bank; disabled banks never match."""
        with self._write() as connection:
            bank_id = rows.bank_id(connection, name)
            before = rows.load_bank(connection, bank_id)
            if before.enabled == bool(enabled):
                return before
            self._update_bank(connection, bank_id, enabled=bool(enabled))
            self._log(connection, ChangeKind.BANK_CHANGED, bank_id)
            return rows.load_bank(connection, bank_id)

    def set_policy(self, name: str, policy: BankPolicy) -> Bank:
        """Replace a bank's policy; allow-list banks must exist and differ from this one."""
        with self._write() as connection:
            bank_id = rows.bank_id(connection, name)
            allow_ids = self._allow_list_ids(connection, name, policy)
            before = rows.load_bank(connection, bank_id).policy
            self._update_bank(connection, bank_id, **rows.policy_values(policy))
            rows.replace_allow_list(connection, bank_id, allow_ids)
            bank = rows.load_bank(connection, bank_id)
            if bank.policy != before:
                self._log(connection, ChangeKind.BANK_CHANGED, bank_id)
            return bank

    def delete_bank(self, name: str) -> None:
        """Delete a bank and its entries (and its place in other banks' allow-lists)."""
        with self._write() as connection:
            bank_id = rows.bank_id(connection, name)
            connection.execute(delete(BankRow).where(BankRow.id == bank_id))
            self._log(connection, ChangeKind.BANK_DELETED, bank_id)

    def _log(
        self, connection: Connection, kind: ChangeKind, bank_id: int, entry_id: int | None = None
    ) -> None:
        change_log.log_change(connection, kind, bank_id, self._clock(), entry_id)

    def _update_bank(self, connection: Connection, bank_id: int, **values: object) -> None:
        connection.execute(
            update(BankRow).where(BankRow.id == bank_id).values(updated_at=self._clock(), **values)
        )

    @staticmethod
    def _allow_list_ids(connection: Connection, name: str, policy: BankPolicy) -> set[int]:
        if name in policy.allow_list_banks:
            raise InvalidInputError(f"bank {name!r} cannot allow-list itself")
        return {rows.bank_id(connection, other) for other in policy.allow_list_banks}

    # Entries

    def add_entries(self, bank: str, entries: Sequence[NewEntry]) -> list[AddedEntry]:
        """Add entries in one transaction, each in its own state; a known key returns its entry."""
        keys = [entry.dedupe_key for entry in entries]
        with self._write() as connection:
            bank_id = rows.bank_id(connection, bank)
            existing = find_existing(connection, bank_id, set(keys))
            first_index: dict[str, int] = {}
            for index, key in enumerate(keys):
                if key not in existing and key not in first_index:
                    first_index[key] = index
            new_entries = [(key, entries[index]) for key, index in first_index.items()]
            new_ids = insert_new_entries(connection, bank_id, new_entries, self._clock())
            _store_metadata(connection, new_entries, new_ids)
            raced = [key for key, _ in new_entries if key not in new_ids]
            if raced:  # added by a concurrent import since the lookup (PostgreSQL only)
                existing.update(find_existing(connection, bank_id, raced))
                if any(key not in existing for key in raced):
                    raise ConflictError("the bank changed during the import; retry it")
        added: list[AddedEntry] = []
        for index, key in enumerate(keys):
            if key in existing:
                entry_id, state = existing[key]
                added.append(AddedEntry(entry_id, False, state))
            else:
                first = first_index[key]
                added.append(AddedEntry(new_ids[key], first == index, entries[first].state))
        return added

    def get_entry(self, entry_id: int) -> Entry:
        """One entry with its signals; NotFoundError if none."""
        _check_entry_id(entry_id)
        with self._read() as connection:
            return rows.load_entry(connection, entry_id)

    def set_entry_state(self, entry_id: int, state: EntryState) -> Entry:
        """Move an entry to a state. Withdrawn is final (ConflictError on any change)."""
        _check_entry_id(entry_id)
        state = parse_entry_state(state)
        with self._write() as connection:
            found = connection.execute(
                select(EntryRow.state, EntryRow.bank_id)
                .where(EntryRow.id == entry_id)
                .with_for_update()
            ).one_or_none()
            if found is None:
                raise NotFoundError(f"no entry {entry_id}")
            current, owner_id = found
            if current == EntryState.WITHDRAWN and state != EntryState.WITHDRAWN:
                raise ConflictError(f"entry {entry_id} is withdrawn; withdrawal is final")
            if current != state:
                connection.execute(
                    update(EntryRow)
                    .where(EntryRow.id == entry_id)
                    .values(state=state.value, updated_at=self._clock())
                )
                self._log(connection, ChangeKind.ENTRY_STATE, owner_id, entry_id)
            return rows.load_entry(connection, entry_id)

    def set_entry_note(self, entry_id: int, note: str) -> Entry:
        """Replace an entry's note (matching does not read it: no change is logged)."""
        _check_entry_id(entry_id)
        Provenance(note=note)  # the same checks as when the entry was added
        with self._write() as connection:
            updated = connection.execute(
                update(EntryRow)
                .where(EntryRow.id == entry_id)
                .values(note=note, updated_at=self._clock())
            )
            if updated.rowcount == 0:
                raise NotFoundError(f"no entry {entry_id}")
            return rows.load_entry(connection, entry_id)

    def get_entries(self, entry_ids: Sequence[int]) -> list[Entry]:
        """The entries with these ids that exist, in id order (missing ids are skipped)."""
        wanted = sorted({int(entry_id) for entry_id in entry_ids if 0 < entry_id <= MAX_ID})
        if not wanted:
            return []
        with self._read() as connection:
            return rows.load_entries_by_id(connection, wanted)

    def index_rows_by_id(
        self, entry_ids: Sequence[int]
    ) -> tuple[dict[int, EntryState], list[IndexRow]]:
        """States of the entries with these ids that exist, and all their signals as rows."""
        wanted = sorted({int(entry_id) for entry_id in entry_ids if 0 < entry_id <= MAX_ID})
        if not wanted:
            return {}, []
        with self._read() as connection:
            return rows.load_index_rows_by_id(connection, wanted)

    def active_ids(self, entry_ids: Sequence[int]) -> set[int]:
        """Which of these entries exist and are active: one indexed query on entry rows."""
        wanted = sorted({int(entry_id) for entry_id in entry_ids if 0 < entry_id <= MAX_ID})
        if not wanted:
            return set()
        with self._read() as connection:
            found = connection.execute(
                select(EntryRow.id).where(
                    EntryRow.id.in_(wanted), EntryRow.state == EntryState.ACTIVE.value
                )
            ).scalars()
            return set(found)

    def list_entries(
        self, bank: str, after_id: int = 0, limit: int = 1000, state: EntryState | None = None
    ) -> list[Entry]:
        """Entries of a bank with id > after_id, in id order (cursor pagination)."""
        if limit < 1:
            raise InvalidInputError(f"limit must be at least 1, got {limit}")
        with self._read() as connection:
            bank_id = rows.bank_id(connection, bank)
            query = (
                rows.entry_query()
                .where(EntryRow.bank_id == bank_id, EntryRow.id > min(after_id, MAX_ID))
                .order_by(EntryRow.id)
                .limit(limit)
            )
            if state is not None:
                query = query.where(EntryRow.state == parse_entry_state(state).value)
            return rows.load_entries(connection, query)

    def count_entries(self, bank: str) -> dict[EntryState, int]:
        """How many entries a bank holds, per state (every state listed, zeros included)."""
        with self._read() as connection:
            bank_id = rows.bank_id(connection, bank)
            counts = dict.fromkeys(EntryState, 0)
            result = connection.execute(
                select(EntryRow.state, func.count())
                .where(EntryRow.bank_id == bank_id)
                .group_by(EntryRow.state)
            )
            for state, count in result:
                counts[EntryState(state)] = count
            return counts

    def iter_index_rows(
        self, bank_ids: Sequence[int], batch_size: int = 50_000
    ) -> Iterator[list[IndexRow]]:
        """Matchable signals (active entries) of the given banks, in batches, by entry id.

        Read a window of entry ids at a time, each in its own short transaction: one
        snapshot held over a whole load would stop SQLite from resetting its log (and
        PostgreSQL's vacuum) for as long as the load takes. Changes between windows reach
        a matcher through the change log, tailed from a position read before the load.
        """
        if batch_size < 1:
            raise InvalidInputError(f"batch size must be at least 1, got {batch_size}")
        wanted = sorted({int(bank_id) for bank_id in bank_ids if 0 < bank_id <= MAX_ID})
        pending: list[IndexRow] = []
        for start, until in self._index_windows(wanted):
            with self._read() as connection:
                pending += _index_rows(connection, wanted, start, until)
            while len(pending) >= batch_size:
                yield pending[:batch_size]
                pending = pending[batch_size:]
        if pending:
            yield pending

    def iter_index_batches(self, bank_ids: Sequence[int]) -> Iterator[IndexBatch]:
        """A window of entry ids at a time, each in its own short transaction (as above):
        PDQ hashes as columns the database aggregates, the other signals as rows."""
        wanted = sorted({int(bank_id) for bank_id in bank_ids if 0 < bank_id <= MAX_ID})
        for start, until in self._index_windows(wanted):
            with self._read() as connection:
                columns = pdq_columns(connection, wanted, start, until)
                others = _index_rows(connection, wanted, start, until, pdq=False)
            yield IndexBatch(columns, others)

    def _index_windows(self, bank_ids: list[int]) -> Iterator[tuple[int, int]]:
        """(after, until] windows of INDEX_WINDOW entry ids covering the banks' entries."""
        if not bank_ids:
            return
        with self._read() as connection:
            first, last = connection.execute(
                select(func.min(EntryRow.id), func.max(EntryRow.id)).where(
                    EntryRow.bank_id.in_(bank_ids)
                )
            ).one()
        if first is None:
            return
        for start in range(int(first) - 1, int(last), INDEX_WINDOW):
            yield start, start + INDEX_WINDOW

    # Health

    def ping(self) -> None:
        """One trivial query: StorageError if the database cannot be reached."""
        with self._read() as connection:
            connection.execute(select(1))
