"""Migration 0011: likeness items' findings and the notices to enrolled people, and back;
the new parts match the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.tables import Base
from tests.support.migrations import migrate


def _review_columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("review_items")}


def _new_parts(item: Any, name: Any, kind: str, _reflected: Any, _other: Any) -> bool:
    table = item if kind == "table" else getattr(item, "table", None)
    if table is None:
        return True
    if table.name == "review_items":
        return kind != "column" or name == "findings"
    return bool(table.name == "enrolment_notices")


def test_0011_adds_findings_and_notices_and_takes_them_away(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        migrate(engine, "0010")
        assert "findings" not in _review_columns(engine)
        assert "enrolment_notices" not in inspect(engine).get_table_names()
        migrate(engine, "0011")
        assert "findings" in _review_columns(engine)
        assert "enrolment_notices" in inspect(engine).get_table_names()
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_object": _new_parts})
            assert compare_metadata(context, Base.metadata) == []
        migrate(engine, "0010", down=True)
        assert "findings" not in _review_columns(engine)
        assert "enrolment_notices" not in inspect(engine).get_table_names()
        assert "review_items" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
