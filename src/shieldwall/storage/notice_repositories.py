"""SQL adapter of the notice service's NoticeRepository."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from shieldwall.errors import NotFoundError
from shieldwall.storage.sql_adapter import SqlAdapter
from shieldwall.storage.tables import LocatorNoticeRow
from shieldwall.takedown.platforms import LegalBasis
from shieldwall.takedown.tracking import (
    LocatorNotice,
    NewNotice,
    NoticeAnswer,
    NoticeMethod,
    NoticeState,
)


def _answers_json(answers: tuple[NoticeAnswer, ...]) -> str:
    return json.dumps([_answer_json(a) for a in answers])


def _answer_json(answer: NoticeAnswer) -> dict[str, str]:
    stored = {
        "at": answer.at.isoformat(),
        "state": answer.state.value,
        "note": answer.note,
        "by": answer.by,
    }
    if answer.recheck_at is not None:
        stored["recheck_at"] = answer.recheck_at.isoformat()
    return stored


def _answer(stored: dict[str, str]) -> NoticeAnswer:
    recheck = stored.get("recheck_at")
    return NoticeAnswer(
        datetime.fromisoformat(stored["at"]),
        NoticeState(stored["state"]),
        stored["note"],
        stored["by"],
        datetime.fromisoformat(recheck) if recheck else None,
    )


def _notice(row: Row[Any]) -> LocatorNotice:
    return LocatorNotice(
        row.id,
        row.case_number,
        row.locator,
        row.platform,
        LegalBasis(row.basis),
        row.language,
        NoticeMethod(row.method),
        row.notified_at,
        row.deadline,
        tuple(_answer(a) for a in json.loads(row.answers)),
    )


class SqlNoticeRepository(SqlAdapter):
    """NoticeRepository on SQLite or PostgreSQL."""

    def add(self, notice: NewNotice) -> LocatorNotice:
        """Record a notice as sent."""
        with self._write() as connection:
            row = connection.execute(
                insert(LocatorNoticeRow).returning(LocatorNoticeRow),
                {
                    "case_number": notice.case_number,
                    "locator": notice.locator,
                    "platform": notice.platform,
                    "basis": notice.basis.value,
                    "language": notice.language,
                    "method": notice.method.value,
                    "notified_at": notice.notified_at,
                    "deadline": notice.deadline,
                    "answers": "[]",
                },
            ).one()
            return _notice(row)

    def of_case(self, case_number: str) -> list[LocatorNotice]:
        """A case's notices, oldest first."""
        with self._read() as connection:
            rows = connection.execute(
                select(LocatorNoticeRow)
                .where(LocatorNoticeRow.case_number == case_number)
                .order_by(LocatorNoticeRow.id)
            ).all()
        return [_notice(row) for row in rows]

    def get(self, notice_id: int) -> LocatorNotice:
        """A notice by id; NotFoundError if none."""
        with self._read() as connection:
            row = connection.execute(
                select(LocatorNoticeRow).where(LocatorNoticeRow.id == notice_id)
            ).one_or_none()
        if row is None:
            raise NotFoundError(f"no notice {notice_id}")
        return _notice(row)

    def all(self) -> list[LocatorNotice]:
        """Every notice, oldest first."""
        with self._read() as connection:
            rows = connection.execute(select(LocatorNoticeRow).order_by(LocatorNoticeRow.id)).all()
        return [_notice(row) for row in rows]

    def answer(self, notice_id: int, answer: NoticeAnswer) -> LocatorNotice:
        """Record a platform's answer (read and written in one transaction)."""
        with self._write() as connection:
            row = connection.execute(
                select(LocatorNoticeRow).where(LocatorNoticeRow.id == notice_id)
            ).one_or_none()
            if row is None:
                raise NotFoundError(f"no notice {notice_id}")
            answers = (*_notice(row).answers, answer)
            connection.execute(
                update(LocatorNoticeRow)
                .where(LocatorNoticeRow.id == notice_id)
                .values(answers=_answers_json(answers))
            )
            updated = connection.execute(
                select(LocatorNoticeRow).where(LocatorNoticeRow.id == notice_id)
            ).one()
        return _notice(updated)
