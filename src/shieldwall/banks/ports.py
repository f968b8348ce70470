"""What the bank service needs from storage and who it tells about changes.

Adapters: memory (banks/memory.py), SQLAlchemy on SQLite and PostgreSQL (storage/).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from shieldwall.banks.models import (
    AddedEntry,
    Bank,
    BankPolicy,
    Entry,
    EntryChange,
    EntryState,
    IndexBatch,
    IndexRow,
    NewEntry,
)


class BankRepository(Protocol):
    """Persistent banks and entries. Every method is atomic; errors are ShieldwallErrors."""

    def create_bank(self, name: str, policy: BankPolicy) -> Bank:
        """Create a bank; ConflictError if the name is taken."""
        ...

    def get_bank(self, name: str) -> Bank:
        """The bank called `name`; NotFoundError if none."""
        ...

    def list_banks(self) -> list[Bank]:
        """All banks, by name."""
        ...

    def rename_bank(self, name: str, new_name: str) -> Bank:
        """Rename a bank (allow-lists that name it follow); ConflictError if taken."""
        ...

    def set_bank_enabled(self, name: str, enabled: bool) -> Bank:
        """Enable or disable a bank; disabled banks never match."""
        ...

    def set_policy(self, name: str, policy: BankPolicy) -> Bank:
        """Replace a bank's policy; allow-list banks must exist."""
        ...

    def delete_bank(self, name: str) -> None:
        """Delete a bank and its entries."""
        ...

    def add_entries(self, bank: str, entries: Sequence[NewEntry]) -> list[AddedEntry]:
        """Add entries in one transaction: all of them or none are visible.

        An entry whose dedupe key is already in the bank is not added again: its existing id
        is returned with created=False (so an interrupted import can be re-run).
        """
        ...

    def get_entry(self, entry_id: int) -> Entry:
        """One entry with its signals; NotFoundError if none."""
        ...

    def set_entry_state(self, entry_id: int, state: EntryState) -> Entry:
        """Move an entry to a state. Withdrawn is final (ConflictError on any change)."""
        ...

    def set_entry_note(self, entry_id: int, note: str) -> Entry:
        """Replace an entry's note; NotFoundError if there is no such entry."""
        ...

    def list_entries(
        self, bank: str, after_id: int = 0, limit: int = 1000, state: EntryState | None = None
    ) -> list[Entry]:
        """Entries of a bank with id > after_id, in id order (cursor pagination)."""
        ...

    def count_entries(self, bank: str) -> dict[EntryState, int]:
        """How many entries a bank holds, per state."""
        ...

    def iter_index_rows(
        self, bank_ids: Sequence[int], batch_size: int = 50_000
    ) -> Iterator[list[IndexRow]]:
        """Matchable signals (active entries) of the given banks, in batches."""
        ...

    def iter_index_batches(self, bank_ids: Sequence[int]) -> Iterator[IndexBatch]:
        """The same signals as `iter_index_rows`, PDQ hashes as columns: an index load's
        read, with no Python object per hash where the storage can avoid it."""
        ...

    def get_entries(self, entry_ids: Sequence[int]) -> list[Entry]:
        """The entries with these ids that exist, in id order (missing ids are skipped)."""
        ...

    def index_rows_by_id(
        self, entry_ids: Sequence[int]
    ) -> tuple[dict[int, EntryState], list[IndexRow]]:
        """States of the entries with these ids that exist, and every signal of theirs as an
        index row, whatever the state: what a matcher needs to follow them (the change-log
        tailer's read, far cheaper than get_entries)."""
        ...

    def active_ids(self, entry_ids: Sequence[int]) -> set[int]:
        """Which of these entries exist and are active (a lookup's re-check: states only)."""
        ...

    def ping(self) -> None:
        """A cheap round trip to the storage (readiness); StorageError if it cannot be reached."""
        ...


class ChangeLog(Protocol):
    """The log of bank and entry changes, in seq order: how matchers in other processes
    follow every writer. The BankRepository of the same storage writes it, in each change's
    own transaction; this port reads it. Errors are ShieldwallErrors."""

    def latest_change_seq(self) -> int:
        """The highest seq in the change log visible now (0 when it is empty)."""
        ...

    def changes_since(self, seq: int, limit: int = 10_000) -> list[EntryChange]:
        """Up to `limit` changes with seq > `seq`, in seq order."""
        ...

    def changes_in(
        self, ranges: Sequence[tuple[int, int]], limit: int = 10_000
    ) -> list[EntryChange]:
        """Up to `limit` changes whose seq lies in any inclusive (first, last) range, in seq
        order: how tailers look again for seqs they saw skipped."""
        ...


class EntryListener(Protocol):
    """Told about entry changes so in-process indexes follow at once (BankMatcher)."""

    def apply_added(self, entry: Entry) -> None:
        """An entry became matchable."""
        ...

    def apply_removed(self, entry: Entry) -> None:
        """An entry stopped being matchable."""
        ...
