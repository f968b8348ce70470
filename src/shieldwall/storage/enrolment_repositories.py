"""SQL adapter of EnrolmentRepository: SQLite and PostgreSQL through SQLAlchemy.

The consent record (it may name a guardian and hold an email address) and the templates
are stored sealed with the data key (storage/sealing.py), each bound to its enrolment's
number. Ending an enrolment sets its state and deletes its templates in one statement.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from shieldwall.errors import ConflictError, NotFoundError
from shieldwall.likeness.models import (
    Consent,
    Enrolment,
    EnrolmentState,
    consent_from_dict,
    consent_to_dict,
)
from shieldwall.storage.sealing import Sealer
from shieldwall.storage.sql_adapter import SqlAdapter
from shieldwall.storage.tables import EnrolmentNoticeRow, EnrolmentRow


def _consent_context(number: str) -> str:
    return f"enrolment-consent:{number}"


class SqlEnrolmentRepository(SqlAdapter):
    """EnrolmentRepository on SQLite or PostgreSQL; each method runs in one transaction."""

    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        super().__init__(engine)
        self._sealer = sealer

    def create(
        self, number: str, secret_hash: str, consent: Consent, sealed: bytes, templates: int
    ) -> Enrolment:
        """Store a new, active enrolment."""
        record = self._sealer.seal(json.dumps(consent_to_dict(consent)), _consent_context(number))
        try:
            with self._write() as connection:
                connection.execute(
                    insert(EnrolmentRow),
                    {
                        "number": number,
                        "secret_hash": secret_hash,
                        "state": EnrolmentState.ACTIVE.value,
                        "consent": record,
                        "given_at": consent.given_at,
                        "expires_at": consent.expires_at,
                        "ended_at": None,
                        "template_count": templates,
                        "templates": sealed,
                    },
                )
        except IntegrityError:
            raise ConflictError(f"enrolment {number} exists") from None
        return Enrolment(number, consent, EnrolmentState.ACTIVE, templates)

    def secret_hash(self, number: str) -> str | None:
        """The hash of the enrolment's secret, or None (one read on the unique index)."""
        with self._read() as connection:
            stored: str | None = connection.execute(
                select(EnrolmentRow.secret_hash).where(EnrolmentRow.number == number)
            ).scalar_one_or_none()
            return stored

    def find(self, number: str) -> Enrolment | None:
        """An enrolment by number (its templates stay in the database)."""
        with self._read() as connection:
            row = connection.execute(
                select(
                    EnrolmentRow.number,
                    EnrolmentRow.consent,
                    EnrolmentRow.state,
                    EnrolmentRow.template_count,
                    EnrolmentRow.ended_at,
                ).where(EnrolmentRow.number == number)
            ).one_or_none()
            if row is None:
                return None
            acted_on = connection.execute(
                select(EnrolmentNoticeRow.at)
                .where(EnrolmentNoticeRow.number == number)
                .order_by(EnrolmentNoticeRow.at, EnrolmentNoticeRow.id)
            ).scalars()
            notices = tuple(acted_on)
        consent = json.loads(self._sealer.open(row.consent, _consent_context(row.number)))
        return Enrolment(
            row.number,
            consent_from_dict(consent),
            EnrolmentState(row.state),
            row.template_count,
            row.ended_at,
            notices,
        )

    def add_notice(self, number: str, at: datetime) -> None:
        """Record that an image showing the enrolled person was confirmed and blocked."""
        with self._write() as connection:
            connection.execute(insert(EnrolmentNoticeRow), {"number": number, "at": at})

    def end(self, number: str, state: EnrolmentState, at: datetime) -> tuple[Enrolment, bool]:
        """Withdraw or expire an active enrolment, deleting its templates; whether this
        call ended it (the UPDATE touched its row)."""
        with self._write() as connection:
            changed = connection.execute(
                update(EnrolmentRow)
                .where(
                    EnrolmentRow.number == number,
                    EnrolmentRow.state == EnrolmentState.ACTIVE.value,
                )
                .values(state=state.value, ended_at=at, template_count=0, templates=None)
            ).rowcount
        ended = self.find(number)
        if ended is None:
            raise NotFoundError(f"no enrolment {number}")
        return ended, changed == 1

    def due(self, now: datetime) -> list[str]:
        """Active enrolments whose term has ended (read by the state and term index)."""
        with self._read() as connection:
            return list(
                connection.execute(
                    select(EnrolmentRow.number)
                    .where(
                        EnrolmentRow.state == EnrolmentState.ACTIVE.value,
                        EnrolmentRow.expires_at <= now,
                    )
                    .order_by(EnrolmentRow.number)
                ).scalars()
            )

    def active_templates(self) -> list[tuple[str, bytes, int]]:
        """(number, sealed templates, how many) of every active enrolment."""
        with self._read() as connection:
            rows = connection.execute(
                select(
                    EnrolmentRow.number, EnrolmentRow.templates, EnrolmentRow.template_count
                ).where(EnrolmentRow.state == EnrolmentState.ACTIVE.value)
            ).all()
        return [(n, bytes(t), c) for n, t, c in rows if t is not None]

    def templates_revision(self) -> tuple[int, int]:
        """(the highest enrolment id, how many have ended): one read of the table."""
        with self._read() as connection:
            highest, ended = connection.execute(
                select(
                    func.coalesce(func.max(EnrolmentRow.id), 0), func.count(EnrolmentRow.ended_at)
                )
            ).one()
        return int(highest), int(ended)

    def sealed_of(self, number: str) -> bytes:
        """What is stored for an enrolment's templates (tests: never the plain numbers)."""
        with self._read() as connection:
            stored = connection.execute(
                select(EnrolmentRow.templates).where(EnrolmentRow.number == number)
            ).scalar_one()
        return b"" if stored is None else bytes(stored)
