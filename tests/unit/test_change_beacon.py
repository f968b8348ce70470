"""The change beacon: lookups skip the database re-check only while nothing has changed.

A worker's index lags other processes' writes by up to one poll of the change log; the
re-check of matched entries closes that gap. The beacon tells when there is no gap.
"""

from __future__ import annotations

from pathlib import Path

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import EntryState, NewEntry
from shieldwall.banks.service import BankService
from shieldwall.config import MediaLimits
from shieldwall.matching.freshness import InProcessChangeBeacon
from shieldwall.matching.holder import MatcherHolder
from shieldwall.matching.tailer import ChangeTailer
from shieldwall.screening.service import ScreeningService
from shieldwall.signals.models import Signal
from shieldwall.storage.change_beacon import FileChangeBeacon

SHA = "ab" * 32


def test_a_file_beacon_is_shared_by_everything_that_opens_it(tmp_path: Path) -> None:
    one, other = FileChangeBeacon.in_home(tmp_path), FileChangeBeacon.in_home(tmp_path)
    start = other.read()
    one.bump()
    one.bump()
    assert other.read() == start + 2
    other.bump()
    assert one.read() == start + 3
    assert (tmp_path / "changes.bin").stat().st_mode & 0o777 == 0o600
    one.close()
    one.close()  # twice is fine
    one.bump()  # a late bump after close does nothing
    assert one.read() == -1
    assert other.read() == start + 3
    other.close()


def test_the_tailer_is_current_only_until_the_next_announced_change() -> None:
    repository = InMemoryBankRepository()
    beacon = InProcessChangeBeacon()
    log = repository.change_log
    tailer = ChangeTailer(repository, log, MatcherHolder.load(repository, log), beacon=beacon)
    assert not tailer.current()  # never polled
    tailer.poll()
    assert tailer.current()
    beacon.bump()  # another process committed a change
    assert not tailer.current()
    tailer.poll()  # the poll began after the bump: it read the change
    assert tailer.current()
    assert not ChangeTailer(repository, log, MatcherHolder.load(repository, log)).current()


def test_screening_rechecks_matches_only_while_the_index_may_lag() -> None:
    repository = InMemoryBankRepository()
    beacon = InProcessChangeBeacon()
    banks = BankService(repository)
    banks.on_entry_stopped(beacon.bump)
    banks.create_bank("known")
    [added] = banks.add_entries("known", [NewEntry((Signal.of("sha256", SHA),))])
    holder = MatcherHolder.load(repository, repository.change_log)  # another worker's index
    tailer = ChangeTailer(repository, repository.change_log, holder, beacon=beacon)
    tailer.poll()
    rechecks: list[list[int]] = []

    def still_active(ids: list[int]) -> set[int]:
        rechecks.append(list(ids))
        return banks.active_entry_ids(ids)

    screening = ScreeningService(
        lambda: holder.matcher,
        MediaLimits(),
        lambda event: None,
        still_active=still_active,  # type: ignore[arg-type]
        index_current=tailer.current,
    )
    assert screening.screen_signals({"sha256": SHA}, None).matches
    assert rechecks == []  # nothing changed since the poll: no database read
    banks.set_entry_state(added.entry_id, EntryState.WITHDRAWN)  # bumps the beacon
    assert screening.screen_signals({"sha256": SHA}, None).matches == []  # re-checked
    assert rechecks == [[added.entry_id]]
