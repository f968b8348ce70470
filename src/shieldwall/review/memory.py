"""In-memory review repository, for tests and the contract suite."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from shieldwall.errors import ConflictError, InvalidInputError, NotFoundError
from shieldwall.review.models import (
    FINAL_KINDS,
    OPEN_STATES,
    Claim,
    Decision,
    Ground,
    ItemSource,
    ItemState,
    NewItem,
    ReviewItem,
)


class InMemoryReviewRepository:
    """Review items in a dict, behind a lock."""

    def __init__(self) -> None:
        self._items: dict[int, ReviewItem] = {}
        self._dedupe: dict[str, int] = {}
        self._reveals: list[tuple[int, str, datetime]] = []
        self._grounds: dict[str, Ground] = {}
        self._lock = threading.Lock()

    def open(self, item: NewItem) -> tuple[ReviewItem, bool]:
        with self._lock:
            known = self._dedupe.get(item.dedupe_key) if item.dedupe_key else None
            if known is not None and self._items[known].state in OPEN_STATES:
                return self._items[known], False
            stored = ReviewItem(
                id=len(self._items) + 1,
                source=item.source,
                state=ItemState.OPEN,
                opened_at=item.opened_at,
                deadline=item.deadline,
                minor=item.minor,
                trusted_flagger=item.trusted_flagger,
                case_number=item.case_number,
                content_ref=item.content_ref,
                opened_by_key=item.opened_by_key,
                content_address=item.content_address,
                signals=item.signals,
                matches=item.matches,
                findings=item.findings,
            )
            self._items[stored.id] = stored
            if item.dedupe_key:
                self._dedupe[item.dedupe_key] = stored.id
            return stored, True

    def get(self, item_id: int) -> ReviewItem:
        with self._lock:
            return self._get(item_id)

    def _get(self, item_id: int) -> ReviewItem:
        try:
            return self._items[item_id]
        except KeyError:
            raise NotFoundError(f"no review item {item_id}") from None

    def waiting(self) -> list[ReviewItem]:
        with self._lock:
            return [i for i in self._items.values() if i.state in OPEN_STATES]

    def items_of_case(self, case_number: str) -> list[ReviewItem]:
        with self._lock:
            return [i for i in self._items.values() if i.case_number == case_number]

    def claim(self, item_id: int, reviewer: str, now: datetime, until: datetime) -> ReviewItem:
        with self._lock:
            item = self._get(item_id)
            if item.state not in OPEN_STATES:
                raise InvalidInputError(f"review item {item_id} is already decided")
            if item.claim is not None and item.claim.held_by_other(reviewer, now):
                raise ConflictError(f"review item {item_id} is claimed by another reviewer")
            item = replace(item, claim=Claim(reviewer, until))
            self._items[item_id] = item
            return item

    def release(self, item_id: int, reviewer: str) -> None:
        with self._lock:
            item = self._get(item_id)
            if item.claim is not None and item.claim.reviewer == reviewer:
                self._items[item_id] = replace(item, claim=None)

    def record_decision(
        self, item_id: int, decision: Decision, state: ItemState, now: datetime
    ) -> ReviewItem:
        with self._lock:
            item = self._get(item_id)
            if item.state not in OPEN_STATES or item.claimed_by(now) != decision.reviewer:
                raise ConflictError(
                    f"review item {item_id} is not claimed by {decision.reviewer} now"
                )
            item = replace(item, state=state, claim=None, decisions=(*item.decisions, decision))
            self._items[item_id] = item
            return item

    def withdraw_case_item(self, case_number: str) -> ReviewItem | None:
        with self._lock:
            for item in self._items.values():
                if (
                    item.case_number == case_number
                    and item.source is ItemSource.CASE
                    and item.state in OPEN_STATES
                ):
                    withdrawn = replace(item, state=ItemState.WITHDRAWN, claim=None)
                    self._items[item.id] = withdrawn
                    return withdrawn
            return None

    def decided_between(self, start: datetime, end: datetime) -> list[ReviewItem]:
        with self._lock:
            found = [
                i
                for i in self._items.values()
                if any(d.kind in FINAL_KINDS and start <= d.at < end for d in i.decisions)
            ]
        return sorted(found, key=lambda i: (i.decision.at if i.decision else start, i.id))

    def opened_between(self, start: datetime, end: datetime) -> list[ReviewItem]:
        with self._lock:
            found = [i for i in self._items.values() if start <= i.opened_at < end]
        return sorted(found, key=lambda i: (i.opened_at, i.id))

    def record_reveal(self, item_id: int, reviewer: str, at: datetime) -> None:
        with self._lock:
            self._get(item_id)
            self._reveals.append((item_id, reviewer, at))

    def reveals_since(self, reviewer: str, since: datetime) -> int:
        with self._lock:
            return sum(1 for _, who, at in self._reveals if who == reviewer and at >= since)

    def grounds(self) -> list[Ground]:
        with self._lock:
            return sorted(self._grounds.values(), key=lambda g: g.code)

    def put_ground(self, ground: Ground) -> None:
        with self._lock:
            self._grounds[ground.code] = ground

    def remove_ground(self, code: str) -> None:
        with self._lock:
            self._grounds.pop(code, None)


class InMemoryAlertStore:
    """The deadline watch's AlertStore in memory."""

    def __init__(self) -> None:
        self._sent: dict[tuple[str, str], datetime] = {}
        self._lock = threading.Lock()

    def record(self, subject: str, kind: str, at: datetime) -> bool:
        """Record the alert; True only the first time."""
        with self._lock:
            if (subject, kind) in self._sent:
                return False
            self._sent[(subject, kind)] = at
            return True
