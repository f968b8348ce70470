"""Request and response bodies of the review API (`/api/v1/review`) and of a queued
lookup's outcome (`/api/v1/lookup/items/{id}`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shieldwall.cases.models import Case
from shieldwall.review.complaint_models import Complaint
from shieldwall.review.models import (
    MAX_CONTENT_REF,
    MAX_FACTS,
    MAX_REASON,
    DecisionKind,
    RemovalAction,
    ReviewItem,
)
from shieldwall.review.sweeps import SweepHit
from shieldwall.web.complaint_schemas import ComplaintReviewOut, ComplaintStateOut
from shieldwall.web.sweep_schemas import CopyOut

Outcome = Literal["confirmed", "rejected", "accepted", "refused"]
_OUTCOMES: dict[DecisionKind, Outcome] = {
    DecisionKind.CONFIRM: "confirmed",
    DecisionKind.REJECT: "rejected",
    DecisionKind.ACCEPT: "accepted",
    DecisionKind.REFUSE: "refused",
}


class QueueRequest(BaseModel):
    """Ask for a lookup that answers `review` to be queued for a reviewer."""

    queue: bool = False
    content_ref: str | None = Field(
        default=None,
        max_length=MAX_CONTENT_REF,
        description="Your own id or URL of the upload (opaque to Shieldwall).",
    )


class ItemRef(BaseModel):
    """The review item a queued lookup opened (or found waiting): poll `url`."""

    id: int
    state: str
    url: str

    @classmethod
    def of(cls, item: ReviewItem) -> ItemRef:
        """The reference of an item."""
        return cls(id=item.id, state=item.state.value, url=f"/api/v1/lookup/items/{item.id}")


class ItemOutcomeOut(BaseModel):
    """What became of a queued upload: `outcome` stays null until a reviewer decides."""

    id: int
    state: str
    content_ref: str
    outcome: Outcome | None = None
    action: RemovalAction | None = None
    decided_at: datetime | None = None
    complaint: ComplaintStateOut | None = Field(
        default=None,
        description="The latest complaint about the decision (`POST .../complaint`), if any.",
    )
    known_copies: list[CopyOut] = Field(
        default_factory=list,
        description="After a confirmation: other uploads your lookups screened that are the "
        "same picture or an edited copy of it (remove these too; say what you did with "
        "`POST /api/v1/sweeps/copies/{id}`).",
    )

    @classmethod
    def of(
        cls,
        item: ReviewItem,
        complaint: Complaint | None = None,
        copies: Sequence[SweepHit] = (),
    ) -> ItemOutcomeOut:
        """The outcome of an item, with the latest complaint about it and its copies."""
        decision = item.decision
        return cls(
            id=item.id,
            state=item.state.value,
            content_ref=item.content_ref,
            outcome=_OUTCOMES[decision.kind] if decision else None,
            action=decision.action if decision else None,
            decided_at=decision.at if decision else None,
            complaint=ComplaintStateOut.of(complaint) if complaint is not None else None,
            known_copies=[CopyOut.of(hit) for hit in copies],
        )


class ItemMatchOut(BaseModel):
    """One bank entry the item's content matched."""

    bank: str
    entry_id: int
    signal_type: str
    distance: int
    variant: str


class DecisionOut(BaseModel):
    """A recorded decision."""

    kind: DecisionKind
    action: RemovalAction
    ground: str
    facts: str
    reason: str
    reviewer: str
    at: datetime
    automated_detection: bool
    automated_decision: str
    statement_id: str
    added_entries: list[int] | None = None


class CaseSummary(BaseModel):
    """What a reviewer checks of a case's report (never the images, nor contact details)."""

    number: str
    state: str
    received_at: datetime
    reporter: str
    name: str
    signature: str
    country: str
    depicted_minor: bool
    authority: str
    locators: list[dict[str, str]]
    items: int
    trusted_flagger: str

    @classmethod
    def of(cls, case: Case) -> CaseSummary:
        """The summary of a case."""
        report = case.report
        return cls(
            number=case.number,
            state=case.state.value,
            received_at=case.received_at,
            reporter=report.reporter.value,
            name=report.name,
            signature=report.signature,
            country=report.country,
            depicted_minor=report.depicted_minor,
            authority=report.authority,
            locators=[{"kind": loc.kind.value, "value": loc.value} for loc in report.locators],
            items=len(report.hashes),
            trusted_flagger=report.flagger,
        )


class ItemOut(BaseModel):
    """A review item as a reviewer sees it."""

    id: int
    source: str
    state: str
    opened_at: datetime
    deadline: datetime
    minor: bool
    trusted_flagger: bool
    case_number: str
    content_ref: str
    has_content: bool
    claimed_by: str | None
    claimed_until: datetime | None
    signals: list[dict[str, str]]
    matches: list[ItemMatchOut]
    decisions: list[DecisionOut]
    case: CaseSummary | None = None
    findings: dict[str, Any] | None = Field(
        default=None,
        description="A likeness item's detector findings: nudity score, faces, the "
        "enrolments it seems to show (numbers, never names) with similarities, provenance",
    )
    complaint: ComplaintReviewOut | None = Field(
        default=None,
        description="A complaint item's complaint: the decided item, who complained, why",
    )

    @classmethod
    def of(
        cls,
        item: ReviewItem,
        now: datetime,
        case: Case | None = None,
        complaint: Complaint | None = None,
    ) -> ItemOut:
        """The reviewer's view of an item at `now`."""
        holder = item.claimed_by(now)
        return cls(
            id=item.id,
            source=item.source.value,
            state=item.state.value,
            opened_at=item.opened_at,
            deadline=item.deadline,
            minor=item.minor,
            trusted_flagger=item.trusted_flagger,
            case_number=item.case_number,
            content_ref=item.content_ref,
            has_content=bool(item.content_address),
            claimed_by=holder,
            claimed_until=item.claim.until if holder and item.claim else None,
            signals=[{"type": s.type, "value": s.value} for s in item.signals],
            matches=[ItemMatchOut(**m.__dict__) for m in item.matches],
            decisions=[
                DecisionOut(**{**d.__dict__, "automated_decision": d.automated_decision.value})
                for d in item.decisions
            ],
            case=CaseSummary.of(case) if case is not None else None,
            findings=item.findings.to_json() if item.findings is not None else None,
            complaint=ComplaintReviewOut.of(complaint) if complaint is not None else None,
        )


class DecisionIn(BaseModel):
    """A reviewer's decision."""

    model_config = ConfigDict(extra="forbid")

    kind: DecisionKind
    action: RemovalAction = RemovalAction.NONE
    ground: str = Field(default="", max_length=64)
    facts: str = Field(default="", max_length=MAX_FACTS)
    reason: str = Field(default="", max_length=MAX_REASON)


class GroundOut(BaseModel):
    """A ground decisions may rest on."""

    code: str
    label: str
    kind: str
    reference_url: str
