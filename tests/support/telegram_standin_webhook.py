"""The webhook half of the Bot API stand-in (tests/support/telegram_standin.py):
`setWebhook` (`url`, `secret_token`, `allowed_updates`), `deleteWebhook`,
`getWebhookInfo` (`url`, `pending_update_count`), and the delivery Telegram makes while a
webhook is set: each update POSTed as JSON to the URL, one at a time, with the secret in
`X-Telegram-Bot-Api-Secret-Token`, and posted again (after `redelivery` seconds) until
the answer is a 2xx (https://core.telegram.org/bots/api#setwebhook)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.telegram_standin import _World


class WebhookMethods:
    """Mixed into the stand-in, which holds the world, its lock and the settings below."""

    _world: _World
    _lock: threading.Condition
    redelivery: float
    webhook_answers: list[int]

    def _m_setwebhook(self, params: dict[str, Any]) -> tuple[int, Any]:
        url = str(params.get("url", ""))
        if not url.startswith(("http://", "https://")):
            return 400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
        with self._lock:
            if "allowed_updates" in params:
                allowed = params["allowed_updates"]
                self._world.allowed = list(
                    json.loads(allowed) if isinstance(allowed, str) else allowed
                )
            self._world.webhook = {"url": url, "secret": str(params.get("secret_token", ""))}
            self._lock.notify_all()
        threading.Thread(target=self._deliver, args=(url,), daemon=True).start()
        return 200, True

    def _m_deletewebhook(self, params: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            self._world.webhook = {}
            if str(params.get("drop_pending_updates", "")).lower() == "true":
                self._world.updates = []
            self._lock.notify_all()
        return 200, True

    def _m_getwebhookinfo(self, _params: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            url = self._world.webhook.get("url", "")
            return 200, {"url": url, "pending_update_count": len(self._world.updates)}

    def _deliver(self, url: str) -> None:
        """POST the updates to the webhook one at a time while it stays set to `url`."""
        while True:
            with self._lock:
                while self._world.webhook.get("url") == url and not self._world.updates:
                    self._lock.wait(1.0)
                if self._world.webhook.get("url") != url:
                    return
                update, secret = self._world.updates[0], self._world.webhook["secret"]
            status = _post_json(url, update, {"X-Telegram-Bot-Api-Secret-Token": secret})
            with self._lock:
                self.webhook_answers.append(status)
                if 200 <= status < 300 and self._world.updates[:1] == [update]:
                    self._world.updates.pop(0)
            if not 200 <= status < 300:
                time.sleep(self.redelivery)


def _post_json(url: str, body: dict[str, Any], headers: dict[str, str]) -> int:
    """POST `body` as JSON; the answer's status (0 when nothing answered)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)
    except OSError:
        return 0
