"""Database engines: SQLite (embedded, WAL) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sqlite3
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import NullPool

from shieldwall.errors import InvalidInputError, StorageError
from shieldwall.storage.wal_checkpoint import (
    CHECKPOINT_BUSY_MS,
    JOURNAL_SIZE_LIMIT,
    WalCheckpointer,
    checkpoint,
)

BUSY_TIMEOUT_MS: Final = 30_000
"""How long a statement waits for a lock another connection holds, and a writer for the lock."""
SQLITE_PRAGMAS: Final = (
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}",
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
SQLITE_FILE_SUFFIXES: Final = ("", "-wal", "-shm", "-journal")
"""The database file and the files SQLite keeps beside it."""
OWNER_ONLY: Final = 0o600

_LOCK_POLL_FIRST: Final = 0.0005
_LOCK_POLL_MAX: Final = 0.004
_SQLITE_BUSY: Final = 5
_CHECKPOINT_PENDING: Final = "shieldwall_checkpoint_pending"

log = logging.getLogger("shieldwall.storage")

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


def create_database_engine(url: str, *, pooled: bool = True) -> Engine:
    """An engine for `url`, checked by connecting once; StorageError if unreachable.

    Statement parameters are kept out of error messages and logs: they hold hash values.
    An engine that is not `pooled` closes each connection when it is returned: for rare,
    large reads (index loads) whose connection would otherwise keep hundreds of MiB of the
    SQLite file mapped, or its page cache full, for the life of the process.
    """
    parsed = normalise_database_url(url)
    pool: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed, pool)
        else:
            timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
            engine = create_engine(
                parsed, hide_parameters=True, pool_pre_ping=True, connect_args=timeout, **pool
            )
    except NoSuchModuleError as exc:
        raise StorageError(f"database driver not installed for {parsed.drivername}") from exc
    _check_reachable(engine, parsed)
    return engine


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory or URI-named database."""
    database = url.database or ""
    if database in {"", ":memory:"} or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def _sqlite_engine(url: URL, pool: dict[str, Any]) -> Engine:
    path = sqlite_file(url)
    if path is not None:
        url = url.set(database=str(path))
        try:
            # Only the last folder gets 0700: missing parents above it are left as usual.
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            secure_database_files(path)
        except OSError as exc:
            raise StorageError(f"cannot prepare the database file {path}: {exc}") from exc
    engine = create_engine(url, hide_parameters=True, **pool)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    if path is not None:
        event.listen(engine, "checkin", functools.partial(_checkpoint_after_bulk_write, path))
    return engine


def start_wal_checkpointer(engine: Engine) -> WalCheckpointer | None:
    """Checkpoint a SQLite file engine's database in a background thread from now on, and
    stop its connections checkpointing as they commit (call before others use the engine).

    Without this, a lookup's one-row commit would now and then copy an import's pages back.
    None (nothing started) for PostgreSQL and in-memory databases.
    """
    path = sqlite_file(engine.url) if is_sqlite(engine) else None
    if path is None:
        return None
    event.listen(engine, "connect", _no_automatic_checkpoints)
    engine.dispose()  # pooled connections were opened with automatic checkpoints
    checkpointer = WalCheckpointer(path)
    checkpointer.start()
    return checkpointer


def _no_automatic_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def secure_database_files(path: Path) -> None:
    """Make the database file owner-only (0600) before SQLite opens it, and tighten it and
    the files beside it where an older install left them readable by others.

    SQLite creates the -wal and -shm files with the database file's permissions, so a
    database file made 0600 here keeps them owner-only too.
    """
    # An existing database (or one another process made first) is left as it is.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY))
    for suffix in SQLITE_FILE_SUFFIXES:
        tighten_mode(Path(f"{path}{suffix}"))


def tighten_mode(path: Path) -> None:
    """Take group and other permissions off a file or folder, if it exists and has any."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        try:
            path.chmod(mode & 0o700)
        except PermissionError:  # not ours (a shared install): say so, do not refuse to run
            log.warning("cannot make %s owner-only (mode %o): not its owner", path, mode)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (see
    # _begin_sqlite_transaction); sqlite3 still emits COMMIT and ROLLBACK correctly.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        _use_write_ahead_log(cursor)
    finally:
        cursor.close()


def _use_write_ahead_log(cursor: Any) -> None:
    """Put the database in WAL mode unless it already is, waiting while others hold it.

    Switching the journal mode of a new database needs it to itself, and SQLite answers
    "database is locked" at once, without its busy handler, while another connection (a
    worker or migration starting at the same moment) holds it: so try again until the busy
    timeout. A database already in WAL mode (the usual case) needs no lock at all.
    """

    def switch() -> None:
        if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")  # in-memory databases stay "memory"

    _retried_while_busy(switch, BUSY_TIMEOUT_MS / 1000)


def checkpoint_after_commit(connection: Connection) -> None:
    """Have this SQLite connection copy its log back once its transaction ends (bulk writes).

    The writer that filled the log pays for copying it back, outside the write lock: an
    import then cannot outrun its checkpoints, and the next lookup's one-row commit never
    inherits them. A no-op on PostgreSQL.
    """
    if connection.dialect.name == "sqlite":
        connection.info[_CHECKPOINT_PENDING] = True


def _checkpoint_after_bulk_write(database: Path, dbapi_connection: Any, record: Any) -> None:
    # Runs as the connection goes back to the pool, after its commit or rollback (None
    # when the connection was invalidated). Best effort: the checkpointers try again.
    if not record.info.pop(_CHECKPOINT_PENDING, False) or dbapi_connection is None:
        return
    try:
        dbapi_connection.execute(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_MS}")
        try:
            checkpoint(dbapi_connection, database)
        finally:
            dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except sqlite3.Error:
        log.warning("checkpoint after a bulk write failed", exc_info=True)


def _begin_sqlite_transaction(connection: Connection) -> None:
    if connection.get_execution_options().get(WRITE_OPTION, False):
        take_write_lock(connection.connection.dbapi_connection)
    else:
        connection.exec_driver_sql("BEGIN")


def take_write_lock(dbapi_connection: Any, timeout: float = BUSY_TIMEOUT_MS / 1000) -> None:
    """BEGIN IMMEDIATE, tried every few milliseconds until `timeout` seconds have passed.

    SQLite's own busy handler sleeps up to 100 ms between tries, so a waiting writer (an
    audit or hit write of a lookup) mostly misses the short gaps a bulk import leaves
    between its transactions and could wait for many of them; trying often takes the lock
    at the first gap. Raises SQLAlchemy's OperationalError when the time is up.
    """
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        _retried_while_busy(lambda: dbapi_connection.execute("BEGIN IMMEDIATE"), timeout)
    except sqlite3.OperationalError as exc:
        raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _retried_while_busy(attempt: Callable[[], object], timeout: float) -> None:
    """Call `attempt` until it does not fail with SQLITE_BUSY, every few milliseconds (the
    pause doubling up to _LOCK_POLL_MAX), for at most `timeout` seconds; then, or on any
    other error, the sqlite3 error is raised."""
    deadline = time.monotonic() + timeout
    delay = _LOCK_POLL_FIRST
    while True:
        try:
            attempt()
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, _LOCK_POLL_MAX)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(exc) or "busy" in str(exc)
    return bool(code & 0xFF == _SQLITE_BUSY)


def _check_reachable(engine: Engine, url: URL) -> None:
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StorageError(f"cannot reach database {describe_url(url)}: {reason}") from exc
