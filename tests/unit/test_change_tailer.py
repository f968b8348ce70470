"""ChangeTailer and MatcherHolder over the in-memory repository: another process's writes
reach this process's matcher, incrementally, in any commit order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import Entry, EntryChange, EntryState, IndexBatch, IndexRow
from shieldwall.banks.service import BankService
from shieldwall.errors import StorageError
from shieldwall.matching.holder import MatcherHolder
from shieldwall.matching.service import BankMatcher
from shieldwall.matching.tailer import ChangeTailer, LiveMatcher
from shieldwall.signals.models import Signal
from tests.support.clock import FakeClock
from tests.support.factories import pdq_entry, random_pdq
from tests.support.polling import eventually


def near(value: str, bits: int) -> str:
    number = int(value, 16)
    for bit in range(bits):
        number ^= 1 << (bit * 7)
    return f"{number:064x}"


def matched(matcher: BankMatcher | LiveMatcher, value: str) -> list[int]:
    return [m.entry_id for m in matcher.match_signals([Signal.of("pdq", value)])]


class DelayedCommits(InMemoryBankRepository):
    """Changes whose transactions have not committed yet stay invisible, as on PostgreSQL.

    Both ports at once: the BankRepository, and the ChangeLog that reads its log through
    the delay (so tailers take it twice).

    `hold()` makes every later write invisible (its log rows and entries) until `release()`;
    writes made between stay visible, with higher seqs than the held ones.
    """

    def __init__(self) -> None:
        super().__init__()
        self.hidden_seqs: set[int] = set()
        self.hidden_entries: set[int] = set()
        self.failures: list[str] = []  # method names that fail once, in order
        self.fetched = 0  # entries read by id

    def hide(self, write: Callable[[], object]) -> None:
        """Run a write whose transaction stays uncommitted until `release()`."""
        before = self.change_log.latest_change_seq()
        write()
        for change in self.change_log.changes_since(before, 1_000_000):
            self.hidden_seqs.add(change.seq)
            if change.entry_id is not None:
                self.hidden_entries.add(change.entry_id)

    def release(self) -> None:
        self.hidden_seqs.clear()
        self.hidden_entries.clear()

    def _fail(self, name: str) -> None:
        if self.failures and self.failures[0] == name:
            self.failures.pop(0)
            raise StorageError("database error: injected by the test")

    def _visible(self, changes: list[EntryChange], limit: int) -> list[EntryChange]:
        return [c for c in changes if c.seq not in self.hidden_seqs][:limit]

    def latest_change_seq(self) -> int:
        return max(
            (c.seq for c in self._visible(self.change_log.changes_since(0, 10**9), 10**9)),
            default=0,
        )

    def changes_since(self, seq: int, limit: int = 10_000) -> list[EntryChange]:
        self._fail("changes_since")
        return self._visible(self.change_log.changes_since(seq, 10**9), limit)

    def changes_in(
        self, ranges: Sequence[tuple[int, int]], limit: int = 10_000
    ) -> list[EntryChange]:
        return self._visible(self.change_log.changes_in(ranges, 10**9), limit)

    def get_entries(self, entry_ids: Sequence[int]) -> list[Entry]:
        self._fail("get_entries")
        self.fetched += len(entry_ids)
        return [e for e in super().get_entries(entry_ids) if e.id not in self.hidden_entries]

    def iter_index_rows(
        self, bank_ids: Sequence[int], batch_size: int = 50_000
    ) -> Iterator[list[IndexRow]]:
        for batch in super().iter_index_rows(bank_ids, batch_size):
            yield [r for r in batch if r.entry_id not in self.hidden_entries]


@pytest.fixture
def repository() -> DelayedCommits:
    return DelayedCommits()


@pytest.fixture
def writer(repository: DelayedCommits) -> BankService:
    """Another process's writes: nobody in this one is told about them."""
    return BankService(repository)


def tail(repository: DelayedCommits, names: Sequence[str] = (), **options: Any) -> ChangeTailer:
    holder = MatcherHolder.load(repository, repository, names)
    return ChangeTailer(repository, repository, holder, **options)


