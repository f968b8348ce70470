"""Schema migrations and engines on real SQLite files and PostgreSQL schemas."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, event, inspect, text

from shieldwall.banks.models import BankPolicy
from shieldwall.errors import InvalidInputError, StorageError
from shieldwall.storage.engine import create_database_engine, normalise_database_url
from shieldwall.storage.migrate import (
    _scripts,
    current_revision,
    ensure_schema,
    head_revision,
    upgrade_database,
    upgrade_engine,
)
from shieldwall.storage.repositories import SqlBankRepository
from shieldwall.storage.tables import Base
from tests.support.migrations import migrate

TABLES = {
    "banks",
    "bank_allow_lists",
    "entries",
    "entry_signals",
    "api_keys",
    "lookup_events",
    "entry_changes",
    "cases",
    "case_entries",
    "case_events",
    "audit_records",
    "audit_head",
    "review_items",
    "review_decisions",
    "review_reveals",
    "review_grounds",
    "console_accounts",
    "console_sessions",
    "enrolments",
    "enrolment_notices",
    "deadline_alerts",
    "platforms",
    "locator_notices",
    "tdb_submissions",
    "complaints",
    "screened_lookups",
    "sweeps",
    "sweep_hits",
    "case_blocks",
    "webhook_endpoints",
    "webhook_deliveries",
}


def _schema(engine: Engine) -> dict[str, Any]:
    inspector = inspect(engine)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            sorted(i["name"] or "" for i in inspector.get_indexes(table)),
            sorted(u["name"] or "" for u in inspector.get_unique_constraints(table)),
            sorted(str(fk["referred_table"]) for fk in inspector.get_foreign_keys(table)),
        )
        for table in sorted(inspector.get_table_names())
    }


def test_upgrade_creates_the_tables_and_reports_head(database_url: str) -> None:
    assert current_revision(database_url) is None
    upgrade_database(database_url)
    assert current_revision(database_url) == head_revision()
    engine = create_database_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) == {*TABLES, "alembic_version"}
        ensure_schema(engine)
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    upgrade_database(database_url)
    engine = create_database_engine(database_url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        SqlBankRepository(engine).create_bank("kept", BankPolicy())
        before = _schema(engine)
        statements.clear()
        upgrade_engine(engine)
        upgrade_database(database_url)
        writes = ("CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE")
        assert statements
        assert not [s for s in statements if s.lstrip().upper().startswith(writes)]
        assert _schema(engine) == before
        assert [bank.name for bank in SqlBankRepository(engine).list_banks()] == ["kept"]
    finally:
        engine.dispose()


def test_migration_creates_exactly_the_model_tables(sql_engine: Engine) -> None:
    with sql_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


class StatementLog:
    """Every statement that any engine of this process runs while it is open."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def _record(self, *args: Any) -> None:
        _conn, _cursor, statement, parameters = args[:4]
        self.statements.append(f"{statement} {parameters!r}")

    def __enter__(self) -> StatementLog:
        event.listen(Engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(Engine, "before_cursor_execute", self._record)

    def revisions_stamped(self) -> list[str]:
        """The revisions written into alembic_version, in order: one per migration run."""
        stamps = [s for s in self.statements if re.match(r"\s*(INSERT INTO|UPDATE) alembic", s)]
        return [re.findall(r"'(\w+)'", stamp)[0] for stamp in stamps]

    def tables_created(self) -> list[str]:
        return re.findall(r"CREATE TABLE (\w+)", " ".join(self.statements))


def test_concurrent_first_upgrades_run_once(database_url: str) -> None:
    chain = [script.revision for script in reversed(list(_scripts().walk_revisions()))]
    upgraders = 4
    start = threading.Barrier(upgraders)

    def upgrade(_: int) -> None:
        start.wait(timeout=30)  # all at once, on a database none of them has seen at head
        upgrade_database(database_url)

    with StatementLog() as log, ThreadPoolExecutor(max_workers=upgraders) as pool:
        list(pool.map(upgrade, range(upgraders)))
    assert current_revision(database_url) == head_revision() == chain[-1]
    # Each migration ran once: stamped once, in order, and no table created twice.
    assert log.revisions_stamped() == chain
    created = log.tables_created()
    assert len(created) == len(set(created)), created
    assert set(created) >= {*TABLES, "alembic_version"}


def test_repository_refuses_an_uninitialised_database(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        with pytest.raises(StorageError, match="shieldwall db upgrade"):
            SqlBankRepository(engine)
    finally:
        engine.dispose()


def test_repository_refuses_an_unknown_newer_schema(database_url: str) -> None:
    upgrade_database(database_url)
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(StorageError, match="newer"):
            SqlBankRepository(engine)
    finally:
        engine.dispose()


def test_sqlite_connections_are_configured(sqlite_url: str) -> None:
    engine = create_database_engine(sqlite_url)
    try:
        assert Path(sqlite_url.removeprefix("sqlite:///")).is_file()
        with engine.connect() as connection:

            def pragma(name: str) -> Any:
                return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

            assert pragma("journal_mode") == "wal"
            assert pragma("busy_timeout") == 30000
            assert pragma("foreign_keys") == 1
            assert pragma("synchronous") == 1  # NORMAL
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_database_urls_pick_the_driver(url: str, driver: str) -> None:
    assert normalise_database_url(url).drivername == driver


@pytest.mark.parametrize("url", ["mysql://u@h/db", "postgresql+psycopg2://u@h/db", "not a url"])
def test_unsupported_database_urls_are_rejected(url: str) -> None:
    with pytest.raises(InvalidInputError):
        normalise_database_url(url)


def test_unreachable_databases_are_a_clear_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot reach database") as caught:
        create_database_engine("postgresql://postgres:secret@127.0.0.1:1/test")
    assert "secret" not in str(caught.value)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError):
        create_database_engine(f"sqlite:///{blocker / 'sub' / 'db.sqlite'}")


def test_head_revision_constant_matches_alembic() -> None:
    from shieldwall.storage.migrate import HEAD_REVISION

    assert head_revision() == HEAD_REVISION


def test_0004_gives_old_hit_counts_to_the_first_case_only(database_url: str) -> None:
    engine = create_database_engine(database_url)
    at = "2026-11-22 10:00:00+00:00"
    try:
        migrate(engine, "0003")
        with engine.begin() as connection:
            for number in ("SW-0000-0001", "SW-0000-0002"):
                connection.execute(
                    text(
                        "INSERT INTO cases (number, secret_hash, state, received_at, priority,"
                        " report) VALUES (:n, 'h', 'received', :at, false, 'sealed')"
                    ),
                    {"n": number, "at": at},
                )
            ids = connection.execute(text("SELECT id FROM cases ORDER BY id")).scalars().all()
            links = [(ids[0], 10, 0), (ids[1], 10, 0), (ids[1], 11, 1)]
            connection.execute(
                text("INSERT INTO case_entries (case_id, entry_id, position) VALUES (:c, :e, :p)"),
                [{"c": c, "e": e, "p": p} for c, e, p in links],
            )
            connection.execute(
                text("INSERT INTO entry_hits (entry_id, hits, last_at) VALUES (:e, :h, :at)"),
                [{"e": 10, "h": 5, "at": at}, {"e": 11, "h": 2, "at": at}],
            )
        upgrade_engine(engine)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT case_id, entry_id, hits FROM case_entries ORDER BY case_id, entry_id")
            ).all()
        assert [tuple(row) for row in rows] == [(ids[0], 10, 5), (ids[1], 10, 0), (ids[1], 11, 2)]
        assert "entry_hits" not in inspect(engine).get_table_names()
        migrate(engine, "0003", down=True)
        with engine.connect() as connection:
            restored = connection.execute(
                text("SELECT entry_id, hits FROM entry_hits ORDER BY entry_id")
            ).all()
        assert [tuple(row) for row in restored] == [(10, 5), (11, 2)]
    finally:
        engine.dispose()
