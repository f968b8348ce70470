"""Bodies of complaints about decisions (DSA Art. 20) in the APIs: a platform's complaint
and its state (`/api/v1/lookup/items/{id}`), and what a reviewer reads of one."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shieldwall.review.complaint_models import (
    MAX_EXPLANATION,
    Complainant,
    Complaint,
    ComplaintOutcome,
)


class ComplaintIn(BaseModel):
    """A complaint about a decision: why it should be looked at again."""

    model_config = ConfigDict(extra="forbid")

    explanation: str = Field(
        min_length=1,
        max_length=MAX_EXPLANATION,
        description="Why the decision is wrong, in the complainant's words (kept sealed).",
    )


class ComplaintStateOut(BaseModel):
    """Where a complaint about an item's decision stands: `outcome` stays null while it is
    `open`; `reverse` means the decision was undone (a confirm no longer blocks: the upload
    may be restored; a reject no longer allows: the picture is reviewed again)."""

    state: Literal["open", "decided"]
    outcome: ComplaintOutcome | None = None
    lodged_at: datetime
    decided_at: datetime | None = None

    @classmethod
    def of(cls, complaint: Complaint) -> ComplaintStateOut:
        """The state of a complaint."""
        return cls(
            state="open" if complaint.is_open else "decided",
            outcome=complaint.outcome,
            lodged_at=complaint.lodged_at,
            decided_at=complaint.decided_at,
        )


class ComplaintOut(ComplaintStateOut):
    """A complaint just lodged: the item it is about."""

    item_id: int

    @classmethod
    def lodged(cls, complaint: Complaint) -> ComplaintOut:
        """The answer to a lodged complaint."""
        return cls(item_id=complaint.item_id, **ComplaintStateOut.of(complaint).model_dump())


class ComplaintReviewOut(BaseModel):
    """What a reviewer reads of the complaint a complaint item looks at."""

    item_id: int = Field(description="The decided item the complaint is about.")
    complainant: Complainant
    explanation: str
    lodged_at: datetime

    @classmethod
    def of(cls, complaint: Complaint) -> ComplaintReviewOut:
        """The reviewer's view of a complaint."""
        return cls(
            item_id=complaint.item_id,
            complainant=complaint.complainant,
            explanation=complaint.explanation,
            lodged_at=complaint.lodged_at,
        )
