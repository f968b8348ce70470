"""In-memory complaint repository, for tests and the contract suite."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from shieldwall.errors import ConflictError, NotFoundError
from shieldwall.review.complaint_models import (
    Complaint,
    ComplaintOutcome,
    NewComplaint,
    refusal,
)


class InMemoryComplaintRepository:
    """Complaints in a dict, behind a lock."""

    def __init__(self) -> None:
        self._complaints: dict[int, Complaint] = {}
        self._lock = threading.Lock()

    def lodge(self, complaint: NewComplaint) -> Complaint:
        with self._lock:
            known = [c for c in self._complaints.values() if c.item_id == complaint.item_id]
            why = refusal(known, complaint)
            if why is not None:
                raise ConflictError(why)
            stored = Complaint(
                id=len(self._complaints) + 1,
                item_id=complaint.item_id,
                case_number=complaint.case_number,
                complainant=complaint.complainant,
                key_id=complaint.key_id,
                explanation=complaint.explanation,
                lodged_at=complaint.lodged_at,
            )
            self._complaints[stored.id] = stored
            return stored

    def _get(self, complaint_id: int) -> Complaint:
        try:
            return self._complaints[complaint_id]
        except KeyError:
            raise NotFoundError(f"no complaint {complaint_id}") from None

    def attach_item(self, complaint_id: int, item_id: int) -> Complaint:
        with self._lock:
            stored = replace(self._get(complaint_id), complaint_item_id=item_id)
            self._complaints[complaint_id] = stored
            return stored

    def get(self, complaint_id: int) -> Complaint:
        with self._lock:
            return self._get(complaint_id)

    def about_item(self, item_id: int) -> list[Complaint]:
        with self._lock:
            return [c for c in self._complaints.values() if c.item_id == item_id]

    def of_review_item(self, complaint_item_id: int) -> Complaint | None:
        with self._lock:
            found = (
                c for c in self._complaints.values() if c.complaint_item_id == complaint_item_id
            )
            return next(found, None)

    def of_case(self, case_number: str) -> list[Complaint]:
        with self._lock:
            return [
                c for c in self._complaints.values() if case_number and c.case_number == case_number
            ]

    def record_outcome(
        self, complaint_id: int, outcome: ComplaintOutcome, at: datetime, by: str
    ) -> Complaint:
        with self._lock:
            stored = self._get(complaint_id)
            if not stored.is_open:
                raise ConflictError(f"complaint {complaint_id} is already decided")
            stored = replace(stored, outcome=outcome, decided_at=at, decided_by=by)
            self._complaints[complaint_id] = stored
            return stored

    def lodged_between(self, start: datetime, end: datetime) -> list[Complaint]:
        with self._lock:
            found = [c for c in self._complaints.values() if start <= c.lodged_at < end]
        return sorted(found, key=lambda c: (c.lodged_at, c.id))

    def decided_between(self, start: datetime, end: datetime) -> list[Complaint]:
        with self._lock:
            found = [
                c
                for c in self._complaints.values()
                if c.decided_at is not None and start <= c.decided_at < end
            ]
        return sorted(found, key=lambda c: (c.decided_at or start, c.id))
