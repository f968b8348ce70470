"""Workers in separate processes on one database: a change made through one is matched (or
no longer matched) by the others within 2 seconds, through the change log they tail.

Process A is a real worker: its own interpreter, engine and live matcher, answering match
queries over stdin/stdout (a PDQ hex in, a JSON list of entry ids out). This test process
is worker B, writing through SqlBankRepository and BankService.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import Engine

from shieldwall.banks.models import BankPolicy, EntryState
from shieldwall.banks.service import BankService
from shieldwall.storage.bulk import insert_new_entries
from shieldwall.storage.change_log import SqlChangeLog
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.repositories import SqlBankRepository
from tests.support.factories import pdq_entry, random_pdq
from tests.support.polling import eventually

WITHIN = 2.0
"""Seconds a change may take to reach every worker (the issue's requirement)."""

_DRIVER = textwrap.dedent(
    '''
    """Worker A: a live matcher answering `PDQ hex` lines with JSON lists of entry ids."""
    import json
    import sys

    from shieldwall.app import build_services
    from shieldwall.config import Settings
    from shieldwall.signals.models import Signal

    services = build_services(Settings(database_url=sys.argv[1]), migrate_sqlite=False)
    schema = None
    if sys.argv[1].startswith("postgresql"):
        from shieldwall.storage.engine import create_database_engine

        engine = create_database_engine(sys.argv[1])
        with engine.connect() as connection:
            schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
        engine.dispose()
    live = services.live_matcher()
    print(json.dumps({"ready": True, "schema": schema}), flush=True)
    for line in sys.stdin:
        value = line.strip()
        if not value:
            break
        matches = live.match_signals([Signal.of("pdq", value)])
        print(json.dumps(sorted(match.entry_id for match in matches)), flush=True)
    live.close()
    services.close()
    '''
)


class Worker:
    """Process A, spoken to line by line; a reader thread keeps every read bounded."""

    def __init__(self, script: Path, url: str, log: IO[str]) -> None:
        self._log = log
        self.process = subprocess.Popen(
            [sys.executable, str(script), url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def receive(self, timeout: float) -> Any:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"worker silent for {timeout} s")
        if line is None:
            self._log.flush()
            pytest.fail(f"worker exited: {Path(self._log.name).read_text()[-2000:]}")
        return json.loads(line)

    def match(self, value: str) -> list[int]:
        """The entry ids the worker matches a PDQ hash to, now."""
        assert self.process.stdin is not None
        self.process.stdin.write(value + "\n")
        self.process.stdin.flush()
        found: list[int] = self.receive(timeout=10)
        return found

    def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=10)  # it has read to the end of the pipe: close it
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[str], Worker]]:
    """Starts workers (process A) on a database URL; stops them after the test."""
    script = tmp_path / "worker.py"
    script.write_text(_DRIVER)
    workers: list[Worker] = []
    logs: list[IO[str]] = []

    def start(url: str) -> Worker:
        log = (tmp_path / f"worker-{len(workers)}.log").open("w+")
        logs.append(log)
        workers.append(Worker(script, url, log))
        return workers[-1]

    yield start
    for worker in workers:
        worker.close()
    for log in logs:
        log.close()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    upgrade_database(database_url)
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()


def within(condition: Callable[[], bool]) -> float:
    """Seconds until `condition` held; fails if that is not within the freshness bound."""
    return eventually(condition, timeout=WITHIN)


def ready(worker: Worker, database_url: str) -> None:
    hello = worker.receive(timeout=60)
    assert hello["ready"]
    if database_url.startswith("postgresql"):  # the schema came through the URL's options
        assert hello["schema"] is not None
        assert hello["schema"].startswith("sw_test_")
        assert hello["schema"] in database_url


def test_changes_through_one_worker_reach_every_other_within_2_s(
    database_url: str, engine: Engine, start_worker: Callable[[str], Worker]
) -> None:
    writer = BankService(SqlBankRepository(engine))
    writer.create_bank("ncii")
    loaded = random_pdq()
    [old] = writer.add_entries("ncii", [pdq_entry(loaded)])
    workers = [start_worker(database_url), start_worker(database_url)]
    for worker in workers:
        ready(worker, database_url)
        assert worker.match(loaded) == [old.entry_id]

    def everywhere(value: str, expected: list[int]) -> Callable[[], bool]:
        return lambda: all(worker.match(value) == expected for worker in workers)

    value = random_pdq()
    [added] = writer.add_entries("ncii", [pdq_entry(value)])
    within(everywhere(value, [added.entry_id]))
    writer.set_entry_state(added.entry_id, EntryState.WITHDRAWN)
    within(everywhere(value, []))
    writer.set_entry_state(old.entry_id, EntryState.DISABLED)
    within(everywhere(loaded, []))
    writer.set_entry_state(old.entry_id, EntryState.ACTIVE)
    within(everywhere(loaded, [old.entry_id]))
    # A bulk import of many entries arrives whole.
    batch = [random_pdq() for _ in range(3000)]
    imported = writer.add_entries("ncii", [pdq_entry(v) for v in batch])
    within(everywhere(batch[-1], [imported[-1].entry_id]))
    assert workers[0].match(batch[0]) == [imported[0].entry_id]


def test_bank_changes_reach_other_workers_within_2_s(
    database_url: str, engine: Engine, start_worker: Callable[[str], Worker]
) -> None:
    writer = BankService(SqlBankRepository(engine))
    writer.create_bank("ncii")
    value = random_pdq()
    [added] = writer.add_entries("ncii", [pdq_entry(value)])
    worker = start_worker(database_url)
    ready(worker, database_url)
    assert worker.match(value) == [added.entry_id]
    writer.set_bank_enabled("ncii", False)
    within(lambda: worker.match(value) == [])
    writer.set_bank_enabled("ncii", True)
    within(lambda: worker.match(value) == [added.entry_id])
    # A bank created after the worker started, and its entries.
    late = random_pdq()
    writer.create_bank("late")
    [fresh] = writer.add_entries("late", [pdq_entry(late)])
    within(lambda: worker.match(late) == [fresh.entry_id])
    writer.delete_bank("late")
    within(lambda: worker.match(late) == [])
    assert worker.match(value) == [added.entry_id]


@pytest.mark.postgres
def test_a_lower_seq_committed_late_still_reaches_the_worker(
    postgres_url: str, start_worker: Callable[[str], Worker]
) -> None:
    upgrade_database(postgres_url)
    engine = create_database_engine(postgres_url)
    try:
        repository = SqlBankRepository(engine)
        bank = repository.create_bank("ncii", BankPolicy())
        worker = start_worker(postgres_url)
        ready(worker, postgres_url)
        slow_value, quick_value = random_pdq(), random_pdq()
        slow = pdq_entry(slow_value)
        with engine.connect() as connection:
            transaction = connection.begin()
            # Draws its entry id and log seq now, but commits only after the quick one.
            ids = insert_new_entries(
                connection, bank.id, [(slow.dedupe_key, slow)], datetime.now(UTC)
            )
            [quick] = repository.add_entries("ncii", [pdq_entry(quick_value)])
            within(lambda: worker.match(quick_value) == [quick.entry_id])
            assert worker.match(slow_value) == []
            transaction.commit()
        within(lambda: worker.match(slow_value) == [ids[slow.dedupe_key]])
        changes = {c.entry_id: c.seq for c in SqlChangeLog(engine).changes_since(0)}
        assert changes[ids[slow.dedupe_key]] < changes[quick.entry_id]  # a real gap was seen
    finally:
        engine.dispose()
