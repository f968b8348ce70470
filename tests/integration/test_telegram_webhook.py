"""The Telegram guard in webhook mode, against the local Bot API stand-in (which posts
each update to the guard's listener as Telegram does) and a real Shieldwall server: the
webhook is set with the secret, banked photos posted through it are deleted, requests
without the secret are refused unread, a held-back update is delivered again, and long
polling takes over again by deleting the webhook. Benign generated scenes only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from click.testing import CliRunner

from shieldwall.cli.main import cli
from shieldwall.integrations.telegram.guard import TelegramGuard
from shieldwall.integrations.telegram.runner import run_once, run_webhook
from shieldwall.telegram_settings import TelegramSettings
from tests.support.factories import jpeg
from tests.support.polling import eventually
from tests.support.server import free_port
from tests.support.telegram_standin import TelegramStandIn
from tests.support.telegram_world import ShieldwallService, guard_settings, started_guard

GROUP = -1001234567890
SECRET = "wh-secret_for-tests-0123456789"


def webhook_settings(stand_in: TelegramStandIn, shieldwall_url: str, key: str) -> TelegramSettings:
    port = free_port()
    return guard_settings(
        stand_in,
        shieldwall_url,
        key,
        webhook_url=f"http://127.0.0.1:{port}/telegram/updates",
        webhook_secret=SECRET,
        webhook_listen=f"127.0.0.1:{port}",
    )


@contextmanager
def guarding(settings: TelegramSettings, state: Path) -> Iterator[TelegramGuard]:
    """The guard in webhook mode, in a thread, until the block ends."""
    stop = threading.Event()
    with started_guard(settings, state) as guard:
        runner = threading.Thread(target=run_webhook, args=(guard, settings, stop))
        runner.start()
        try:
            yield guard
        finally:
            stop.set()
            runner.join(timeout=30)
            assert not runner.is_alive()


def test_updates_posted_to_the_webhook_are_screened(
    shieldwall: ShieldwallService, stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    banked = jpeg(801)
    shieldwall.block(banked)
    settings = webhook_settings(stand_in, shieldwall.url, shieldwall.key())
    with guarding(settings, tmp_path / "state.json") as guard:
        eventually(lambda: stand_in.calls_of("setWebhook"), timeout=10)
        [call] = stand_in.calls_of("setWebhook")
        assert call.params["url"] == settings.webhook_url
        assert call.params["secret_token"] == SECRET
        assert call.params["allowed_updates"] == ["message", "edited_message"]
        assert call.params["max_connections"] == 1
        benign = stand_in.post_photo(GROUP, jpeg(802))
        posted = stand_in.post_photo(GROUP, banked)
        eventually(lambda: not stand_in.exists(GROUP, posted), timeout=20, interval=0.1)
        eventually(lambda: stand_in.pending_updates() == [], timeout=10)
        assert stand_in.exists(GROUP, benign)
        assert guard.state.offset is not None
    assert stand_in.calls_of("getUpdates") == []  # no polling in this mode
    assert set(stand_in.webhook_answers) == {200}
    assert len(stand_in.sent) == 1
    # Stopping leaves the webhook set: Telegram keeps the updates until the guard is back.
    info = httpx.post(f"{stand_in.url}/bot{stand_in.token}/getWebhookInfo", timeout=10)
    assert info.json()["result"]["url"] == settings.webhook_url


def test_requests_without_the_secret_are_refused_unread(
    shieldwall: ShieldwallService, stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    banked = jpeg(803)
    shieldwall.block(banked)
    settings = webhook_settings(stand_in, shieldwall.url, shieldwall.key())
    posted = stand_in.post_photo(GROUP, banked)
    forged = {"update_id": 999_999, "message": {"message_id": 1, "chat": {"id": GROUP}}}
    with guarding(settings, tmp_path / "state.json"):
        eventually(lambda: not stand_in.exists(GROUP, posted), timeout=20, interval=0.1)
        url = settings.webhook_url
        wrong = {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}
        assert httpx.post(url, json=forged, headers=wrong, timeout=10).status_code == 401
        assert httpx.post(url, json=forged, timeout=10).status_code == 401
        right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        elsewhere = url.replace("/telegram/updates", "/other")
        assert httpx.post(elsewhere, json=forged, headers=right, timeout=10).status_code == 404
        bad = httpx.post(url, content=b"{not json", headers=right, timeout=10)
        assert bad.status_code == 400
    assert stand_in.deleted == [(GROUP, posted)]


def test_an_update_shieldwall_cannot_screen_is_delivered_again(
    stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    """Fail-open: the listener answers 503, so Telegram posts the update again later."""
    settings = webhook_settings(stand_in, f"http://127.0.0.1:{free_port()}", "sw_unused")
    with guarding(settings, tmp_path / "state.json") as guard:
        posted = stand_in.post_photo(GROUP, jpeg(804))
        eventually(lambda: stand_in.webhook_answers.count(503) >= 2, timeout=20, interval=0.1)
        assert stand_in.exists(GROUP, posted)
        assert stand_in.pending_updates() != []
        assert guard.state.offset is None


def test_long_polling_takes_over_by_deleting_the_webhook(
    shieldwall: ShieldwallService, stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    banked = jpeg(805)
    shieldwall.block(banked)
    key = shieldwall.key()
    set_before = httpx.post(
        f"{stand_in.url}/bot{stand_in.token}/setWebhook",
        json={"url": "http://127.0.0.1:9/gone", "secret_token": SECRET},
        timeout=10,
    )
    assert set_before.json()["ok"] is True
    posted = stand_in.post_photo(GROUP, banked)
    with started_guard(guard_settings(stand_in, shieldwall.url, key), tmp_path / "s") as guard:
        run_once(guard)
    assert len(stand_in.calls_of("deleteWebhook")) == 1
    assert not stand_in.exists(GROUP, posted)


def test_settings_and_the_command_check_webhook_mode(
    stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    env = {
        "SHIELDWALL_HOME": str(tmp_path),
        "SHIELDWALL_CONFIG": str(tmp_path / "absent.toml"),
        "SHIELDWALL_TELEGRAM_TOKEN": stand_in.token,
        "SHIELDWALL_TELEGRAM_BOT_API_URL": stand_in.url,
        "SHIELDWALL_TELEGRAM_SHIELDWALL_URL": "http://127.0.0.1:9",
        "SHIELDWALL_TELEGRAM_SHIELDWALL_KEY": "sw_unused",
        "SHIELDWALL_TELEGRAM_WEBHOOK_URL": "https://guard.example.org/telegram",
    }
    runner = CliRunner()
    missing = runner.invoke(cli, ["telegram-guard", "--once"], env=env)
    assert missing.exit_code != 0
    assert "telegram_webhook_secret" in str(missing.exception)
    bad = runner.invoke(
        cli, ["telegram-guard"], env={**env, "SHIELDWALL_TELEGRAM_WEBHOOK_SECRET": "no spaces!"}
    )
    assert bad.exit_code != 0
    assert "webhook_secret must be 1-256 of" in str(bad.exception)
    assert "no spaces!" not in str(bad.exception)
    once = runner.invoke(
        cli, ["telegram-guard", "--once"], env={**env, "SHIELDWALL_TELEGRAM_WEBHOOK_SECRET": SECRET}
    )
    assert once.exit_code != 0
    assert "--once reads updates by long polling" in str(once.exception)
