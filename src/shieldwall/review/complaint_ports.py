"""What complaint handling needs from storage and mail. Adapters: memory, SQL, SMTP."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from shieldwall.audit.models import Actor
from shieldwall.cases.models import Case
from shieldwall.review.complaint_models import Complaint, ComplaintOutcome, NewComplaint
from shieldwall.review.models import Decision, ReviewItem


class ComplaintRepository(Protocol):
    """Persistent complaints. Every method is atomic; errors are ShieldwallErrors."""

    def lodge(self, complaint: NewComplaint) -> Complaint:
        """Record a complaint; ConflictError while another complaint about the same item
        is open, or when this kind of complainant already complained about it."""
        ...

    def attach_item(self, complaint_id: int, item_id: int) -> Complaint:
        """Record the review item that looks at the complaint; NotFoundError if none."""
        ...

    def get(self, complaint_id: int) -> Complaint:
        """One complaint; NotFoundError if none."""
        ...

    def about_item(self, item_id: int) -> list[Complaint]:
        """The complaints about a decided item, oldest first."""
        ...

    def of_review_item(self, complaint_item_id: int) -> Complaint | None:
        """The complaint a review item of source `complaint` looks at, if any."""
        ...

    def of_case(self, case_number: str) -> list[Complaint]:
        """The complaints about the items of a case, oldest first."""
        ...

    def record_outcome(
        self, complaint_id: int, outcome: ComplaintOutcome, at: datetime, by: str
    ) -> Complaint:
        """Record the outcome of an open complaint; ConflictError if it was decided."""
        ...

    def lodged_between(self, start: datetime, end: datetime) -> list[Complaint]:
        """Complaints lodged at or after `start` and before `end`, by time (transparency)."""
        ...

    def decided_between(self, start: datetime, end: datetime) -> list[Complaint]:
        """Complaints decided at or after `start` and before `end`, by time (transparency)."""
        ...


class ComplaintNotifier(Protocol):
    """Tells the person who complained what came of it (email); never fails the decision."""

    def complaint_decided(self, case: Case, complaint: Complaint) -> None:
        """Send the outcome (in the background): no image, no hash, no link to content."""
        ...


class ComplaintDesk(Protocol):
    """What the review service asks of complaint handling (review/complaints.py)."""

    def bars(self, item: ReviewItem, reviewer: str) -> bool:
        """Whether `reviewer` made the decision that complaint item `item` is about."""
        ...

    def carry_out(self, item: ReviewItem, decision: Decision) -> list[int]:
        """Apply an uphold or reverse decision; the entries it changed."""
        ...

    def close(self, item: ReviewItem, decision: Decision, actor: Actor) -> Complaint | None:
        """Record the outcome once the decision is recorded; tell whoever complained."""
        ...
