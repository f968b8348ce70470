"""The guard's work: screen each image posted in its groups, remove what must go, and follow
Shieldwall's later decisions.

- `poll` takes the next updates and handles them one by one, saving the offset after each,
  so a restart goes on from the first update not yet handled. A `block` verdict deletes the
  message and posts a notice; `review` leaves it up, queued for a reviewer with its chat and
  message ids in `content_ref`; `allow` leaves it alone.
- When Shieldwall cannot be reached, fail-open (the default) stops at that update: the image
  stays up, nothing later is confirmed to Telegram, and the runner tries the same update
  again after a pause, so it is screened as soon as Shieldwall answers. Fail-closed deletes
  the image with a notice that it could not be checked, and goes on.
- `sync` asks Shieldwall for the copies confirm decisions found among the guard's lookups and
  for the outcome of the items it queued, deletes those messages and says what it did.

A message Telegram will not delete (gone already, older than 48 hours, no "Delete messages"
right) is logged and left: it never stops the guard.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shieldwall.errors import InvalidInputError
from shieldwall.integrations.telegram.botapi import (
    BotApi,
    BotApiError,
    BotApiUnavailable,
    BotIdentity,
    FileTooLargeError,
)
from shieldwall.integrations.telegram.messages import (
    WATCHED_UPDATES,
    MessageRef,
    PostedImage,
    posted_image,
    update_id,
)
from shieldwall.integrations.telegram.notices import Notice, notice_text
from shieldwall.integrations.telegram.screener import (
    NotScreenableError,
    ShieldwallClient,
    ShieldwallUnavailable,
    Verdict,
)
from shieldwall.integrations.telegram.state import GuardState, StateFile
from shieldwall.telegram_settings import FailMode, TelegramSettings

log = logging.getLogger("shieldwall.telegram")


class Removal(StrEnum):
    """What became of a request to delete a message."""

    REMOVED = "removed"
    GONE = "gone"  # Telegram has no such message any more
    REFUSED = "refused"  # Telegram would not delete it (too old, no right, not in the chat)


@dataclass
class SyncReport:
    """What one round of following Shieldwall's decisions did."""

    removed: int = 0
    gone: int = 0
    refused: int = 0
    decided: int = 0


def _where(ref: MessageRef) -> dict[str, int]:
    return {"chat": ref.chat_id, "message_id": ref.message_id}


