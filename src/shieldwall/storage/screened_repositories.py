"""SQL adapters of the screened record and the sweeps (screening/record.py, review/sweeps.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Row, delete, insert, select, update

from shieldwall.errors import NotFoundError
from shieldwall.review.sweeps import HitOutcome, NewHit, NewSweep, Sweep, SweepHit
from shieldwall.screening.record import ScreenedLookup, ScreenedRow
from shieldwall.storage.bank_rows import chunks
from shieldwall.storage.sql_adapter import SqlAdapter
from shieldwall.storage.tables import ScreenedLookupRow, SweepHitRow, SweepRow

CHUNK: Final = 50_000
"""Rows read per round trip when loading the record's PDQ hashes for a sweep."""
"""Values per IN list (under SQLite's oldest bound-parameter limit with room to spare)."""


def _screened(row: Row[Any]) -> ScreenedRow:
    return ScreenedRow(
        row.id,
        ScreenedLookup(
            row.key_id,
            row.content_ref,
            row.screened_at,
            row.pdq.hex() if row.pdq is not None else None,
            row.md5,
            row.sha256,
            row.verdict,
            _views(row.views),
        ),
    )


def _views(stored: bytes | None) -> tuple[str, ...]:
    data = stored or b""
    return tuple(data[i : i + 32].hex() for i in range(0, len(data), 32))


class SqlScreenedRepository(SqlAdapter):
    """The screened record on SQLite or PostgreSQL."""

    def record_many(self, rows: Sequence[ScreenedLookup], /) -> None:
        """Store lookups in one transaction."""
        if not rows:
            return
        with self._write() as connection:
            connection.execute(
                insert(ScreenedLookupRow),
                [
                    {
                        "key_id": row.key_id,
                        "content_ref": row.content_ref,
                        "screened_at": row.screened_at,
                        "pdq": bytes.fromhex(row.pdq) if row.pdq else None,
                        "md5": row.md5,
                        "sha256": row.sha256,
                        "verdict": row.verdict,
                        "views": b"".join(bytes.fromhex(v) for v in row.views) or None,
                    }
                    for row in rows
                ],
            )

    def pdq_rows(self, since: datetime) -> Iterator[tuple[list[int], list[bytes]]]:
        """Ids and PDQ bytes of lookups since `since`, CHUNK rows at a time, by id."""
        after = 0
        while True:
            with self._read() as connection:
                rows = connection.execute(
                    select(ScreenedLookupRow.id, ScreenedLookupRow.pdq, ScreenedLookupRow.views)
                    .where(ScreenedLookupRow.id > after, ScreenedLookupRow.screened_at >= since)
                    .order_by(ScreenedLookupRow.id)
                    .limit(CHUNK)
                ).all()
            if not rows:
                return
            ids: list[int] = []
            hashes: list[bytes] = []
            for row in rows:
                stored = bytes(row.pdq or b"") + bytes(row.views or b"")
                for start in range(0, len(stored), 32):
                    ids.append(row.id)
                    hashes.append(stored[start : start + 32])
            yield ids, hashes
            after = rows[-1].id

    def with_digests(
        self, md5s: Sequence[str], sha256s: Sequence[str], since: datetime
    ) -> list[ScreenedRow]:
        """Lookups since `since` whose MD5 or SHA-256 is one of these."""
        found: dict[int, ScreenedRow] = {}
        for column, values in ((ScreenedLookupRow.md5, md5s), (ScreenedLookupRow.sha256, sha256s)):
            for chunk in chunks(values):
                with self._read() as connection:
                    rows = connection.execute(
                        select(ScreenedLookupRow).where(
                            column.in_(chunk),
                            ScreenedLookupRow.screened_at >= since,
                        )
                    ).all()
                found.update((row.id, _screened(row)) for row in rows)
        return [found[key] for key in sorted(found)]

    def get_many(self, ids: Sequence[int]) -> list[ScreenedRow]:
        """Lookups by id, by id."""
        found: list[ScreenedRow] = []
        for chunk in chunks(ids):
            with self._read() as connection:
                rows = connection.execute(
                    select(ScreenedLookupRow)
                    .where(ScreenedLookupRow.id.in_(chunk))
                    .order_by(ScreenedLookupRow.id)
                ).all()
            found.extend(_screened(row) for row in rows)
        return sorted(found, key=lambda row: row.id)

    def purge(self, before: datetime) -> int:
        """Delete lookups older than `before`."""
        with self._write() as connection:
            result = connection.execute(
                delete(ScreenedLookupRow).where(ScreenedLookupRow.screened_at < before)
            )
        return int(result.rowcount or 0)


