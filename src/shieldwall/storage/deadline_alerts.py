"""SQL adapter of the deadline watch's AlertStore: one row per subject and kind, inserted
once (the unique key decides which worker sends the email)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from shieldwall.errors import ConflictError
from shieldwall.storage.sql_adapter import SqlAdapter
from shieldwall.storage.tables import DeadlineAlertRow


class SqlAlertStore(SqlAdapter):
    """AlertStore on SQLite or PostgreSQL."""

    def record(self, subject: str, kind: str, at: datetime) -> bool:
        """Record the alert; True only for the call whose row went in."""
        try:
            with self._write() as connection:
                connection.execute(
                    insert(DeadlineAlertRow), {"subject": subject, "kind": kind, "at": at}
                )
        except ConflictError:  # another worker recorded it first
            return False
        return True
