"""In-memory BankRepository and ChangeLog: the SQL adapters' semantics without a database
(for tests)."""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from shieldwall.banks.models import (
    AddedEntry,
    Bank,
    BankPolicy,
    ChangeKind,
    Entry,
    EntryChange,
    EntryState,
    IndexBatch,
    IndexRow,
    NewEntry,
    parse_entry_state,
    pdq_columns_of,
    validate_bank_name,
)
from shieldwall.clock import Clock, utc_now
from shieldwall.errors import ConflictError, InvalidInputError, NotFoundError


@dataclass
class _BankRecord:
    id: int
    name: str
    enabled: bool
    policy: BankPolicy
    allow_ids: set[int]
    created_at: datetime
    updated_at: datetime
    entry_ids: list[int] = field(default_factory=list)  # ascending: ids only ever grow
    keys: dict[str, int] = field(default_factory=dict)


@dataclass
class _EntryRecord:
    entry: Entry
    bank_id: int


class InMemoryBankRepository:
    """BankRepository held in dictionaries; thread-safe, ids never reused."""

    def __init__(self, clock: Clock = utc_now, change_log: InMemoryChangeLog | None = None) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self.change_log = InMemoryChangeLog() if change_log is None else change_log
        """The change log this repository writes (the ChangeLog fake to read it through)."""
        self._banks: dict[int, _BankRecord] = {}
        self._entries: dict[int, _EntryRecord] = {}
        self._bank_ids = itertools.count(1)
        self._entry_ids = itertools.count(1)

    def _log(self, kind: ChangeKind, bank_id: int, entry_id: int | None = None) -> None:
        # Callers hold the lock: seqs become visible in order, as on SQLite.
        self.change_log.append(kind, bank_id, entry_id, self._clock())

    # Banks

    def _find(self, name: str) -> _BankRecord | None:
        return next((bank for bank in self._banks.values() if bank.name == name), None)

    def _record(self, name: str) -> _BankRecord:
        bank = self._find(name)
        if bank is None:
            raise NotFoundError(f"no bank called {name!r}")
        return bank

    def _bank(self, record: _BankRecord) -> Bank:
        allow = tuple(sorted(self._banks[other].name for other in record.allow_ids))
        policy = replace(record.policy, allow_list_banks=allow)
        return Bank(
            record.id, record.name, record.enabled, policy, record.created_at, record.updated_at
        )

    def _allow_ids(self, name: str, policy: BankPolicy) -> set[int]:
        if name in policy.allow_list_banks:
            raise InvalidInputError(f"bank {name!r} cannot allow-list itself")
        return {self._record(other).id for other in policy.allow_list_banks}

    def create_bank(self, name: str, policy: BankPolicy) -> Bank:
        """Create a bank; ConflictError if the name is taken."""
        validate_bank_name(name)
        with self._lock:
            if self._find(name) is not None:
                raise ConflictError(f"bank {name!r} already exists")
            allow_ids = self._allow_ids(name, policy)
            now = self._clock()
            record = _BankRecord(next(self._bank_ids), name, True, policy, allow_ids, now, now)
            self._banks[record.id] = record
            self._log(ChangeKind.BANK_CREATED, record.id)
            return self._bank(record)

    def get_bank(self, name: str) -> Bank:
        """The bank called `name`; NotFoundError if none."""
        with self._lock:
            return self._bank(self._record(name))

    def list_banks(self) -> list[Bank]:
        """All banks, by name."""
        with self._lock:
            return [self._bank(b) for b in sorted(self._banks.values(), key=lambda b: b.name)]

    def rename_bank(self, name: str, new_name: str) -> Bank:
        """Rename a bank (allow-lists that name it follow); ConflictError if taken."""
        validate_bank_name(new_name)
        with self._lock:
            record = self._record(name)
            if new_name != name:
                if self._find(new_name) is not None:
                    raise ConflictError(f"bank {new_name!r} already exists")
                record.name = new_name
                record.updated_at = self._clock()
                self._log(ChangeKind.BANK_CHANGED, record.id)
                for entry_id in record.entry_ids:
                    stored = self._entries[entry_id]
                    stored.entry = replace(stored.entry, bank=new_name)
            return self._bank(record)

    def set_bank_enabled(self, name: str, enabled: bool) -> Bank:
        """Enable or disable a bank; disabled banks never match."""
        with self._lock:
            record = self._record(name)
            if record.enabled != bool(enabled):
                self._log(ChangeKind.BANK_CHANGED, record.id)
            record.enabled = bool(enabled)
            record.updated_at = self._clock()
            return self._bank(record)

    def set_policy(self, name: str, policy: BankPolicy) -> Bank:
        """Replace a bank's policy; allow-list banks must exist and differ from this one."""
        with self._lock:
            record = self._record(name)
            before = self._bank(record).policy
            record.allow_ids = self._allow_ids(name, policy)
            record.policy = policy
            record.updated_at = self._clock()
            bank = self._bank(record)
            if bank.policy != before:
                self._log(ChangeKind.BANK_CHANGED, record.id)
            return bank

    def delete_bank(self, name: str) -> None:
        """Delete a bank and its entries (and its place in other banks' allow-lists)."""
        with self._lock:
            record = self._record(name)
            for entry_id in record.entry_ids:
                del self._entries[entry_id]
            del self._banks[record.id]
            for other in self._banks.values():
                other.allow_ids.discard(record.id)
            self._log(ChangeKind.BANK_DELETED, record.id)

    # Entries

    def add_entries(self, bank: str, entries: Sequence[NewEntry]) -> list[AddedEntry]:
        """Add entries at once, each in its own state; a known dedupe key returns its entry."""
        keys = [entry.dedupe_key for entry in entries]
        with self._lock:
            record = self._record(bank)
            now = self._clock()
            added: list[AddedEntry] = []
            for key, new in zip(keys, entries, strict=True):
                known = record.keys.get(key)
                if known is not None:
                    added.append(AddedEntry(known, False, self._entries[known].entry.state))
                    continue
                entry = Entry(
                    id=next(self._entry_ids),
                    bank=record.name,
                    signals=tuple(new.signals),
                    provenance=new.provenance,
                    state=new.state,
                    created_at=now,
                    updated_at=now,
                )
                self._entries[entry.id] = _EntryRecord(entry, record.id)
                record.entry_ids.append(entry.id)
                record.keys[key] = entry.id
                self._log(ChangeKind.ENTRY_ADDED, record.id, entry.id)
                added.append(AddedEntry(entry.id, True, entry.state))
            return added

    def _entry(self, entry_id: int) -> _EntryRecord:
        stored = self._entries.get(entry_id)
        if stored is None:
            raise NotFoundError(f"no entry {entry_id}")
        return stored

    def get_entry(self, entry_id: int) -> Entry:
        """One entry with its signals; NotFoundError if none."""
        with self._lock:
            return self._entry(entry_id).entry

    def set_entry_state(self, entry_id: int, state: EntryState) -> Entry:
        """Move an entry to a state. Withdrawn is final (ConflictError on any change)."""
        state = parse_entry_state(state)
        with self._lock:
            stored = self._entry(entry_id)
            current = stored.entry.state
            if current == EntryState.WITHDRAWN and state != EntryState.WITHDRAWN:
                raise ConflictError(f"entry {entry_id} is withdrawn; withdrawal is final")
            if current != state:
                stored.entry = replace(stored.entry, state=state, updated_at=self._clock())
                self._log(ChangeKind.ENTRY_STATE, stored.bank_id, entry_id)
            return stored.entry

    def set_entry_note(self, entry_id: int, note: str) -> Entry:
        """Replace an entry's note (matching does not read it: no change is logged)."""
        with self._lock:
            stored = self._entry(entry_id)
            provenance = replace(stored.entry.provenance, note=note)
            stored.entry = replace(stored.entry, provenance=provenance, updated_at=self._clock())
            return stored.entry

    def get_entries(self, entry_ids: Sequence[int]) -> list[Entry]:
        """The entries with these ids that exist, in id order (missing ids are skipped)."""
        with self._lock:
            found = (self._entries.get(entry_id) for entry_id in sorted(set(entry_ids)))
            return [stored.entry for stored in found if stored is not None]

    def index_rows_by_id(
        self, entry_ids: Sequence[int]
    ) -> tuple[dict[int, EntryState], list[IndexRow]]:
        """States of the entries with these ids that exist, and all their signals as rows."""
        with self._lock:
            entries = self.get_entries(entry_ids)  # the one read by id (tests wrap it)
            bank_ids = {record.name: record.id for record in self._banks.values()}
        states = {entry.id: entry.state for entry in entries}
        rows = [
            IndexRow(entry.id, bank_ids[entry.bank], signal.type, signal.value, signal.variant)
            for entry in entries
            for signal in entry.signals
        ]
        return states, rows

    def active_ids(self, entry_ids: Sequence[int]) -> set[int]:
        """Which of these entries exist and are active."""
        with self._lock:
            found = (self._entries.get(entry_id) for entry_id in set(entry_ids))
            return {
                s.entry.id for s in found if s is not None and s.entry.state is EntryState.ACTIVE
            }

    def list_entries(
        self, bank: str, after_id: int = 0, limit: int = 1000, state: EntryState | None = None
    ) -> list[Entry]:
        """Entries of a bank with id > after_id, in id order (cursor pagination)."""
        if limit < 1:
            raise InvalidInputError(f"limit must be at least 1, got {limit}")
        wanted = None if state is None else parse_entry_state(state)
        with self._lock:
            ids = self._record(bank).entry_ids
            found: list[Entry] = []
            for entry_id in itertools.islice(ids, bisect.bisect_right(ids, after_id), None):
                entry = self._entries[entry_id].entry
                if wanted is None or entry.state == wanted:
                    found.append(entry)
                    if len(found) == limit:
                        break
            return found

    def count_entries(self, bank: str) -> dict[EntryState, int]:
        """How many entries a bank holds, per state (every state listed, zeros included)."""
        with self._lock:
            counts = dict.fromkeys(EntryState, 0)
            for entry_id in self._record(bank).entry_ids:
                counts[self._entries[entry_id].entry.state] += 1
            return counts

    def iter_index_rows(
        self, bank_ids: Sequence[int], batch_size: int = 50_000
    ) -> Iterator[list[IndexRow]]:
        """Matchable signals (active entries) of the given banks, in batches, by entry id."""
        if batch_size < 1:
            raise InvalidInputError(f"batch size must be at least 1, got {batch_size}")
        with self._lock:  # a snapshot, as the SQL adapter reads one
            wanted = {int(bank_id) for bank_id in bank_ids}
            rows = [
                IndexRow(entry_id, stored.bank_id, signal.type, signal.value, signal.variant)
                for entry_id, stored in sorted(self._entries.items())
                if stored.bank_id in wanted and stored.entry.state == EntryState.ACTIVE
                for signal in stored.entry.signals
            ]
        for start in range(0, len(rows), batch_size):
            yield rows[start : start + batch_size]

    def iter_index_batches(self, bank_ids: Sequence[int]) -> Iterator[IndexBatch]:
        """`iter_index_rows` regrouped: PDQ signals as columns, the others as rows."""
        for rows in self.iter_index_rows(bank_ids):
            yield IndexBatch(pdq_columns_of(rows), [r for r in rows if r.signal_type != "pdq"])

    # Health

    def ping(self) -> None:
        """Always reachable."""


