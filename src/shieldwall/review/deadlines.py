"""Watching the takedown clocks: which waiting work is at risk or overdue, and telling the
leads once when a case turns at risk and once when it is overdue.

Platforms' clocks are the notices': a notice without an answer by the platform's deadline,
or a link whose re-check date came, is overdue and told to the leads once (per deadline
and per re-check date).

The cases' clocks are the review items': a case's own item and every platform upload linked to it
carry the case's deadline (fixed at receipt), other items the review policy's. Items of
one case share one alert. Every serving worker runs the check every minute (and
`shieldwall cases check-deadlines` from cron): the alert store records each alert once,
atomically, and only the caller that recorded it sends the email, so several workers
checking at the same moment send one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from shieldwall.clock import Clock, utc_now
from shieldwall.deadlines import ClockState, DeadlinePolicy
from shieldwall.review.models import ReviewItem
from shieldwall.review.ports import ReviewRepository
from shieldwall.takedown.service import LocatorClock, NoticeService


class AlertStore(Protocol):
    """Escalations sent, one per subject and kind."""

    def record(self, subject: str, kind: str, at: datetime) -> bool:
        """Record the alert; True only for the call that recorded it first."""
        ...


class LeadNotifier(Protocol):
    """Tells the leads (email) that work is at risk or overdue."""

    def deadline_alert(self, clock: WorkClock, now: datetime) -> None:
        """Send the alert (in the background; failures are logged, never raised)."""
        ...

    def notice_alert(self, clock: LocatorClock, now: datetime) -> None:
        """Say a platform has not answered a notice by its deadline, or a link's re-check
        date has come (in the background; failures are logged, never raised)."""
        ...


@dataclass(frozen=True)
class WorkClock:
    """The clock of a case (or of an item without one) with its waiting items."""

    subject: str
    """The case number, or `item-<id>` for an item without a case."""
    deadline: datetime
    state: ClockState
    minor: bool
    items: tuple[int, ...]

    def left(self, now: datetime) -> float:
        """Seconds left (negative: past the deadline)."""
        return (self.deadline - now).total_seconds()


def work_clocks(
    items: Sequence[ReviewItem], policy: DeadlinePolicy, now: datetime
) -> list[WorkClock]:
    """The clocks of waiting items grouped by case, the earliest deadline first (minors
    first among equal deadlines)."""
    grouped: dict[str, list[ReviewItem]] = {}
    for item in items:
        grouped.setdefault(item.case_number or f"item-{item.id}", []).append(item)
    clocks = []
    for subject, members in grouped.items():
        deadline = min(member.deadline for member in members)
        clocks.append(
            WorkClock(
                subject,
                deadline,
                policy.state(deadline, now),
                any(member.minor for member in members),
                tuple(sorted(member.id for member in members)),
            )
        )
    return sorted(clocks, key=lambda c: (c.deadline, not c.minor, c.subject))


@dataclass(frozen=True)
class DeadlineCheck:
    """One check: every clock, and the alerts this check sent."""

    clocks: list[WorkClock]
    sent: list[tuple[str, ClockState]]
    locators: list[LocatorClock] = field(default_factory=list)

    def count(self, state: ClockState) -> int:
        """How many clocks are in `state`."""
        return sum(clock.state is state for clock in self.clocks)


class DeadlineWatch:
    """Checks the clocks and escalates to the leads."""

    def __init__(
        self,
        items: ReviewRepository,
        alerts: AlertStore,
        notifier: LeadNotifier | None,
        policy: DeadlinePolicy,
        clock: Clock = utc_now,
        notices: NoticeService | None = None,
    ) -> None:
        self._notices = notices
        self._items = items
        self._alerts = alerts
        self._notifier = notifier
        self._policy = policy
        self._clock = clock

    def clocks(self) -> list[WorkClock]:
        """Every waiting case's clock now (the leads' overview)."""
        return work_clocks(self._items.waiting(), self._policy, self._clock())

    def check(self) -> DeadlineCheck:
        """Alert the leads about every clock newly at risk or overdue (each once)."""
        now = self._clock()
        clocks = work_clocks(self._items.waiting(), self._policy, now)
        sent: list[tuple[str, ClockState]] = []
        for clock in clocks:
            if clock.state is ClockState.ON_TIME:
                continue
            if not self._alerts.record(clock.subject, clock.state.value, now):
                continue
            sent.append((clock.subject, clock.state))
            if self._notifier is not None:
                self._notifier.deadline_alert(clock, now)
        locators = self.locator_clocks()
        for locator in locators:
            if locator.clock is not ClockState.OVERDUE:
                continue
            if not self._alerts.record(locator.subject, ClockState.OVERDUE.value, now):
                continue
            sent.append((locator.subject, ClockState.OVERDUE))
            if self._notifier is not None:
                self._notifier.notice_alert(locator, now)
        return DeadlineCheck(clocks, sent, locators)

    def locator_clocks(self) -> list[LocatorClock]:
        """The notices someone should look at, by when (none without a notice service)."""
        return [] if self._notices is None else self._notices.clocks(self._policy)