def _hit(row: Row[Any]) -> SweepHit:
    return SweepHit(
        row.id,
        row.sweep_id,
        NewHit(
            row.screened_id,
            row.key_id,
            row.content_ref,
            row.screened_at,
            row.matched_by,
            row.distance,
        ),
        HitOutcome(row.outcome),
        row.outcome_at,
    )


class SqlSweepRepository(SqlAdapter):
    """Sweeps and their copies on SQLite or PostgreSQL."""

    def add(self, sweep: NewSweep, hits: Sequence[NewHit]) -> Sweep:
        """Store a sweep with its copies in one transaction."""
        with self._write() as connection:
            sweep_id = connection.execute(
                insert(SweepRow).returning(SweepRow.id),
                {
                    "item_id": sweep.item_id,
                    "case_number": sweep.case_number,
                    "ran_at": sweep.ran_at,
                    "queries": sweep.queries,
                    "threshold": sweep.threshold,
                    "copies": len(hits),
                },
            ).scalar_one()
            if hits:
                connection.execute(
                    insert(SweepHitRow),
                    [
                        {
                            "sweep_id": sweep_id,
                            "screened_id": hit.screened_id,
                            "key_id": hit.key_id,
                            "content_ref": hit.content_ref,
                            "screened_at": hit.screened_at,
                            "matched_by": hit.matched_by,
                            "distance": hit.distance,
                            "outcome": HitOutcome.PENDING.value,
                            "outcome_at": None,
                        }
                        for hit in hits
                    ],
                )
            return self._sweeps(connection, [SweepRow.id == sweep_id])[0]

    def of_case(self, case_number: str) -> list[Sweep]:
        """The case's sweeps, oldest first."""
        with self._read() as connection:
            return self._sweeps(connection, [SweepRow.case_number == case_number])

    def of_item(self, item_id: int) -> list[Sweep]:
        """The sweeps after an item's decision, oldest first."""
        with self._read() as connection:
            return self._sweeps(connection, [SweepRow.item_id == item_id])

    def between(self, start: datetime, end: datetime) -> list[Sweep]:
        """Sweeps run in [start, end), oldest first."""
        with self._read() as connection:
            return self._sweeps(connection, [SweepRow.ran_at >= start, SweepRow.ran_at < end])

    @staticmethod
    def _sweeps(connection: Any, where: list[Any]) -> list[Sweep]:
        sweeps = connection.execute(select(SweepRow).where(*where).order_by(SweepRow.id)).all()
        if not sweeps:
            return []
        ids = [row.id for row in sweeps]
        hits: dict[int, list[SweepHit]] = {sweep_id: [] for sweep_id in ids}
        for chunk in chunks(ids):
            rows = connection.execute(
                select(SweepHitRow).where(SweepHitRow.sweep_id.in_(chunk)).order_by(SweepHitRow.id)
            ).all()
            for row in rows:
                hits[row.sweep_id].append(_hit(row))
        return [
            Sweep(
                row.id,
                NewSweep(row.item_id, row.case_number, row.ran_at, row.queries, row.threshold),
                tuple(hits[row.id]),
            )
            for row in sweeps
        ]

    def withdraw_pending(self, item_id: int, at: datetime) -> int:
        """Mark the pending copies of an item's sweeps withdrawn (one statement)."""
        swept = select(SweepRow.id).where(SweepRow.item_id == item_id)
        with self._write() as connection:
            result = connection.execute(
                update(SweepHitRow)
                .where(
                    SweepHitRow.sweep_id.in_(swept),
                    SweepHitRow.outcome == HitOutcome.PENDING.value,
                )
                .values(outcome=HitOutcome.WITHDRAWN.value, outcome_at=at)
            )
        return int(result.rowcount or 0)

    def hits_for_key(self, key_id: int, outcome: HitOutcome | None) -> list[SweepHit]:
        """One key's copies (with that outcome), oldest first."""
        query = select(SweepHitRow).where(SweepHitRow.key_id == key_id)
        if outcome is not None:
            query = query.where(SweepHitRow.outcome == outcome.value)
        with self._read() as connection:
            rows = connection.execute(query.order_by(SweepHitRow.id)).all()
        return [_hit(row) for row in rows]

    def set_outcome(self, hit_id: int, key_id: int, outcome: HitOutcome, at: datetime) -> SweepHit:
        """Record a copy's outcome; NotFoundError unless this key looked it up."""
        with self._write() as connection:
            changed = connection.execute(
                update(SweepHitRow)
                .where(SweepHitRow.id == hit_id, SweepHitRow.key_id == key_id)
                .values(outcome=outcome.value, outcome_at=at)
            ).rowcount
            if not changed:
                raise NotFoundError(f"no copy {hit_id} for this key")
            row = connection.execute(select(SweepHitRow).where(SweepHitRow.id == hit_id)).one()
        return _hit(row)
