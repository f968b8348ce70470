"""Complaints about decisions (EU DSA Art. 20): who complains about which decision, why, and
what came of it. No I/O here.

The person who reported a case (or their guardian or representative) may complain about
its decision, or about the rejection of an upload that matched their pictures; the
platform whose lookup opened an item may complain about its decision. Either may do so for
six months after the decision. A complaint opens a review item of its own (source
`complaint`), decided by a reviewer other than the one who made the decision: `uphold` (it
stands) or `reverse` (it is undone: see review/reversal.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from shieldwall.errors import InvalidInputError, PermissionDeniedError

MAX_EXPLANATION: Final = 2000
"""Longest explanation a complainant may give, in characters."""
DECIDER_BARRED: Final = (
    "you made the decision this complaint is about: another reviewer must look at it again"
)
"""Why the reviewer who made a decision may not claim or decide a complaint about it."""


class OwnDecisionError(PermissionDeniedError):
    """The reviewer who made a decision tried to claim or decide a complaint about it."""

    code = "own-decision"


class Complainant(StrEnum):
    """Who complains."""

    REPORTER = "reporter"  # the person who reported the case (or who acts for them)
    PLATFORM = "platform"  # the platform whose lookup opened the item, by its API key


class ComplaintOutcome(StrEnum):
    """What a reviewer decided about a complaint."""

    UPHOLD = "uphold"  # the decision stands
    REVERSE = "reverse"  # the decision is reversed and its effects undone


def checked_explanation(text: object) -> str:
    """The explanation, trimmed: 1 to MAX_EXPLANATION printable characters (line breaks and
    tabs allowed); InvalidInputError otherwise."""
    if not isinstance(text, str):
        raise InvalidInputError("the explanation must be text")
    text = text.strip()
    if not text:
        raise InvalidInputError("say why the decision should be looked at again")
    if len(text) > MAX_EXPLANATION:
        raise InvalidInputError(f"the explanation is at most {MAX_EXPLANATION} characters")
    if not all(c.isprintable() or c in "\n\r\t" for c in text):
        raise InvalidInputError("the explanation holds characters that cannot be shown")
    return text


@dataclass(frozen=True)
class NewComplaint:
    """A complaint to record."""

    item_id: int
    """The decided review item complained about."""
    case_number: str
    """Its case ("" when it has none)."""
    complainant: Complainant
    key_id: int | None
    """The platform's API key (platform complaints only)."""
    explanation: str
    lodged_at: datetime


@dataclass(frozen=True)
class Complaint:
    """A recorded complaint, with its own review item and, once decided, its outcome."""

    id: int
    item_id: int
    case_number: str
    complainant: Complainant
    key_id: int | None
    explanation: str
    lodged_at: datetime
    complaint_item_id: int | None = None
    """The review item that looks at it again (None only while it is being opened)."""
    outcome: ComplaintOutcome | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None

    @property
    def is_open(self) -> bool:
        """Whether it still waits for an outcome."""
        return self.outcome is None


def refusal(known: list[Complaint], new: NewComplaint) -> str | None:
    """Why `new` may not be lodged beside the complaints `known` about its item (None: it
    may): one open complaint per decision, one complaint per kind of complainant."""
    if any(c.is_open for c in known):
        return "a complaint about this decision is already being looked at"
    if any(c.complainant is new.complainant for c in known):
        return "this decision was already looked at again after a complaint"
    return None