def test_entry_changes_are_applied_incrementally(
    repository: DelayedCommits, writer: BankService
) -> None:
    writer.create_bank("ncii")
    tailer = tail(repository)
    holder_matcher = tailer.holder.matcher
    value = random_pdq()
    [added] = writer.add_entries("ncii", [pdq_entry(value)])
    assert matched(holder_matcher, value) == []
    assert tailer.poll() == 1
    assert matched(holder_matcher, value) == [added.entry_id]
    writer.set_entry_state(added.entry_id, EntryState.DISABLED)
    tailer.poll()
    assert matched(holder_matcher, value) == []
    writer.set_entry_state(added.entry_id, EntryState.ACTIVE)
    tailer.poll()
    assert matched(holder_matcher, value) == [added.entry_id]
    writer.set_entry_state(added.entry_id, EntryState.WITHDRAWN)
    tailer.poll()
    assert matched(holder_matcher, value) == []
    # Never rebuilt: the same matcher took every change in place.
    assert tailer.reloads == 0
    assert tailer.holder.matcher is holder_matcher
    assert tailer.last_seq == repository.latest_change_seq()
    assert tailer.poll() == 0


def test_changes_made_while_loading_are_applied_once(
    repository: DelayedCommits, writer: BankService
) -> None:
    writer.create_bank("ncii")
    values = [random_pdq() for _ in range(3)]
    position = repository.latest_change_seq

    def read_then_write() -> int:
        seq = position()
        writer.add_entries("ncii", [pdq_entry(v) for v in values])  # lands in the load as well
        return seq

    repository.latest_change_seq = read_then_write  # type: ignore[method-assign]
    holder = MatcherHolder.load(repository, repository)
    tailer = ChangeTailer(repository, repository, holder)
    assert holder.matcher.size() == {"ncii": 3}
    assert tailer.poll() == 3
    assert holder.matcher.size() == {"ncii": 3}
    assert all(len(matched(holder.matcher, v)) == 1 for v in values)


def test_bank_changes_swap_in_a_fresh_matcher(
    repository: DelayedCommits, writer: BankService
) -> None:
    writer.create_bank("ncii", pdq_threshold=10)
    value = random_pdq()
    [added] = writer.add_entries("ncii", [pdq_entry(value)])
    tailer = tail(repository)
    holder = tailer.holder
    writer.set_bank_enabled("ncii", False)
    first = holder.matcher
    tailer.poll()
    assert holder.matcher is not first
    assert matched(holder.matcher, value) == []
    writer.set_bank_enabled("ncii", True)
    tailer.poll()
    assert matched(holder.matcher, value) == [added.entry_id]
    assert matched(holder.matcher, near(value, 20)) == []
    writer.update_policy("ncii", pdq_threshold=31)
    tailer.poll()
    assert matched(holder.matcher, near(value, 20)) == [added.entry_id]
    writer.rename_bank("ncii", "school")
    tailer.poll()
    assert [m.bank for m in holder.matcher.match_signals([Signal.of("pdq", value)])] == ["school"]
    late = random_pdq()
    writer.create_bank("late")
    [fresh] = writer.add_entries("late", [pdq_entry(late)])
    tailer.poll()
    assert matched(holder.matcher, late) == [fresh.entry_id]
    writer.delete_bank("school")
    tailer.poll()
    assert matched(holder.matcher, value) == []
    assert tailer.reloads == 6


def test_named_matcher_follows_its_banks(repository: DelayedCommits, writer: BankService) -> None:
    writer.create_bank("benign")
    writer.create_bank("ncii", allow_list_banks=["benign"])
    writer.create_bank("other")
    tailer = tail(repository, ["ncii"])
    holder = tailer.holder
    value, elsewhere = random_pdq(), random_pdq()
    [added] = writer.add_entries("ncii", [pdq_entry(value)])
    writer.add_entries("other", [pdq_entry(elsewhere)])
    tailer.poll()
    assert matched(holder.matcher, value) == [added.entry_id]
    assert matched(holder.matcher, elsewhere) == []
    assert repository.fetched == 1  # the other bank's entry was not even read
    writer.set_bank_enabled("other", False)  # not watched: no rebuild
    tailer.poll()
    assert tailer.reloads == 0
    writer.update_policy("benign", pdq_threshold=5)  # an allow-list bank is watched
    tailer.poll()
    assert tailer.reloads == 1
    writer.rename_bank("ncii", "ncii-2024")  # followed by id
    tailer.poll()
    assert {m.bank for m in holder.matcher.match_signals([Signal.of("pdq", value)])} == {
        "ncii-2024"
    }
    writer.create_bank("ncii")  # a new bank under the requested name joins
    [again] = writer.add_entries("ncii", [pdq_entry(elsewhere)])
    tailer.poll()
    assert matched(holder.matcher, elsewhere) == [again.entry_id]
    assert sorted(bank.name for bank in holder.matcher.banks) == ["benign", "ncii", "ncii-2024"]


