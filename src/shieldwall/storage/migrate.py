"""Schema migrations: Alembic, configured in code (no alembic.ini needed)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from shieldwall.errors import StorageError
from shieldwall.storage.engine import create_database_engine, for_writing

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
HEAD_REVISION: Final = "0018"
"""The newest migration; a test keeps it equal to Alembic's head. Knowing it without
importing Alembic keeps every command's start-up fast (Alembic is loaded only to migrate)."""
NOT_INITIALISED: Final = "database is not initialised; run `shieldwall db upgrade`"
# Any constant works: it only has to be the same for every Shieldwall process.
_PG_MIGRATION_LOCK: Final = 0x5348_4C44_5741_4C4C


def alembic_config() -> Config:
    """Alembic configuration pointing at the package's migrations folder."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision among the migration scripts (Alembic's own answer)."""
    head = _scripts().get_current_head()
    if head is None:
        raise StorageError("no schema migrations found")
    return head


def _revision_of(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _read_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return _revision_of(connection)
    except DBAPIError as exc:
        raise StorageError(f"cannot read the schema revision: {exc.orig}") from exc


def upgrade_engine(engine: Engine) -> None:
    """Bring the database behind `engine` to the newest revision; a no-op when it is there.

    Concurrent callers are serialised (SQLite write lock, PostgreSQL advisory lock), so
    several processes starting at once on a fresh database upgrade it exactly once.
    """
    if _read_revision(engine) == HEAD_REVISION:
        return
    from alembic import command

    try:
        with for_writing(engine).begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            if _revision_of(connection) == HEAD_REVISION:
                return
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except DBAPIError as exc:
        raise StorageError(f"schema upgrade failed: {exc.orig}") from exc


def upgrade_database(url: str) -> None:
    """Bring the database at `url` to the newest revision; fast and idempotent at head."""
    engine = create_database_engine(url)
    try:
        upgrade_engine(engine)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at; None for an uninitialised database."""
    engine = create_database_engine(url)
    try:
        return _read_revision(engine)
    finally:
        engine.dispose()


def ensure_schema(engine: Engine) -> None:
    """StorageError unless the database is at the revision this code expects."""
    revision = _read_revision(engine)
    if revision == HEAD_REVISION:
        return
    if revision is None:
        raise StorageError(NOT_INITIALISED)
    from alembic.util import CommandError

    try:
        _scripts().get_revision(revision)
    except CommandError:
        raise StorageError(
            f"database schema revision {revision!r} is newer than this version of "
            "Shieldwall knows; upgrade Shieldwall"
        ) from None
    raise StorageError(f"database schema is behind ({revision}); run `shieldwall db upgrade`")
