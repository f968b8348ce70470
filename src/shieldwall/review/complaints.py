"""Complaint handling (EU DSA Art. 20): lodging a complaint about a decision, and what the
review service asks of it while a reviewer looks at the decision again.

Lodging checks who may complain about what (the reporter about their case's decision or a
rejected upload that matched their pictures; the platform about an item its key opened),
that the decision was made within the window (six months by default), and that no other
complaint about it is open; then records it, opens a review item of source `complaint`
linked to the original item and case, moves the case to `complaint`, and writes the audit
log. The reviewer who made the decision can neither claim nor decide that item. When it is
decided the outcome is recorded, a reversal undone (review/reversal.py), the case moved
back to `decided`, the audit log written, and the person who complained told by email.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shieldwall.audit.models import Actor, ActorKind, AuditAction, AuditEvent, DetailValue, Subject
from shieldwall.audit.ports import AuditLog
from shieldwall.banks.service import BankService
from shieldwall.cases.models import Case, CaseState, can_move
from shieldwall.cases.service import CaseService
from shieldwall.clock import Clock, utc_now
from shieldwall.errors import ConflictError, InvalidInputError, NotFoundError
from shieldwall.review.complaint_models import (
    Complainant,
    Complaint,
    ComplaintOutcome,
    NewComplaint,
    checked_explanation,
)
from shieldwall.review.complaint_ports import ComplaintNotifier, ComplaintRepository
from shieldwall.review.models import (
    CONTENT_SOURCES,
    Decision,
    DecisionKind,
    ItemSource,
    NewItem,
    ReviewItem,
    ReviewPolicy,
)
from shieldwall.review.ports import ReviewRepository
from shieldwall.review.reversal import Reversal


class ComplaintService:
    """Lodges complaints and carries out their outcomes."""

    def __init__(
        self,
        complaints: ComplaintRepository,
        items: ReviewRepository,
        banks: BankService,
        cases: CaseService,
        audit: AuditLog,
        *,
        clock: Clock = utc_now,
        policy: ReviewPolicy | None = None,
        notifier: ComplaintNotifier | None = None,
    ) -> None:
        self._complaints = complaints
        self._items = items
        self._cases = cases
        self._audit = audit
        self._clock = clock
        self._policy = policy or ReviewPolicy()
        self._notifier = notifier
        self._reversal = Reversal(banks, cases, self._policy)
        self._reversed: list[Callable[[ReviewItem], object]] = []

    def on_reversed(self, listener: Callable[[ReviewItem], object]) -> None:
        """Call `listener` with the original item after each reversal (the sweeps withdraw
        the copies its confirmation asked platforms to remove)."""
        self._reversed.append(listener)

    # Lodging -----------------------------------------------------------------------------

    def lodge_for_platform(self, item_id: int, key_id: int, explanation: str) -> Complaint:
        """The platform's complaint about the decision on an item its key opened
        (NotFoundError for anyone else's, the same as for no item)."""
        item = self._items.get(item_id)
        if item.source not in CONTENT_SOURCES or item.opened_by_key != key_id:
            raise NotFoundError(f"no review item {item_id}")
        actor = Actor(ActorKind.API_KEY, f"key:{key_id}")
        return self._lodge(item, Complainant.PLATFORM, key_id, explanation, actor)

    def lodge_for_reporter(
        self, case: Case, explanation: str, item_id: int | None = None
    ) -> Complaint:
        """The reporter's complaint about their case's decision, or (`item_id`) about the
        rejection of an upload linked to their case. The caller proved the case's secret."""
        if case.state is CaseState.WITHDRAWN:
            raise InvalidInputError("the case was withdrawn: there is no decision to look at")
        items = self.complainable(case.number)
        if item_id is None:
            item = next((i for i in items if i.source is ItemSource.CASE), None)
        else:
            item = next((i for i in items if i.id == item_id), None)
        if item is None:
            raise NotFoundError("no decision of this case to complain about")
        actor = Actor(ActorKind.PERSON, case.number)
        return self._lodge(item, Complainant.REPORTER, None, explanation, actor)

    def complainable(self, case_number: str) -> list[ReviewItem]:
        """The items of a case its reporter may complain about (decided or not yet): the
        case's own item, and uploads linked to it that a reviewer rejected."""
        return [
            item
            for item in self._items.items_of_case(case_number)
            if item.source is ItemSource.CASE
            or (
                item.source in CONTENT_SOURCES
                and item.decision is not None
                and item.decision.kind is DecisionKind.REJECT
            )
        ]

    def window_end(self, decision: Decision) -> datetime:
        """Until when a decision may be complained about."""
        return decision.at + self._policy.complaint_window

    def may_complain(self, item: ReviewItem, complainant: Complainant) -> bool:
        """Whether `complainant` may complain about the item's decision now: it is decided,
        within the window, with no complaint about it open and none of theirs decided."""
        decision = item.decision
        if decision is None or item.source is ItemSource.COMPLAINT:
            return False
        if self._clock() >= self.window_end(decision):
            return False
        reporter = complainant is Complainant.REPORTER and item.case_number
        if reporter and self._cases.get(item.case_number).state is CaseState.WITHDRAWN:
            return False
        known = self._complaints.about_item(item.id)
        return not any(c.is_open or c.complainant is complainant for c in known)

    def _lodge(
        self,
        item: ReviewItem,
        complainant: Complainant,
        key_id: int | None,
        explanation: str,
        actor: Actor,
    ) -> Complaint:
        text = checked_explanation(explanation)
        decision = item.decision
        if decision is None:
            raise ConflictError(f"review item {item.id} is not decided yet")
        now = self._clock()
        if now >= self.window_end(decision):
            raise InvalidInputError(
                "the time to complain about this decision ended on "
                f"{self.window_end(decision):%Y-%m-%d} (six months after it)"
            )
        complaint = self._complaints.lodge(
            NewComplaint(item.id, item.case_number, complainant, key_id, text, now)
        )
        opened, _ = self._items.open(self._complaint_item(item, complaint, now))
        complaint = self._complaints.attach_item(complaint.id, opened.id)
        self._move_case(item.case_number, CaseState.COMPLAINT, "complaint lodged")
        self._record(
            actor,
            item,
            {
                "event": "lodged",
                "complaint": complaint.id,
                "complainant": complainant.value,
                "complaint_item": opened.id,
                "decision": decision.kind.value,
            },
        )
        return complaint

    def _complaint_item(self, item: ReviewItem, complaint: Complaint, now: datetime) -> NewItem:
        """The review item that looks at the decision on `item` again."""
        clock = self._policy.complaint_deadline or self._policy.deadline
        return NewItem(
            source=ItemSource.COMPLAINT,
            opened_at=now,
            deadline=now + clock,
            minor=item.minor,
            trusted_flagger=item.trusted_flagger,
            case_number=item.case_number,
            content_ref=item.content_ref,
            opened_by_key=item.opened_by_key,
            signals=item.signals,
            matches=item.matches,
            dedupe_key=f"complaint:{complaint.id}",
        )

    # Reading -----------------------------------------------------------------------------

    def about_item(self, item_id: int) -> Complaint | None:
        """The latest complaint about a decided item, if any."""
        found = self._complaints.about_item(item_id)
        return found[-1] if found else None

    def of_case(self, case_number: str) -> list[Complaint]:
        """Every complaint about the items of a case, oldest first."""
        return self._complaints.of_case(case_number)

    def of_review_item(self, item: ReviewItem) -> Complaint | None:
        """The complaint a complaint item looks at (None for other items)."""
        if item.source is not ItemSource.COMPLAINT:
            return None
        return self._complaints.of_review_item(item.id)

    def lodged_between(self, start: datetime, end: datetime) -> list[Complaint]:
        """Complaints lodged in [start, end) (the transparency report's counts)."""
        return self._complaints.lodged_between(start, end)

    def decided_between(self, start: datetime, end: datetime) -> list[Complaint]:
        """Complaints decided in [start, end) (the transparency report's counts)."""
        return self._complaints.decided_between(start, end)

    # What the review service asks --------------------------------------------------------

    def original_decider(self, item: ReviewItem) -> str | None:
        """Who made the decision a complaint item is about (None for other items)."""
        complaint = self.of_review_item(item)
        if complaint is None:
            return None
        decision = self._items.get(complaint.item_id).decision
        return decision.reviewer if decision is not None else None

    def bars(self, item: ReviewItem, reviewer: str) -> bool:
        """Whether `reviewer` made the decision that complaint item `item` is about."""
        return self.original_decider(item) == reviewer

    def carry_out(self, item: ReviewItem, decision: Decision) -> list[int]:
        """Apply an uphold or reverse decision on a complaint item: a reversal undoes the
        original decision. The entries it withdrew or made active again."""
        complaint = self._complaints.of_review_item(item.id)
        if complaint is None:
            raise InvalidInputError(f"review item {item.id} looks at no complaint")
        if decision.kind is not DecisionKind.REVERSE:
            return []
        original = self._items.get(complaint.item_id)
        undone = self._reversal.undo(original, decision)
        for listener in self._reversed:
            listener(original)
        return undone

    def close(self, item: ReviewItem, decision: Decision, actor: Actor) -> Complaint | None:
        """Record the outcome of the complaint a decided complaint item looked at, move its
        case back to `decided`, write the audit log and tell the reporter."""
        complaint = self._complaints.of_review_item(item.id)
        if complaint is None:
            return None
        outcome = ComplaintOutcome(decision.kind.value)
        closed = self._complaints.record_outcome(
            complaint.id, outcome, decision.at, decision.reviewer
        )
        if not any(c.is_open for c in self._complaints.of_case(closed.case_number)):
            past = "upheld" if outcome is ComplaintOutcome.UPHOLD else "reversed"
            self._move_case(
                closed.case_number, CaseState.DECIDED, f"complaint {past}", CaseState.COMPLAINT
            )
        original = self._items.get(closed.item_id)
        self._record(
            actor,
            original,
            {
                "event": "decided",
                "complaint": closed.id,
                "complainant": closed.complainant.value,
                "outcome": outcome.value,
                "entries": len(decision.added_entries or ()),
            },
        )
        if closed.complainant is Complainant.REPORTER and self._notifier is not None:
            self._notifier.complaint_decided(self._cases.get(closed.case_number), closed)
        return closed

    # Shared ------------------------------------------------------------------------------

    def _move_case(
        self, number: str, to: CaseState, detail: str, only_from: CaseState | None = None
    ) -> None:
        """Move the case, if there is one and the workflow allows it (and it is in
        `only_from`, when given): a withdrawn case, or one still under review, stays."""
        if not number:
            return
        state = self._cases.get(number).state
        if (only_from is None or state is only_from) and can_move(state, to):
            self._cases.move(number, to, detail)

    def _record(self, actor: Actor, item: ReviewItem, details: dict[str, DetailValue]) -> None:
        self._audit.append(
            AuditEvent(
                self._clock(),
                actor,
                AuditAction.COMPLAINT,
                Subject("review_item", str(item.id)),
                {"source": item.source.value, **details},
            )
        )
