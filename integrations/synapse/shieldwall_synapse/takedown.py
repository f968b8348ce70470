"""Takes a confirmed image down: redacts the events that posted it and quarantines the
media through Synapse's admin API, so no client can download it again."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from shieldwall_synapse.media_index import MediaIndex, Posting
from shieldwall_synapse.metrics import TAKEDOWNS
from shieldwall_synapse.outbound import bounded_request
from shieldwall_synapse.refs import Media

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

    from shieldwall_synapse.config import ModuleConfig

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one takedown did."""

    redacted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    quarantined: bool = False

    @property
    def removed(self) -> bool:
        return bool(self.redacted) or self.quarantined


class Takedown:
    def __init__(self, api: ModuleApi, config: ModuleConfig, index: MediaIndex) -> None:
        self._api = api
        self._config = config
        self._index = index

    async def take_down(self, media: Media) -> Outcome:
        """Redact every event that posted `media`, then quarantine it."""
        outcome = Outcome()
        for posting in await self._index.unredacted(media.mxc):
            await self._redact(posting, outcome)
        if self._config.quarantine:
            outcome.quarantined = await self._quarantine(media)
            self._count("quarantined" if outcome.quarantined else "quarantine_failed")
        self._count("redacted", len(outcome.redacted))
        self._count("redaction_failed", len(outcome.failed))
        logger.info(
            "Shieldwall: took %s down (%d event(s) redacted, %d failed, quarantined: %s)",
            media.mxc,
            len(outcome.redacted),
            len(outcome.failed),
            outcome.quarantined,
        )
        return outcome

    def _count(self, action: str, amount: int = 1) -> None:
        if amount:
            TAKEDOWNS.labels(self._api.server_name, action).inc(amount)

    def _redactor(self, posting: Posting) -> str | None:
        """Who sends the redaction: the configured moderator, or (as Synapse's own admin
        redaction does) the local user who posted it; a remote sender's event needs the
        moderator."""
        if self._config.redact_as:
            return self._config.redact_as
        return posting.sender if self._api.is_mine(posting.sender) else None

    async def _redact(self, posting: Posting, outcome: Outcome) -> None:
        sender = self._redactor(posting)
        if sender is None:
            outcome.failed[posting.event_id] = "remote sender; set redact_as to a moderator"
            return
        event = {
            "type": "m.room.redaction",
            "room_id": posting.room_id,
            "sender": sender,
            # `redacts` moved into the content in room version 11; older rooms read it
            # from the top level. Synapse keeps whichever the room's version uses.
            "redacts": posting.event_id,
            "content": {"reason": self._config.redaction_reason, "redacts": posting.event_id},
        }
        try:
            await self._api.create_and_send_event_into_room(event)
        except Exception as exc:
            outcome.failed[posting.event_id] = f"{type(exc).__name__}: {exc}"[:300]
            logger.warning("Shieldwall: could not redact %s: %s", posting.event_id, exc)
            return
        await self._index.mark_redacted(posting)
        outcome.redacted.append(posting.event_id)

    async def _quarantine(self, media: Media) -> bool:
        """POST /_synapse/admin/v1/media/quarantine/{server}/{id} with the admin token."""
        if self._config.admin_token is None:
            logger.warning("Shieldwall: no admin_access_token; %s not quarantined", media.mxc)
            return False
        base = self._config.synapse_url or self._api.public_baseurl.rstrip("/")
        url = (
            f"{base.rstrip('/')}/_synapse/admin/v1/media/quarantine/"
            f"{quote(media.server, safe='')}/{quote(media.media_id, safe='')}"
        )
        headers = {
            "Authorization": f"Bearer {self._config.admin_token.read()}",
            "Content-Type": "application/json",
        }
        try:
            status, _ = await bounded_request(
                self._api, "POST", url, b"{}", headers, max(self._config.timeout, 10.0)
            )
        except Exception as exc:
            logger.warning("Shieldwall: could not quarantine %s: %s", media.mxc, exc)
            return False
        if status != 200:
            logger.warning("Shieldwall: quarantining %s answered HTTP %s", media.mxc, status)
        return status == 200
