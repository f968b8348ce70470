"""The Synapse module: screens media as Synapse stores it, remembers which events post
which media, and hears Shieldwall's webhooks to take confirmed images down.

    modules:
      - module: shieldwall_synapse.ShieldwallModule
        config: {shieldwall_url: ..., api_key_path: ..., ...}   # docs/synapse.md
"""

from __future__ import annotations

import logging
import os
import time
from io import BytesIO
from typing import TYPE_CHECKING, Any, Literal

from synapse.api.errors import Codes, SynapseError
from synapse.module_api import NOT_SPAM

from shieldwall_synapse.config import ModuleConfig, parse
from shieldwall_synapse.media_index import MediaIndex, Posting
from shieldwall_synapse.metrics import SCREENED, SCREENING_SECONDS
from shieldwall_synapse.refs import Media, content_ref, media_in_event, remote_media_of
from shieldwall_synapse.shieldwall_api import ShieldwallApi, Verdict
from shieldwall_synapse.takedown import Takedown
from shieldwall_synapse.webhook import WebhookResource

if TYPE_CHECKING:
    from synapse.events import EventBase
    from synapse.media._base import FileInfo
    from synapse.media.media_storage import ReadableFileWrapper
    from synapse.module_api import ModuleApi
    from synapse.types import StateMap

logger = logging.getLogger(__name__)

BLOCKED_MESSAGE = (
    "This image can't be shared here: it matches material reported as shared without consent."
)
UNAVAILABLE_MESSAGE = "Images can't be checked right now, so uploads are paused. Try again soon."
POSTING_TYPES = frozenset({"m.room.message", "m.sticker"})

SpamAnswer = Literal["NOT_SPAM"] | Codes | tuple[Codes, dict[str, Any]]


class ShieldwallModule:
    """Loaded by Synapse with the `config:` block; registers its callbacks."""

    def __init__(self, config: ModuleConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self._shieldwall = ShieldwallApi(api, config)
        self._index = MediaIndex(api)
        api.register_spam_checker_callbacks(check_media_file_for_spam=self.check_media)
        api.register_third_party_rules_callbacks(on_new_event=self.on_new_event)
        if config.takes_down:
            takedown = Takedown(api, config, self._index)
            api.register_web_resource(
                config.webhook_path, WebhookResource(config, takedown, self._shieldwall)
            )

    @staticmethod
    def parse_config(raw: dict[str, Any]) -> ModuleConfig:
        return parse(raw)

    async def check_media(self, file: ReadableFileWrapper, info: FileInfo) -> SpamAnswer:
        """Synapse's spam-checker callback for every file it stores."""
        if info.thumbnail is not None:
            return NOT_SPAM  # derived from a file that was screened when it was stored
        local = info.server_name is None
        source = "preview" if info.url_cache else "upload" if local else "remote"
        if info.url_cache and not self._config.screen_url_previews:
            return NOT_SPAM
        if not local and not self._config.screen_remote_media:
            return NOT_SPAM
        size = os.path.getsize(file.path)
        if size > self._config.max_bytes:
            logger.info(
                "Shieldwall: %s not screened (%d bytes, over max_bytes)", info.file_id, size
            )
            self._count(source, "too_large")
            return NOT_SPAM
        buffer = BytesIO()
        await file.write_chunks_to(buffer.write)
        ref = self._reference(info)
        started = time.monotonic()
        screened = await self._shieldwall.screen(buffer.getvalue(), ref)
        SCREENING_SECONDS.labels(self._api.server_name).observe(time.monotonic() - started)
        uploaded = source == "upload"
        if screened.verdict is Verdict.BLOCK:
            logger.info("Shieldwall: refused %s (verdict block)", ref)
            self._count(source, "block")
            return self._refuse(uploaded, 403, BLOCKED_MESSAGE, "block")
        if screened.verdict is Verdict.UNAVAILABLE:
            if self._config.fail_open:
                logger.warning("Shieldwall unavailable (%s): %s let through", screened.detail, ref)
                self._count(source, "unavailable_allowed")
                return NOT_SPAM
            logger.warning("Shieldwall unavailable (%s): %s refused", screened.detail, ref)
            self._count(source, "unavailable_refused")
            return self._refuse(uploaded, 503, UNAVAILABLE_MESSAGE, "unavailable")
        if screened.verdict is Verdict.REVIEW:
            logger.info(
                "Shieldwall: %s let through for review (item %s)", ref, screened.review_item
            )
        self._count(source, screened.verdict.value)
        return NOT_SPAM

    def _count(self, source: str, outcome: str) -> None:
        SCREENED.labels(self._api.server_name, source, outcome).inc()

    @staticmethod
    def _refuse(uploaded: bool, status: int, message: str, why: str) -> SpamAnswer:
        """A refused upload gets a clear error (Synapse would answer a bare 400 "Bad
        content" to the code alone); a refused download or preview is a 404, as for
        quarantined media."""
        if uploaded:
            raise SynapseError(status, message, Codes.FORBIDDEN, {"shieldwall": why})
        return Codes.FORBIDDEN, {"shieldwall": why}

    def _reference(self, info: FileInfo) -> str:
        """The content_ref for the file: its mxc:// URI, and the uploader when known."""
        request = _current_request()
        if info.server_name is None:
            media = Media(self._api.server_name, info.file_id)
            sender = getattr(request, "requester", None) if not info.url_cache else None
            return content_ref(media, sender.split("|")[0] if sender else None)
        found = remote_media_of(getattr(request, "url", None))
        if found and found[0] == info.server_name:
            return content_ref(Media(*found))
        return f"mxc://{info.server_name}/"  # the media id is not known at this point

    async def on_new_event(self, event: EventBase, state: StateMap[EventBase]) -> None:
        """Remember which events post which media (for the takedown of a confirmed one)."""
        if event.type not in POSTING_TYPES or event.is_state():
            return
        postings = [
            Posting(uri, event.room_id, event.event_id, event.sender)
            for uri in media_in_event(event.content)
        ]
        try:
            await self._index.record(postings)
        except Exception:
            logger.exception("Shieldwall: could not record the media of %s", event.event_id)


def _current_request() -> Any:
    """The request Synapse is serving (its logging context), if any."""
    try:
        from synapse.logging.context import current_context

        return getattr(current_context(), "request", None)
    except Exception:
        return None
