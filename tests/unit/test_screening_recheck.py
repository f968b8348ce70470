"""Screening: a match withdrawn elsewhere (an index not yet told) is not reported; bank filters."""

from __future__ import annotations

from shieldwall.access.models import LookupEvent, LookupKind
from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import EntryState, NewEntry
from shieldwall.banks.service import BankService
from shieldwall.config import MediaLimits
from shieldwall.matching.service import BankMatcher
from shieldwall.screening.service import ScreeningService
from shieldwall.signals.models import Signal

SHA = "ab" * 32


def test_matches_are_checked_against_the_bank_of_record() -> None:
    repository = InMemoryBankRepository()
    banks = BankService(repository)
    banks.create_bank("known")
    [added] = banks.add_entries("known", [NewEntry((Signal.of("sha256", SHA),))])
    stale = BankMatcher.load(repository)  # another worker's index, not told of what follows
    repository.set_entry_state(added.entry_id, EntryState.WITHDRAWN)
    assert stale.match_signals([Signal.of("sha256", SHA)])  # the index alone still matches

    def screening(recheck: bool) -> ScreeningService:
        return ScreeningService(
            lambda: stale,
            MediaLimits(),
            lambda event: None,
            still_active=banks.active_entry_ids if recheck else None,
        )

    assert screening(False).screen_signals({"sha256": SHA}, None).matches
    assert screening(True).screen_signals({"sha256": SHA}, None).matches == []


def test_a_bank_filter_keeps_only_the_named_banks_and_an_empty_one_keeps_none() -> None:
    repository = InMemoryBankRepository()
    banks = BankService(repository)
    for name in ("known", "other"):
        banks.create_bank(name)
        banks.add_entries(name, [NewEntry((Signal.of("sha256", SHA),))])
    events: list[LookupEvent] = []
    screening = ScreeningService(lambda: BankMatcher.load(repository), MediaLimits(), events.append)
    query = [Signal.of("sha256", SHA)]

    def found(wanted: list[str] | set[str] | None) -> list[str]:
        return [
            m.bank for m in screening.screen_queries(query, 3, LookupKind.HMA, banks=wanted).matches
        ]

    assert found(None) == ["known", "other"]
    assert found(["other"]) == ["other"]
    assert found(set()) == []  # HMA's `banks` naming only unknown banks: nothing matches
    assert [(e.key_id, e.kind, e.queries, e.matches) for e in events] == [
        (3, "hma", 1, 2),
        (3, "hma", 1, 1),
        (3, "hma", 1, 0),
    ]


def test_with_matcher_keeps_the_audit_and_the_recheck() -> None:
    repository = InMemoryBankRepository()
    banks = BankService(repository)
    banks.create_bank("known")
    [added] = banks.add_entries("known", [NewEntry((Signal.of("sha256", SHA),))])
    stale = BankMatcher.load(repository)
    repository.set_entry_state(added.entry_id, EntryState.WITHDRAWN)
    events: list[LookupEvent] = []
    screening = ScreeningService(
        lambda: BankMatcher.load(InMemoryBankRepository()),
        MediaLimits(),
        events.append,
        still_active=banks.active_entry_ids,
    ).with_matcher(lambda: stale)
    assert screening.screen_signals({"sha256": SHA}, None).matches == []
    assert [(e.key_id, e.kind, e.matches, e.verdict) for e in events] == [
        (None, "signals", 0, "allow")
    ]
