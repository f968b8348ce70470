"""Migration 0009: banks.second_stage, on for every existing bank, and back."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_engine
from shieldwall.storage.repositories import SqlBankRepository
from tests.support.migrations import migrate

AT = "2026-12-04 10:00:00+00:00"


def _columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("banks")}


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_0009_turns_the_second_stage_on_for_existing_banks_and_back(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        migrate(engine, "0008")
        assert "second_stage" not in _columns(engine)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO banks (name, enabled, pdq_threshold, action, matching_ratio,"
                    " created_at, updated_at) VALUES ('old', true, 20, 'review', 0.5, :at, :at)"
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
        policy = repository.get_bank("old").policy
        assert policy.second_stage is True
        assert (policy.pdq_threshold, policy.action.value, policy.matching_ratio) == (
            20,
            "review",
            0.5,
        )
        # The column is NOT NULL with a server default: rows written without it get true.
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO banks (name, enabled, pdq_threshold, action, created_at,"
                    " updated_at) VALUES ('raw', true, 31, 'block', :at, :at)"
                ),
                {"at": AT},
            )
        assert repository.get_bank("raw").policy.second_stage is True
        [column] = [c for c in inspect(engine).get_columns("banks") if c["name"] == "second_stage"]
        assert column["nullable"] is False
        migrate(engine, "0008", down=True)
        assert "second_stage" not in _columns(engine)
        assert (_count(engine, "banks"), _count(engine, "entries")) == (2, 1)
    finally:
        engine.dispose()
