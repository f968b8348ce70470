"""Database engines: SQLite (embedded, WAL) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from shieldwall.errors import InvalidInputError, StorageError

SQLITE_PRAGMAS: Final = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
    # Hash values and dedupe keys are random index keys: every insert into a large bank
    # lands on a different page. A 64 MiB page cache and reads through a memory map (no
    # system call and copy per page) keep that affordable; the map is address space only.
    "PRAGMA cache_size=-65536",
    "PRAGMA mmap_size=1073741824",
)
WRITE_OPTION: Final = "shieldwall_write"
"""Execution option marking a connection that will write (SQLite: BEGIN IMMEDIATE)."""

_POSTGRES_NAMES: Final = {"postgresql", "postgres"}
_POSTGRES_DRIVERS: Final = {"", "psycopg"}


def normalise_database_url(url: str) -> URL:
    """Parse a database URL and pick the driver: SQLite, or PostgreSQL through psycopg 3."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError, TypeError) as exc:
        raise InvalidInputError(f"invalid database URL: {exc}") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in {"", "pysqlite"}:
        return parsed
    if backend in _POSTGRES_NAMES and driver in _POSTGRES_DRIVERS:
        return parsed.set(drivername="postgresql+psycopg")
    raise InvalidInputError(
        f"unsupported database URL scheme {parsed.drivername!r}: "
        "use sqlite:///PATH or postgresql://USER@HOST/DB"
    )


def describe_url(url: URL) -> str:
    """The URL as it may be shown to people and logs: the password hidden."""
    return url.render_as_string(hide_password=True)


def is_sqlite(engine: Engine) -> bool:
    """True when the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


def for_writing(engine: Engine) -> Engine:
    """The same engine, marked so its transactions take SQLite's write lock up front.

    A deferred SQLite transaction that reads and then writes fails at once (no busy wait)
    when another process committed in between; BEGIN IMMEDIATE waits for the lock instead.
    PostgreSQL ignores the mark.
    """
    return engine.execution_options(**{WRITE_OPTION: True})


def create_database_engine(url: str) -> Engine:
    """An engine for `url`, checked by connecting once; StorageError if unreachable.

    Statement parameters are kept out of error messages and logs: they hold hash values.
    """
    parsed = normalise_database_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
        else:
            timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
            engine = create_engine(
                parsed, hide_parameters=True, pool_pre_ping=True, connect_args=timeout
            )
    except NoSuchModuleError as exc:
        raise StorageError(f"database driver not installed for {parsed.drivername}") from exc
    _check_reachable(engine, parsed)
    return engine


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in {"", ":memory:"} or database.startswith("file:")
    if not in_memory:
        path = Path(database).expanduser()
        url = url.set(database=str(path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the directory for {database}: {exc}") from exc
    engine = create_engine(url, hide_parameters=True)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (see
    # _begin_sqlite_transaction); sqlite3 still emits COMMIT and ROLLBACK correctly.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _check_reachable(engine: Engine, url: URL) -> None:
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StorageError(f"cannot reach database {describe_url(url)}: {reason}") from exc
