"""A bulk import killed with SIGKILL leaves whole batches only, and re-running it completes it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import shieldwall

TOTAL = 200_000
BATCH = 5_000
KILL_IN_BATCH = 4  # batches 1-3 have committed when the driver is killed inside batch 4

DRIVER = '''
"""Import TOTAL hash-only entries in batches; optionally stop inside one batch's transaction."""
import random
import sys

from sqlalchemy import event

from shieldwall.banks.models import BankPolicy, NewEntry
from shieldwall.errors import ConflictError
from shieldwall.signals.models import Signal
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_engine
from shieldwall.storage.repositories import SqlBankRepository

url, total, batch, pause_in = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
engine = create_database_engine(url)
upgrade_engine(engine)
repository = SqlBankRepository(engine)
try:
    repository.create_bank("import", BankPolicy())
except ConflictError:
    pass
current = 0


@event.listens_for(engine, "before_cursor_execute")
def pause(conn, cursor, statement, parameters, context, executemany):
    # Entries are written, their signals are not, nothing is committed: wait to be killed.
    if current == pause_in and statement.startswith("INSERT INTO entry_signals"):
        print(f"paused inside batch {current}", flush=True)
        sys.stdin.readline()


rng = random.Random(7)
for start in range(0, total, batch):
    current += 1
    entries = [
        NewEntry((Signal.of("pdq", f"{rng.getrandbits(256):064x}", quality=rng.randrange(101)),))
        for _ in range(min(batch, total - start))
    ]
    added = repository.add_entries("import", entries)
    created = sum(result.created for result in added)
    print(f"committed batch {current} created {created}", flush=True)
print("done", flush=True)
'''


def _run_driver(driver: Path, database: Path, pause_in: int) -> subprocess.Popen[str]:
    env = dict(os.environ)
    source = str(Path(shieldwall.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    command = [sys.executable, str(driver), f"sqlite:///{database}", str(TOTAL), str(BATCH)]
    return subprocess.Popen(
        [*command, str(pause_in)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def _stored(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)

        def count(query: str) -> int:
            return int(connection.execute(query).fetchone()[0])

        return {
            "entries": count("SELECT COUNT(*) FROM entries"),
            "keys": count("SELECT COUNT(DISTINCT dedupe_key) FROM entries"),
            "signals": count("SELECT COUNT(*) FROM entry_signals"),
            "without_signal": count(
                "SELECT COUNT(*) FROM entries e WHERE NOT EXISTS "
                "(SELECT 1 FROM entry_signals s WHERE s.entry_id = e.id)"
            ),
            "orphan_signals": count(
                "SELECT COUNT(*) FROM entry_signals s WHERE NOT EXISTS "
                "(SELECT 1 FROM entries e WHERE e.id = s.entry_id)"
            ),
        }


def _whole_entries(count: int) -> dict[str, int]:
    """What `_stored` finds when `count` distinct entries are stored, each with its signal."""
    return {
        "entries": count,
        "keys": count,
        "signals": count,
        "without_signal": 0,
        "orphan_signals": 0,
    }


@pytest.mark.slow
def test_killed_import_keeps_whole_batches_and_resumes(tmp_path: Path) -> None:
    driver, database = tmp_path / "driver.py", tmp_path / "import.db"
    driver.write_text(DRIVER, encoding="utf-8")
    lines = []
    with _run_driver(driver, database, KILL_IN_BATCH) as process:  # closes its pipes
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.strip())
            if line.startswith("paused"):
                break
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert lines == [
        *(f"committed batch {n} created {BATCH}" for n in range(1, KILL_IN_BATCH)),
        f"paused inside batch {KILL_IN_BATCH}",
    ]
    assert _stored(database) == _whole_entries((KILL_IN_BATCH - 1) * BATCH)

    with _run_driver(driver, database, 0) as rerun:
        output, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, output
    reported = output.splitlines()
    assert reported[-1] == "done"
    # The batches that had committed are recognised, not added again.
    assert reported[0] == "committed batch 1 created 0"
    assert reported[KILL_IN_BATCH - 1] == f"committed batch {KILL_IN_BATCH} created {BATCH}"
    assert _stored(database) == _whole_entries(TOTAL)
