"""Migration 0007: the audit log's tables, its head at the genesis, and back."""

from __future__ import annotations

from sqlalchemy import inspect, text

from shieldwall.audit.models import EMPTY_HEAD
from shieldwall.storage.engine import create_database_engine
from tests.support.migrations import migrate


def test_0007_starts_the_chain_at_the_genesis_and_drops_it_going_back(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        migrate(engine, "0006")
        assert not inspect(engine).has_table("audit_records")
        migrate(engine, "0007")
        with engine.connect() as connection:
            heads = connection.execute(text("SELECT id, sequence, hash FROM audit_head")).all()
        assert [tuple(row) for row in heads] == [(1, 0, EMPTY_HEAD.hash)]
        migrate(engine, "0006", down=True)
        tables = set(inspect(engine).get_table_names())
        assert not tables & {"audit_records", "audit_head"}
        assert "banks" in tables
    finally:
        engine.dispose()
