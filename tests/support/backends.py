"""A repository on each back end, for contract tests parametrised over
`["memory", *SQL_BACKENDS]`: the in-memory one, or the SQL one on a fresh, upgraded
database of the back end the parameter names."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from sqlalchemy import Engine

from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database

T = TypeVar("T")


def on_backend(
    request: pytest.FixtureRequest, memory: Callable[[], T], sql: Callable[[Engine], T]
) -> Iterator[T]:
    """Yield the repository for `request.param` (`memory`, `sqlite`, `postgres`)."""
    if request.param == "memory":
        yield memory()
        return
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade_database(url)
    engine = create_database_engine(url)
    try:
        yield sql(engine)
    finally:
        engine.dispose()
