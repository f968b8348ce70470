"""SqlComplaintRepository: the ComplaintRepository port on SQLite and PostgreSQL.

The explanation may name people (the complainant, the person shown), so it is sealed with
the data key (storage/sealing.py), bound to its item and kind of complainant: the pair is
unique, since each kind of complainant complains about a decision once.

`lodge` reads the item's complaints and inserts inside one write transaction. SQLite's
write lock serialises that; on PostgreSQL each lodger first takes a transaction-scoped
advisory lock on the item id, so two complaints racing about one item queue and the second
sees the first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Engine, func, insert, select, update
from sqlalchemy.engine import Connection, Row

from shieldwall.errors import ConflictError, NotFoundError, StorageError
from shieldwall.review.complaint_models import (
    Complainant,
    Complaint,
    ComplaintOutcome,
    NewComplaint,
    refusal,
)
from shieldwall.storage.sealing import Sealer
from shieldwall.storage.sql_adapter import SqlAdapter
from shieldwall.storage.tables import MAX_ID, ComplaintRow

COMPLAINT_LOCK_SPACE: Final = 0x434F_4D50
"""First key of the advisory locks on complained-about items (any constant all share)."""


def _context(item_id: int, complainant: str) -> str:
    """What a sealed explanation is bound to."""
    return f"complaint:{item_id}:{complainant}"


class SqlComplaintRepository(SqlAdapter):
    """ComplaintRepository on SQLite or PostgreSQL; each method runs in one transaction."""

    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        super().__init__(engine)
        self._sealer = sealer

    def _complaint(self, row: Row[Any]) -> Complaint:
        try:
            return Complaint(
                id=row.id,
                item_id=row.item_id,
                case_number=row.case_number,
                complainant=Complainant(row.complainant),
                key_id=row.key_id,
                explanation=self._sealer.open(
                    row.explanation, _context(row.item_id, row.complainant)
                ),
                lodged_at=row.lodged_at,
                complaint_item_id=row.complaint_item_id,
                outcome=None if row.outcome is None else ComplaintOutcome(row.outcome),
                decided_at=row.decided_at,
                decided_by=row.decided_by,
            )
        except ValueError as exc:
            raise StorageError(f"a stored complaint is unreadable: {exc}") from None

    def _select(
        self, connection: Connection, condition: ColumnElement[bool], *order: Any
    ) -> list[Complaint]:
        rows = connection.execute(
            select(ComplaintRow).where(condition).order_by(*order, ComplaintRow.id)
        ).all()
        return [self._complaint(row) for row in rows]

    def _one(self, connection: Connection, complaint_id: int) -> Complaint:
        if not 0 < complaint_id <= MAX_ID:
            raise NotFoundError(f"no complaint {complaint_id}")
        found = self._select(connection, ComplaintRow.id == complaint_id)
        if not found:
            raise NotFoundError(f"no complaint {complaint_id}")
        return found[0]

    def lodge(self, complaint: NewComplaint) -> Complaint:
        """Record the complaint unless its item has an open one, or one of its kind."""
        with self._write() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    select(func.pg_advisory_xact_lock(COMPLAINT_LOCK_SPACE, complaint.item_id))
                )
            known = self._select(connection, ComplaintRow.item_id == complaint.item_id)
            why = refusal(known, complaint)
            if why is not None:
                raise ConflictError(why)
            kind = complaint.complainant.value
            complaint_id = connection.execute(
                insert(ComplaintRow).returning(ComplaintRow.id),
                {
                    "item_id": complaint.item_id,
                    "case_number": complaint.case_number,
                    "complainant": kind,
                    "key_id": complaint.key_id,
                    "explanation": self._sealer.seal(
                        complaint.explanation, _context(complaint.item_id, kind)
                    ),
                    "lodged_at": complaint.lodged_at,
                    "complaint_item_id": None,
                    "outcome": None,
                    "decided_at": None,
                    "decided_by": None,
                },
            ).scalar_one()
            return self._one(connection, complaint_id)

    def attach_item(self, complaint_id: int, item_id: int) -> Complaint:
        """Record the complaint's review item."""
        with self._write() as connection:
            connection.execute(
                update(ComplaintRow)
                .where(ComplaintRow.id == complaint_id)
                .values(complaint_item_id=item_id)
            )
            return self._one(connection, complaint_id)

    def get(self, complaint_id: int) -> Complaint:
        """One complaint; NotFoundError if none."""
        with self._read() as connection:
            return self._one(connection, complaint_id)

    def about_item(self, item_id: int) -> list[Complaint]:
        """The complaints about a decided item, oldest first."""
        if not 0 < item_id <= MAX_ID:
            return []
        with self._read() as connection:
            return self._select(connection, ComplaintRow.item_id == item_id)

    def of_review_item(self, complaint_item_id: int) -> Complaint | None:
        """The complaint a complaint item looks at."""
        if not 0 < complaint_item_id <= MAX_ID:
            return None
        with self._read() as connection:
            found = self._select(connection, ComplaintRow.complaint_item_id == complaint_item_id)
        return found[0] if found else None

    def of_case(self, case_number: str) -> list[Complaint]:
        """The complaints about the items of a case, oldest first."""
        if not case_number:
            return []
        with self._read() as connection:
            return self._select(connection, ComplaintRow.case_number == case_number)

    def record_outcome(
        self, complaint_id: int, outcome: ComplaintOutcome, at: datetime, by: str
    ) -> Complaint:
        """Record the outcome of an open complaint (one conditional UPDATE)."""
        with self._write() as connection:
            won = connection.execute(
                update(ComplaintRow)
                .where(ComplaintRow.id == complaint_id, ComplaintRow.outcome.is_(None))
                .values(outcome=ComplaintOutcome(outcome).value, decided_at=at, decided_by=by)
            ).rowcount
            if won != 1:
                self._one(connection, complaint_id)
                raise ConflictError(f"complaint {complaint_id} is already decided")
            return self._one(connection, complaint_id)

    def lodged_between(self, start: datetime, end: datetime) -> list[Complaint]:
        """Complaints lodged in [start, end), by time."""
        with self._read() as connection:
            return self._select(
                connection,
                (ComplaintRow.lodged_at >= start) & (ComplaintRow.lodged_at < end),
                ComplaintRow.lodged_at,
            )

    def decided_between(self, start: datetime, end: datetime) -> list[Complaint]:
        """Complaints decided in [start, end), by time."""
        with self._read() as connection:
            return self._select(
                connection,
                (ComplaintRow.decided_at >= start) & (ComplaintRow.decided_at < end),
                ComplaintRow.decided_at,
            )
