"""Settings of the Telegram group guard (`shieldwall telegram-guard`): the `[shieldwall.telegram]`
table of shieldwall.toml, or `SHIELDWALL_TELEGRAM_<KEY>` variables. No I/O here.

The bot token and the Shieldwall key are secrets: never in `repr`, never in an error message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any, Final

from shieldwall.errors import InvalidInputError
from shieldwall.setting_values import bounded, http_url, text

BOT_API_DOWNLOAD_LIMIT: Final = 20 * 1024 * 1024
"""The largest file the public Bot API lets a bot download (getFile): 20 MB."""
NOTICE_LANGUAGES: Final = ("en", "es", "ko")
# `<bot id>:<secret>` as BotFather issues it; nothing that could change the URL it goes in.
_TOKEN: Final = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{20,100}")
# What setWebhook accepts as `secret_token`.
_WEBHOOK_SECRET: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")


class FailMode(StrEnum):
    """What the guard does with an image it cannot screen (Shieldwall unreachable)."""

    OPEN = "open"  # leave it up; screen it as soon as Shieldwall answers again
    CLOSED = "closed"  # remove it at once, with a notice that it could not be checked


@dataclass(frozen=True)
class TelegramSettings:
    """The guard's settings (defaults: long polling at api.telegram.org, fail open)."""

    token: str = field(default="", repr=False)
    bot_api_url: str = "https://api.telegram.org"
    shieldwall_url: str = ""
    shieldwall_key: str = field(default="", repr=False)
    # Seconds one getUpdates long poll waits for news (the Bot API holds it at most ~50 s).
    poll_timeout: int = 30
    # Seconds between two polls of Shieldwall for decisions and known copies to remove.
    sync_interval: int = 30
    fail_mode: FailMode = FailMode.OPEN
    max_bytes: int = BOT_API_DOWNLOAD_LIMIT
    language: str = "en"
    # Where the update offset and the open review items are kept; "" for
    # <home>/telegram-guard.json.
    state_file: str = ""
    # Webhook mode instead of long polling: the public URL Telegram posts updates to (the
    # guard's own listener, behind the TLS-terminating proxy), the secret Telegram sends
    # with each (X-Telegram-Bot-Api-Secret-Token) and the address the guard listens on.
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    webhook_listen: str = "127.0.0.1:8443"

    @property
    def uses_webhook(self) -> bool:
        """Whether updates come by webhook (a webhook URL is set) rather than long polling."""
        return bool(self.webhook_url)

    @property
    def listen_address(self) -> tuple[str, int]:
        """`webhook_listen` as (host, port)."""
        host, _, port = self.webhook_listen.rpartition(":")
        return host.strip("[]"), int(port)


TELEGRAM_KEYS: Final = frozenset(f.name for f in fields(TelegramSettings))
"""The keys of `[shieldwall.telegram]` (and, prefixed `telegram_`, of the environment)."""


def _token(name: str, value: Any) -> str:
    text = str(value).strip()
    if text and not _TOKEN.fullmatch(text):  # the value itself is never repeated
        raise InvalidInputError(f"setting {name} is not a bot token (<bot id>:<secret>)")
    return text


def _webhook_secret(name: str, value: Any) -> str:
    text = str(value).strip()
    if text and not _WEBHOOK_SECRET.fullmatch(text):  # never repeated in the message
        raise InvalidInputError(f"setting {name} must be 1-256 of A-Z, a-z, 0-9, _ and -")
    return text


def _listen(name: str, value: Any) -> str:
    text = str(value).strip()
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise InvalidInputError(f"setting {name} must be host:port, got {value!r}")
    return text


def _fail_mode(name: str, value: Any) -> FailMode:
    try:
        return FailMode(str(value).strip().lower())
    except ValueError:
        raise InvalidInputError(f"setting {name} must be open or closed, got {value!r}") from None


def _language(name: str, value: Any) -> str:
    text = str(value).strip().lower()
    if text not in NOTICE_LANGUAGES:
        raise InvalidInputError(f"setting {name} must be one of {', '.join(NOTICE_LANGUAGES)}")
    return text


_COERCE: Final[dict[str, Callable[[str, Any], Any]]] = {
    "token": _token,
    "bot_api_url": http_url,
    "shieldwall_url": http_url,
    "shieldwall_key": text,
    "poll_timeout": bounded(0, 50),
    "sync_interval": bounded(1, 86_400),
    "fail_mode": _fail_mode,
    # A local Bot API server (telegram-bot-api --local) lets bots download up to 2000 MB.
    "max_bytes": bounded(1, 2000 * 1024 * 1024),
    "language": _language,
    "state_file": text,
    "webhook_url": http_url,
    "webhook_secret": _webhook_secret,
    "webhook_listen": _listen,
}


def is_telegram_setting(name: str, value: Any) -> bool:
    """Whether `name` is the `telegram` table or a `telegram_<key>` setting."""
    if name == "telegram":
        return isinstance(value, Mapping)
    return name.startswith("telegram_") and name.removeprefix("telegram_") in TELEGRAM_KEYS


def apply_telegram(
    settings: TelegramSettings, name: str, value: Any, origin: str
) -> TelegramSettings:
    """`settings` with the `telegram` table or one `telegram_<key>` setting applied."""
    values = value if name == "telegram" else {name.removeprefix("telegram_"): value}
    changes: dict[str, Any] = {}
    for raw, given in values.items():
        key = str(raw).lower()
        if key not in _COERCE:
            raise InvalidInputError(f"unknown setting 'telegram.{key}' in {origin}")
        changes[key] = _COERCE[key](f"telegram_{key}", given)
    return replace(settings, **changes)
