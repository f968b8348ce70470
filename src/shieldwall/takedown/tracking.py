"""What became of each notice: sent (how, when), then the platform's answers as a reviewer
records them, against the platform's deadline. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shieldwall.takedown.platforms import LegalBasis


class NoticeMethod(StrEnum):
    """How a notice reached the platform."""

    EMAIL = "email"  # sent by the service to the platform's abuse address
    EXPORT = "export"  # written out for a person to paste into the platform's web form


class NoticeState(StrEnum):
    """Where a locator's notice stands."""

    NOTIFIED = "notified"
    ACKNOWLEDGED = "acknowledged"
    REMOVED = "removed"
    REFUSED = "refused"
    NO_ANSWER = "no_answer"  # the platform's deadline passed without removal or refusal


SETTLED = frozenset({NoticeState.REMOVED, NoticeState.REFUSED})
"""States after which the platform's clock no longer matters."""


@dataclass(frozen=True)
class NoticeAnswer:
    """A platform's answer as a reviewer recorded it."""

    at: datetime
    state: NoticeState
    note: str
    by: str
    recheck_at: datetime | None = None
    """When someone should look at the locator again (is it still up, did they answer)."""


@dataclass(frozen=True)
class LocatorNotice:
    """A notice about one locator of a case, to one platform."""

    id: int
    case_number: str
    locator: str
    platform: str
    basis: LegalBasis
    language: str
    method: NoticeMethod
    notified_at: datetime
    deadline: datetime
    answers: tuple[NoticeAnswer, ...] = field(default_factory=tuple)

    def state(self, now: datetime) -> NoticeState:
        """The latest answer's state; no answer by the deadline is `no_answer`."""
        latest = self.answers[-1].state if self.answers else NoticeState.NOTIFIED
        if latest not in SETTLED and now >= self.deadline:
            return NoticeState.NO_ANSWER
        return latest

    @property
    def recheck_at(self) -> datetime | None:
        """The re-check date of the latest answer, if it set one."""
        return self.answers[-1].recheck_at if self.answers else None

    def next_look(self, now: datetime) -> datetime | None:
        """When a person should next look at this locator: the re-check date if one is
        set, else the platform's deadline while the notice is unsettled (None: nothing due)."""
        if self.recheck_at is not None:
            return self.recheck_at
        if self.state(now) in SETTLED:
            return None
        return self.deadline


@dataclass(frozen=True)
class NewNotice:
    """A notice to record as sent."""

    case_number: str
    locator: str
    platform: str
    basis: LegalBasis
    language: str
    method: NoticeMethod
    notified_at: datetime
    deadline: datetime
