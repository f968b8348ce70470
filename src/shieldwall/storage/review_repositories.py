"""SqlReviewRepository: the ReviewRepository port on SQLite and PostgreSQL.

Claims and decisions are single conditional UPDATEs (`... WHERE id = :id AND state is
waiting AND <the claim allows it>`) whose row count says whether they won. Chosen over
SELECT .. FOR UPDATE because it is one statement on both backends: SQLite's write
transaction (BEGIN IMMEDIATE) serialises it anyway, and on PostgreSQL a second UPDATE of
the same row waits for the first to commit and then re-checks its WHERE against the new
row, so two reviewers racing for an item cannot both match. Only when the UPDATE matched
nothing is the row read, in the same transaction, to say why (missing, decided, held).

Dedupe in `open` is a read then an insert inside one write transaction. On SQLite the
write lock serialises all of it. On PostgreSQL, READ COMMITTED would let two openers both
read "none open" and both insert, so each first takes a transaction-scoped advisory lock on
the key's hash: openers of the same key queue, and the second reads the first's committed
row. (A partial unique index would need the waiting states in the schema; the lock keeps
the states in code.)
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Row

from shieldwall.errors import ConflictError, InvalidInputError, NotFoundError, StorageError
from shieldwall.review.models import (
    FINAL_KINDS,
    OPEN_STATES,
    AutomatedDecision,
    Claim,
    Decision,
    DecisionKind,
    DetectorFindings,
    Ground,
    ItemMatch,
    ItemSource,
    ItemState,
    NewItem,
    RemovalAction,
    ReviewItem,
)
from shieldwall.signals.models import Signal
from shieldwall.storage.sql_adapter import SqlAdapter
from shieldwall.storage.tables import (
    MAX_ID,
    ReviewDecisionRow,
    ReviewGroundRow,
    ReviewItemRow,
    ReviewRevealRow,
)

WAITING_STATES: Final = tuple(sorted(state.value for state in OPEN_STATES))
FINAL_KIND_VALUES: Final = tuple(sorted(kind.value for kind in FINAL_KINDS))
DEDUPE_LOCK_SPACE: Final = 0x5257_4455
"""First key of the advisory locks on dedupe keys (any constant all processes share)."""


def signals_to_text(signals: tuple[Signal, ...]) -> str:
    """Signals as the JSON list stored in `review_items.signals`."""
    return json.dumps(
        [
            {"type": s.type, "value": s.value, "variant": s.variant, "quality": s.quality}
            for s in signals
        ]
    )


def signals_from_text(text: str) -> tuple[Signal, ...]:
    """The signals `signals_to_text` wrote (validated on the way in, rebuilt as stored)."""
    return tuple(
        Signal(item["type"], item["value"], item["variant"], item["quality"])
        for item in json.loads(text)
    )


def _matches_from_text(text: str) -> tuple[ItemMatch, ...]:
    return tuple(ItemMatch(**item) for item in json.loads(text))


def _decision(row: Row[Any]) -> Decision:
    return Decision(
        kind=DecisionKind(row.kind),
        action=RemovalAction(row.action),
        ground=row.ground,
        facts=row.facts,
        reason=row.reason,
        reviewer=row.reviewer,
        at=row.at,
        automated_detection=row.automated_detection,
        automated_decision=AutomatedDecision(row.automated_decision),
        statement_id=row.statement_id,
        added_entries=(
            None
            if row.added_entries is None
            else tuple(int(i) for i in json.loads(row.added_entries))
        ),
    )


def _item(row: Row[Any], decisions: tuple[Decision, ...]) -> ReviewItem:
    claim = None
    if row.claimed_by is not None and row.claimed_until is not None:
        claim = Claim(row.claimed_by, row.claimed_until)
    return ReviewItem(
        id=row.id,
        source=ItemSource(row.source),
        state=ItemState(row.state),
        opened_at=row.opened_at,
        deadline=row.deadline,
        minor=row.minor,
        trusted_flagger=row.trusted_flagger,
        case_number=row.case_number,
        content_ref=row.content_ref,
        opened_by_key=row.opened_by_key,
        content_address=row.content_address,
        signals=signals_from_text(row.signals),
        matches=_matches_from_text(row.matches),
        claim=claim,
        decisions=decisions,
        findings=DetectorFindings.from_json(json.loads(row.findings)) if row.findings else None,
    )


def _load_items(connection: Connection, condition: ColumnElement[bool]) -> list[ReviewItem]:
    """The items matching `condition`, by id, each with its decisions (two queries)."""
    rows = connection.execute(
        select(ReviewItemRow).where(condition).order_by(ReviewItemRow.id)
    ).all()
    if not rows:
        return []
    decision_rows = connection.execute(
        select(ReviewDecisionRow)
        .where(ReviewDecisionRow.item_id.in_(select(ReviewItemRow.id).where(condition)))
        .order_by(ReviewDecisionRow.item_id, ReviewDecisionRow.id)
    ).all()
    decisions: dict[int, list[Decision]] = {}
    try:
        for decision_row in decision_rows:
            decisions.setdefault(decision_row.item_id, []).append(_decision(decision_row))
        return [_item(row, tuple(decisions.get(row.id, ()))) for row in rows]
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"a stored review item is unreadable: {exc}") from None


def _checked_id(item_id: int) -> int:
    """The id, if either backend could store it; NotFoundError otherwise (no driver error)."""
    if not 0 < item_id <= MAX_ID:
        raise NotFoundError(f"no review item {item_id}")
    return item_id


def _load_item(connection: Connection, item_id: int) -> ReviewItem:
    found = _load_items(connection, ReviewItemRow.id == _checked_id(item_id))
    if not found:
        raise NotFoundError(f"no review item {item_id}")
    return found[0]


def _state_of(connection: Connection, item_id: int) -> str:
    """The item's stored state; NotFoundError if there is no such item."""
    state = connection.execute(
        select(ReviewItemRow.state).where(ReviewItemRow.id == _checked_id(item_id))
    ).scalar_one_or_none()
    if state is None:
        raise NotFoundError(f"no review item {item_id}")
    return str(state)


