"""A match whose entry was withdrawn elsewhere (an index not yet told) is not reported."""

from __future__ import annotations

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
