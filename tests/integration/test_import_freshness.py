"""A bulk import on SQLite neither stalls lookups nor delays new entries past 2 seconds.

Another process imports 100,000 generated PDQ hashes through SqlBankRepository.add_entries,
batch after batch with nothing in between (the bulk-add path at its most demanding: no
parsing leaves gaps between transactions). Meanwhile this process serves, as a worker
does: lookup audit writes from two threads, and a live matcher tailing the change log.
While the import runs, each audit write must get the write lock within a bound, and an
entry added through a third connection must be matchable here within 2 s.

Before the fix, waiting writers slept in SQLite's busy handler (up to 100 ms a try) and
almost never hit the importer's gaps: lookups waited for most of the import.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shieldwall.access.models import LookupEvent, LookupKind, LookupVerdict
from shieldwall.app import Services
from shieldwall.banks.models import BankPolicy, EntryState, NewEntry
from shieldwall.matching.tailer import LiveMatcher
from shieldwall.signals.models import Signal
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.repositories import SqlBankRepository
from tests.support.polling import eventually
from tests.support.services import make_services

TOTAL = 100_000
BATCH = 5_000
FRESH_WITHIN = 2.0
"""Seconds a change may take to be matchable in every worker (the freshness promise)."""
WRITE_WAIT_BOUND = 2.0
"""Seconds a lookup's audit write may wait for the write lock during an import (generous:
a correctness bound on locking, not a speed benchmark)."""

IMPORTER = '''
"""Add TOTAL random PDQ entries in batches, back to back, once told to start."""
import random
import sys

from shieldwall.banks.models import NewEntry
from shieldwall.signals.models import Signal
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.repositories import SqlBankRepository

url, total, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
repository = SqlBankRepository(create_database_engine(url))
rng = random.Random(9)
batches = [
    [
        NewEntry((Signal.of("pdq", f"{rng.getrandbits(256):064x}", quality=100),))
        for _ in range(batch)
    ]
    for _ in range(total // batch)
]
print("ready", flush=True)
sys.stdin.readline()
for entries in batches:
    repository.add_entries("import", entries)
print("done", flush=True)
'''


@dataclass
class AuditWriters:
    """Threads recording lookups as a worker does, each write timed."""

    services: Services
    waits: list[float] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            self.services.access.record_lookup(
                LookupEvent(None, datetime.now(UTC), LookupKind.SIGNALS, 1, 0, LookupVerdict.ALLOW)
            )
            self.waits.append(time.monotonic() - started)
            self.stopping.wait(0.01)


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Services]:
    """A serving worker's services on a new SQLite database with the two banks."""
    services = make_services(tmp_path / "home")
    services.repository.create_bank("import", BankPolicy())
    services.repository.create_bank("ncii", BankPolicy())
    yield services
    services.close()


def _start_importer(tmp_path: Path, url: str) -> subprocess.Popen[str]:
    script = tmp_path / "importer.py"
    script.write_text(IMPORTER, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(script), url, str(TOTAL), str(BATCH)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def _seconds_until_matchable(live: LiveMatcher, value: str) -> float:
    """Seconds until the live matcher matches `value`, polled (at most 3 times the bound)."""
    probe = [Signal.of("pdq", value)]
    return eventually(
        lambda: live.match_signals(probe),
        timeout=3 * FRESH_WITHIN,
        interval=0.01,
        message="never became matchable",
    )


@pytest.mark.slow
def test_import_keeps_lookups_unblocked_and_new_entries_fresh(
    tmp_path: Path, worker: Services
) -> None:
    url = worker.settings.effective_database_url
    live = worker.live_matcher()
    writers = AuditWriters(worker)
    threads = [threading.Thread(target=writers.run) for _ in range(2)]
    other_engine = create_database_engine(url)  # another worker's, adding one entry at a time
    other_worker = SqlBankRepository(other_engine)
    importer = _start_importer(tmp_path, url)
    rng = random.Random(3)
    adds: list[float] = []
    fresh: list[float] = []
    try:
        for thread in threads:
            thread.start()
        assert importer.stdin is not None
        importer.stdin.write("go\n")
        importer.stdin.flush()
        while importer.poll() is None:
            value = f"{rng.getrandbits(256):064x}"
            started = time.monotonic()
            other_worker.add_entries("ncii", [NewEntry((Signal.of("pdq", value, quality=100),))])
            adds.append(time.monotonic() - started)
            fresh.append(_seconds_until_matchable(live, value))
            time.sleep(0.1)
        assert importer.wait(timeout=120) == 0
        assert importer.stdout is not None
        assert importer.stdout.read().strip() == "done"
    finally:
        writers.stopping.set()
        for thread in threads:
            thread.join(timeout=60)
        if importer.poll() is None:
            importer.kill()
        with importer:  # closes its pipes and waits for it
            pass
        live.close()
        other_engine.dispose()
    print(
        f"import: {len(adds)} adds, slowest add {max(adds):.3f} s, slowest to match "
        f"{max(fresh):.3f} s; {len(writers.waits)} audit writes, slowest {max(writers.waits):.3f} s"
    )
    assert len(adds) >= 3, "the import ended before the probes overlapped it"
    assert worker.repository.count_entries("import")[EntryState.ACTIVE] == TOTAL
    assert max(writers.waits) < WRITE_WAIT_BOUND
    assert max(adds) < WRITE_WAIT_BOUND
    assert max(fresh) < FRESH_WITHIN
