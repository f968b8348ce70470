"""SQLite's write-ahead log stays bounded while a process serves, and the database files
are readable by their owner only."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shieldwall.access.models import LookupEvent, LookupKind, LookupVerdict
from shieldwall.app import Services
from shieldwall.banks.models import BankPolicy
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.repositories import SqlBankRepository
from tests.support.banks import pdq_entry
from tests.support.polling import eventually
from tests.support.services import make_services

LOG_LIMIT = 64 * 1024 * 1024
"""The bound the log is kept under (JOURNAL_SIZE_LIMIT), stated here on its own."""


def _wal_bytes(database: Path) -> int:
    wal = Path(f"{database}-wal")
    return wal.stat().st_size if wal.exists() else 0


def _mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which files are world-readable unless made otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[Services]:
    """A serving worker's services on a new SQLite database in its data directory."""
    services = make_services(tmp_path / "home")
    services.repository.create_bank("import", BankPolicy())
    yield services
    services.close()


def test_index_load_holds_no_snapshot_between_windows(sqlite_url: str) -> None:
    # One snapshot held over a whole load (seconds for a large bank) kept the log from
    # being reset while imports wrote; each window now is its own short transaction.
    upgrade_database(sqlite_url)
    engine = create_database_engine(sqlite_url)
    database = Path(engine.url.database or "")
    try:
        repository = SqlBankRepository(engine)
        bank = repository.create_bank("ncii", BankPolicy())
        repository.add_entries("ncii", [pdq_entry() for _ in range(300)])
        batches = repository.iter_index_rows([bank.id], batch_size=100)
        first = next(batches)  # the load is under way, between two batches
        repository.add_entries("ncii", [pdq_entry() for _ in range(50)])
        with sqlite3.connect(database, timeout=0.1) as other:
            busy, _frames, _copied = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, "a reader still holds an old snapshot"
        assert _wal_bytes(database) == 0
        assert len(first) + sum(len(batch) for batch in batches) in {300, 350}
    finally:
        engine.dispose()


@pytest.mark.slow
def test_log_is_cut_back_and_stays_bounded_while_a_tailer_reads(serving: Services) -> None:
    database = serving.settings.home / "shieldwall.db"
    live = serving.live_matcher()  # a change-log tailer, reading every quarter second
    # A long reader (a backup, say) pins the log while an import writes past the limit:
    # nothing can be copied back or reset meanwhile.
    reader = sqlite3.connect(database, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM entries").fetchone()
        for _ in range(60):
            serving.repository.add_entries("import", [pdq_entry() for _ in range(2_000)])
            if _wal_bytes(database) > LOG_LIMIT:
                break
        grown = _wal_bytes(database)
        assert grown > LOG_LIMIT
        reader.execute("COMMIT")
    finally:
        reader.close()

    def lookups() -> None:
        for _ in range(20):
            serving.access.record_lookup(
                LookupEvent(None, datetime.now(UTC), LookupKind.SIGNALS, 1, 0, LookupVerdict.ALLOW)
            )
        time.sleep(0.05)

    # Once the reader is gone, a checkpoint period later the log is back under the limit
    # (before: it kept its largest size for as long as the process ran) ...
    def shrunk_after_lookups() -> bool:
        lookups()
        return _wal_bytes(database) <= LOG_LIMIT

    eventually(shrunk_after_lookups, timeout=5.0, interval=0)
    # ... and stays there while writes go on and the tailer keeps reading.
    largest = 0
    for _ in range(20):
        serving.repository.add_entries("import", [pdq_entry() for _ in range(500)])
        lookups()
        largest = max(largest, _wal_bytes(database))
    live.close()
    print(f"log: grew to {grown / 2**20:.0f} MiB, then at most {largest / 2**20:.1f} MiB")
    assert largest <= LOG_LIMIT


def test_new_install_is_owner_only(tmp_path: Path, umask_022: None) -> None:
    home = tmp_path / "home"
    services = make_services(home)
    try:
        services.repository.create_bank("ncii", BankPolicy())  # a write: the log files exist
        assert _mode(home) == oct(0o700)
        for name in ("shieldwall.db", "shieldwall.db-wal", "shieldwall.db-shm", "data.key"):
            assert _mode(home / name) == oct(0o600), name
    finally:
        services.close()


def test_existing_install_is_tightened_at_start(tmp_path: Path, umask_022: None) -> None:
    home = tmp_path / "home"
    make_services(home).close()
    database = home / "shieldwall.db"
    # An install made before the fix: everything readable by everyone, log files present.
    held = sqlite3.connect(database, isolation_level=None)
    try:
        held.execute("PRAGMA journal_mode=WAL")
        held.execute("CREATE TABLE IF NOT EXISTS scratch (x)")
        held.execute("INSERT INTO scratch VALUES (1)")
        names = ("shieldwall.db", "shieldwall.db-wal", "shieldwall.db-shm", "data.key")
        for name in names:
            (home / name).chmod(0o644)
        home.chmod(0o755)
        services = make_services(home)
        services.close()
        assert _mode(home) == oct(0o700)
        for name in names:
            assert _mode(home / name) == oct(0o600), name
    finally:
        held.close()


def test_database_outside_the_data_directory_is_owner_only(
    sqlite_url: str, umask_022: None
) -> None:
    engine = create_database_engine(sqlite_url)
    try:
        database = Path(engine.url.database or "")
        assert _mode(database.parent) == oct(0o700)  # made for it
        assert _mode(database) == oct(0o600)
    finally:
        engine.dispose()
