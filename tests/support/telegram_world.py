"""The Telegram guard's world in tests: a real `shieldwall serve` process it screens with,
banks and cases made over the service's API, a reviewer deciding over the review API, and
guards over the Bot API stand-in (tests/support/telegram_standin.py). Benign generated
scenes only."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from shieldwall.integrations.telegram.guard import TelegramGuard
from shieldwall.integrations.telegram.runner import open_guard
from shieldwall.telegram_settings import TelegramSettings
from tests.support.cli import Cli
from tests.support.factories import report_fields, report_item
from tests.support.polling import eventually
from tests.support.server import ServerProcess
from tests.support.telegram_standin import TelegramStandIn

CONFIRM = {
    "kind": "confirm",
    "action": "remove",
    "ground": "take-it-down-act",
    "facts": "The posted image is the reported image.",
}


class ShieldwallService:
    """A real Shieldwall on a loopback port, with an admin and a reviewer key."""

    def __init__(self, home: Path) -> None:
        env = {**Cli(home).env, "SHIELDWALL_PROTECT_FILE_LIMIT": "100/100"}
        self.server = ServerProcess(env)
        self.url = self.server.url
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self._admin = {"X-API-Key": self.server.admin_key()}
        self._reviewer = {"X-API-Key": self.key("reviewer")}
        self._banks = itertools.count(1)

    def close(self) -> None:
        """Stop the server."""
        self.http.close()
        self.server.stop()
        self.server.remove_log()

    def key(self, role: str = "screener", name: str = "telegram guard") -> str:
        """A new API key of that role."""
        made = self.http.post(
            "/api/v1/keys", json={"name": name, "role": role}, headers=self._admin
        )
        assert made.status_code == 201, made.text
        token: str = made.json()["token"]
        return token

    def verdict(self, content: bytes) -> str:
        """The verdict of an admin's lookup (not recorded for sweeps: no content_ref)."""
        answer = self.http.post(
            "/api/v1/lookup",
            content=content,
            headers={**self._admin, "content-type": "application/octet-stream"},
        )
        assert answer.status_code == 200, answer.text
        verdict: str = answer.json()["verdict"]
        return verdict

    def block(self, *contents: bytes) -> None:
        """Put the contents in a new `block` bank; back once every worker blocks them."""
        name = f"known-{next(self._banks)}"
        made = self.http.post(
            "/api/v1/banks", json={"name": name, "action": "block"}, headers=self._admin
        )
        assert made.status_code == 201, made.text
        files = [("files", (f"{i}.jpg", c, "image/jpeg")) for i, c in enumerate(contents)]
        added = self.http.post(f"/api/v1/banks/{name}/files", files=files, headers=self._admin)
        assert added.status_code in (200, 201), added.text
        eventually(lambda: all(self.verdict(c) == "block" for c in contents), timeout=10)

    def report(self, content: bytes) -> None:
        """A person reports the image (its hashes, made on their device): lookups of it
        answer `review` until a reviewer decides."""
        filed = self.http.post(
            "/protect/api/cases", json=report_fields(hashes=[report_item(content)])
        )
        assert filed.status_code == 201, filed.text
        eventually(lambda: self.verdict(content) == "review", timeout=10)

    def confirm(self, item_id: int) -> None:
        """A reviewer claims the item and confirms it (remove)."""
        claimed = self.http.post(f"/api/v1/review/items/{item_id}/claim", headers=self._reviewer)
        assert claimed.status_code == 200, claimed.text
        decided = self.http.post(
            f"/api/v1/review/items/{item_id}/decisions", json=CONFIRM, headers=self._reviewer
        )
        assert decided.status_code == 200, decided.text

    def item(self, item_id: int) -> dict[str, Any]:
        """The review item as a reviewer sees it."""
        answer = self.http.get(f"/api/v1/review/items/{item_id}", headers=self._reviewer)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def copies(self, key: str) -> list[dict[str, Any]]:
        """Every known copy among the key's lookups, with its outcome."""
        answer = self.http.get(
            "/api/v1/sweeps/copies", params={"outcome": "all"}, headers={"X-API-Key": key}
        )
        assert answer.status_code == 200, answer.text
        copies: list[dict[str, Any]] = answer.json()["copies"]
        return copies


def guard_settings(
    stand_in: TelegramStandIn, shieldwall_url: str, key: str, **changes: Any
) -> TelegramSettings:
    """Settings for a guard of the stand-in's bot, screening with `key`."""
    settings = TelegramSettings(
        token=stand_in.token,
        bot_api_url=stand_in.url,
        shieldwall_url=shieldwall_url,
        shieldwall_key=key,
        poll_timeout=1,
        sync_interval=1,
    )
    return replace(settings, **changes)


@contextmanager
def started_guard(settings: TelegramSettings, state: Path) -> Iterator[TelegramGuard]:
    """A guard over its own HTTP clients, started (token checked, state loaded)."""
    with open_guard(settings, state) as guard:
        guard.start()
        yield guard
