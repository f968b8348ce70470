"""What the console's item page shows of a complaint item: the complaint (who complained,
their explanation) and the decision complained about (kind, ground, facts, reasons, when,
and who made it: by name for leads only)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from shieldwall.access.accounts import Account
from shieldwall.review.complaint_models import Complaint
from shieldwall.review.complaints import ComplaintService
from shieldwall.review.models import Decision, ReviewItem


@dataclass(frozen=True)
class ComplaintView:
    """A complaint and the decided item it is about."""

    complaint: Complaint
    original: ReviewItem
    decision: Decision | None
    decider: str
    """Who made the decision as this viewer may see it: the name (leads), "you", or ""."""


def complaints_of(request: Request) -> ComplaintService:
    """The complaint service of the app serving this request."""
    service: ComplaintService = request.app.state.runtime.services.complaints
    return service


def complaint_view(request: Request, item: ReviewItem, account: Account) -> ComplaintView | None:
    """The complaint a complaint item looks at, for `account` (None for other items)."""
    service = complaints_of(request)
    complaint = service.of_review_item(item)
    if complaint is None:
        return None
    original = request.app.state.runtime.services.reviews.item(complaint.item_id)
    decision = original.decision
    decider = ""
    if decision is not None and decision.reviewer == account.username:
        decider = "you"
    elif decision is not None and account.is_lead:
        decider = decision.reviewer
    return ComplaintView(complaint, original, decision, decider)
