"""The review service: items in, claims, decisions and reveals out, each one audited.

The console pages and the JSON API (`/api/v1/review/...`) both go through this class, so
the same rules hold for both: one reviewer per item at a time (a ten-minute claim,
renewed while they work), decisions only by the claim's holder, escalated items only for
leads, a daily cap on revealed originals, and every action in the hash-chained audit log.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time

from shieldwall.audit.models import Actor, ActorKind, AuditAction, AuditEvent, DetailValue, Subject
from shieldwall.audit.ports import AuditLog
from shieldwall.banks.service import BankService
from shieldwall.cases.models import Case, CaseState, can_move
from shieldwall.cases.service import CaseService
from shieldwall.clock import Clock, utc_now
from shieldwall.config import MediaLimits
from shieldwall.errors import (
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ShieldwallError,
)
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.review.complaint_models import DECIDER_BARRED, OwnDecisionError
from shieldwall.review.complaint_ports import ComplaintDesk
from shieldwall.review.effects import DecisionEffects
from shieldwall.review.intake import case_item, likeness_item, platform_item, review_matches
from shieldwall.review.models import (
    CLAIM_DURATION,
    CONTENT_SOURCES,
    FINAL_KINDS,
    KINDS_BY_SOURCE,
    AutomatedDecision,
    Decision,
    DecisionInput,
    DecisionKind,
    DetectorFindings,
    Ground,
    ItemSource,
    ItemState,
    Reviewer,
    ReviewItem,
    ReviewPolicy,
)
from shieldwall.review.ports import LikenessNotices, ReviewRepository
from shieldwall.review.quarantine import QuarantineStore
from shieldwall.review.queue import QueueFilter, ordered
from shieldwall.screening.models import ScreeningResult
from shieldwall.signals.models import Signal
from shieldwall.signals.pdq_quality import without_refused

_log = logging.getLogger(__name__)
_NEXT_STATE = {
    DecisionKind.ESCALATE: ItemState.ESCALATED,
    DecisionKind.NEED_INFO: ItemState.NEEDS_INFO,
}


@dataclass(frozen=True)
class ReviewStores:
    """Where the review service keeps and finds things."""

    items: ReviewRepository
    quarantine: QuarantineStore
    audit: AuditLog


class ReviewService:
    """Opens, queues, claims and decides review items."""

    def __init__(
        self,
        stores: ReviewStores,
        banks: BankService,
        cases: CaseService,
        limits: MediaLimits,
        clock: Clock = utc_now,
        policy: ReviewPolicy | None = None,
        likeness_notices: LikenessNotices | None = None,
    ) -> None:
        self._items = stores.items
        self._likeness_notices = likeness_notices
        self._quarantine = stores.quarantine
        self._audit = stores.audit
        self._cases = cases
        self._effects = DecisionEffects(banks, cases)
        self._limits = limits
        self._clock = clock
        self.policy = policy or ReviewPolicy()
        self._confirmed: list[Callable[[ReviewItem, Sequence[Signal]], object]] = []
        self._decided: list[Callable[[ReviewItem], object]] = []
        self._complaints: ComplaintDesk | None = None

    def on_decided(self, listener: Callable[[ReviewItem], object]) -> None:
        """Call `listener` with the decided item after each final decision (webhooks); a
        listener's failure is logged and never undoes the decision."""
        self._decided.append(listener)

    def on_confirmed(self, listener: Callable[[ReviewItem, Sequence[Signal]], object]) -> None:
        """Call `listener` after each confirm decision (and each accepted case) with the item
        and the signals copies of its content are searched with (the sweeps)."""
        self._confirmed.append(listener)

    def handle_complaints(self, desk: ComplaintDesk) -> None:
        """Let `desk` keep complaint items from the reviewer who made the decision they are
        about, and carry out and close their decisions (review/complaints.py)."""
        self._complaints = desk

    # Intake ------------------------------------------------------------------------------

    def queue_lookup(
        self,
        result: ScreeningResult,
        signals: Sequence[Signal],
        *,
        content_ref: str,
        key_id: int | None,
        content: bytes | None = None,
    ) -> ReviewItem | None:
        """Open (or find) the item of a lookup that answered `review`; None for any other
        verdict. File content is kept in the quarantine until the decision."""
        asking = review_matches(result)
        if not asking:
            return None
        now = self._clock()
        found = self._cases.cases_of_entries([m.entry_id for m in asking])
        address = self._kept(content, now)
        new = platform_item(
            asking,
            signals,
            content_ref=content_ref,
            key_id=key_id,
            content_address=address,
            case=found[0] if found else None,
            now=now,
            policy=self.policy,
        )
        item, _created = self._items.open(new)
        return item

    def queue_likeness(
        self,
        findings: DetectorFindings,
        signals: Sequence[Signal],
        *,
        content_ref: str,
        key_id: int | None,
        content: bytes | None,
        minor: bool,
    ) -> ReviewItem:
        """Open (or find) the item of explicit content that seems to show an enrolled
        person; the content is kept sealed in the quarantine until the decision."""
        now = self._clock()
        address = self._kept(content, now)
        new = likeness_item(
            findings,
            signals,
            content_ref=content_ref,
            key_id=key_id,
            content_address=address,
            minor=minor,
            now=now,
            policy=self.policy,
        )
        item, _created = self._items.open(new)
        return item

    def _kept(self, content: bytes | None, now: datetime) -> str:
        """The content sealed in the quarantine until the retention ends; its address."""
        if content is None:
            return ""
        return self._quarantine.put(content, now + self.policy.retention)

    def open_case_item(self, case: Case) -> ReviewItem:
        """The item of a filed case (one per case)."""
        item, _created = self._items.open(case_item(case))
        return item

    def case_withdrawn(self, case: Case) -> None:
        """A withdrawn case's own item leaves the queue: there is nothing left to decide."""
        self._items.withdraw_case_item(case.number)

    # Reading -----------------------------------------------------------------------------

    def queue(self, viewer: Reviewer, wanted: QueueFilter | None = None) -> list[ReviewItem]:
        """Waiting items in queue order; escalations only for leads."""
        wanted = wanted or QueueFilter()
        if ItemState.ESCALATED in wanted.states and not viewer.lead:
            raise PermissionDeniedError("only leads see escalated items")
        waiting = self._items.waiting()
        if self._complaints is not None and not viewer.lead:  # leads see every item
            waiting = [i for i in waiting if not self._complaints.bars(i, viewer.name)]
        return ordered(waiting, wanted, self._clock())

    def item(self, item_id: int) -> ReviewItem:
        """One item with its claim and decisions."""
        return self._items.get(item_id)

    def case(self, number: str) -> Case:
        """A case, for the item page (reviewers see the report, never the images)."""
        return self._cases.get(number)

    def grounds(self) -> list[Ground]:
        """The grounds decisions may rest on."""
        return self._items.grounds()

    def now(self) -> datetime:
        """The service's time (the console's countdowns)."""
        return self._clock()

    def outcome_for(self, item_id: int, key_id: int | None) -> ReviewItem:
        """The item a platform's key queued (NotFoundError for anyone else's)."""
        item = self._items.get(item_id)
        if item.source not in CONTENT_SOURCES or item.opened_by_key != key_id:
            raise NotFoundError(f"no review item {item_id}")
        return item

    def case_decision(self, number: str) -> Decision | None:
        """The decision on a case's own item, for the person's status page."""
        for item in self._items.items_of_case(number):
            if item.source is ItemSource.CASE:
                return item.decision
        return None

    # Claims ------------------------------------------------------------------------------

    def claim(self, item_id: int, viewer: Reviewer) -> ReviewItem:
        """Lock the item to the viewer for ten minutes (renewing their own claim)."""
        item = self._items.get(item_id)
        if item.state is ItemState.ESCALATED and not viewer.lead:
            raise PermissionDeniedError("only leads take escalated items")
        self._refuse_decider(item, viewer)
        now = self._clock()
        renewal = item.claimed_by(now) == viewer.name
        claimed = self._items.claim(item_id, viewer.name, now, now + CLAIM_DURATION)
        if not renewal:
            self._record(viewer, AuditAction.CLAIM, item, {"state": claimed.state.value})
            if item.source is ItemSource.CASE:
                self._move_case(item.case_number, CaseState.UNDER_REVIEW, "")
        return claimed

    def release(self, item_id: int, viewer: Reviewer) -> None:
        """Give the item back to the queue."""
        item = self._items.get(item_id)
        if item.claimed_by(self._clock()) == viewer.name:
            self._items.release(item_id, viewer.name)
            self._record(viewer, AuditAction.RELEASE, item, {})

    # Decisions ---------------------------------------------------------------------------

    def decide(self, item_id: int, viewer: Reviewer, given: DecisionInput) -> ReviewItem:
        """Record a decision and carry it out; the viewer must hold the item's claim."""
        item = self._items.get(item_id)
        now = self._clock()
        self._check_decision(item, viewer, given, now)
        decision = Decision(
            kind=given.kind,
            action=given.action,
            ground=given.ground,
            facts=given.facts,
            reason=given.reason,
            reviewer=viewer.name,
            at=now,
            automated_detection=item.source in CONTENT_SOURCES,
            automated_decision=(
                AutomatedDecision.PARTIALLY
                if item.source in CONTENT_SOURCES
                else AutomatedDecision.NOT_AUTOMATED
            ),
            statement_id=(
                f"sw-{uuid.uuid4()}"
                if given.kind is DecisionKind.CONFIRM and item.source in CONTENT_SOURCES
                else ""
            ),
        )
        changed = self._carry_out(item, decision)
        decision = replace(decision, added_entries=tuple(changed))
        state = ItemState.DECIDED if given.kind in FINAL_KINDS else _NEXT_STATE[given.kind]
        decided = self._items.record_decision(item_id, decision, state, now)
        action = (
            AuditAction.ESCALATION if given.kind is DecisionKind.ESCALATE else AuditAction.DECISION
        )
        self._record(
            viewer,
            action,
            item,
            {"kind": given.kind.value, "ground": given.ground or None, "entries": len(changed)},
        )
        if item.source is ItemSource.COMPLAINT and given.kind in FINAL_KINDS:
            self._desk().close(item, decision, actor_of(viewer))
        if given.kind in (DecisionKind.CONFIRM, DecisionKind.ACCEPT) and self._confirmed:
            self._tell_confirmed(decided)
        if given.kind in FINAL_KINDS:
            for told in self._decided:
                try:
                    told(decided)
                except ShieldwallError as exc:
                    _log.warning("after the decision on item %d: %s", item.id, exc)
        if given.kind in FINAL_KINDS and item.content_address:
            self._forget_content(item)
        if (
            given.kind is DecisionKind.CONFIRM
            and item.findings is not None
            and self._likeness_notices is not None
        ):
            self._likeness_notices.acted_on(item.findings.enrolment_numbers)
        return decided

    def _tell_confirmed(self, item: ReviewItem) -> None:
        """Tell the listeners (the sweep) what was confirmed; a listener's failure is logged
        and never undoes the decision."""
        queries = self._copy_queries(item)
        for listener in self._confirmed:
            try:
                listener(item, queries)
            except ShieldwallError as exc:
                _log.warning("after the decision on item %d: %s", item.id, exc)

    def _copy_queries(self, item: ReviewItem) -> tuple[Signal, ...]:
        """What copies of the item's content are searched with: the content's lookup signals
        (rotations, mirrors, edit-undoing views, digests) and its region variants (crops,
        zooms) while it is held, else the lookup's;
        the signals of the entries it matched; and a case's reported hashes."""
        found: list[Signal] = list(item.signals)
        banked = item.decision.added_entries if item.decision is not None else None
        if item.content_address:
            try:
                data = self._quarantine.get(item.content_address)
            except NotFoundError:
                pass
            else:
                hashed = hash_content(data, self._limits, purpose=Purpose.LOOKUP)
                found.extend(hashed.lookup_signals())
                if not banked:
                    # its crops and zooms, as a bank entry holds them: a cropped copy's
                    # hash is near one of them (what the decision banked holds them too)
                    found.extend(hash_content(data, self._limits, purpose=Purpose.BANK).views)
        found.extend(self._effects.matched_signals(item))
        if banked:
            # what the decision banked: the content's region variants, after it is deleted
            found.extend(self._effects.entry_signals(banked))
        if item.case_number and item.source is ItemSource.CASE:
            for hashes in self._cases.get(item.case_number).report.hashes:
                found.extend(hashes)
        return tuple(dict.fromkeys(found))

    def sweep_again(self, item_id: int) -> tuple[ReviewItem, tuple[Signal, ...]]:
        """A confirmed upload (or accepted case) and what its copies are searched with now,
        for sweeping again (a sweep lost with its worker, or a longer record since)."""
        item = self._items.get(item_id)
        decision = item.decision
        if decision is None or decision.kind not in (DecisionKind.CONFIRM, DecisionKind.ACCEPT):
            raise InvalidInputError(f"review item {item_id} was not confirmed or accepted")
        return item, self._copy_queries(item)

    def _forget_content(self, item: ReviewItem) -> None:
        """Delete the decided item's content, unless another waiting item (the same upload
        queued by another platform) still needs it: its retention then ends it."""
        address = item.content_address
        if not any(i.content_address == address for i in self._items.waiting() if i.id != item.id):
            self._quarantine.delete(address)

    def _check_decision(
        self, item: ReviewItem, viewer: Reviewer, given: DecisionInput, now: datetime
    ) -> None:
        if given.kind not in KINDS_BY_SOURCE[item.source]:
            raise InvalidInputError(
                f"a {item.source.value} item cannot be given {given.kind.value}"
            )
        if item.state is ItemState.ESCALATED and not viewer.lead:
            raise PermissionDeniedError("only leads decide escalated items")
        if item.state is ItemState.ESCALATED and given.kind is DecisionKind.ESCALATE:
            raise InvalidInputError("the item is already escalated")
        if item.state is ItemState.DECIDED:
            raise InvalidInputError(f"review item {item.id} is already decided")
        self._refuse_decider(item, viewer)
        if item.claimed_by(now) != viewer.name:
            raise PermissionDeniedError("claim the item before deciding it")
        if given.ground and given.ground not in {g.code for g in self._items.grounds()}:
            raise InvalidInputError(f"unknown ground {given.ground!r}")
        if item.source is ItemSource.CASE:
            case = self._cases.get(item.case_number)
            if case.state is CaseState.WITHDRAWN:
                raise InvalidInputError("the case was withdrawn: nothing to decide")

    def _carry_out(self, item: ReviewItem, decision: Decision) -> list[int]:
        """The decision's effect on banks and cases; the entry ids it added."""
        kind = decision.kind
        if kind in (DecisionKind.UPHOLD, DecisionKind.REVERSE):
            return self._desk().carry_out(item, decision)
        if kind is DecisionKind.CONFIRM:
            return self._effects.confirm(item, decision, self._content_signals(item))
        if kind is DecisionKind.REJECT:
            return self._effects.reject(item, decision, self._content_signals(item))
        if kind is DecisionKind.ACCEPT:
            self._move_case(item.case_number, CaseState.DECIDED, "accepted")
            if item.trusted_flagger and self.policy.trusted_flaggers_confirm:
                return self._effects.confirm_case(item, decision)
        elif kind is DecisionKind.REFUSE:
            self._move_case(item.case_number, CaseState.DECIDED, "refused")
            self._effects.refuse_case(item.case_number)
        elif kind is DecisionKind.NEED_INFO and item.source is ItemSource.CASE:
            self._move_case(item.case_number, CaseState.TRIAGED, "more information needed")
        return []

    def _desk(self) -> ComplaintDesk:
        if self._complaints is None:
            raise InvalidInputError("complaints are not handled by this service")
        return self._complaints

    def _refuse_decider(self, item: ReviewItem, viewer: Reviewer) -> None:
        """Keep a complaint item from the reviewer who made the decision it is about."""
        if self._complaints is not None and self._complaints.bars(item, viewer.name):
            raise OwnDecisionError(DECIDER_BARRED)

    def _content_signals(self, item: ReviewItem) -> tuple[Signal, ...]:
        """What a bank entry of the item's content holds: with the content at hand, its
        signals and region variants (as `bank add` makes them); else the lookup's. PDQ
        hashes the acceptance rule refuses (a region too plain to keep) are left out, as
        `bank add` leaves them out, so a decision never fails on them."""
        signals = item.signals
        if item.content_address:
            try:
                data = self._quarantine.get(item.content_address)
            except NotFoundError:  # expired meanwhile: the lookup's signals still serve
                pass
            else:
                signals = hash_content(data, self._limits, purpose=Purpose.BANK).entry_signals()
        kept, _ = without_refused(signals)
        return kept

    def _move_case(self, number: str, to: CaseState, detail: str) -> None:
        """Move a case along the table, through `under_review` when deciding one that no
        reviewer has opened yet; a case that cannot move (withdrawn) stays."""
        case = self._cases.get(number)
        if to is CaseState.DECIDED and can_move(case.state, CaseState.UNDER_REVIEW):
            case = self._cases.move(number, CaseState.UNDER_REVIEW)
        if can_move(case.state, to):
            self._cases.move(number, to, detail)

    # Media -------------------------------------------------------------------------------

    def content_for_rendition(self, item_id: int) -> bytes:
        """The quarantined content, only to make the blurred rendition on the server."""
        item = self._items.get(item_id)
        if not item.content_address:
            raise NotFoundError(f"review item {item_id} has no content")
        return self._quarantine.get(item.content_address)

    def reveal(self, item_id: int, viewer: Reviewer) -> bytes:
        """The original, for the reviewer holding the item, within their daily cap; audited."""
        item = self._items.get(item_id)
        now = self._clock()
        if item.claimed_by(now) != viewer.name:
            raise PermissionDeniedError("claim the item before revealing it")
        if self._reveals_today(viewer, now) >= self.policy.daily_reveals:
            raise PermissionDeniedError(
                f"daily limit of {self.policy.daily_reveals} revealed originals reached"
            )
        data = self.content_for_rendition(item_id)
        self._items.record_reveal(item_id, viewer.name, now)
        self._record(viewer, AuditAction.REVEAL, item, {})
        return data

    def reveals_left(self, viewer: Reviewer) -> int:
        """Originals the viewer may still reveal today."""
        return max(0, self.policy.daily_reveals - self._reveals_today(viewer, self._clock()))

    def _reveals_today(self, viewer: Reviewer, now: datetime) -> int:
        """Originals the viewer revealed since the start of `now`'s UTC day."""
        start_of_day = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
        return self._items.reveals_since(viewer.name, start_of_day)

    # Grounds -----------------------------------------------------------------------------

    def put_ground(self, viewer: Reviewer, ground: Ground) -> None:
        """Add or replace a ground (admins)."""
        if not viewer.admin:
            raise PermissionDeniedError("only admins manage grounds")
        self._items.put_ground(ground)
        self._audit_account(viewer, "ground", ground.code, {"change": "put"})

    def remove_ground(self, viewer: Reviewer, code: str) -> None:
        """Remove a ground (admins); past decisions keep its code."""
        if not viewer.admin:
            raise PermissionDeniedError("only admins manage grounds")
        self._items.remove_ground(code)
        self._audit_account(viewer, "ground", code, {"change": "remove"})

    # Audit -------------------------------------------------------------------------------

    def _record(
        self,
        viewer: Reviewer,
        action: AuditAction,
        item: ReviewItem,
        details: dict[str, DetailValue],
    ) -> None:
        self._audit.append(
            AuditEvent(
                self._clock(),
                actor_of(viewer),
                action,
                Subject("review_item", str(item.id)),
                {"source": item.source.value, **details},
            )
        )

    def _audit_account(
        self, viewer: Reviewer, kind: str, subject: str, details: dict[str, DetailValue]
    ) -> None:
        self._audit.append(
            AuditEvent(
                self._clock(),
                actor_of(viewer),
                AuditAction.ACCOUNT_CHANGE,
                Subject(kind, subject),
                details,
            )
        )


def actor_of(viewer: Reviewer) -> Actor:
    """The audit log's actor for a reviewer (an account by username, or an API key)."""
    return Actor(ActorKind.API_KEY if viewer.is_key else ActorKind.REVIEWER, viewer.name)
