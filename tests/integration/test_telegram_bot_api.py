"""The guard's Bot API client against the local stand-in, which these tests also hold to the
documented wire format (https://core.telegram.org/bots/api): offsets confirm and forget
updates, long polls end when an update arrives or the timeout passes, errors carry
`error_code` and `description`; and the guard's loop backs off while Telegram is away."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shieldwall.integrations.telegram.botapi import (
    BadTokenError,
    BotApi,
    BotApiError,
    BotApiUnavailable,
    FileTooLargeError,
    PollingConflictError,
)
from shieldwall.integrations.telegram.runner import Backoff, run_forever
from shieldwall.telegram_settings import TelegramSettings
from tests.support.factories import jpeg
from tests.support.polling import eventually
from tests.support.server import free_port
from tests.support.telegram_standin import BOT_ID, TelegramStandIn
from tests.support.telegram_world import guard_settings, started_guard

GROUP = -1001234567890


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def bot(stand_in: TelegramStandIn, http: httpx.Client, token: str = "") -> BotApi:
    return BotApi(token or stand_in.token, stand_in.url, http)


def test_the_wire_format_the_stand_in_speaks(stand_in: TelegramStandIn, http: httpx.Client) -> None:
    base = f"{stand_in.url}/bot{stand_in.token}"
    me = http.get(f"{base}/getme").json()  # method names are case-insensitive
    assert me["ok"] is True
    assert me["result"]["id"] == BOT_ID
    assert me["result"]["is_bot"] is True
    wrong = http.post(f"{stand_in.url}/bot{BOT_ID}:wrong/getMe")
    assert (wrong.status_code, wrong.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    unknown = http.post(f"{base}/noSuchMethod")
    assert unknown.status_code == 404
    assert unknown.json()["description"] == "Not Found"
    stand_in.post_text(GROUP, "hello")
    form = http.post(f"{base}/getUpdates", data={"offset": "0", "limit": "1"}).json()
    [update] = form["result"]
    assert update["message"]["chat"] == {"id": GROUP, "type": "supergroup", "title": "Class 3B"}
    query = http.get(f"{base}/getUpdates", params={"offset": update["update_id"] + 1}).json()
    assert query == {"ok": True, "result": []}
    assert stand_in.pending_updates() == []  # confirmed by the higher offset, then forgotten


def test_offsets_confirm_updates_and_long_polls_wait_for_the_next(
    stand_in: TelegramStandIn, http: httpx.Client
) -> None:
    api = bot(stand_in, http)
    first = stand_in.post_text(GROUP, "one")
    stand_in.post_text(GROUP, "two")
    updates = api.get_updates(None, 0, ["message"])
    assert [u["message"]["message_id"] for u in updates] == [first, first + 1]
    again = api.get_updates(None, 0, ["message"])
    assert again == updates  # not confirmed yet: the same updates again
    last = updates[-1]["update_id"]
    started = time.monotonic()
    assert api.get_updates(last + 1, 1, ["message"]) == []
    assert time.monotonic() - started >= 0.9  # the long poll's timeout
    threading.Timer(0.3, stand_in.post_text, (GROUP, "three")).start()
    started = time.monotonic()
    [news] = api.get_updates(last + 1, 10, ["message"])
    assert time.monotonic() - started < 5  # answered when the update came
    assert news["update_id"] == last + 1
    assert api.get_updates(-1, 0, ["message"]) == [news]  # a negative offset: the last ones
    stand_in.post_text(GROUP, "four")
    stand_in.post_photo(555, jpeg(1), chat_type="private")
    assert len(api.get_updates(-1, 0, ["message"])) == 1


def test_files_are_fetched_within_the_limits(stand_in: TelegramStandIn, http: httpx.Client) -> None:
    api = bot(stand_in, http)
    content = jpeg(3)
    stand_in.post_document(GROUP, content, "image/jpeg", file_name="a.jpg")
    stand_in.post_document(GROUP, b"\0" * (20 * 1024 * 1024 + 1), "image/png")
    small, big = (u["message"]["document"] for u in api.get_updates(None, 0, ["message"]))
    found = api.get_file(small["file_id"])
    assert (found.file_size, found.file_path) == (len(content), "documents/file_1.jpg")
    assert api.download(found.file_path, len(content)) == content
    with pytest.raises(FileTooLargeError):
        api.download(found.file_path, len(content) - 1)
    with pytest.raises(FileTooLargeError):
        api.get_file(big["file_id"])  # "file is too big": past the Bot API's 20 MB
    with pytest.raises(BotApiError) as missing:
        api.get_file("no-such-file")
    assert missing.value.code == 400


def test_errors_are_told_apart(stand_in: TelegramStandIn, http: httpx.Client) -> None:
    api = bot(stand_in, http)
    with pytest.raises(BadTokenError, match="401 Unauthorized"):
        bot(stand_in, http, f"{BOT_ID}:{'x' * 30}").get_me()
    posted = stand_in.post_text(GROUP, "bye")
    api.delete_message(GROUP, posted)
    with pytest.raises(BotApiError) as gone:
        api.delete_message(GROUP, posted)
    assert gone.value.message_gone
    assert gone.value.description == "Bad Request: message to delete not found"
    stand_in.fail("getUpdates", 409, "Conflict: terminated by other getUpdates request")
    with pytest.raises(PollingConflictError, match="other instance"):
        api.get_updates(None, 0, ["message"])
    stand_in.fail("sendMessage", 502, "Bad Gateway")
    with pytest.raises(BotApiUnavailable):
        api.send_message(GROUP, "hello")
    stand_in.fail("getMe", 429, "Too Many Requests: retry after 0", retry_after=0, times=6)
    with pytest.raises(BotApiUnavailable, match="flood-limited"):
        api.get_me()
    closed = BotApi(stand_in.token, f"http://127.0.0.1:{free_port()}", http)
    with pytest.raises(BotApiUnavailable, match="ConnectError"):
        closed.get_me()


def test_the_loop_backs_off_while_telegram_is_away_and_then_goes_on(
    stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    stand_in.fail("getUpdates", 502, "Bad Gateway", times=2)
    settings: TelegramSettings = guard_settings(
        stand_in, f"http://127.0.0.1:{free_port()}", "sw_unused", sync_interval=3600
    )
    stop = threading.Event()
    with started_guard(settings, tmp_path / "state.json") as guard:
        pauses = Backoff(first=0.2, most=1.0, rng=lambda: 0.5)
        loop = threading.Thread(
            target=run_forever, args=(guard, settings, stop, time.monotonic, pauses)
        )
        loop.start()
        try:
            stand_in.post_text(GROUP, "still here")
            eventually(lambda: guard.state.offset is not None, timeout=10)
        finally:
            stop.set()
            loop.join(timeout=10)
    assert not loop.is_alive()
    calls = [c.at for c in stand_in.calls_of("getUpdates")]
    assert calls[1] - calls[0] >= 0.2  # the first pause
    assert calls[2] - calls[1] >= 0.4  # doubled
