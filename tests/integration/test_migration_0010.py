"""Migration 0010: the enrolments table, and back."""

from __future__ import annotations

from sqlalchemy import inspect

from shieldwall.storage.engine import create_database_engine
from tests.support.migrations import migrate


def test_0010_adds_the_enrolments_table_and_takes_it_away(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        migrate(engine, "0009")
        assert "enrolments" not in inspect(engine).get_table_names()
        migrate(engine, "0010")
        inspector = inspect(engine)
        assert "enrolments" in inspector.get_table_names()
        assert {c["name"] for c in inspector.get_columns("enrolments")} >= {
            "number",
            "secret_hash",
            "consent",
            "templates",
            "expires_at",
        }
        indexes = {i["name"] for i in inspector.get_indexes("enrolments")}
        assert "ix_enrolments_state_expires_at" in indexes
        migrate(engine, "0009", down=True)
        assert "enrolments" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
