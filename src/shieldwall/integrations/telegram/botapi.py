"""The Telegram Bot API (https://core.telegram.org/bots/api), the few methods the guard uses.

Every request goes to `{api}/bot<token>/<method>` and every answer is JSON: `{"ok": true,
"result": ...}` or `{"ok": false, "error_code": ..., "description": ..., "parameters":
{"retry_after": N}}`. Flood control (429 with `retry_after`) is waited out here; what
retrying cannot fix is raised. The token is part of every URL, so no URL, request or
httpx exception text leaves this module: errors name the method only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NoReturn
from urllib.parse import quote

import httpx

from shieldwall.errors import AuthenticationError, ConflictError

log = logging.getLogger("shieldwall.telegram")

MAX_FLOOD_WAITS: Final = 5
"""429 answers waited out for one call before it counts as Telegram being unavailable."""
_TIMEOUT: Final = httpx.Timeout(10.0, read=30.0)  # connect, write and pool: 10 s
_POLL_MARGIN: Final = 15.0  # seconds a long poll's answer may take beyond its timeout


class BotApiError(Exception):
    """An answer with `ok: false` that trying again will not change (a 400 or a 403)."""

    def __init__(self, method: str, code: int, description: str) -> None:
        super().__init__(f"{method}: {code} {description}")
        self.method = method
        self.code = code
        self.description = description

    @property
    def message_gone(self) -> bool:
        """Telegram has no such message (deleted already, by someone or by the guard)."""
        return "not found" in self.description.lower()


class BotApiUnavailable(Exception):  # noqa: N818 (a state, not a failure of ours)
    """Telegram could not be reached, answered 5xx or not in JSON, or kept asking to wait."""


class BadTokenError(AuthenticationError):
    """The Bot API refused the bot token (401), or knows no such bot or path (404)."""


class PollingConflictError(ConflictError):
    """getUpdates refused (409): a webhook is set, or another instance polls this bot."""


class FileTooLargeError(Exception):
    """A file over the guard's download limit (or the Bot API's 20 MB)."""


@dataclass(frozen=True)
class BotIdentity:
    """Who the token belongs to (getMe)."""

    id: int
    username: str
    reads_all_group_messages: bool  # privacy mode disabled in BotFather


@dataclass(frozen=True)
class TelegramFile:
    """A file ready to download (getFile)."""

    file_id: str
    file_size: int | None
    file_path: str


def _retry_after(body: Mapping[str, Any]) -> float | None:
    parameters = body.get("parameters")
    if isinstance(parameters, Mapping):
        wait = parameters.get("retry_after")
        if isinstance(wait, int | float) and not isinstance(wait, bool) and wait >= 0:
            return float(wait)
    return None


class BotApi:
    """A bot's calls to the Bot API over one HTTP client."""

    def __init__(
        self,
        token: str,
        base_url: str,
        client: httpx.Client,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base = f"{base_url.rstrip('/')}/bot{token}"
        self._files = f"{base_url.rstrip('/')}/file/bot{token}"
        self._client = client
        self._sleep = sleep

    def get_me(self) -> BotIdentity:
        """The bot's own identity; BadTokenError when the token is refused."""
        me = self._call("getMe", {})
        if not isinstance(me, dict) or not isinstance(me.get("id"), int):
            raise BotApiUnavailable("Telegram getMe: no bot in the answer")
        return BotIdentity(
            int(me["id"]),
            str(me.get("username", "")),
            bool(me.get("can_read_all_group_messages", False)),
        )

    def get_updates(
        self, offset: int | None, timeout: int, allowed: Sequence[str]
    ) -> list[Mapping[str, Any]]:
        """Updates from `offset` on (confirming every earlier one), waiting up to `timeout` s."""
        params: dict[str, Any] = {"timeout": timeout, "allowed_updates": list(allowed)}
        if offset is not None:
            params["offset"] = offset
        result = self._call("getUpdates", params, read_timeout=timeout + _POLL_MARGIN)
        if not isinstance(result, list):
            raise BotApiUnavailable("Telegram getUpdates: the result is not a list")
        return [update for update in result if isinstance(update, Mapping)]

    def set_webhook(self, url: str, secret: str, allowed: Sequence[str]) -> None:
        """Have Telegram post updates to `url`, each with `secret` in the
        X-Telegram-Bot-Api-Secret-Token header, one at a time (in order)."""
        params = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": list(allowed),
            "max_connections": 1,
        }
        self._call("setWebhook", params)

    def delete_webhook(self) -> None:
        """Back to getUpdates; the updates not delivered yet are kept."""
        self._call("deleteWebhook", {"drop_pending_updates": False})

    def webhook_url(self) -> str:
        """The URL a webhook is set to ("" when the bot polls)."""
        info = self._call("getWebhookInfo", {})
        url = info.get("url") if isinstance(info, dict) else None
        return url if isinstance(url, str) else ""

    def get_file(self, file_id: str) -> TelegramFile:
        """Where to download a file; FileTooLargeError past the Bot API's 20 MB."""
        try:
            found = self._call("getFile", {"file_id": file_id})
        except BotApiError as exc:
            if "too big" in exc.description.lower():
                raise FileTooLargeError("getFile: file is too big") from None
            raise
        if not isinstance(found, dict):
            raise BotApiError("getFile", 400, "no File in the answer")
        path = found.get("file_path")
        if not isinstance(path, str) or not path:
            raise BotApiError("getFile", 400, "no file_path in the answer")
        size = found.get("file_size")
        return TelegramFile(file_id, size if isinstance(size, int) else None, path)

    def download(self, file_path: str, limit: int) -> bytes:
        """The file's bytes, reading no more than `limit` (FileTooLargeError past it)."""
        url = f"{self._files}/{quote(file_path, safe='/')}"
        try:
            with self._client.stream("GET", url, timeout=_TIMEOUT) as answer:
                if answer.status_code >= 500:
                    raise BotApiUnavailable(f"Telegram file download: HTTP {answer.status_code}")
                if answer.status_code != 200:
                    raise BotApiError("file download", answer.status_code, "not downloadable")
                declared = answer.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise FileTooLargeError(f"file download: over {limit} bytes")
                data = bytearray()
                for chunk in answer.iter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise FileTooLargeError(f"file download: over {limit} bytes")
                return bytes(data)
        except httpx.TransportError as exc:
            raise BotApiUnavailable(f"Telegram file download: {type(exc).__name__}") from None

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """Delete a message; BotApiError when Telegram cannot (gone, too old, no right)."""
        self._call("deleteMessage", {"chat_id": chat_id, "message_id": message_id})

    def send_message(self, chat_id: int, text: str) -> None:
        """Post a text without a notification sound."""
        params = {"chat_id": chat_id, "text": text, "disable_notification": True}
        self._call("sendMessage", params)

    def _call(self, method: str, params: Mapping[str, Any], read_timeout: float = 30.0) -> Any:
        """The method's `result`, after waiting out flood control as Telegram asks."""
        timeout = httpx.Timeout(10.0, read=read_timeout)
        for _ in range(MAX_FLOOD_WAITS + 1):
            try:
                answer = self._client.post(f"{self._base}/{method}", json=params, timeout=timeout)
            except httpx.TransportError as exc:
                raise BotApiUnavailable(f"Telegram {method}: {type(exc).__name__}") from None
            body = _json_object(answer)
            if body is None:
                raise BotApiUnavailable(f"Telegram {method}: HTTP {answer.status_code}, not JSON")
            if body.get("ok") is True:
                return body.get("result")
            code = body.get("error_code", answer.status_code)
            description = str(body.get("description", ""))[:300]
            wait = _retry_after(body)
            if wait is None:
                _raise_for(method, code if isinstance(code, int) else 0, description)
            log.warning("telegram flood control", extra={"method": method, "retry_after": wait})
            self._sleep(wait)
        raise BotApiUnavailable(f"Telegram {method}: flood-limited {MAX_FLOOD_WAITS} times")


def _json_object(answer: httpx.Response) -> dict[str, Any] | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _raise_for(method: str, code: int, description: str) -> NoReturn:
    if code in (401, 404):
        raise BadTokenError(
            f"the Telegram Bot API refused the bot token ({code} {description or 'refused'}): "
            "check telegram_token (SHIELDWALL_TELEGRAM_TOKEN) and telegram_bot_api_url"
        )
    if code == 409:
        raise PollingConflictError(
            f"Telegram refused {method}: {description} (delete the bot's webhook, or stop the "
            "other instance of the guard that polls this bot)"
        )
    if code >= 500 or code == 429:
        raise BotApiUnavailable(f"Telegram {method}: {code} {description}")
    raise BotApiError(method, code, description)
