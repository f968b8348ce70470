"""BankMatcher.apply_current_rows: following entries from their states and index rows."""

from __future__ import annotations

import random

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import BankPolicy, EntryState, NewEntry
from shieldwall.matching.service import BankMatcher
from shieldwall.signals.models import Signal

_rng = random.Random(77)


def _entry() -> NewEntry:
    return NewEntry(
        (
            Signal.of("pdq", f"{_rng.getrandbits(256):064x}", quality=90),
            Signal.of("md5", f"{_rng.getrandbits(128):032x}"),
        )
    )


def _matched(matcher: BankMatcher, entry: NewEntry) -> list[tuple[str, int]]:
    found = matcher.match_signals(list(entry.signals))
    return sorted((match.signal_type, match.entry_id) for match in found)


def test_rows_add_active_entries_once_and_remove_inactive_ones() -> None:
    repository = InMemoryBankRepository()
    repository.create_bank("ncii", BankPolicy())
    repository.create_bank("elsewhere", BankPolicy())
    matcher = BankMatcher.load(repository, ["ncii"])  # empty: the entries come later
    kept, withdrawn = _entry(), _entry()
    ids = [r.entry_id for r in repository.add_entries("ncii", [kept, withdrawn])]
    [other] = repository.add_entries("elsewhere", [_entry()])

    for _ in range(2):  # heard twice (own write and change log): no duplicate matches
        matcher.apply_current_rows(*repository.index_rows_by_id([*ids, other.entry_id]))
        assert _matched(matcher, kept) == [("md5", ids[0]), ("pdq", ids[0])]
        assert _matched(matcher, withdrawn) == [("md5", ids[1]), ("pdq", ids[1])]
    assert matcher.size() == {"ncii": 2}  # the other bank's entry is not this matcher's

    repository.set_entry_state(ids[1], EntryState.WITHDRAWN)
    matcher.apply_current_rows(*repository.index_rows_by_id(ids))
    assert _matched(matcher, withdrawn) == []  # exact digests go too, not only the PDQ hash
    assert _matched(matcher, kept) == [("md5", ids[0]), ("pdq", ids[0])]

    repository.set_entry_state(ids[0], EntryState.DISABLED)
    matcher.apply_current_rows(*repository.index_rows_by_id(ids))
    assert _matched(matcher, kept) == []
    repository.set_entry_state(ids[0], EntryState.ACTIVE)
    matcher.apply_current_rows(*repository.index_rows_by_id(ids))
    assert _matched(matcher, kept) == [("md5", ids[0]), ("pdq", ids[0])]
    assert matcher.size() == {"ncii": 1}
