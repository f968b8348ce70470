"""Migration 0006: banks.matching_ratio and entries.user_metadata on existing data."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_engine
from shieldwall.storage.repositories import SqlBankRepository
from tests.support.migrations import migrate

AT = "2026-12-01 10:00:00+00:00"


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_0006_keeps_banks_and_entries_and_back(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        migrate(engine, "0005")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO banks (name, enabled, pdq_threshold, action, created_at,"
                    " updated_at) VALUES ('old', true, 31, 'block', :at, :at)"
                ),
                {"at": AT},
            )
            bank_id = connection.execute(text("SELECT id FROM banks")).scalar_one()
            connection.execute(
                text(
                    "INSERT INTO entries (bank_id, dedupe_key, state, source, submitted_by,"
                    " case_id, note, created_at, updated_at) VALUES"
                    " (:b, 'md5:00', 'active', 'manual', 'x', '', 'kept', :at, :at)"
                ),
                {"b": bank_id, "at": AT},
            )
        upgrade_engine(engine)
        repository = SqlBankRepository(engine)
        assert repository.get_bank("old").policy.matching_ratio == 1.0
        with engine.connect() as connection:
            entry_id = connection.execute(text("SELECT id FROM entries")).scalar_one()
        entry = repository.get_entry(entry_id)
        assert (entry.provenance.note, entry.provenance.metadata) == ("kept", "")
        migrate(engine, "0005", down=True)
        columns = {c["name"] for c in inspect(engine).get_columns("banks")}
        assert "matching_ratio" not in columns
        assert "user_metadata" not in {c["name"] for c in inspect(engine).get_columns("entries")}
        assert (_count(engine, "banks"), _count(engine, "entries")) == (1, 1)
    finally:
        engine.dispose()
