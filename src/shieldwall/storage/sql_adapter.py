"""What every SQL adapter shares: schema check, read/write transactions, error mapping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from shieldwall.errors import ConflictError, StorageError
from shieldwall.storage.engine import for_writing
from shieldwall.storage.migrate import ensure_schema


def database_error_reason(exc: DBAPIError) -> str:
    """The driver's message, first line only: PostgreSQL's DETAIL line would repeat values."""
    text = str(exc.orig) if exc.orig is not None else type(exc).__name__
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


@contextmanager
def storage_errors() -> Iterator[None]:
    """Driver errors become ConflictError (integrity) or StorageError (anything else)."""
    try:
        yield
    except IntegrityError as exc:
        raise ConflictError(f"conflicts with stored data: {database_error_reason(exc)}") from exc
    except DBAPIError as exc:
        raise StorageError(f"database error: {database_error_reason(exc)}") from exc


class SqlAdapter:
    """Base of the SQL adapters: checks the schema once, then runs read and write blocks."""

    def __init__(self, engine: Engine) -> None:
        ensure_schema(engine)
        self._engine = engine
        self._writer = for_writing(engine)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with storage_errors(), self._engine.begin() as connection:
            yield connection

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with storage_errors(), self._writer.begin() as connection:
            yield connection
