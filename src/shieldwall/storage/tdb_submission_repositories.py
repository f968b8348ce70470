"""SQL adapter of the SubmissionRepository: statements sent to the Transparency Database."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shieldwall.errors import NotFoundError
from shieldwall.review.tdb_submissions import Attempt, Submission, SubmissionState
from shieldwall.storage.bank_rows import chunks
from shieldwall.storage.sql_adapter import SqlAdapter
from shieldwall.storage.tables import TdbSubmissionRow


def _submission(row: Row[Any]) -> Submission:
    return Submission(
        row.puid,
        row.item_id,
        SubmissionState(row.state),
        row.attempts,
        row.last_error,
        row.first_attempt_at,
        row.last_attempt_at,
    )


class SqlSubmissionRepository(SqlAdapter):
    """SubmissionRepository on SQLite or PostgreSQL."""

    def stored_among(self, puids: Collection[str]) -> set[str]:
        """The puids among `puids` recorded stored."""
        wanted = list(dict.fromkeys(puids))
        stored: set[str] = set()
        with self._read() as connection:
            for chunk in chunks(wanted):
                stored.update(
                    connection.scalars(
                        select(TdbSubmissionRow.puid).where(
                            TdbSubmissionRow.puid.in_(chunk),
                            TdbSubmissionRow.state == SubmissionState.STORED.value,
                        )
                    )
                )
        return stored

    def record(self, attempts: Sequence[Attempt]) -> None:
        """Record tries in one upsert per batch; a stored puid stays as it is (so two runs
        at once never turn a stored statement back to failed)."""
        if not attempts:
            return
        rows = [
            {
                "puid": a.puid,
                "item_id": a.item_id,
                "state": a.state.value,
                "attempts": 1,
                "last_error": a.error,
                "first_attempt_at": a.at,
                "last_attempt_at": a.at,
            }
            for a in attempts
        ]
        with self._write() as connection:
            insert = (
                postgres_insert(TdbSubmissionRow)
                if connection.dialect.name == "postgresql"
                else sqlite_insert(TdbSubmissionRow)
            )
            upsert = insert.on_conflict_do_update(
                index_elements=[TdbSubmissionRow.puid],
                set_={
                    "item_id": insert.excluded.item_id,
                    "state": insert.excluded.state,
                    "attempts": TdbSubmissionRow.attempts + 1,
                    "last_error": insert.excluded.last_error,
                    "last_attempt_at": insert.excluded.last_attempt_at,
                },
                where=TdbSubmissionRow.state != SubmissionState.STORED.value,
            )
            connection.execute(upsert, rows)

    def get(self, puid: str) -> Submission:
        """The record of a puid; NotFoundError if it was never sent."""
        with self._read() as connection:
            row = connection.execute(
                select(TdbSubmissionRow).where(TdbSubmissionRow.puid == puid)
            ).one_or_none()
        if row is None:
            raise NotFoundError(f"statement {puid!r} was never sent")
        return _submission(row)

    def listed(self, state: SubmissionState | None = None) -> list[Submission]:
        """Every record (or those in `state`), by first attempt then puid."""
        query = select(TdbSubmissionRow).order_by(
            TdbSubmissionRow.first_attempt_at, TdbSubmissionRow.puid
        )
        if state is not None:
            query = query.where(TdbSubmissionRow.state == state.value)
        with self._read() as connection:
            rows = connection.execute(query).all()
        return [_submission(row) for row in rows]
