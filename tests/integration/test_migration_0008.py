"""Migration 0008: the review and console account tables, the default grounds, and back."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from shieldwall.review.models import DEFAULT_GROUNDS, Ground
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.tables import Base
from tests.support.migrations import migrate

NEW_TABLES = {
    "review_items",
    "review_decisions",
    "review_reveals",
    "review_grounds",
    "console_accounts",
    "console_sessions",
}


LATER_COLUMNS = {("review_items", "findings"), ("review_decisions", "added_entries")}
"""Columns later migrations add to this migration's tables (0011, 0016)."""


def _only_new_tables(item: Any, name: Any, kind: str, _reflected: Any, _other: Any) -> bool:
    table = item if kind == "table" else getattr(item, "table", None)
    if kind == "column" and table is not None and (table.name, name) in LATER_COLUMNS:
        return False
    return table is None or table.name in NEW_TABLES


def _grounds(engine: Engine) -> list[Ground]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT code, label, kind, reference_url FROM review_grounds ORDER BY code")
        ).all()
    return [Ground(*row) for row in rows]


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_0008_creates_the_tables_seeds_the_grounds_and_goes_back(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        migrate(engine, "0007")
        assert not _tables(engine) & NEW_TABLES
        migrate(engine, "0008")
        assert _tables(engine) >= NEW_TABLES
        # The migration's literal rows are the application's defaults today.
        assert _grounds(engine) == sorted(DEFAULT_GROUNDS, key=lambda g: g.code)
        migrate(engine, "0007", down=True)
        tables = _tables(engine)
        assert not tables & NEW_TABLES
        assert {"audit_records", "banks"} <= tables
        migrate(engine, "0008")
        assert len(_grounds(engine)) == len(DEFAULT_GROUNDS)
    finally:
        engine.dispose()


def test_0008_tables_match_the_models(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        migrate(engine, "0008")
        # Only this migration's tables: later migrations change the models of others.
        options = {"include_object": _only_new_tables}
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=options)
            differences = compare_metadata(context, Base.metadata)
        assert differences == []
    finally:
        engine.dispose()
