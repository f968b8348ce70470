"""What the review service needs from storage. Adapters: memory, SQL (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from shieldwall.review.models import Decision, Ground, ItemState, NewItem, ReviewItem


class ReviewRepository(Protocol):
    """Persistent review items, their claims and decisions, reveals and grounds.

    Every method is atomic across threads and processes; errors are ShieldwallErrors."""

    def open(self, item: NewItem) -> tuple[ReviewItem, bool]:
        """Store a new item (state open) and True; or, when an item with the same non-empty
        `dedupe_key` is still open (open, escalated, needs_info), that item and False."""
        ...

    def get(self, item_id: int) -> ReviewItem:
        """The item with its claim and decisions; NotFoundError if none."""
        ...

    def waiting(self) -> list[ReviewItem]:
        """Every item not yet decided (any order: the queue sorts them)."""
        ...

    def items_of_case(self, case_number: str) -> list[ReviewItem]:
        """Every item of a case (its own item and the platform items linked to it), by id."""
        ...

    def claim(self, item_id: int, reviewer: str, now: datetime, until: datetime) -> ReviewItem:
        """Lock a waiting item to `reviewer` until `until`: when nobody holds it at `now`, its
        claim expired, or the reviewer already holds it (a renewal). ConflictError when
        another reviewer holds it; InvalidInputError when it is decided; NotFoundError."""
        ...

    def release(self, item_id: int, reviewer: str) -> None:
        """Drop the reviewer's claim on the item, if they hold one."""
        ...

    def record_decision(
        self, item_id: int, decision: Decision, state: ItemState, now: datetime
    ) -> ReviewItem:
        """Append a decision and move the item to `state`, releasing its claim, only while
        the decision's reviewer holds the claim at `now` and the item is waiting:
        ConflictError otherwise (someone else decided or holds it)."""
        ...

    def withdraw_case_item(self, case_number: str) -> ReviewItem | None:
        """Take a case's own item out of the queue (state withdrawn, claim dropped) when it
        is still waiting; the item, or None when there was none waiting."""
        ...

    def decided_between(self, start: datetime, end: datetime) -> list[ReviewItem]:
        """Items with a final decision made at or after `start` and before `end`, by time."""
        ...

    def opened_between(self, start: datetime, end: datetime) -> list[ReviewItem]:
        """Items opened at or after `start` and before `end`, by time (what was received)."""
        ...

    def record_reveal(self, item_id: int, reviewer: str, at: datetime) -> None:
        """One reveal of an item's original by a reviewer."""
        ...

    def reveals_since(self, reviewer: str, since: datetime) -> int:
        """How many originals the reviewer revealed since `since`."""
        ...

    def grounds(self) -> list[Ground]:
        """The grounds decisions may rest on, by code."""
        ...

    def put_ground(self, ground: Ground) -> None:
        """Add a ground, or replace the one with its code."""
        ...

    def remove_ground(self, code: str) -> None:
        """Remove a ground (past decisions keep its code)."""
        ...


class LikenessNotices(Protocol):
    """Tells enrolled people that an image showing them was confirmed and is blocked
    (likeness protection's enrolments: their status pages, and email where given)."""

    def acted_on(self, numbers: Sequence[str]) -> object:
        """Record and send the notice for each of these enrolments still active."""
        ...