def test_late_commit_below_a_seen_seq_is_still_applied(
    repository: DelayedCommits, writer: BankService
) -> None:
    writer.create_bank("ncii")
    tailer = tail(repository)
    slow, quick = random_pdq(), random_pdq()
    repository.hide(lambda: writer.add_entries("ncii", [pdq_entry(slow)]))
    [second] = writer.add_entries("ncii", [pdq_entry(quick)])
    tailer.poll()
    assert matched(tailer.holder.matcher, quick) == [second.entry_id]
    assert matched(tailer.holder.matcher, slow) == []
    assert tailer.missing_seqs == 1
    repository.release()  # the slow transaction commits after the quick one was read
    assert tailer.poll() == 1
    assert len(matched(tailer.holder.matcher, slow)) == 1
    assert tailer.missing_seqs == 0


def test_seqs_missing_when_loading_are_looked_for(
    repository: DelayedCommits, writer: BankService
) -> None:
    writer.create_bank("ncii")
    slow = random_pdq()
    repository.hide(lambda: writer.add_entries("ncii", [pdq_entry(slow)]))
    writer.add_entries("ncii", [pdq_entry(random_pdq())])
    tailer = tail(repository)  # starts above the seq still in flight
    assert matched(tailer.holder.matcher, slow) == []
    tailer.poll()
    assert tailer.missing_seqs == 1
    repository.release()
    tailer.poll()
    assert len(matched(tailer.holder.matcher, slow)) == 1


def test_missing_seqs_are_given_up_after_the_timeout(
    repository: DelayedCommits, writer: BankService
) -> None:
    writer.create_bank("ncii")
    clock = FakeClock()
    tailer = tail(repository, gap_timeout=30.0, clock=clock.monotonic)
    repository.hide(lambda: writer.add_entries("ncii", [pdq_entry(random_pdq())]))  # rolled back
    writer.add_entries("ncii", [pdq_entry(random_pdq())])
    tailer.poll()
    clock.advance(29)
    tailer.poll()
    assert tailer.missing_seqs == 1
    clock.advance(2)
    tailer.poll()
    assert tailer.missing_seqs == 0


def test_a_failed_poll_loses_nothing(repository: DelayedCommits, writer: BankService) -> None:
    writer.create_bank("ncii")
    tailer = tail(repository)
    value = random_pdq()
    writer.add_entries("ncii", [pdq_entry(value)])
    repository.failures = ["get_entries"]
    with pytest.raises(StorageError):
        tailer.poll()
    assert matched(tailer.holder.matcher, value) == []
    tailer.poll()
    assert len(matched(tailer.holder.matcher, value)) == 1


def test_catches_up_in_batches(repository: DelayedCommits, writer: BankService) -> None:
    writer.create_bank("ncii")
    tailer = tail(repository, batch_size=3)
    values = [random_pdq() for _ in range(10)]
    writer.add_entries("ncii", [pdq_entry(v) for v in values[:5]])
    writer.add_entries("ncii", [pdq_entry(v) for v in values[5:]])
    assert tailer.poll() == 10
    assert tailer.holder.matcher.size() == {"ncii": 10}


def test_lag_is_the_time_since_the_log_was_read_to_its_end(repository: DelayedCommits) -> None:
    clock = FakeClock()
    tailer = tail(repository, clock=clock.monotonic)
    clock.advance(5)
    assert tailer.lag_seconds() == 5
    tailer.poll()
    assert tailer.lag_seconds() == 0
    clock.advance(0.5)
    assert tailer.lag_seconds() == 0.5


def test_thread_follows_the_log_survives_errors_and_stops_promptly(
    repository: DelayedCommits, writer: BankService
) -> None:
    writer.create_bank("ncii")
    repository.failures = ["changes_since", "changes_since"]
    tailer = tail(repository, interval=0.02)
    tailer.start()
    tailer.start()  # already running: no second thread
    try:
        value = random_pdq()
        [added] = writer.add_entries("ncii", [pdq_entry(value)])
        eventually(lambda: matched(tailer.holder.matcher, value) == [added.entry_id], timeout=2.0)
        assert repository.failures == []
    finally:
        started = time.monotonic()
        tailer.stop()
    assert time.monotonic() - started < 1.0
    assert not tailer.running


