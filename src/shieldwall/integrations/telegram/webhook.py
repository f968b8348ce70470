"""Webhook mode: Telegram posts each update to the guard's own listener instead of being
polled (https://core.telegram.org/bots/api#setwebhook). The listener sits behind the
reverse proxy that terminates TLS for the public `webhook_url`.

Each POST must carry the configured secret in `X-Telegram-Bot-Api-Secret-Token` (compared
in constant time) and come to the webhook URL's path; anything else is refused before the
body is read. An update is handled as a polled one is (`TelegramGuard.handle_update`), one
at a time; the answer is 200 once it is handled (or was already), and 503 when it could not
be (Shieldwall away with fail-open, Telegram away): Telegram then delivers it again later,
which is what holding it back means in this mode."""

from __future__ import annotations

import hmac
import json
import logging
import socket
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import urlsplit

from shieldwall.integrations.telegram.botapi import BotApiUnavailable
from shieldwall.integrations.telegram.screener import ShieldwallUnavailable

log = logging.getLogger("shieldwall.telegram")

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES: Final = 1024 * 1024
"""An update is a few kilobytes of JSON (the files are fetched separately)."""

UpdateHandler = Callable[[Mapping[str, Any]], bool]


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class WebhookListener:
    """An HTTP listener that hands each authentic update to `handle`, under `lock` (the
    guard's other work, following decisions, takes the same lock)."""

    def __init__(
        self,
        address: tuple[str, int],
        webhook_url: str,
        secret: str,
        handle: UpdateHandler,
        lock: threading.Lock,
    ) -> None:
        self._path = urlsplit(webhook_url).path or "/"
        self._secret = secret.encode()
        self._handle = handle
        self._lock = lock
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                status = listener._answer(self)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return  # the guard logs what happened in its own words

        server_class = _IPv6Server if ":" in address[0] else ThreadingHTTPServer
        self._server = server_class(address, Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The port listened on (useful when 0 was asked for)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, request: BaseHTTPRequestHandler) -> int:
        if urlsplit(request.path).path != self._path:
            return 404
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook request without the secret refused")
            return 401
        length = request.headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > MAX_UPDATE_BYTES:
            return 413 if length.isdigit() else 411
        try:
            update = json.loads(request.rfile.read(int(length)))
        except ValueError:
            return 400
        if not isinstance(update, dict):
            return 400
        try:
            with self._lock:
                self._handle(update)
        except (ShieldwallUnavailable, BotApiUnavailable) as exc:
            log.warning(
                "update held back: Telegram will deliver it again", extra={"reason": str(exc)}
            )
            return 503
        return 200
