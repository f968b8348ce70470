"""The Telegram guard's pieces that need no server: which updates carry a group image and
which size of it, the `content_ref` that names a message, the settings (and that a bad
token is never echoed), the state file, the notices, the backoff and the log scrubber."""

from __future__ import annotations

import json
import logging
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from shieldwall.config import load_settings
from shieldwall.errors import InvalidInputError
from shieldwall.integrations.telegram.messages import MessageRef, posted_image
from shieldwall.integrations.telegram.notices import Notice, notice_text
from shieldwall.integrations.telegram.runner import Backoff, state_path
from shieldwall.integrations.telegram.state import MAX_REMEMBERED, GuardState, StateFile
from shieldwall.telegram_settings import BOT_API_DOWNLOAD_LIMIT, FailMode, TelegramSettings
from shieldwall.web.logs import JsonFormatter

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CHAT = {"id": -1001, "type": "supergroup", "title": "Class 3B"}


def size(file_id: str, width: int, height: int, file_size: int | None = None) -> dict[str, Any]:
    made: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"u{file_id}"}
    made.update(width=width, height=height)
    if file_size is not None:
        made["file_size"] = file_size
    return made


def update(message: dict[str, Any], kind: str = "message") -> dict[str, Any]:
    return {"update_id": 9, kind: {"message_id": 5, "date": 0, "chat": CHAT, **message}}


def test_the_largest_size_of_a_group_photo_is_screened() -> None:
    photo = [size("s", 90, 60, 1_000), size("l", 1280, 853, 90_000), size("m", 320, 213)]
    found = posted_image(update({"photo": photo}))
    assert found is not None
    assert (found.file_id, found.file_size, found.kind) == ("l", 90_000, "photo")
    assert found.ref == MessageRef(-1001, 5)
    edited = posted_image(update({"photo": photo}, "edited_message"))
    assert edited is not None
    assert edited.file_id == "l"


def test_image_documents_count_and_other_messages_do_not() -> None:
    document = {"file_id": "d", "file_unique_id": "ud", "mime_type": "image/PNG", "file_size": 7}
    found = posted_image(update({"document": document}))
    assert found is not None
    assert (found.file_id, found.kind) == ("d", "document")
    pdf = {**document, "mime_type": "application/pdf"}
    private = {"chat": {"id": 7, "type": "private"}, "photo": [size("p", 9, 9)]}
    channel = {"chat": {"id": -1002, "type": "channel"}, "photo": [size("c", 9, 9)]}
    for message in (
        {"document": pdf},
        {"document": {"file_id": "x"}},  # no mime type: not known to be an image
        {"text": "hi"},
        private,
        channel,
        {"photo": "not a list"},
        {"photo": [{"width": 9}]},
    ):
        assert posted_image(update(message)) is None, message
    assert posted_image({"update_id": 1, "callback_query": {}}) is None
    assert posted_image({"update_id": 1, "message": {"chat": CHAT, "message_id": "5"}}) is None


def test_content_refs_name_the_chat_and_the_message_and_nothing_else() -> None:
    ref = MessageRef(-1001234567890, 42)
    assert ref.content_ref == "tg:-1001234567890/42"
    assert MessageRef.parse(ref.content_ref) == ref
    for other in ("https://t.me/c/123/42", "tg:-1/2/3", "tg:x/2", "upload/44", "", "tg:-1/"):
        assert MessageRef.parse(other) is None


def test_settings_come_from_the_table_or_the_environment() -> None:
    settings = load_settings(
        environ={
            "SHIELDWALL_TELEGRAM_TOKEN": TOKEN,
            "SHIELDWALL_TELEGRAM_SHIELDWALL_URL": "https://shieldwall.example/",
            "SHIELDWALL_TELEGRAM_FAIL_MODE": "Closed",
            "SHIELDWALL_TELEGRAM_POLL_TIMEOUT": "50",
            "SHIELDWALL_TELEGRAM_LANGUAGE": "ko",
        }
    ).telegram
    assert settings.token == TOKEN
    assert settings.shieldwall_url == "https://shieldwall.example"
    assert (settings.fail_mode, settings.poll_timeout, settings.language) == (
        FailMode.CLOSED,
        50,
        "ko",
    )
    assert settings.max_bytes == BOT_API_DOWNLOAD_LIMIT
    assert TOKEN not in repr(settings)


