"""SQL adapter of CaseRepository: SQLite and PostgreSQL through SQLAlchemy."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from shieldwall.cases.models import (
    Case,
    CaseEvent,
    CaseState,
    Report,
    report_from_dict,
    report_to_dict,
)
from shieldwall.errors import ConflictError, NotFoundError, StorageError
from shieldwall.storage.sealing import Sealer
from shieldwall.storage.sql_adapter import SqlAdapter
from shieldwall.storage.tables import CaseBlockRow, CaseEntryRow, CaseEventRow, CaseRow


class SqlCaseRepository(SqlAdapter):
    """CaseRepository on SQLite or PostgreSQL; each method runs in one transaction.

    Reports (with the reporter's contact details) are stored sealed (storage/sealing.py)."""

    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        super().__init__(engine)
        self._sealer = sealer

    def create(
        self,
        number: str,
        secret_hash: str,
        report: Report,
        entry_ids: tuple[int, ...],
        received_at: datetime,
        deadline: datetime | None = None,
    ) -> Case:
        """Store a new case with its entries, its deadline and a `received` event."""
        try:
            with self._write() as connection:
                case_id = connection.execute(
                    insert(CaseRow).returning(CaseRow.id),
                    {
                        "number": number,
                        "secret_hash": secret_hash,
                        "state": CaseState.RECEIVED.value,
                        "received_at": received_at,
                        "deadline": deadline,
                        "priority": report.depicted_minor,
                        "report": self._sealer.seal(json.dumps(report_to_dict(report)), number),
                    },
                ).scalar_one()
                if entry_ids:
                    connection.execute(
                        insert(CaseEntryRow),
                        [
                            {
                                "case_id": case_id,
                                "entry_id": entry_id,
                                "position": position,
                                "hits": 0,
                            }
                            for position, entry_id in enumerate(entry_ids)
                        ],
                    )
                self._add_event(connection, case_id, CaseEvent(received_at, "received"))
                return self._load(connection, case_id)[0]
        except IntegrityError:
            raise ConflictError(f"case {number} exists") from None

    def find(self, number: str) -> tuple[Case, str] | None:
        """The case with this number and its secret's hash, or None."""
        with self._read() as connection:
            case_id = connection.execute(
                select(CaseRow.id).where(CaseRow.number == number)
            ).scalar_one_or_none()
            return None if case_id is None else self._load(connection, case_id)

    def secret_hash(self, number: str) -> str | None:
        """The hash of the case's secret, or None (one read on the unique number index)."""
        with self._read() as connection:
            stored: str | None = connection.execute(
                select(CaseRow.secret_hash).where(CaseRow.number == number)
            ).scalar_one_or_none()
            return stored

    def move(self, number: str, state: CaseState, event: CaseEvent) -> Case:
        """Set a case's state and append an event."""
        with self._write() as connection:
            case_id = connection.execute(
                update(CaseRow)
                .where(CaseRow.number == number)
                .values(state=state.value)
                .returning(CaseRow.id)
            ).scalar_one_or_none()
            if case_id is None:
                raise NotFoundError(f"no case {number}")
            self._add_event(connection, case_id, event)
            return self._load(connection, case_id)[0]

    def cases_linking(self, entry_id: int) -> list[Case]:
        """Every case whose report added or found this entry."""
        with self._read() as connection:
            ids = connection.execute(
                select(CaseEntryRow.case_id).where(CaseEntryRow.entry_id == entry_id)
            ).scalars()
            return [self._load(connection, case_id)[0] for case_id in sorted(ids)]

    def link_entries(self, number: str, entry_ids: Sequence[int]) -> Case:
        """Link more entries after the case's own (already linked ones stay as they are)."""
        with self._write() as connection:
            case_id = connection.execute(
                select(CaseRow.id).where(CaseRow.number == number)
            ).scalar_one_or_none()
            if case_id is None:
                raise NotFoundError(f"no case {number}")
            linked = connection.execute(
                select(CaseEntryRow.entry_id, CaseEntryRow.position).where(
                    CaseEntryRow.case_id == case_id
                )
            ).all()
            known = {row.entry_id for row in linked}
            start = max((row.position for row in linked), default=-1) + 1
            new = [e for e in dict.fromkeys(entry_ids) if e not in known]
            if new:
                connection.execute(
                    insert(CaseEntryRow),
                    [
                        {"case_id": case_id, "entry_id": e, "position": start + i, "hits": 0}
                        for i, e in enumerate(new)
                    ],
                )
            return self._load(connection, case_id)[0]

    @staticmethod
    def _add_event(connection: Connection, case_id: int, event: CaseEvent) -> None:
        connection.execute(
            insert(CaseEventRow),
            {"case_id": case_id, "at": event.at, "kind": event.kind, "detail": event.detail},
        )

    def _load(self, connection: Connection, case_id: int) -> tuple[Case, str]:
        row = connection.execute(select(CaseRow).where(CaseRow.id == case_id)).one()
        entries = connection.execute(
            select(CaseEntryRow.entry_id)
            .where(CaseEntryRow.case_id == case_id)
            .order_by(CaseEntryRow.position)
        ).scalars()
        events = connection.execute(
            select(CaseEventRow.at, CaseEventRow.kind, CaseEventRow.detail)
            .where(CaseEventRow.case_id == case_id)
            .order_by(CaseEventRow.id)
        ).all()
        try:
            report_data: Any = json.loads(self._sealer.open(row.report, row.number))
            report = report_from_dict(report_data)
            state = CaseState(row.state)
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError(f"case {row.number} is unreadable: {exc}") from None
        case = Case(
            id=row.id,
            number=row.number,
            state=state,
            received_at=row.received_at,
            report=report,
            entry_ids=tuple(entries),
            events=tuple(CaseEvent(e.at, e.kind, e.detail) for e in events),
            deadline_at=row.deadline,
        )
        return case, row.secret_hash


def _bump_blocked(connection: Connection, entry_ids: Sequence[int], at: datetime) -> None:
    """Count one blocked re-upload for each case linked to these entries: an upsert per
    case, so two workers counting a case's first block at once both count."""
    cases = (
        connection.execute(
            select(CaseEntryRow.case_id).where(CaseEntryRow.entry_id.in_(entry_ids)).distinct()
        )
        .scalars()
        .all()
    )
    upsert = postgres_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for case_id in cases:
        connection.execute(
            upsert(CaseBlockRow)
            .values(case_id=case_id, blocked=1, last_blocked_at=at)
            .on_conflict_do_update(
                index_elements=[CaseBlockRow.case_id],
                set_={"blocked": CaseBlockRow.blocked + 1, "last_blocked_at": at},
            )
        )


class SqlHitCounter(SqlAdapter):
    """HitCounter on SQLite or PostgreSQL: a counter on each case's link to an entry.

    A hit adds one to the links that exist when it happens, so a case counts only hits
    from its filing on. One indexed update per matched lookup, touching only the cases
    that reported the matched entries; nothing grows with the number of lookups."""

    def record(
        self, entry_ids: Sequence[int], at: datetime, blocked_ids: Sequence[int] = ()
    ) -> None:
        """One more hit for every case linked to one of these entries, and one more blocked
        re-upload for every case linked to one of `blocked_ids` (one transaction)."""
        ids = sorted(set(entry_ids) | set(blocked_ids))
        if not ids:
            return
        with self._read() as connection:
            linked = connection.execute(
                select(CaseEntryRow.entry_id).where(CaseEntryRow.entry_id.in_(ids)).limit(1)
            ).first()
        if linked is None:  # most matches are of curated banks: no write lock for them
            return
        with self._write() as connection:
            if entry_ids:
                connection.execute(
                    update(CaseEntryRow)
                    .where(CaseEntryRow.entry_id.in_(sorted(set(entry_ids))))
                    .values(hits=CaseEntryRow.hits + 1, last_hit_at=at)
                )
            if blocked_ids:
                _bump_blocked(connection, sorted(set(blocked_ids)), at)

    def total(self, case_id: int) -> int:
        """The hits recorded for this case since it was filed."""
        with self._read() as connection:
            value = connection.execute(
                select(func.coalesce(func.sum(CaseEntryRow.hits), 0)).where(
                    CaseEntryRow.case_id == case_id
                )
            ).scalar_one()
        return int(value)

    def record_blocked(self, entry_ids: Sequence[int], at: datetime) -> None:
        """One more blocked re-upload for each case linked to these entries (once each)."""
        self.record((), at, entry_ids)

    def blocked(self, case_id: int) -> tuple[int, datetime | None]:
        """Lookups blocked by the case's confirmed entries, and the last one's time."""
        with self._read() as connection:
            row = connection.execute(
                select(CaseBlockRow.blocked, CaseBlockRow.last_blocked_at).where(
                    CaseBlockRow.case_id == case_id
                )
            ).one_or_none()
        return (0, None) if row is None else (int(row.blocked), row.last_blocked_at)
