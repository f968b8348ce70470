"""A batch lookup gives each set what a single lookup of it gives, in one matcher pass."""

from __future__ import annotations

from shieldwall.access.models import LookupEvent
from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import EntryState, NewEntry
from shieldwall.banks.service import BankService
from shieldwall.config import MediaLimits
from shieldwall.matching.service import BankMatcher
from shieldwall.screening.service import ScreeningService
from shieldwall.signals.models import Signal
from tests.support.factories import random_pdq

SHA = "ab" * 32


def test_each_set_of_a_batch_matches_as_a_single_lookup_would() -> None:
    repository = InMemoryBankRepository()
    banks = BankService(repository)
    banks.create_bank("known")
    stored = [random_pdq() for _ in range(5)]
    banks.add_entries("known", [NewEntry((Signal.of("pdq", v, quality=90),)) for v in stored])
    matcher = BankMatcher.load(repository)
    sets = [[Signal.of("pdq", v)] for v in stored] + [[Signal.of("pdq", "0" * 64)]]
    sets += [
        [Signal.of("pdq", random_pdq())],
        [Signal.of("pdq", stored[0]), Signal.of("md5", "a" * 32)],
    ]
    assert matcher.match_signal_sets(sets) == [matcher.match_signals(s) for s in sets]
    assert matcher.match_signal_sets([]) == []


def test_a_batch_rechecks_all_its_matches_in_one_read() -> None:
    repository = InMemoryBankRepository()
    banks = BankService(repository)
    banks.create_bank("known")
    [kept, withdrawn] = banks.add_entries(
        "known", [NewEntry((Signal.of("sha256", SHA),)), NewEntry((Signal.of("md5", "c" * 32),))]
    )
    stale = BankMatcher.load(repository)  # another worker's index, not told of what follows
    repository.set_entry_state(withdrawn.entry_id, EntryState.WITHDRAWN)
    reads: list[list[int]] = []

    def still_active(ids: list[int]) -> set[int]:
        reads.append(list(ids))
        return banks.active_entry_ids(ids)

    events: list[LookupEvent] = []
    screening = ScreeningService(
        lambda: stale,
        MediaLimits(),
        events.append,
        still_active=still_active,  # type: ignore[arg-type]
    )
    results = screening.screen_batch(
        [{"sha256": SHA}, {"md5": "c" * 32}, {"pdq": "zz"}, {"sha256": SHA}], key_id=7
    )
    assert [r.verdict.value for r in results] == ["block", "allow", "allow", "block"]
    assert results[2].errors
    assert not results[2].matches
    assert reads == [sorted({kept.entry_id, withdrawn.entry_id})]
    assert [(e.key_id, e.queries, e.matches) for e in events] == [(7, 4, 2)]
