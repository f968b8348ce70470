"""SqlAuditLog: the AuditLog port on SQLite and PostgreSQL (tables audit_records, audit_head).

Appends are serialised by the head row: SQLite's write transaction (BEGIN IMMEDIATE) holds
the database's one write lock; on PostgreSQL, SELECT .. FOR UPDATE of the head makes every
other appender wait until this one commits. Each append reads the head, inserts the record
that follows it and moves the head, in one transaction, so every process's records chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Text, insert, select, type_coerce, update
from sqlalchemy.engine import Connection

from shieldwall.audit.chain import seal
from shieldwall.audit.models import (
    Actor,
    ActorKind,
    AuditAction,
    AuditEvent,
    AuditRecord,
    ChainHead,
    DetailValue,
    Subject,
    UnreadableRecord,
)
from shieldwall.audit.verify import Verification, verify_chain
from shieldwall.errors import StorageError
from shieldwall.storage.sql_adapter import SqlAdapter, storage_errors
from shieldwall.storage.tables import AuditHeadRow, AuditRecordRow

HEAD_ROW_ID: Final = 1
PAGE_SIZE: Final = 500
"""Records read per query while iterating."""

_COLUMNS: Final = (
    AuditRecordRow.sequence,
    # Read raw and parsed per row: a record whose time was overwritten with text that is
    # no time is reported as altered instead of failing the whole read.
    type_coerce(AuditRecordRow.at, Text),
    AuditRecordRow.actor_kind,
    AuditRecordRow.actor_id,
    AuditRecordRow.action,
    AuditRecordRow.subject_kind,
    AuditRecordRow.subject_id,
    AuditRecordRow.details,
    AuditRecordRow.previous_hash,
    AuditRecordRow.hash,
)
_ACTIONS: Final = {action.value: action for action in AuditAction}
_ACTOR_KINDS: Final = {kind.value: kind for kind in ActorKind}


def _details_text(details: dict[str, DetailValue]) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _stored_time(value: Any) -> datetime:
    """The stored time, aware UTC; ValueError if it is not a time (SQLite keeps text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise ValueError(f"not a time: {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stored_record(row: Sequence[Any]) -> AuditRecord | UnreadableRecord:
    """The row as it is stored, unchecked (the verifier judges it), or why it cannot be."""
    sequence, at, actor_kind, actor_id, action, subject_kind, subject_id = row[:7]
    details_text, previous_hash, own_hash = row[7:]
    known_action = _ACTIONS.get(action)
    known_actor = _ACTOR_KINDS.get(actor_kind)
    if known_action is None or known_actor is None:
        return UnreadableRecord(sequence, f"unknown action {action!r} or actor {actor_kind!r}")
    try:
        stored_at = _stored_time(at)
        details = json.loads(details_text)
    except ValueError as exc:
        return UnreadableRecord(sequence, f"malformed time or details: {exc}")
    if not isinstance(details, dict):
        return UnreadableRecord(sequence, "details are not a JSON object")
    return AuditRecord(
        sequence=sequence,
        at=stored_at,
        actor=Actor(known_actor, actor_id),
        action=known_action,
        subject=Subject(subject_kind, subject_id),
        details=details,
        previous_hash=previous_hash,
        hash=own_hash,
    )


def _readable(record: AuditRecord | UnreadableRecord) -> AuditRecord:
    if isinstance(record, UnreadableRecord):
        raise StorageError(
            f"audit record {record.sequence} cannot be read ({record.reason}): "
            "run `shieldwall audit verify`"
        )
    return record


def _read_head(connection: Connection, *, lock: bool) -> ChainHead:
    query = select(AuditHeadRow.sequence, AuditHeadRow.hash).where(AuditHeadRow.id == HEAD_ROW_ID)
    if lock:
        query = query.with_for_update()
    row = connection.execute(query).one_or_none()
    if row is None:
        raise StorageError("the audit log has no head row: run `shieldwall db upgrade`")
    return ChainHead(int(row[0]), row[1])


def _page(connection: Connection, after: int) -> list[AuditRecord | UnreadableRecord]:
    query = (
        select(*_COLUMNS)
        .where(AuditRecordRow.sequence > after)
        .order_by(AuditRecordRow.sequence)
        .limit(PAGE_SIZE)
    )
    return [_stored_record(row) for row in connection.execute(query).all()]


class SqlAuditLog(SqlAdapter):
    """The audit log in the database; safe to share between threads and processes."""

    def append(self, event: AuditEvent) -> AuditRecord:
        """Lock the head, insert the record after it and move the head, in one transaction."""
        with self._write() as connection:
            head = _read_head(connection, lock=True)
            record = seal(event, head)
            connection.execute(
                insert(AuditRecordRow).values(
                    sequence=record.sequence,
                    at=record.at,
                    actor_kind=record.actor.kind.value,
                    actor_id=record.actor.id,
                    action=record.action.value,
                    subject_kind=record.subject.kind,
                    subject_id=record.subject.id,
                    details=_details_text(record.details),
                    previous_hash=record.previous_hash,
                    hash=record.hash,
                )
            )
            connection.execute(
                update(AuditHeadRow)
                .where(AuditHeadRow.id == HEAD_ROW_ID)
                .values(sequence=record.sequence, hash=record.hash)
            )
        return record

    def records(self, after: int = 0) -> Iterator[AuditRecord]:
        """Every record above `after`, in sequence order, a page per short read."""
        while True:
            with self._read() as connection:
                page = _page(connection, after)
            yield from map(_readable, page)
            if len(page) < PAGE_SIZE:
                return
            after = page[-1].sequence

    def head(self) -> ChainHead:
        """The stored head."""
        with self._read() as connection:
            return _read_head(connection, lock=False)

    def verify(self) -> Verification:
        """Check the chain against the head, both read in one snapshot (one transaction;
        REPEATABLE READ on PostgreSQL), so concurrent appends cannot look like tampering."""
        with self._snapshot() as connection:
            head = _read_head(connection, lock=False)
            return verify_chain(self._all(connection), head)

    @staticmethod
    def _all(connection: Connection) -> Iterator[AuditRecord | UnreadableRecord]:
        after = 0
        while True:
            page = _page(connection, after)
            yield from page
            if len(page) < PAGE_SIZE:
                return
            after = page[-1].sequence

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        engine = self._engine
        if engine.dialect.name == "postgresql":
            engine = engine.execution_options(isolation_level="REPEATABLE READ")
        with storage_errors(), engine.begin() as connection:
            yield connection
