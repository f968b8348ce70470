"""The queue's order and filters: deadline first, then priority, then age. No I/O here.

An item whose deadline is nearer comes first (the law's clock runs for everyone); among
items due at the same time, one showing a minor comes before one from a trusted flagger,
which comes before the rest; then the older first. Escalated items are a lead's queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shieldwall.review.models import ItemSource, ItemState, ReviewItem


def priority_rank(item: ReviewItem) -> int:
    """0 for a minor, 1 for a trusted flagger, 2 for everything else (lower goes first)."""
    if item.minor:
        return 0
    if item.trusted_flagger:
        return 1
    return 2


def queue_key(item: ReviewItem) -> tuple[datetime, int, datetime, int]:
    """The sort key of the queue: deadline, priority rank, opening time, id."""
    return (item.deadline, priority_rank(item), item.opened_at, item.id)


@dataclass(frozen=True)
class QueueFilter:
    """Which items a queue shows (None: any)."""

    source: ItemSource | None = None
    bank: str | None = None
    states: frozenset[ItemState] = frozenset({ItemState.OPEN, ItemState.NEEDS_INFO})
    assignee: str | None = None
    """Only items claimed by this reviewer now ("" : only unclaimed items)."""

    def admits(self, item: ReviewItem, now: datetime) -> bool:
        """Whether the item belongs in this queue at `now`."""
        if item.state not in self.states:
            return False
        if self.source is not None and item.source is not self.source:
            return False
        if self.bank is not None and self.bank not in item.banks:
            return False
        if self.assignee is not None:
            holder = item.claimed_by(now) or ""
            if holder != self.assignee:
                return False
        return True


def ordered(items: Iterable[ReviewItem], wanted: QueueFilter, now: datetime) -> list[ReviewItem]:
    """The items the filter admits, in queue order."""
    return sorted((i for i in items if wanted.admits(i, now)), key=queue_key)
