"""What the person's status page (`/protect/status`) shows of complaints: whether they may
still ask for their case's decision to be looked at again, the uploads matching their
pictures that a reviewer rejected (each may be complained about), and their complaints
with the outcome and the reasons. Never the platform's complaints or anyone's name."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from shieldwall.review.complaint_models import Complainant, Complaint, ComplaintOutcome
from shieldwall.review.models import ItemSource, ReviewItem
from shieldwall.web.runtime import Runtime


class ComplaintNoticeOut(BaseModel):
    """The person's complaint about a decision, as they read it."""

    about: Literal["case", "upload"]
    item: int
    state: Literal["open", "decided"]
    outcome: ComplaintOutcome | None = None
    lodged_at: datetime
    decided_at: datetime | None = None
    reasons: str = ""
    """The reasons the reviewer gave for the outcome ("" while open)."""


class UploadDecisionOut(BaseModel):
    """An upload matching the person's pictures that a reviewer rejected (found not to be
    the picture they reported): they may ask for it to be looked at again."""

    item: int
    outcome: Literal["rejected"] = "rejected"
    decided_at: datetime
    complaint_until: datetime
    can_complain: bool


def _notice(
    runtime: Runtime, complaint: Complaint, items: dict[int, ReviewItem]
) -> ComplaintNoticeOut:
    original = items.get(complaint.item_id)
    own = original is not None and original.source is ItemSource.CASE
    about: Literal["case", "upload"] = "case" if own else "upload"
    reasons = ""
    if not complaint.is_open and complaint.complaint_item_id is not None:
        decision = runtime.services.reviews.item(complaint.complaint_item_id).decision
        reasons = decision.reason or decision.facts if decision is not None else ""
    return ComplaintNoticeOut(
        about=about,
        item=complaint.item_id,
        state="open" if complaint.is_open else "decided",
        outcome=complaint.outcome,
        lodged_at=complaint.lodged_at,
        decided_at=complaint.decided_at,
        reasons=reasons,
    )


def complaint_fields(runtime: Runtime, number: str) -> dict[str, Any]:
    """The status answer's `complaints` and `uploads`."""
    service = runtime.services.complaints
    items = {item.id: item for item in service.complainable(number)}
    mine = [c for c in service.of_case(number) if c.complainant is Complainant.REPORTER]
    uploads = []
    for item in items.values():
        if item.source is ItemSource.CASE or item.decision is None:
            continue
        uploads.append(
            UploadDecisionOut(
                item=item.id,
                decided_at=item.decision.at,
                complaint_until=service.window_end(item.decision),
                can_complain=service.may_complain(item, Complainant.REPORTER),
            )
        )
    return {
        "complaints": [_notice(runtime, c, items) for c in mine],
        "uploads": uploads,
    }


def case_complaint(runtime: Runtime, number: str) -> dict[str, Any]:
    """The decision notice's `item` (the case's own review item) and `can_complain`."""
    service = runtime.services.complaints
    own = next((i for i in service.complainable(number) if i.source is ItemSource.CASE), None)
    if own is None:
        return {"item": None, "can_complain": False}
    return {"item": own.id, "can_complain": service.may_complain(own, Complainant.REPORTER)}
