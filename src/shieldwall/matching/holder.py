"""The current BankMatcher of a process, swapped whole when a bank itself changes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Final

from shieldwall.banks.models import Bank, ChangeKind, Entry, EntryChange
from shieldwall.banks.ports import BankRepository, ChangeLog
from shieldwall.errors import NotFoundError
from shieldwall.matching.service import BankMatcher

LOAD_ATTEMPTS: Final = 5
"""Loads retried when a bank vanishes or is renamed between listing and loading."""


class MatcherHolder:
    """Holds the matcher readers use; `reload` builds a fresh one and swaps it in at once.

    With bank names, the matcher follows those banks by id (a renamed bank stays, a deleted
    one goes) and takes in any new bank that gets one of the names; without, every bank.
    """

    def __init__(self, repository: BankRepository, bank_names: Sequence[str] = ()) -> None:
        self._repository = repository
        self._names = frozenset(bank_names)
        self._tracked: frozenset[int] = frozenset()  # ids of the requested banks
        self._watched: frozenset[int] = frozenset()  # their ids and their allow-lists'
        self._swap = threading.Lock()
        self._own = threading.Lock()  # this process's writes against the swap
        self._during_reload: list[tuple[bool, Entry]] | None = None
        self._matcher = BankMatcher([])
        self.start_seq = 0
        """The change-log position read just before the first load: tailing starts here."""

    @classmethod
    def load(
        cls,
        repository: BankRepository,
        change_log: ChangeLog,
        bank_names: Sequence[str] = (),
        before_load: Callable[[MatcherHolder], object] | None = None,
    ) -> MatcherHolder:
        """Read the change-log position, then load the matcher (so no change falls between).

        `before_load(holder)` is called first: where it subscribes the holder to this
        process's writes, a write made while the first load reads the bank (a bank created,
        an entry added) is in the first matcher served, not only after the log's next poll.
        NotFoundError if a named bank does not exist."""
        holder = cls(repository, bank_names)
        if before_load is not None:
            before_load(holder)
        holder.start_seq = change_log.latest_change_seq()
        for name in sorted(holder._names):
            repository.get_bank(name)
        holder.reload()
        return holder

    @property
    def matcher(self) -> BankMatcher:
        """The current matcher: read it once per lookup, it may be replaced at any time."""
        return self._matcher

    @property
    def bank_ids(self) -> frozenset[int]:
        """Ids of the (enabled) banks the current matcher searches."""
        return frozenset(bank.id for bank in self._matcher.banks)

    def affected_by(self, change: EntryChange) -> bool:
        """Whether a bank-level change calls for a reload (entry changes never do)."""
        if change.kind in (ChangeKind.ENTRY_ADDED, ChangeKind.ENTRY_STATE):
            return False
        if not self._names or change.kind is ChangeKind.BANK_CREATED:
            return True  # a new bank may be wanted (rare enough to reload for)
        return change.bank_id in self._watched

    def apply_added(self, entry: Entry) -> None:
        """This process added or enabled an entry: matchable at once, and in a matcher
        being built meanwhile too (its snapshot may have been read before the write)."""
        self._apply(True, entry)

    def apply_removed(self, entry: Entry) -> None:
        """This process disabled, withdrew or deleted an entry (see `apply_added`)."""
        self._apply(False, entry)

    def _apply(self, added: bool, entry: Entry) -> None:
        with self._own:
            if added:
                self._matcher.apply_added(entry)
            else:
                self._matcher.apply_removed(entry)
            if self._during_reload is not None:
                self._during_reload.append((added, entry))

    def reload(self) -> BankMatcher:
        """Build a fresh matcher from the database and swap it in; returns it.

        This process's own writes made while it is built are applied to it again before
        the swap (both calls are idempotent), so an entry added just then never goes
        missing until the change log brings it back."""
        with self._swap:
            with self._own:
                self._during_reload = []
            try:
                matcher = self._load()
            except BaseException:
                with self._own:
                    self._during_reload = None
                raise
            with self._own:
                for added, entry in self._during_reload or ():
                    if added:
                        matcher.apply_added(entry)
                    else:
                        matcher.apply_removed(entry)
                self._matcher = matcher
                self._during_reload = None
            return matcher

    def _load(self) -> BankMatcher:
        for attempt in range(LOAD_ATTEMPTS):
            banks = self._repository.list_banks()
            try:
                return self._build(banks)
            except NotFoundError:  # deleted or renamed since the listing: list again
                if attempt == LOAD_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _build(self, banks: list[Bank]) -> BankMatcher:
        if not self._names:
            self._watched = frozenset(bank.id for bank in banks)
            return BankMatcher.load(self._repository)
        by_id = {bank.id: bank for bank in banks}
        tracked = {bank_id for bank_id in self._tracked if bank_id in by_id}
        tracked |= {bank.id for bank in banks if bank.name in self._names}
        names = sorted(by_id[bank_id].name for bank_id in tracked)
        by_name = {bank.name: bank for bank in banks}
        watched = set(tracked)
        for bank_id in tracked:
            watched |= {
                by_name[other].id
                for other in by_id[bank_id].policy.allow_list_banks
                if other in by_name
            }
        self._tracked, self._watched = frozenset(tracked), frozenset(watched)
        return BankMatcher.load(self._repository, names) if names else BankMatcher([])