class TelegramGuard:
    """One bot's guard over the groups it is in."""

    def __init__(
        self,
        bot: BotApi,
        shieldwall: ShieldwallClient,
        state_file: StateFile,
        settings: TelegramSettings,
    ) -> None:
        self._bot = bot
        self._shieldwall = shieldwall
        self._file = state_file
        self._settings = settings
        self._state: GuardState | None = None

    @property
    def state(self) -> GuardState:
        """The state loaded by `start`."""
        if self._state is None:
            raise RuntimeError("start the guard first")
        return self._state

    def start(self) -> BotIdentity:
        """Check the token (BadTokenError if refused) and load this bot's saved state."""
        me = self._bot.get_me()
        self._state = self._file.load(me.id)
        if not me.reads_all_group_messages:
            log.warning(
                "privacy mode is on: the bot sees every message only in groups where it is "
                "an admin (BotFather: /setprivacy, Disable)",
                extra={"bot": me.username},
            )
        log.info(
            "telegram guard started",
            extra={"bot": me.username, "offset": self._state.offset, "fail_mode": self._fail},
        )
        return me

    def receive_by_webhook(self) -> None:
        """Have Telegram post the updates to the configured webhook (setWebhook)."""
        settings = self._settings
        try:
            self._bot.set_webhook(settings.webhook_url, settings.webhook_secret, WATCHED_UPDATES)
        except BotApiError as exc:  # e.g. not HTTPS, or a port Telegram does not post to
            raise InvalidInputError(
                f"Telegram refused the webhook URL {settings.webhook_url}: {exc.description}"
            ) from None
        log.info("webhook set", extra={"url": settings.webhook_url})

    def receive_by_polling(self) -> None:
        """Long polling: a webhook left from webhook mode is deleted first (Telegram refuses
        getUpdates while one is set); its undelivered updates are kept for the polls."""
        if self._bot.webhook_url():
            log.warning("a webhook was set: deleted, to receive updates by long polling")
            self._bot.delete_webhook()

    @property
    def _fail(self) -> str:
        return self._settings.fail_mode.value

    def poll(self, timeout: int) -> int:
        """Handle the next updates, waiting up to `timeout` s for them; how many were handled.

        Raises ShieldwallUnavailable (fail-open) or BotApiUnavailable at the first update
        that could not be handled; the ones before it stay handled."""
        updates = self._bot.get_updates(self.state.offset, timeout, WATCHED_UPDATES)
        return sum(self.handle_update(update) for update in updates)

    def handle_update(self, update: Mapping[str, Any]) -> bool:
        """Handle one update (by long poll or webhook) unless it was handled before; the
        offset saved after it. False for an update handled already (a redelivery).

        Raises ShieldwallUnavailable (fail-open) or BotApiUnavailable, leaving the update
        unhandled, to be tried again."""
        state = self.state
        number = update_id(update)
        if number is None or (state.offset is not None and number < state.offset):
            return False
        self._handle(update)
        state.offset = number + 1
        self._file.save(state)
        return True

    def _handle(self, update: Mapping[str, Any]) -> None:
        image = posted_image(update)
        if image is None:
            return
        content = self._download(image)
        if content is None:
            return
        try:
            screening = self._shieldwall.lookup(content, image.ref)
        except NotScreenableError as exc:
            log.info("image not screenable", extra={**_where(image.ref), "reason": str(exc)})
            return
        except ShieldwallUnavailable:
            if self._settings.fail_mode is FailMode.OPEN:
                raise
            log.warning("shieldwall unavailable: removing unchecked", extra=_where(image.ref))
            self.remove(image.ref, Notice.UNCHECKED)
            return
        log.info("image screened", extra={**_where(image.ref), "verdict": screening.verdict.value})
        if screening.verdict is Verdict.BLOCK:
            self.remove(image.ref, Notice.BLOCKED)
        elif screening.verdict is Verdict.REVIEW and screening.review_item is not None:
            self.state.remember_item(screening.review_item, image.ref.content_ref)

    def _download(self, image: PostedImage) -> bytes | None:
        """The image's bytes, or None (handled by the fail mode) when it cannot be had."""
        limit = self._settings.max_bytes
        try:
            if image.file_size is not None and image.file_size > limit:
                raise FileTooLargeError(f"{image.file_size} bytes")
            found = self._bot.get_file(image.file_id)
            return self._bot.download(found.file_path, limit)
        except (FileTooLargeError, BotApiError) as exc:
            log.warning(
                "image not screened: not downloadable",
                extra={**_where(image.ref), "reason": str(exc), "fail_mode": self._fail},
            )
        if self._settings.fail_mode is FailMode.CLOSED:
            self.remove(image.ref, Notice.UNCHECKED)
        return None

    def remove(self, ref: MessageRef, notice: Notice | None = None) -> Removal:
        """Delete a message and, if it went, post the notice; never raises for a refusal."""
        try:
            self._bot.delete_message(ref.chat_id, ref.message_id)
        except BotApiError as exc:
            gone = exc.message_gone
            level = logging.INFO if gone else logging.WARNING
            log.log(level, "message not deleted", extra={**_where(ref), "reason": exc.description})
            if not gone:
                self.state.remember_refused(ref.content_ref)
            return Removal.GONE if gone else Removal.REFUSED
        log.info("message deleted", extra=_where(ref))
        self.state.remember_removed(ref.content_ref)
        if notice is not None:
            self._notify(ref.chat_id, notice)
        return Removal.REMOVED

    def _notify(self, chat_id: int, notice: Notice) -> None:
        try:
            self._bot.send_message(chat_id, notice_text(notice, self._settings.language))
        except (BotApiError, BotApiUnavailable) as exc:  # a lost notice stops nothing
            log.warning("notice not posted", extra={"chat": chat_id, "reason": str(exc)})

    def sync(self) -> SyncReport:
        """Remove the known copies and the confirmed queued images Shieldwall names now."""
        report = SyncReport()
        done: dict[str, Removal] = {}  # what this round did, by content_ref
        try:
            self._remove_copies(done)
            self._follow_items(done, report)
        finally:
            self._file.save(self.state)
            removed = [ref for ref, result in done.items() if result is Removal.REMOVED]
            for chat in sorted({r.chat_id for c in removed if (r := MessageRef.parse(c))}):
                self._notify(chat, Notice.SWEPT)
        report.removed = len(removed)
        report.gone = sum(result is Removal.GONE for result in done.values())
        report.refused = sum(result is Removal.REFUSED for result in done.values())
        return report

    def _remove_copies(self, done: dict[str, Removal]) -> None:
        state = self.state
        for copy in self._shieldwall.known_copies():
            ref = MessageRef.parse(copy.content_ref)
            if ref is None or copy.content_ref in state.refused:
                continue  # another integration's upload, or one Telegram will not delete
            if copy.content_ref not in done and copy.content_ref in state.removed:
                self._shieldwall.report_copy(copy.id, "removed")  # at a block, or earlier
                continue
            result = done.get(copy.content_ref) or self.remove(ref)
            done[copy.content_ref] = result
            if result is Removal.REMOVED:
                self._shieldwall.report_copy(copy.id, "removed")
            elif result is Removal.GONE:
                self._shieldwall.report_copy(copy.id, "not_found")

    def _follow_items(self, done: dict[str, Removal], report: SyncReport) -> None:
        state = self.state
        for item_id, content_ref in list(state.open_items.items()):
            outcome = self._shieldwall.item_outcome(item_id)
            if outcome is not None and not outcome.decided:
                continue
            ref = MessageRef.parse(content_ref)
            handled = content_ref in done or content_ref in state.removed
            if outcome is not None and outcome.remove and ref is not None and not handled:
                done[content_ref] = self.remove(ref)
            if outcome is not None:
                report.decided += 1
            del state.open_items[item_id]
