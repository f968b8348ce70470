"""SQL fault injection and row counts for the storage tests.

The sample entries and banks are factories (tests.support.factories); they are named here
too for the storage suites that import them from this module.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

from tests.support.factories import content_entry, make_bank, pdq_entry

__all__ = ["OnStatement", "content_entry", "make_bank", "pdq_entry", "stored_rows"]


class OnStatement:
    """Engine listener: at the first statement starting with `prefix`, run `action` or fail."""

    def __init__(self, engine: Engine, prefix: str, action: Any = None) -> None:
        self.prefix, self.action, self.fired = prefix, action, False
        self.error = engine.dialect.loaded_dbapi.OperationalError

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if self.fired or not statement.lstrip().startswith(self.prefix):
            return
        self.fired = True
        if self.action is not None:
            self.action()
            return
        raise self.error("disk I/O error (injected by the test)")


def stored_rows(engine: Engine) -> tuple[int, int]:
    """How many entries and entry signals the database holds."""
    with engine.connect() as connection:
        entries = connection.execute(text("SELECT COUNT(*) FROM entries")).scalar_one()
        signals = connection.execute(text("SELECT COUNT(*) FROM entry_signals")).scalar_one()
    return entries, signals
