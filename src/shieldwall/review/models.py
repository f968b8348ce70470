"""Review items, claims and decisions: what a reviewer works on and what they decide. No I/O.

A review item is opened by a platform's lookup that answered `review` and asked to queue
it (`source` platform), or by a filed case (`source` case). A reviewer claims it (a lock
for ten minutes, renewed while they work), then decides. Decisions on content (confirm,
reject) change banks; decisions on a case (accept, refuse) move the case; escalate and
need-more-information keep the item open for a lead or for more facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from shieldwall.errors import InvalidInputError
from shieldwall.signals.models import Signal

CLAIM_DURATION: Final = timedelta(minutes=10)
"""How long a claim locks an item to one reviewer; renewed while the reviewer is active."""
MAX_FACTS: Final = 5000
"""Longest statement of facts (the DSA Transparency Database's `decision_facts`)."""
MAX_REASON: Final = 2000
MAX_CONTENT_REF: Final = 2000
_GROUND_CODE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


class ItemSource(StrEnum):
    """What opened a review item."""

    PLATFORM = "platform"  # a platform's lookup answered `review` and asked to queue it
    CASE = "case"  # a victim (or a trusted flagger) filed a case
    LIKENESS = "likeness"  # explicit content showing an enrolled person (the detectors)
    COMPLAINT = "complaint"  # someone complained about a decision (DSA Art. 20)


class ItemState(StrEnum):
    """Where a review item stands."""

    OPEN = "open"  # waiting in the queue
    ESCALATED = "escalated"  # waiting for a lead
    NEEDS_INFO = "needs_info"  # waiting for more information
    DECIDED = "decided"  # done: see its decision
    WITHDRAWN = "withdrawn"  # its case was withdrawn before a decision: nothing to decide


OPEN_STATES: Final = frozenset({ItemState.OPEN, ItemState.ESCALATED, ItemState.NEEDS_INFO})
"""States in which an item still waits for a decision."""


class DecisionKind(StrEnum):
    """What a reviewer decided."""

    CONFIRM = "confirm"  # content: it is the reported NCII (or otherwise abusive): block it
    REJECT = "reject"  # content: benign, a collision or not the reported image: allow-list it
    ACCEPT = "accept"  # case: the report is valid
    REFUSE = "refuse"  # case: the report is not valid (with reasons)
    ESCALATE = "escalate"  # either: a lead decides
    NEED_INFO = "need_info"  # either: more information is needed first
    UPHOLD = "uphold"  # complaint: the decision complained about stands
    REVERSE = "reverse"  # complaint: the decision complained about is reversed and undone


CONTENT_SOURCES: Final = frozenset({ItemSource.PLATFORM, ItemSource.LIKENESS})
"""Items about content (found by automated means: hash matching or the detectors), as
against a filed case (a person's report)."""

FINAL_KINDS: Final = frozenset(
    {
        DecisionKind.CONFIRM,
        DecisionKind.REJECT,
        DecisionKind.ACCEPT,
        DecisionKind.REFUSE,
        DecisionKind.UPHOLD,
        DecisionKind.REVERSE,
    }
)
"""Decisions that close an item."""
KINDS_BY_SOURCE: Final = {
    ItemSource.PLATFORM: frozenset(
        {DecisionKind.CONFIRM, DecisionKind.REJECT, DecisionKind.ESCALATE, DecisionKind.NEED_INFO}
    ),
    ItemSource.CASE: frozenset(
        {DecisionKind.ACCEPT, DecisionKind.REFUSE, DecisionKind.ESCALATE, DecisionKind.NEED_INFO}
    ),
    ItemSource.LIKENESS: frozenset(
        {DecisionKind.CONFIRM, DecisionKind.REJECT, DecisionKind.ESCALATE, DecisionKind.NEED_INFO}
    ),
    ItemSource.COMPLAINT: frozenset(
        {DecisionKind.UPHOLD, DecisionKind.REVERSE, DecisionKind.ESCALATE}
    ),
}
"""Which decisions fit which items: content is confirmed or rejected, a case accepted or
refused, a complaint upheld or reversed."""


class RemovalAction(StrEnum):
    """What the decision asks the platform to do with the content."""

    REMOVE = "remove"
    RESTRICT = "restrict"
    NONE = "none"


class AutomatedDecision(StrEnum):
    """How far the decision was automated (the DSA's `automated_decision`)."""

    FULLY = "fully"
    PARTIALLY = "partially"  # automated means found it; a person decided
    NOT_AUTOMATED = "not_automated"


@dataclass(frozen=True)
class Reviewer:
    """Who works the queue: a console account (by username) or an API key (`key:<id>`)."""

    name: str
    lead: bool = False
    """Leads (and admins) handle escalations and see everyone's queue."""
    admin: bool = False
    """Admins also manage accounts and grounds."""
    is_key: bool = False
    """An API key with the reviewer role rather than a person's account."""


@dataclass(frozen=True)
class ReviewPolicy:
    """A deployment's review settings."""

    deadline: timedelta = timedelta(hours=48)
    """An item's clock when no case gives one (the TAKE IT DOWN Act's 48 hours)."""
    retention: timedelta = timedelta(days=14)
    """How long quarantined content waits for a decision at most."""
    daily_reveals: int = 20
    """Originals one reviewer may reveal per UTC day (exposure cap)."""
    trusted_flaggers_confirm: bool = True
    """Whether accepting a trusted flagger's case blocks its hashes at once."""
    complaint_window: timedelta = timedelta(days=183)
    """How long after a decision it may be complained about (DSA Art. 20: six months)."""
    complaint_deadline: timedelta | None = None
    """A complaint item's clock (None: `deadline`)."""


@dataclass(frozen=True)
class Ground:
    """A legal or terms ground a decision can rest on (admins keep the list)."""

    code: str  # a stable id: `take-it-down-act`, `dsa-illegal-ncii`, `terms-4.2`
    label: str  # how reviewers see it
    kind: str = "illegal"  # `illegal` (a law) or `incompatible` (terms of service)
    reference_url: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not _GROUND_CODE.fullmatch(self.code):
            raise InvalidInputError("a ground's code is 1-64 lowercase letters, digits, _ . -")
        if not isinstance(self.label, str) or not 0 < len(self.label.strip()) <= 500:
            raise InvalidInputError("a ground's label is 1-500 characters")
        if self.kind not in {"illegal", "incompatible"}:
            raise InvalidInputError("a ground's kind is `illegal` or `incompatible`")
        if len(self.reference_url) > 500:
            raise InvalidInputError("a ground's reference URL is at most 500 characters")


DEFAULT_GROUNDS: Final = (
    Ground(
        "take-it-down-act",
        "US TAKE IT DOWN Act: non-consensual intimate visual depiction",
        "illegal",
        "https://www.congress.gov/bill/119th-congress/senate-bill/146",
    ),
    Ground(
        "dsa-illegal-ncii",
        "Illegal under national law (EU): non-consensual intimate images or deepfakes",
        "illegal",
    ),
    Ground(
        "csam",
        "Sexual depiction of a minor (including synthetic): illegal everywhere",
        "illegal",
    ),
    Ground(
        "terms-ncii", "Terms of service: intimate images shared without consent", "incompatible"
    ),
)
"""The grounds a new deployment starts with; admins edit the list."""


@dataclass(frozen=True)
class ItemMatch:
    """One bank entry the item's content matched, as the lookup saw it."""

    bank: str
    entry_id: int
    signal_type: str
    distance: int
    variant: str


@dataclass(frozen=True)
class EnrolledLikeness:
    """An enrolled person the content seems to show: their enrolment's number (never a
    name) and the face templates' cosine similarity."""

    enrolment_number: str
    similarity: float


@dataclass(frozen=True)
class DetectorFindings:
    """What the detectors found in a likeness item's content: the nudity score, how many
    faces, the enrolments they resemble, and signs of generation (generator, where found,
    excerpt). Scores only ever open a review; the reviewer decides."""

    nudity: float
    faces: int
    likeness: tuple[EnrolledLikeness, ...]
    provenance: tuple[tuple[str, str, str], ...] = ()

    @property
    def enrolment_numbers(self) -> tuple[str, ...]:
        """The enrolments the content seems to show, most similar first."""
        return tuple(match.enrolment_number for match in self.likeness)

    def to_json(self) -> dict[str, object]:
        """As stored and shown."""
        return {
            "nudity": self.nudity,
            "faces": self.faces,
            "likeness": [
                {"enrolment_number": m.enrolment_number, "similarity": m.similarity}
                for m in self.likeness
            ],
            "provenance": [
                {"generator": g, "where": w, "excerpt": e} for g, w, e in self.provenance
            ],
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> DetectorFindings:
        """Back from `to_json`."""
        return cls(
            float(value["nudity"]),
            int(value["faces"]),
            tuple(
                EnrolledLikeness(str(m["enrolment_number"]), float(m["similarity"]))
                for m in value["likeness"]
            ),
            tuple(
                (str(p["generator"]), str(p["where"]), str(p["excerpt"]))
                for p in value["provenance"]
            ),
        )


@dataclass(frozen=True)
class Claim:
    """A reviewer's lock on an item, until a time."""

    reviewer: str
    until: datetime

    def held_by_other(self, reviewer: str, now: datetime) -> bool:
        """Whether someone else holds this claim at `now` (an expired claim holds nothing)."""
        return self.reviewer != reviewer and now < self.until


@dataclass(frozen=True)
class DecisionInput:
    """What a reviewer submits."""

    kind: DecisionKind
    action: RemovalAction = RemovalAction.NONE
    ground: str = ""
    facts: str = ""
    reason: str = ""
    """Why a rejection, refusal, escalation or request for information (recorded)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DecisionKind(self.kind))
        object.__setattr__(self, "action", RemovalAction(self.action))
        for name in ("facts", "reason", "ground"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise InvalidInputError(f"{name} must be text")
            object.__setattr__(self, name, value.strip())
        problems = decision_problems(
            self.kind, self.action.value, self.ground, self.facts, self.reason
        )
        if problems:
            raise InvalidInputError(
                "; ".join(
                    _PROBLEM_TEXTS[code].format(kind=self.kind.value, field=name)
                    for name, code in problems.items()
                )
            )


NEEDS_GROUND: Final = frozenset({DecisionKind.CONFIRM, DecisionKind.ACCEPT})
"""Decisions that rest on a ground and state their facts (the statement of reasons')."""
NEEDS_REASON: Final = frozenset(
    {
        DecisionKind.REJECT,
        DecisionKind.REFUSE,
        DecisionKind.ESCALATE,
        DecisionKind.NEED_INFO,
        DecisionKind.UPHOLD,
        DecisionKind.REVERSE,
    }
)
"""Decisions that say why (what the lead should look at, what information is missing)."""
_LIMITS: Final = {"ground": 64, "facts": MAX_FACTS, "reason": MAX_REASON}
_PROBLEM_TEXTS: Final = {
    "choose-action": "a confirm decision removes or restricts the content",
    "choose-ground": "a {kind} decision needs a ground",
    "write-facts": "a {kind} decision needs facts",
    "write-reason": "a {kind} decision needs a reason",
    "too-long": "{field} is too long",
}


def decision_problems(
    kind: DecisionKind, action: str, ground: str, facts: str, reason: str
) -> dict[str, str]:
    """Each missing or overlong field of a decision, by field name, as a stable code
    (`choose-action`, `choose-ground`, `write-facts`, `write-reason`, `too-long`): the one
    set of rules the console's forms show and DecisionInput enforces for every front end.
    Whether the ground is a known one is the service's to check."""
    problems: dict[str, str] = {}
    if kind is DecisionKind.CONFIRM and action not in (
        RemovalAction.REMOVE,
        RemovalAction.RESTRICT,
    ):
        problems["action"] = "choose-action"
    if kind in NEEDS_GROUND and not ground:
        problems["ground"] = "choose-ground"
    if kind in NEEDS_GROUND and not facts:
        problems["facts"] = "write-facts"
    if kind in NEEDS_REASON and not reason:
        problems["reason"] = "write-reason"
    for name, value in (("ground", ground), ("facts", facts), ("reason", reason)):
        if len(value) > _LIMITS[name]:
            problems[name] = "too-long"
    return problems


@dataclass(frozen=True)
class Decision:
    """A recorded decision: what, on which ground and facts, by whom, when, how automated."""

    kind: DecisionKind
    action: RemovalAction
    ground: str
    facts: str
    reason: str
    reviewer: str
    at: datetime
    automated_detection: bool
    automated_decision: AutomatedDecision
    statement_id: str = ""
    """The opaque id of its statement of reasons (`sw-<uuid>`), for confirm decisions on
    a platform's content; "" otherwise."""
    added_entries: tuple[int, ...] | None = None
    """The bank entries it changed (those it put in force, made or found; for a reversal
    those it withdrew or enabled), so a reversal can undo it; None for decisions recorded
    before migration 0016."""


@dataclass(frozen=True)
class NewItem:
    """An item to open."""

    source: ItemSource
    opened_at: datetime
    deadline: datetime
    minor: bool = False
    trusted_flagger: bool = False
    case_number: str = ""
    content_ref: str = ""
    opened_by_key: int | None = None
    content_address: str = ""
    """The quarantined content's address ("" when there is none: signals only, a case)."""
    signals: tuple[Signal, ...] = ()
    matches: tuple[ItemMatch, ...] = ()
    dedupe_key: str = ""
    """An open item with the same key is returned instead of a second one ("" never)."""
    findings: DetectorFindings | None = None
    """The detectors' findings (likeness items only)."""

    def __post_init__(self) -> None:
        if len(self.content_ref) > MAX_CONTENT_REF:
            raise InvalidInputError(f"content_ref is at most {MAX_CONTENT_REF} characters")


@dataclass(frozen=True)
class ReviewItem:
    """A stored review item."""

    id: int
    source: ItemSource
    state: ItemState
    opened_at: datetime
    deadline: datetime
    minor: bool
    trusted_flagger: bool
    case_number: str
    content_ref: str
    opened_by_key: int | None
    content_address: str
    signals: tuple[Signal, ...]
    matches: tuple[ItemMatch, ...]
    claim: Claim | None = None
    decisions: tuple[Decision, ...] = field(default_factory=tuple)
    findings: DetectorFindings | None = None
    """The detectors' findings (likeness items only)."""
    """Every decision on the item, oldest first (escalations and requests included)."""

    @property
    def decision(self) -> Decision | None:
        """The final decision, if the item is decided."""
        return next((d for d in reversed(self.decisions) if d.kind in FINAL_KINDS), None)

    @property
    def banks(self) -> tuple[str, ...]:
        """The banks its matches are in."""
        return tuple(dict.fromkeys(m.bank for m in self.matches))

    def claimed_by(self, now: datetime) -> str | None:
        """Who holds the item at `now` (None if nobody, or the claim expired)."""
        if self.claim is None or now >= self.claim.until:
            return None
        return self.claim.reviewer