def test_the_toml_table_and_its_mistakes(tmp_path: Path) -> None:
    config = tmp_path / "shieldwall.toml"
    config.write_text(
        '[shieldwall.telegram]\nshieldwall_key = "sw_k"\nsync_interval = 5\n', encoding="utf-8"
    )
    settings = load_settings(config_file=config, environ={}).telegram
    assert (settings.shieldwall_key, settings.sync_interval) == ("sw_k", 5)
    assert "sw_k" not in repr(settings)
    config.write_text("[shieldwall.telegram]\nchat = 1\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"unknown setting 'telegram\.chat'"):
        load_settings(config_file=config, environ={})
    wrong = {
        "SHIELDWALL_TELEGRAM_FAIL_MODE": "sometimes",
        "SHIELDWALL_TELEGRAM_POLL_TIMEOUT": "51",
        "SHIELDWALL_TELEGRAM_BOT_API_URL": "ftp://api.telegram.org",
        "SHIELDWALL_TELEGRAM_LANGUAGE": "fr",
        "SHIELDWALL_TELEGRAM_WEBHOOK_URL": "guard.example.org/hook",
        "SHIELDWALL_TELEGRAM_WEBHOOK_LISTEN": "8443",
        "SHIELDWALL_TELEGRAM_WEBHOOK_SECRET": "x" * 257,
    }
    for name, value in wrong.items():
        with pytest.raises(InvalidInputError, match=name.removeprefix("SHIELDWALL_").lower()):
            load_settings(environ={name: value})


def test_webhook_mode_is_chosen_by_its_url() -> None:
    polling = load_settings(environ={}).telegram
    assert not polling.uses_webhook
    assert polling.listen_address == ("127.0.0.1", 8443)
    settings = load_settings(
        environ={
            "SHIELDWALL_TELEGRAM_WEBHOOK_URL": "https://guard.example.org/telegram/",
            "SHIELDWALL_TELEGRAM_WEBHOOK_SECRET": "s3cret_-value",
            "SHIELDWALL_TELEGRAM_WEBHOOK_LISTEN": "[::1]:9000",
        }
    ).telegram
    assert settings.uses_webhook
    assert settings.webhook_url == "https://guard.example.org/telegram"
    assert settings.listen_address == ("::1", 9000)
    assert "s3cret_-value" not in repr(settings)


def test_a_malformed_token_is_refused_without_repeating_it() -> None:
    for token in ("123:short", "abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", f"{TOKEN}/../x"):
        with pytest.raises(InvalidInputError) as refused:
            load_settings(environ={"SHIELDWALL_TELEGRAM_TOKEN": token})
        assert token not in str(refused.value)
        assert "telegram_token" in str(refused.value)


def test_the_state_file_survives_a_restart_and_is_only_its_owners(tmp_path: Path) -> None:
    states = StateFile(tmp_path / "guard" / "state.json")
    assert states.load(7) == GuardState(7)
    state = GuardState(7, offset=101)
    state.remember_item(3, "tg:-1/5")
    state.remember_removed("tg:-1/6")
    state.remember_refused("tg:-1/7")
    states.save(state)
    assert states.load(7) == state
    assert stat.S_IMODE(states.path.stat().st_mode) == 0o600
    assert states.load(8) == GuardState(8)  # another bot's offsets mean nothing here
    assert [p.name for p in states.path.parent.iterdir()] == ["state.json"]
    states.path.write_text('{"version": 1, "bot_id": 7', encoding="utf-8")
    with pytest.raises(InvalidInputError, match="remove it to start afresh"):
        states.load(7)


def test_what_the_state_remembers_is_bounded() -> None:
    state = GuardState(1)
    for number in range(MAX_REMEMBERED + 5):
        state.remember_removed(f"tg:-1/{number}")
    state.remember_removed("tg:-1/7")  # seen again: not twice
    assert len(state.removed) == MAX_REMEMBERED
    assert state.removed[0] == "tg:-1/5"
    assert json.loads(json.dumps(state.as_json()))["removed"][-1] == f"tg:-1/{MAX_REMEMBERED + 4}"


def test_the_state_file_defaults_to_the_data_directory(tmp_path: Path) -> None:
    assert state_path(TelegramSettings(), tmp_path) == tmp_path / "telegram-guard.json"
    chosen = TelegramSettings(state_file="/srv/guard.json")
    assert state_path(chosen, tmp_path) == Path("/srv/guard.json")


def test_notices_are_calm_and_in_the_groups_language() -> None:
    english = notice_text(Notice.BLOCKED, "en")
    assert english.startswith("An image was removed from this chat")
    assert "without the consent" in english
    assert notice_text(Notice.BLOCKED, "es").startswith("Se ha eliminado una imagen")
    assert "삭제" in notice_text(Notice.BLOCKED, "ko")
    assert notice_text(Notice.SWEPT, "xx") == notice_text(Notice.SWEPT, "en")
    for language in ("en", "es", "ko"):
        assert len({notice_text(n, language) for n in Notice}) == len(Notice)


def test_backoff_doubles_with_jitter_up_to_its_ceiling() -> None:
    steady = Backoff(rng=lambda: 0.5)
    assert [steady.delay() for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    steady.reset()
    assert steady.delay() == 1
    assert Backoff(rng=lambda: 0.0).delay() == 0.8
    assert Backoff(rng=lambda: 1.0).delay() == 1.2


def test_the_log_scrubber_removes_the_token_and_the_key() -> None:
    formatter = JsonFormatter(secrets=(TOKEN, "sw_secret", ""))
    record = logging.makeLogRecord(
        {
            "msg": 'HTTP Request: POST %s "HTTP/1.1 200 OK"',
            "args": (f"https://api.telegram.org/bot{TOKEN}/getUpdates",),
            "key": "sw_secret",
            "chat": -1001,
        }
    )
    line = json.loads(formatter.format(record))
    assert line["message"] == (
        'HTTP Request: POST https://api.telegram.org/bot<redacted>/getUpdates "HTTP/1.1 200 OK"'
    )
    assert line["key"] == "<redacted>"
    assert line["chat"] == -1001
    try:
        raise RuntimeError(f"connect to https://api.telegram.org/bot{TOKEN}/getMe failed")
    except RuntimeError:
        failed = logging.makeLogRecord({"msg": "failed", "exc_info": sys.exc_info()})
    rendered = formatter.format(failed)
    assert "bot<redacted>/getMe" in rendered
    assert TOKEN not in rendered
