"""Keeping a process's matcher current with every process's writes: tailing the change log.

Each write to banks or entries records a change-log row in its own transaction. A matcher
process loads its indexes once, then a background thread polls the log: entry changes are
applied incrementally (the entry's current state is read, so order does not matter and
applying twice is harmless); a change to a bank itself (policy, enabled, name, created,
deleted) is rare and rebuilds the matcher, swapped in whole. Seqs seen skipped are looked
for again for a while (seq_gaps.py), so a transaction that commits late is not lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Final

from shieldwall.background import DaemonLoop
from shieldwall.banks.models import Entry, EntryChange, EntryState, IndexRow
from shieldwall.banks.ports import BankRepository, ChangeLog
from shieldwall.errors import InvalidInputError
from shieldwall.matching.freshness import ChangeBeacon
from shieldwall.matching.holder import MatcherHolder
from shieldwall.matching.models import Match
from shieldwall.matching.seq_gaps import SeqGaps
from shieldwall.matching.service import BankMatcher
from shieldwall.signals.models import Signal
from shieldwall.signals.regions import RegionHasher

DEFAULT_INTERVAL: Final = 0.25
"""Seconds between polls: a change reaches every matcher well within 2 s."""
GAP_TIMEOUT: Final = 30.0
"""Seconds a skipped seq is looked for: far longer than any change transaction stays open
after drawing its seq (the log row is the transaction's last statement)."""
SEED_WINDOW: Final = 10_000
"""Seqs below the start position checked for gaps: transactions that drew them may still
be committing while the matcher loads."""
MAX_BACKOFF: Final = 5.0
READ_CHUNK: Final = 1000
"""Entries read per transaction: short reads let SQLite reset its log while an import runs."""

log = logging.getLogger("shieldwall.matching")


class ChangeTailer:
    """Polls the change log in a daemon thread and applies it to a MatcherHolder's matcher.

    Starts at the holder's `start_seq` (read before it loaded), so changes made while it
    loaded are applied again, harmlessly. `poll` runs one round by hand (tests, tools).
    """

    def __init__(
        self,
        repository: BankRepository,
        change_log: ChangeLog,
        holder: MatcherHolder,
        interval: float = DEFAULT_INTERVAL,
        *,
        gap_timeout: float = GAP_TIMEOUT,
        batch_size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        beacon: ChangeBeacon | None = None,
    ) -> None:
        if interval <= 0 or batch_size < 1:
            raise InvalidInputError("the poll interval and batch size must be positive")
        self._repository = repository
        self._change_log = change_log
        self._holder = holder
        self._interval = interval
        self._batch = batch_size
        self._clock = clock
        self._gaps = SeqGaps(gap_timeout, clock)
        self._last_seq = holder.start_seq
        self._seeded = False
        self._caught_up_at = clock()
        self._poll_lock = threading.Lock()
        self._loop = DaemonLoop("shieldwall-change-tailer", self._run)
        self._beacon = beacon
        self._beacon_before_poll: int | None = None  # noted before the last completed poll
        self.applied = 0
        """Changes applied so far (metrics)."""
        self.reloads = 0
        """Matchers rebuilt because a bank changed (metrics)."""
        self.polls = 0
        """Rounds completed (metrics)."""

    @property
    def holder(self) -> MatcherHolder:
        """The holder whose matcher this tailer keeps current."""
        return self._holder

    @property
    def last_seq(self) -> int:
        """The highest seq read so far."""
        return self._last_seq

    @property
    def missing_seqs(self) -> int:
        """Seqs seen skipped and still looked for (PostgreSQL transactions not yet visible)."""
        return len(self._gaps)

    @property
    def running(self) -> bool:
        """Whether the polling thread is alive."""
        return self._loop.running

    def current(self) -> bool:
        """True if no change was announced on the beacon since the last completed poll
        began: then the matcher holds every committed change (False without a beacon)."""
        noted = self._beacon_before_poll
        return noted is not None and self._beacon is not None and self._beacon.read() == noted

    def lag_seconds(self) -> float:
        """Seconds since the log was last read to its end: older changes are applied."""
        return max(0.0, self._clock() - self._caught_up_at)

    def start(self) -> None:
        """Start polling in a daemon thread (no-op if it runs already)."""
        self._loop.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling; waits for a round in progress to finish (up to `timeout` s)."""
        self._loop.stop(timeout)

    def _run(self) -> None:
        failures = 0
        while not self._loop.stopping.is_set():
            try:
                self.poll()
                failures = 0
            except Exception:  # a database outage must not end the thread: retry later
                failures += 1
                log.warning("change log poll failed (attempt %d)", failures, exc_info=True)
            delay = min(self._interval * 2 ** min(failures, 8), MAX_BACKOFF)
            self._loop.stopping.wait(delay if failures else self._interval)

    def poll(self) -> int:
        """One round: read new changes, look again for skipped seqs; changes applied."""
        with self._poll_lock:
            started = self._clock()
            beacon = self._beacon.read() if self._beacon is not None else None
            if not self._seeded:
                self._seed_gaps()
                self._seeded = True
            applied = self._read_new() + self._recheck_gaps()
            self._gaps.expire()
            self._caught_up_at = started
            self._beacon_before_poll = beacon
            self.applied += applied
            self.polls += 1
            return applied

    def _seed_gaps(self) -> None:
        start = self._last_seq
        first = max(1, start - SEED_WINDOW + 1)
        if start < first:
            return
        present = self._change_log.changes_in([(first, start)], SEED_WINDOW)
        expected = first
        for change in present:
            self._gaps.note(expected, change.seq - 1)
            expected = change.seq + 1
        self._gaps.note(expected, start)

    def _read_new(self) -> int:
        applied = 0
        while True:
            changes = self._change_log.changes_since(self._last_seq, self._batch)
            if not changes:
                break
            applied += self._apply(changes)
            # Only once applied: a failed round reads the same changes again.
            expected = self._last_seq + 1
            for change in changes:
                self._gaps.note(expected, change.seq - 1)
                expected = change.seq + 1
            self._last_seq = changes[-1].seq
            if len(changes) < self._batch or self._loop.stopping.is_set():
                break
        return applied

    def _recheck_gaps(self) -> int:
        applied, after = 0, 0
        while windows := self._gaps.windows(after):
            found = self._change_log.changes_in(windows, self._batch)
            late = [change for change in found if change.seq in self._gaps]
            applied += self._apply(late)
            self._gaps.found(change.seq for change in late)
            if len(found) < self._batch:
                break
            after = found[-1].seq
        return applied

    def _apply(self, changes: Sequence[EntryChange]) -> int:
        if not changes:
            return 0
        if any(self._holder.affected_by(change) for change in changes):
            # The fresh matcher's snapshot holds every change read so far (all committed).
            self._holder.reload()
            self.reloads += 1
            return len(changes)
        banks = self._holder.bank_ids
        wanted = {c.entry_id for c in changes if c.entry_id is not None and c.bank_id in banks}
        # States and signals only, not whole entries: an import's changes arrive by the ten
        # thousand, and reading Entry objects made the tailer slower than the import. Read in
        # short transactions, applied at once (the index merges one batch, not ten).
        ordered = sorted(wanted)
        states: dict[int, EntryState] = {}
        rows: list[IndexRow] = []
        for start in range(0, len(ordered), READ_CHUNK):
            found, found_rows = self._repository.index_rows_by_id(
                ordered[start : start + READ_CHUNK]
            )
            states.update(found)
            rows += found_rows
        if states:
            self._holder.matcher.apply_current_rows(states, rows)
        return len(changes)


class LiveMatcher:
    """A matcher that follows every process's writes: a MatcherHolder plus its ChangeTailer.

    Also an EntryListener, so this process's own writes show at once, before the log."""

    def __init__(self, holder: MatcherHolder, tailer: ChangeTailer) -> None:
        self.holder = holder
        self.tailer = tailer

    @classmethod
    def open(
        cls,
        repository: BankRepository,
        change_log: ChangeLog,
        bank_names: Sequence[str] = (),
        interval: float = DEFAULT_INTERVAL,
        beacon: ChangeBeacon | None = None,
        loads: BankRepository | None = None,
        before_load: Callable[[MatcherHolder], object] | None = None,
    ) -> LiveMatcher:
        """Load the matcher for the named banks (all if none) and start tailing the log.

        With a `beacon`, `current()` tells when the matcher holds every committed change.
        `loads` reads whole banks (the first load and reloads after bank changes) if given;
        the tailer's small reads go through `repository`. `before_load(holder)` subscribes
        the holder to this process's own writes before the first load (MatcherHolder.load).
        """
        holder = MatcherHolder.load(loads or repository, change_log, bank_names, before_load)
        tailer = ChangeTailer(repository, change_log, holder, interval, beacon=beacon)
        tailer.start()
        return cls(holder, tailer)

    @property
    def matcher(self) -> BankMatcher:
        """The current matcher (replaced whole when a bank changes)."""
        return self.holder.matcher

    def match_signals(
        self,
        signals: Sequence[Signal],
        max_threshold: int | None = None,
        pixels: RegionHasher | None = None,
    ) -> list[Match]:
        """Matches for a content's signals, against the current matcher."""
        return self.holder.matcher.match_signals(signals, max_threshold, pixels)

    def current(self) -> bool:
        """True if the matcher holds every change committed on this host (see freshness)."""
        return self.tailer.current()

    def apply_added(self, entry: Entry) -> None:
        """An entry became matchable in this process."""
        self.holder.apply_added(entry)

    def apply_removed(self, entry: Entry) -> None:
        """An entry stopped being matchable in this process."""
        self.holder.apply_removed(entry)

    def close(self) -> None:
        """Stop tailing the log."""
        self.tailer.stop()

    def __enter__(self) -> LiveMatcher:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()
