"""Running the guard: its HTTP clients from the settings, and the loop of long polls and
decision rounds, with exponential backoff and jitter while Telegram or Shieldwall is away.
The token and the key are secrets: the command's log formatter scrubs them from every line."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import httpx

from shieldwall.errors import InvalidInputError
from shieldwall.integrations.telegram.botapi import BotApi, BotApiUnavailable
from shieldwall.integrations.telegram.guard import TelegramGuard
from shieldwall.integrations.telegram.screener import ShieldwallClient, ShieldwallUnavailable
from shieldwall.integrations.telegram.state import StateFile
from shieldwall.integrations.telegram.webhook import WebhookListener
from shieldwall.telegram_settings import TelegramSettings

log = logging.getLogger("shieldwall.telegram")

FIRST_DELAY: Final = 1.0
MOST_DELAY: Final = 60.0
Unavailable: Final = (BotApiUnavailable, ShieldwallUnavailable)


class Backoff:
    """Pauses that double from `first` (1 s) to `most` (a minute), each scaled by a random
    0.8-1.2 so that guards cut off together do not all come back at the same moment."""

    def __init__(
        self,
        first: float = FIRST_DELAY,
        most: float = MOST_DELAY,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._first, self._most, self._rng = first, most, rng
        self._next = first

    def delay(self) -> float:
        """The next pause."""
        pause = self._next * (0.8 + 0.4 * self._rng())
        self._next = min(self._next * 2, self._most)
        return round(pause, 3)

    def reset(self) -> None:
        """Start again from the shortest pause (after a success)."""
        self._next = self._first


def state_path(settings: TelegramSettings, home: Path) -> Path:
    """The state file: the setting, or telegram-guard.json in the data directory."""
    return Path(settings.state_file) if settings.state_file else home / "telegram-guard.json"


def _check(settings: TelegramSettings) -> None:
    needed = ["token", "shieldwall_url", "shieldwall_key"]
    if settings.uses_webhook:
        needed.append("webhook_secret")
    missing = [
        f"telegram_{name} (SHIELDWALL_TELEGRAM_{name.upper()})"
        for name in needed
        if not getattr(settings, name)
    ]
    if missing:
        raise InvalidInputError(f"the Telegram guard needs {', '.join(missing)}")


@contextmanager
def open_guard(
    settings: TelegramSettings, state: Path, sleep: Callable[[float], None] = time.sleep
) -> Iterator[TelegramGuard]:
    """The guard over its two HTTP clients (closed on exit); InvalidInputError if a needed
    setting is missing."""
    _check(settings)
    with (
        httpx.Client(follow_redirects=False) as telegram,
        httpx.Client(follow_redirects=False) as shieldwall,
    ):
        yield TelegramGuard(
            BotApi(settings.token, settings.bot_api_url, telegram, sleep=sleep),
            ShieldwallClient(
                settings.shieldwall_url, settings.shieldwall_key, shieldwall, sleep=sleep
            ),
            StateFile(state),
            settings,
        )


def run_once(guard: TelegramGuard) -> None:
    """Handle the updates waiting now and one round of decisions (for cron, or a check)."""
    guard.receive_by_polling()
    guard.poll(0)
    guard.sync()


def _pause(pauses: Backoff, stop: threading.Event, exc: Exception) -> None:
    """Wait the next backoff pause (or until stopped) while a side is unavailable."""
    pause = pauses.delay()
    log.warning("paused: unavailable", extra={"reason": str(exc), "seconds": pause})
    stop.wait(pause)


def _sync_round(guard: TelegramGuard) -> None:
    """One round of following decisions; a side being away only skips the round."""
    try:
        guard.sync()
    except Unavailable as exc:
        log.warning("decisions not fetched this round", extra={"reason": str(exc)})


def run_webhook(guard: TelegramGuard, settings: TelegramSettings, stop: threading.Event) -> None:
    """Webhook mode: set the webhook, hand the updates Telegram posts to the guard, and
    follow decisions every `sync_interval` until `stop` is set. The webhook stays set when
    the guard stops: Telegram keeps the updates (a day at most) until it is back."""
    lock = threading.Lock()
    listener = WebhookListener(
        settings.listen_address,
        settings.webhook_url,
        settings.webhook_secret,
        guard.handle_update,
        lock,
    )
    listener.start()
    try:
        pauses = Backoff()
        while not stop.is_set():
            try:
                guard.receive_by_webhook()
                break
            except Unavailable as exc:
                _pause(pauses, stop, exc)
        log.info("listening for Telegram's updates", extra={"port": listener.port})
        while not stop.is_set():
            with lock:
                _sync_round(guard)
            stop.wait(settings.sync_interval)
    finally:
        listener.stop()


def run_forever(
    guard: TelegramGuard,
    settings: TelegramSettings,
    stop: threading.Event,
    clock: Callable[[], float] = time.monotonic,
    backoff: Backoff | None = None,
) -> None:
    """Poll and follow decisions until `stop` is set, pausing while a side is unavailable.

    Errors that waiting cannot fix (a refused token or key) end the loop by raising."""
    pauses = backoff or Backoff()
    next_sync = clock()
    polling = False
    while not stop.is_set():
        try:
            if not polling:
                guard.receive_by_polling()
                polling = True
            handled = guard.poll(settings.poll_timeout)
        except Unavailable as exc:
            _pause(pauses, stop, exc)
            continue
        pauses.reset()
        if settings.poll_timeout == 0 and not handled:
            stop.wait(1.0)  # short polling: not a busy loop
        if clock() >= next_sync:
            _sync_round(guard)
            next_sync = clock() + settings.sync_interval
