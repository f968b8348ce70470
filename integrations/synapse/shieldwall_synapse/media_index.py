"""Which events posted which media, kept in Synapse's own database (a table of the
module's, `shieldwall_media_events`, on SQLite or PostgreSQL alike) so that every worker
sees it: a confirmed image's events are found and redacted without scanning the rooms."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi
    from synapse.storage.database import LoggingTransaction

_CREATE = (
    "CREATE TABLE IF NOT EXISTS shieldwall_media_events ("
    " media TEXT NOT NULL, room_id TEXT NOT NULL, event_id TEXT NOT NULL,"
    " sender TEXT NOT NULL, posted_ts BIGINT NOT NULL, redacted_ts BIGINT,"
    " PRIMARY KEY (media, event_id))"
)


@dataclass(frozen=True)
class Posting:
    """An event that posted a piece of media."""

    media: str
    room_id: str
    event_id: str
    sender: str


class MediaIndex:
    """The module's table, created on first use."""

    def __init__(self, api: ModuleApi) -> None:
        self._api = api
        self._ready = False

    async def _ensure(self) -> None:
        if not self._ready:
            await self._api.run_db_interaction("shieldwall_create", _create)
            self._ready = True

    async def record(self, postings: list[Posting]) -> None:
        """Remember these postings (again is harmless)."""
        if postings:
            await self._ensure()
            await self._api.run_db_interaction("shieldwall_record", _insert, postings)

    async def unredacted(self, media: str) -> list[Posting]:
        """The events posting `media` that the module has not redacted yet."""
        await self._ensure()
        return await self._api.run_db_interaction("shieldwall_postings", _select, media)

    async def mark_redacted(self, posting: Posting) -> None:
        await self._ensure()
        await self._api.run_db_interaction("shieldwall_redacted", _mark, posting)


def _create(txn: LoggingTransaction) -> None:
    txn.execute(_CREATE)


def _insert(txn: LoggingTransaction, postings: list[Posting]) -> None:
    now = int(time.time() * 1000)
    txn.execute_batch(
        "INSERT INTO shieldwall_media_events (media, room_id, event_id, sender, posted_ts)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(p.media, p.room_id, p.event_id, p.sender, now) for p in postings],
    )


def _select(txn: LoggingTransaction, media: str) -> list[Posting]:
    txn.execute(
        "SELECT media, room_id, event_id, sender FROM shieldwall_media_events"
        " WHERE media = ? AND redacted_ts IS NULL ORDER BY posted_ts",
        (media,),
    )
    return [Posting(*row) for row in txn.fetchall()]


def _mark(txn: LoggingTransaction, posting: Posting) -> None:
    txn.execute(
        "UPDATE shieldwall_media_events SET redacted_ts = ? WHERE media = ? AND event_id = ?",
        (int(time.time() * 1000), posting.media, posting.event_id),
    )