def _new_item_values(item: NewItem) -> dict[str, Any]:
    return {
        "source": item.source.value,
        "state": ItemState.OPEN.value,
        "opened_at": item.opened_at,
        "deadline": item.deadline,
        "minor": item.minor,
        "trusted_flagger": item.trusted_flagger,
        "case_number": item.case_number,
        "content_ref": item.content_ref,
        "opened_by_key": item.opened_by_key,
        "content_address": item.content_address,
        "signals": signals_to_text(item.signals),
        "matches": json.dumps([asdict(match) for match in item.matches]),
        "dedupe_key": item.dedupe_key,
        "claimed_by": None,
        "claimed_until": None,
        "findings": json.dumps(item.findings.to_json()) if item.findings else None,
    }


def _decision_values(item_id: int, decision: Decision) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "kind": decision.kind.value,
        "action": decision.action.value,
        "ground": decision.ground,
        "facts": decision.facts,
        "reason": decision.reason,
        "reviewer": decision.reviewer,
        "at": decision.at,
        "automated_detection": decision.automated_detection,
        "automated_decision": decision.automated_decision.value,
        "statement_id": decision.statement_id,
        "added_entries": (
            None if decision.added_entries is None else json.dumps(list(decision.added_entries))
        ),
    }


class SqlReviewRepository(SqlAdapter):
    """ReviewRepository on SQLite or PostgreSQL; each method runs in one transaction."""

    def open(self, item: NewItem) -> tuple[ReviewItem, bool]:
        """Store a new item, or return the waiting item with the same dedupe key."""
        with self._write() as connection:
            if item.dedupe_key:
                self._lock_dedupe_key(connection, item.dedupe_key)
                known = connection.execute(
                    select(ReviewItemRow.id)
                    .where(
                        ReviewItemRow.dedupe_key == item.dedupe_key,
                        ReviewItemRow.state.in_(WAITING_STATES),
                    )
                    .order_by(ReviewItemRow.id)
                    .limit(1)
                ).scalar_one_or_none()
                if known is not None:
                    return _load_item(connection, known), False
            item_id = connection.execute(
                insert(ReviewItemRow).returning(ReviewItemRow.id), _new_item_values(item)
            ).scalar_one()
            return _load_item(connection, item_id), True

    @staticmethod
    def _lock_dedupe_key(connection: Connection, key: str) -> None:
        # SQLite: BEGIN IMMEDIATE already holds the one write lock. PostgreSQL: see above.
        if connection.dialect.name == "postgresql":
            connection.execute(
                select(func.pg_advisory_xact_lock(DEDUPE_LOCK_SPACE, func.hashtext(key)))
            )

    def get(self, item_id: int) -> ReviewItem:
        """The item with its claim and decisions; NotFoundError if none."""
        with self._read() as connection:
            return _load_item(connection, item_id)

    def waiting(self) -> list[ReviewItem]:
        """Every item not yet decided, by id."""
        with self._read() as connection:
            return _load_items(connection, ReviewItemRow.state.in_(WAITING_STATES))

    def items_of_case(self, case_number: str) -> list[ReviewItem]:
        """Every item of the case, by id."""
        with self._read() as connection:
            return _load_items(connection, ReviewItemRow.case_number == case_number)

    def claim(self, item_id: int, reviewer: str, now: datetime, until: datetime) -> ReviewItem:
        """Lock a waiting item to `reviewer` (one conditional UPDATE; see the module)."""
        free = (
            ReviewItemRow.claimed_by.is_(None)
            | (ReviewItemRow.claimed_until <= now)
            | (ReviewItemRow.claimed_by == reviewer)
        )
        with self._write() as connection:
            won = connection.execute(
                update(ReviewItemRow)
                .where(
                    ReviewItemRow.id == _checked_id(item_id),
                    ReviewItemRow.state.in_(WAITING_STATES),
                    free,
                )
                .values(claimed_by=reviewer, claimed_until=until)
            ).rowcount
            if won != 1:
                if _state_of(connection, item_id) not in WAITING_STATES:
                    raise InvalidInputError(f"review item {item_id} is already decided")
                raise ConflictError(f"review item {item_id} is claimed by another reviewer")
            return _load_item(connection, item_id)

    def release(self, item_id: int, reviewer: str) -> None:
        """Drop the reviewer's claim on the item, if they hold one; NotFoundError if none."""
        with self._write() as connection:
            dropped = connection.execute(
                update(ReviewItemRow)
                .where(
                    ReviewItemRow.id == _checked_id(item_id), ReviewItemRow.claimed_by == reviewer
                )
                .values(claimed_by=None, claimed_until=None)
            ).rowcount
            if dropped != 1:
                _state_of(connection, item_id)

    def record_decision(
        self, item_id: int, decision: Decision, state: ItemState, now: datetime
    ) -> ReviewItem:
        """Append the decision and move the item, only while its reviewer holds the claim."""
        with self._write() as connection:
            moved = connection.execute(
                update(ReviewItemRow)
                .where(
                    ReviewItemRow.id == _checked_id(item_id),
                    ReviewItemRow.state.in_(WAITING_STATES),
                    ReviewItemRow.claimed_by == decision.reviewer,
                    ReviewItemRow.claimed_until > now,
                )
                .values(state=ItemState(state).value, claimed_by=None, claimed_until=None)
            ).rowcount
            if moved != 1:
                _state_of(connection, item_id)
                raise ConflictError(
                    f"review item {item_id} is not claimed by {decision.reviewer} now"
                )
            connection.execute(insert(ReviewDecisionRow), _decision_values(item_id, decision))
            return _load_item(connection, item_id)

    def withdraw_case_item(self, case_number: str) -> ReviewItem | None:
        """Move the case's own waiting item to withdrawn (dropping any claim)."""
        with self._write() as connection:
            item_id = connection.execute(
                update(ReviewItemRow)
                .where(
                    ReviewItemRow.case_number == case_number,
                    ReviewItemRow.source == ItemSource.CASE.value,
                    ReviewItemRow.state.in_(WAITING_STATES),
                )
                .values(state=ItemState.WITHDRAWN.value, claimed_by=None, claimed_until=None)
                .returning(ReviewItemRow.id)
            ).scalar_one_or_none()
            return None if item_id is None else _load_item(connection, item_id)

    def decided_between(self, start: datetime, end: datetime) -> list[ReviewItem]:
        """Items with a final decision in [start, end), by the final decision's time."""
        decided = select(ReviewDecisionRow.item_id).where(
            ReviewDecisionRow.kind.in_(FINAL_KIND_VALUES),
            ReviewDecisionRow.at >= start,
            ReviewDecisionRow.at < end,
        )
        with self._read() as connection:
            found = _load_items(connection, ReviewItemRow.id.in_(decided))
        return sorted(found, key=lambda i: (i.decision.at if i.decision else start, i.id))

    def opened_between(self, start: datetime, end: datetime) -> list[ReviewItem]:
        """Items opened in [start, end), by time."""
        with self._read() as connection:
            found = _load_items(
                connection,
                and_(ReviewItemRow.opened_at >= start, ReviewItemRow.opened_at < end),
            )
        return sorted(found, key=lambda i: (i.opened_at, i.id))

    def record_reveal(self, item_id: int, reviewer: str, at: datetime) -> None:
        """One reveal of the item's original; NotFoundError if there is no such item."""
        with self._write() as connection:
            _state_of(connection, item_id)
            connection.execute(
                insert(ReviewRevealRow), {"item_id": item_id, "reviewer": reviewer, "at": at}
            )

    def reveals_since(self, reviewer: str, since: datetime) -> int:
        """How many originals the reviewer revealed at or after `since`."""
        with self._read() as connection:
            return int(
                connection.execute(
                    select(func.count()).where(
                        ReviewRevealRow.reviewer == reviewer, ReviewRevealRow.at >= since
                    )
                ).scalar_one()
            )

    def grounds(self) -> list[Ground]:
        """The grounds, by code."""
        with self._read() as connection:
            rows = connection.execute(
                select(
                    ReviewGroundRow.code,
                    ReviewGroundRow.label,
                    ReviewGroundRow.kind,
                    ReviewGroundRow.reference_url,
                ).order_by(ReviewGroundRow.code)
            ).all()
        return [Ground(row.code, row.label, row.kind, row.reference_url) for row in rows]

    def put_ground(self, ground: Ground) -> None:
        """Add the ground or replace the one with its code (one upsert)."""
        values = asdict(ground)
        with self._write() as connection:
            upsert = (
                postgres_insert(ReviewGroundRow)
                if connection.dialect.name == "postgresql"
                else sqlite_insert(ReviewGroundRow)
            )
            changes = {name: value for name, value in values.items() if name != "code"}
            connection.execute(
                upsert.values(values).on_conflict_do_update(
                    index_elements=[ReviewGroundRow.code], set_=changes
                )
            )

    def remove_ground(self, code: str) -> None:
        """Remove the ground (removing one that is not there is fine)."""
        with self._write() as connection:
            connection.execute(delete(ReviewGroundRow).where(ReviewGroundRow.code == code))