class InMemoryChangeLog:
    """ChangeLog held in a list; its InMemoryBankRepository appends, readers see it at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changes: list[EntryChange] = []  # by seq
        self._seqs = itertools.count(1)

    def append(
        self, kind: ChangeKind, bank_id: int, entry_id: int | None, at: datetime
    ) -> EntryChange:
        """Record one change with the next seq (the repository calls it under its own lock,
        so seqs become visible in commit order, as on SQLite)."""
        with self._lock:
            change = EntryChange(next(self._seqs), kind, bank_id, entry_id, at)
            self._changes.append(change)
            return change

    def latest_change_seq(self) -> int:
        """The highest seq in the change log (0 when it is empty)."""
        with self._lock:
            return self._changes[-1].seq if self._changes else 0

    def changes_since(self, seq: int, limit: int = 10_000) -> list[EntryChange]:
        """Up to `limit` changes with seq > `seq`, in seq order."""
        if limit < 1:
            raise InvalidInputError(f"limit must be at least 1, got {limit}")
        with self._lock:
            start = bisect.bisect_right(self._changes, seq, key=lambda change: change.seq)
            return self._changes[start : start + limit]

    def changes_in(
        self, ranges: Sequence[tuple[int, int]], limit: int = 10_000
    ) -> list[EntryChange]:
        """Up to `limit` changes whose seq lies in any inclusive (first, last) range, by seq."""
        if limit < 1:
            raise InvalidInputError(f"limit must be at least 1, got {limit}")
        with self._lock:
            found: dict[int, EntryChange] = {}
            for first, last in ranges:
                start = bisect.bisect_left(self._changes, first, key=lambda change: change.seq)
                end = bisect.bisect_right(self._changes, last, key=lambda change: change.seq)
                found.update((change.seq, change) for change in self._changes[start:end])
            return [found[seq] for seq in sorted(found)[:limit]]
