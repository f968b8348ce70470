"""Bank use cases: banks, entries, bulk import and streaming export."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from shieldwall.banks.formats import (
    BankFileFormat,
    ImportProblem,
    ImportRecord,
    parse_bank_file,
    write_bank_file,
)
from shieldwall.banks.models import (
    AddedEntry,
    Bank,
    BankPolicy,
    Entry,
    EntrySource,
    EntryState,
    MatchAction,
    NewEntry,
    Provenance,
    validate_bank_name,
)
from shieldwall.banks.ports import BankRepository, EntryListener
from shieldwall.errors import InvalidInputError
from shieldwall.signals.pdq_quality import RefusedPdqError, entry_refusals

IMPORT_BATCH = 5000
IMPORT_BATCH_SECONDS = 0.25
"""Time an import transaction aims to stay under: on SQLite every other writer (a lookup's
audit record, another worker's new entry) waits for the write lock that long."""
MIN_IMPORT_BATCH = 100
EXPORT_PAGE = 1000


def next_batch_size(size: int, seconds: float, largest: int) -> int:
    """The next import batch's size after one of `size` took `seconds`: smaller when it took
    longer than IMPORT_BATCH_SECONDS (a large database), larger again, up to `largest`,
    when it took under half of that."""
    if seconds > IMPORT_BATCH_SECONDS:
        return max(min(MIN_IMPORT_BATCH, largest), int(size * IMPORT_BATCH_SECONDS / seconds))
    if seconds < IMPORT_BATCH_SECONDS / 2:
        return min(largest, size * 2)
    return size


@dataclass
class ImportSummary:
    """What a bulk import did."""

    added: int = 0
    existing: int = 0
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def lines(self) -> int:
        """Data lines seen (added, already present, or refused)."""
        return self.added + self.existing + len(self.problems)


class BankService:
    """Creates and changes banks and entries; the single way callers write to banks."""

    def __init__(self, repository: BankRepository, listeners: Sequence[EntryListener] = ()) -> None:
        self._repository = repository
        self._listeners = list(listeners)
        self._stop_callbacks: list[Callable[[], object]] = []
        self._bank_callbacks: list[Callable[[], object]] = []

    def subscribe(self, listener: EntryListener) -> None:
        """Tell this listener about every later entry change made through this service."""
        self._listeners.append(listener)

    def on_bank_change(self, callback: Callable[[], object]) -> None:
        """Call `callback` after every bank change made through this service (created,
        policy, enabled, renamed, deleted), so this process's matchers follow at once."""
        self._bank_callbacks.append(callback)

    def on_entry_stopped(self, callback: Callable[[], object]) -> None:
        """Call `callback` after every committed change that stops an entry matching
        (disabled, withdrawn): the host's change beacon (matching/freshness.py). Unlike a
        listener, it costs additions nothing (listeners get each added entry read back)."""
        self._stop_callbacks.append(callback)

    def _banks_changed(self) -> None:
        for callback in self._bank_callbacks:
            callback()

    # Banks ------------------------------------------------------------------------------

    def create_bank(
        self,
        name: str,
        pdq_threshold: int | None = None,
        action: MatchAction | str = MatchAction.BLOCK,
        allow_list_banks: Sequence[str] = (),
        second_stage: bool | None = None,
    ) -> Bank:
        """Create a bank with its policy (`second_stage` None: on, the default)."""
        validate_bank_name(name)
        policy = BankPolicy(
            pdq_threshold=BankPolicy().pdq_threshold if pdq_threshold is None else pdq_threshold,
            action=MatchAction(action),
            allow_list_banks=tuple(allow_list_banks),
            second_stage=BankPolicy().second_stage if second_stage is None else second_stage,
        )
        bank = self._repository.create_bank(name, dataclasses.replace(policy, allow_list_banks=()))
        if policy.allow_list_banks:
            bank = self._repository.set_policy(bank.name, policy)
        self._banks_changed()
        return bank

    def update_policy(
        self,
        name: str,
        pdq_threshold: int | None = None,
        action: MatchAction | str | None = None,
        allow_list_banks: Sequence[str] | None = None,
        matching_ratio: float | None = None,
        second_stage: bool | None = None,
    ) -> Bank:
        """Change the given parts of a bank's policy, keeping the rest."""
        current = self._repository.get_bank(name).policy
        policy = BankPolicy(
            pdq_threshold=current.pdq_threshold if pdq_threshold is None else pdq_threshold,
            action=current.action if action is None else MatchAction(action),
            allow_list_banks=(
                current.allow_list_banks if allow_list_banks is None else tuple(allow_list_banks)
            ),
            matching_ratio=current.matching_ratio if matching_ratio is None else matching_ratio,
            second_stage=current.second_stage if second_stage is None else second_stage,
        )
        bank = self._repository.set_policy(name, policy)
        self._banks_changed()
        return bank

    def get_bank(self, name: str) -> Bank:
        """The bank called `name`; NotFoundError if none."""
        return self._repository.get_bank(name)

    def list_banks(self) -> list[Bank]:
        """Every bank, by name."""
        return self._repository.list_banks()

    def count_entries(self, name: str) -> dict[EntryState, int]:
        """How many entries the bank holds, per state (every state, zeros included)."""
        return self._repository.count_entries(name)

    def rename_bank(self, name: str, new_name: str) -> Bank:
        """Rename a bank."""
        bank = self._repository.rename_bank(name, validate_bank_name(new_name))
        self._banks_changed()
        return bank

    def set_bank_enabled(self, name: str, enabled: bool) -> Bank:
        """Enable or disable a bank."""
        bank = self._repository.set_bank_enabled(name, enabled)
        self._banks_changed()
        return bank

    def delete_bank(self, name: str) -> None:
        """Delete a bank and all its entries."""
        self._repository.delete_bank(name)
        self._banks_changed()

    # Entries ----------------------------------------------------------------------------

    def add_entries(self, bank: str, entries: Sequence[NewEntry]) -> list[AddedEntry]:
        """Add entries in one transaction; existing ones (same content or hash) are reused.

        RefusedPdqError (nothing added) if an entry holds a PDQ hash that
        signals/pdq_quality.py refuses: callers adding content drop such hashes first.
        """
        for position, refusal in enumerate(entry_refusals([e.signals for e in entries])):
            if refusal is not None:
                where = f"entry {position + 1}: " if len(entries) > 1 else ""
                raise RefusedPdqError(refusal, where)
        added = self._repository.add_entries(bank, entries)
        if self._listeners:
            for result in added:
                if result.created and result.state is EntryState.ACTIVE:
                    self._notify_added(self._repository.get_entry(result.entry_id))
        return added

    def set_entry_state(self, entry_id: int, state: EntryState | str) -> Entry:
        """Activate, disable or withdraw (final: kept as a tombstone) an entry."""
        entry = self._repository.set_entry_state(entry_id, EntryState(state))
        if entry.state is EntryState.ACTIVE:
            self._notify_added(entry)
        else:
            for listener in self._listeners:
                listener.apply_removed(entry)
            for callback in self._stop_callbacks:
                callback()
        return entry

    def set_entry_note(self, entry_id: int, note: str) -> Entry:
        """Replace an entry's note (HMA lets clients change it)."""
        return self._repository.set_entry_note(entry_id, note)

    def active_entry_ids(self, entry_ids: Sequence[int]) -> set[int]:
        """Which of these entries are active now in the bank of record."""
        return self._repository.active_ids(entry_ids)

    def get_entry(self, entry_id: int) -> Entry:
        """One entry."""
        return self._repository.get_entry(entry_id)

    def list_entries(
        self, bank: str, after_id: int = 0, limit: int = 1000, state: EntryState | None = None
    ) -> list[Entry]:
        """A page of a bank's entries with id > `after_id`, in id order (optionally of one
        state); NotFoundError if there is no such bank."""
        return self._repository.list_entries(bank, after_id, limit, state)

    def iter_entries(
        self, bank: str, states: Iterable[EntryState] | None = None, page: int = EXPORT_PAGE
    ) -> Iterator[Entry]:
        """Every entry of a bank in id order, fetched a page at a time."""
        wanted = None if states is None else set(states)
        after = 0
        while True:
            entries = self._repository.list_entries(bank, after_id=after, limit=page)
            if not entries:
                return
            for entry in entries:
                if wanted is None or entry.state in wanted:
                    yield entry
            after = entries[-1].id

    def _notify_added(self, entry: Entry) -> None:
        for listener in self._listeners:
            listener.apply_added(entry)

    # Import and export ------------------------------------------------------------------

    def import_lines(
        self,
        bank: str,
        lines: Iterable[str],
        fmt: BankFileFormat,
        provenance: Provenance,
        batch_size: int = IMPORT_BATCH,
        on_batch: Callable[[ImportSummary], None] | None = None,
    ) -> ImportSummary:
        """Import a bank file, one transaction per batch: a crash loses at most the batch in
        flight, never half an entry, and re-running the import skips what is already in.
        Batches hold at most `batch_size` entries, fewer while transactions run long.

        Lines whose PDQ hash the acceptance rule refuses (signals/pdq_quality.py) are
        refused lines, like malformed ones; problems come back in line order."""
        if batch_size < 1:
            raise InvalidInputError("batch size must be positive")
        self._repository.get_bank(bank)
        summary = ImportSummary()
        batch: list[ImportRecord] = []
        size = batch_size
        for item in parse_bank_file(lines, fmt, provenance):
            if isinstance(item, ImportProblem):
                summary.problems.append(item)
                continue
            batch.append(item)
            if len(batch) >= size:
                started = time.monotonic()
                self._import_batch(bank, batch, summary, on_batch)
                size = next_batch_size(size, time.monotonic() - started, batch_size)
                batch = []
        if batch:
            self._import_batch(bank, batch, summary, on_batch)
        summary.problems.sort(key=lambda problem: problem.line)
        return summary

    def _import_batch(
        self,
        bank: str,
        batch: list[ImportRecord],
        summary: ImportSummary,
        on_batch: Callable[[ImportSummary], None] | None,
    ) -> None:
        entries: list[NewEntry] = []
        for record, refusal in zip(
            batch, entry_refusals([r.entry.signals for r in batch]), strict=True
        ):
            if refusal is None:
                entries.append(_entry_of(record))
            else:
                summary.problems.append(ImportProblem(record.line, refusal.reason))
        for result in self.add_entries(bank, entries) if entries else ():
            if result.created:
                summary.added += 1
            else:
                summary.existing += 1
        if on_batch is not None:
            on_batch(summary)

    def export(
        self,
        bank: str,
        fmt: BankFileFormat,
        out: TextIO,
        include_inactive: bool = False,
        *,
        case_numbers: bool = True,
    ) -> int:
        """Stream a bank's entries to `out`; returns how many were written.

        Hash files and CSV carry active entries only; JSON lines carry every entry when
        `include_inactive` is set, so tombstones travel with the export. Without
        `case_numbers`, entries from victims' reports go out without their case number.
        """
        self._repository.get_bank(bank)
        states = None if include_inactive else [EntryState.ACTIVE]
        entries = self.iter_entries(bank, states)
        if not case_numbers:
            entries = map(without_case_number, entries)
        return write_bank_file(entries, fmt, out)


def without_case_number(entry: Entry) -> Entry:
    """The entry without its case number if it came from a victim's report.

    A case number and the hashes it reported, together, tell whoever holds them which
    images one person reported: only those who work on cases need to see it."""
    provenance = entry.provenance
    if provenance.source is not EntrySource.CASE or not provenance.case_id:
        return entry
    return dataclasses.replace(entry, provenance=dataclasses.replace(provenance, case_id=""))


def _entry_of(record: ImportRecord) -> NewEntry:
    if record.entry.state is record.state:
        return record.entry
    return dataclasses.replace(record.entry, state=record.state)
