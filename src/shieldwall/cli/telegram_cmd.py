"""`shieldwall telegram-guard`: the Telegram group guard (docs/telegram.md). Its settings,
the bot token above all, come from shieldwall.toml's `[shieldwall.telegram]` table or from
`SHIELDWALL_TELEGRAM_*` variables, never from flags: a flag would show the token to every
user of the machine (`ps`) and keep it in shell histories."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import log_level_option
from shieldwall.errors import InvalidInputError, UnavailableError
from shieldwall.integrations.telegram.runner import (
    Unavailable,
    open_guard,
    run_forever,
    run_once,
    run_webhook,
    state_path,
)
from shieldwall.telegram_settings import TelegramSettings
from shieldwall.web.logs import JsonFormatter

log = logging.getLogger("shieldwall.telegram")
_LOGGERS = ("shieldwall", "httpx", "httpcore")


@contextmanager
def _json_logs(level: str, settings: TelegramSettings) -> Iterator[None]:
    """JSON lines on stderr with the token and the key scrubbed; the previous logging set-up
    is put back on exit. httpx's request lines (URLs with the token) only at debug."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(secrets=(settings.token, settings.shieldwall_key)))
    saved = []
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.handlers, logger.level, logger.propagate))
        wanted = level if name == "shieldwall" or level == "debug" else "warning"
        logger.handlers, logger.propagate = [handler], False
        logger.setLevel(wanted.upper())
    try:
        yield
    finally:
        for logger, handlers, old_level, propagate in saved:
            logger.handlers, logger.propagate = handlers, propagate
            logger.setLevel(old_level)


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # ends a long poll at once; the state is saved after each update


@click.command("telegram-guard")
@click.option(
    "--once",
    is_flag=True,
    help="Handle the updates waiting now and one round of decisions, then exit.",
)
@log_level_option
@pass_context
def telegram_guard_command(context: CliContext, once: bool, log_level: str) -> None:
    """Guard Telegram groups: screen every photo and image posted, delete blocked ones with
    a notice, queue `review` verdicts, remove copies that later decisions confirm.

    Settings: [shieldwall.telegram] in shieldwall.toml or SHIELDWALL_TELEGRAM_TOKEN,
    SHIELDWALL_TELEGRAM_SHIELDWALL_URL, SHIELDWALL_TELEGRAM_SHIELDWALL_KEY (a screener key)
    and the others in docs/telegram.md. Runs until SIGTERM or Ctrl-C.
    """
    settings = context.settings.telegram
    path = state_path(settings, context.settings.home)
    with _json_logs(log_level, settings), open_guard(settings, path) as guard:
        me = guard.start()
        if once and settings.uses_webhook:
            raise InvalidInputError("--once reads updates by long polling: unset webhook_url")
        if once:
            try:
                run_once(guard)
            except Unavailable as exc:
                raise UnavailableError(f"{exc}; the rest waits for the next run") from None
            return
        how = f"webhook {settings.webhook_url}" if settings.uses_webhook else "long polling"
        click.echo(f"Guarding the groups of @{me.username} by {how} (state in {path})", err=True)
        previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
        try:
            if settings.uses_webhook:
                run_webhook(guard, settings, threading.Event())
            else:
                run_forever(guard, settings, threading.Event())
        except KeyboardInterrupt:
            log.info("telegram guard stopped")
        finally:
            signal.signal(signal.SIGTERM, previous)