def test_live_matcher_hears_its_own_process_at_once(repository: DelayedCommits) -> None:
    service = BankService(repository)
    service.create_bank("ncii")
    with LiveMatcher.open(repository, repository, interval=3600) as live:
        service.subscribe(live)
        eventually(
            lambda: live.tailer.polls >= 1, timeout=2.0
        )  # its first round is done: no more for now
        value = random_pdq()
        [added] = service.add_entries("ncii", [pdq_entry(value)])
        assert matched(live, value) == [added.entry_id]  # before any poll
        service.set_entry_state(added.entry_id, EntryState.DISABLED)
        assert matched(live, value) == []
        assert live.matcher is live.holder.matcher
    assert not live.tailer.running


def test_index_rows_of_hidden_entries_stay_hidden(repository: DelayedCommits) -> None:
    """The test double itself: an uncommitted entry is not in a loading snapshot."""
    writer = BankService(repository)
    bank = writer.create_bank("ncii")
    repository.hide(lambda: writer.add_entries("ncii", [pdq_entry(random_pdq())]))
    rows: list[IndexRow] = [r for b in repository.iter_index_rows([bank.id]) for r in b]
    assert rows == []
    assert repository.latest_change_seq() == 1


class SnapshotThenWait(InMemoryBankRepository):
    """A reload's read that takes its snapshot, then waits (a slow load of a big bank)."""

    def __init__(self) -> None:
        super().__init__()
        self.snapshot_taken = threading.Event()
        self.go_on = threading.Event()
        self.hold = False

    def iter_index_batches(self, bank_ids: Sequence[int]) -> Iterator[IndexBatch]:
        batches = list(super().iter_index_batches(bank_ids))
        if self.hold:
            self.snapshot_taken.set()
            assert self.go_on.wait(10)
        return iter(batches)


@pytest.mark.parametrize("write", ["add", "withdraw"])
def test_this_process_s_writes_during_a_reload_are_not_lost(write: str) -> None:
    repository = SnapshotThenWait()
    service = BankService(repository)
    service.create_bank("known")
    [kept] = service.add_entries("known", [pdq_entry(value := random_pdq())])
    holder = MatcherHolder(repository)
    holder.reload()
    repository.hold = True
    reload = threading.Thread(target=holder.reload)
    reload.start()
    assert repository.snapshot_taken.wait(10)
    # While the reload reads its snapshot, this process writes and tells its matcher.
    if write == "add":
        [added] = service.add_entries("known", [pdq_entry(later := random_pdq())])
        holder.apply_added(repository.get_entry(added.entry_id))
    else:
        holder.apply_removed(service.set_entry_state(kept.entry_id, EntryState.WITHDRAWN))
    repository.go_on.set()
    reload.join(10)
    if write == "add":
        assert matched(holder.matcher, later) == [added.entry_id]
    else:
        assert matched(holder.matcher, value) == []


class SilentLog:
    """A change log that shows nothing: only this process's own writes can reach a matcher."""

    def latest_change_seq(self) -> int:
        return 0

    def changes_since(self, seq: int, limit: int = 10_000) -> list[EntryChange]:
        return []

    def changes_in(
        self, ranges: Sequence[tuple[int, int]], limit: int = 10_000
    ) -> list[EntryChange]:
        return []


class WriteDuringLoad(InMemoryBankRepository):
    """The first load lists the banks, then another thread writes before the list is used."""

    def __init__(self, write: Callable[[], object]) -> None:
        super().__init__()
        self._write = write
        self.bank_created = threading.Event()
        self.writer: threading.Thread | None = None

    def create_bank(self, *args: Any, **kwargs: Any) -> Any:
        bank = super().create_bank(*args, **kwargs)
        self.bank_created.set()
        return bank

    def list_banks(self) -> list[Any]:
        listed = super().list_banks()
        if self.writer is None:
            self.writer = threading.Thread(target=self._write)
            self.writer.start()
            assert self.bank_created.wait(5)
        return listed


def test_a_bank_and_entry_written_while_the_first_load_reads_are_in_the_first_matcher() -> None:
    value = random_pdq()
    added: list[int] = []

    def file_a_report() -> None:  # a report filed while the server's index still loads
        service.create_bank("reported")
        added.extend(a.entry_id for a in service.add_entries("reported", [pdq_entry(value)]))

    repository = WriteDuringLoad(file_a_report)
    service = BankService(repository)

    def follow_own_writes(holder: MatcherHolder) -> None:
        service.subscribe(holder)
        service.on_bank_change(holder.reload)

    with LiveMatcher.open(
        repository, SilentLog(), interval=3600, before_load=follow_own_writes
    ) as live:
        assert repository.writer is not None
        repository.writer.join(5)
        assert added
        assert matched(live, value) == added  # no poll of the log brought it
