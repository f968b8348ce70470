"""Concurrent writers: other processes acting while an import runs."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, event

from shieldwall.banks.models import AddedEntry
from shieldwall.errors import ConflictError
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.repositories import SqlBankRepository
from tests.support.banks import OnStatement, content_entry, make_bank, pdq_entry, stored_rows


@pytest.fixture
def two_processes(postgres_url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one upgraded PostgreSQL schema, as two processes would have them."""
    upgrade_database(postgres_url)
    engines = create_database_engine(postgres_url), create_database_engine(postgres_url)
    yield engines
    for engine in engines:
        engine.dispose()


@pytest.mark.postgres
def test_bank_deleted_by_another_process_mid_import(
    two_processes: tuple[Engine, Engine],
) -> None:
    engine, elsewhere = two_processes
    repository, other_process = SqlBankRepository(engine), SqlBankRepository(elsewhere)
    make_bank(repository)
    deletion = OnStatement(
        engine, "INSERT INTO entries", lambda: other_process.delete_bank("school-reports")
    )
    event.listen(engine, "before_cursor_execute", deletion)
    with pytest.raises(ConflictError):
        repository.add_entries("school-reports", [content_entry() for _ in range(20)])
    assert deletion.fired
    assert stored_rows(engine) == (0, 0)
    assert repository.list_banks() == []


@pytest.mark.postgres
def test_concurrent_import_of_the_same_entries(
    two_processes: tuple[Engine, Engine],
) -> None:
    engine, elsewhere = two_processes
    repository, other_process = SqlBankRepository(engine), SqlBankRepository(elsewhere)
    make_bank(repository)
    shared = [content_entry() for _ in range(5)]
    theirs: list[Any] = []
    race = OnStatement(
        engine,
        "INSERT INTO entries",
        lambda: theirs.extend(other_process.add_entries("school-reports", shared[1:4])),
    )
    event.listen(engine, "before_cursor_execute", race)
    ours = repository.add_entries("school-reports", shared)
    assert race.fired
    assert [result.created for result in ours] == [True, False, False, False, True]
    assert [result.entry_id for result in ours[1:4]] == [r.entry_id for r in theirs]
    assert stored_rows(engine) == (5, 5 * 4)


def test_parallel_imports_of_overlapping_batches_all_succeed(database_url: str) -> None:
    # Each thread has its own engine, as separate processes would: SQLite writers queue on
    # the database lock, PostgreSQL writers meet on the unique index.
    upgrade_database(database_url)
    entries = [pdq_entry() for _ in range(1200)]
    engines = [create_database_engine(database_url) for _ in range(3)]
    try:
        make_bank(SqlBankRepository(engines[0]))

        def run(engine: Engine) -> list[AddedEntry]:
            repository = SqlBankRepository(engine)
            added: list[AddedEntry] = []
            for start in range(0, len(entries), 100):
                added += repository.add_entries("school-reports", entries[start : start + 150])
            return added

        with ThreadPoolExecutor(max_workers=3) as pool:
            results = list(pool.map(run, engines))
        # Windows overlap, so every thread meets every entry once or twice: always one id.
        positions = [k for start in range(0, len(entries), 100) for k in range(start, start + 150)]
        positions = [k for k in positions if k < len(entries)]
        for added in results:
            ids = {k: result.entry_id for k, result in zip(positions, added, strict=True)}
            assert all(ids[k] == r.entry_id for k, r in zip(positions, added, strict=True))
            assert ids == {
                k: result.entry_id for k, result in zip(positions, results[0], strict=True)
            }
        created = [result for added in results for result in added if result.created]
        assert len(created) == len({result.entry_id for result in created}) == len(entries)
        assert stored_rows(engines[0]) == (len(entries), len(entries))
    finally:
        for engine in engines:
            engine.dispose()
