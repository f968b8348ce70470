"""The Telegram group guard against the local Bot API stand-in and a real Shieldwall server:
benign images stay, banked photos and image documents go with a calm notice, `review`
verdicts are queued with the chat and message ids, a later confirmation removes the copies
the guard had let through, offsets survive a restart, Telegram's 429s and 400s are handled,
and Shieldwall being down follows the fail mode. Benign generated scenes only."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from shieldwall.integrations.telegram.messages import MessageRef
from shieldwall.integrations.telegram.notices import Notice, notice_text
from shieldwall.integrations.telegram.screener import ShieldwallUnavailable
from shieldwall.telegram_settings import FailMode
from tests.support.edits import captioned, jpeg_bytes
from tests.support.factories import jpeg
from tests.support.images import scene
from tests.support.polling import eventually
from tests.support.server import free_port
from tests.support.telegram_standin import TelegramStandIn
from tests.support.telegram_world import ShieldwallService, guard_settings, started_guard

GROUP = -1001234567890
OTHER_GROUP = -1009876543210
BLOCKED = notice_text(Notice.BLOCKED, "en")
HUGE = b"\x89PNG" + bytes(20 * 1024 * 1024)


def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    scene(seed).save(buffer, "PNG")
    return buffer.getvalue()


def test_benign_images_stay_and_banked_ones_go_with_a_notice(
    shieldwall: ShieldwallService, stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    banked, edited_in = jpeg(701), jpeg(702)
    shieldwall.block(banked, edited_in)
    benign = stand_in.post_photo(GROUP, jpeg(703))
    photo = stand_in.post_photo(GROUP, banked)
    document = stand_in.post_document(GROUP, png(701), "image/png", file_name="a.png")
    pdf = stand_in.post_document(GROUP, b"%PDF-1.4 homework", "application/pdf")
    text = stand_in.post_text(GROUP, "see you tomorrow")
    private = stand_in.post_photo(555, banked, chat_type="private")
    changed = stand_in.post_photo(OTHER_GROUP, jpeg(704))
    stand_in.edit_photo(OTHER_GROUP, changed, edited_in)  # the photo replaced by a banked one
    key = shieldwall.key()
    with started_guard(guard_settings(stand_in, shieldwall.url, key), tmp_path / "s") as guard:
        assert guard.poll(0) == 8
    assert sorted(stand_in.deleted) == sorted(
        [(GROUP, photo), (GROUP, document), (OTHER_GROUP, changed)]
    )
    for kept in (benign, pdf, text):
        assert stand_in.exists(GROUP, kept)
    assert stand_in.exists(555, private)  # private chats are not the guard's
    assert [(m["chat"]["id"], m["text"]) for m in stand_in.sent] == [
        (GROUP, BLOCKED),
        (GROUP, BLOCKED),
        (OTHER_GROUP, BLOCKED),
    ]
    assert all(m["disable_notification"] is True for m in stand_in.sent)
    # Only group images were fetched, each at its largest size (never the thumbnail), once.
    fetched = [c.params["file_id"] for c in stand_in.calls_of("getFile")]
    assert len(fetched) == len(set(fetched)) == 5
    assert stand_in.downloads == fetched
    assert not set(fetched) & stand_in.thumbnails


def test_a_review_verdict_queues_an_item_naming_the_chat_and_message(
    shieldwall: ShieldwallService, stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    photo = jpeg(711)
    shieldwall.report(photo)
    posted = stand_in.post_photo(GROUP, photo)
    key = shieldwall.key()
    with started_guard(guard_settings(stand_in, shieldwall.url, key), tmp_path / "s") as guard:
        guard.poll(0)
        [(item_id, ref)] = guard.state.open_items.items()
    assert ref == f"tg:{GROUP}/{posted}"
    assert shieldwall.item(item_id)["content_ref"] == ref
    assert stand_in.exists(GROUP, posted)  # a person decides; nothing is removed before
    assert stand_in.sent == []


def test_a_confirmation_removes_the_posted_image_and_the_earlier_copies_it_let_through(
    shieldwall: ShieldwallService, stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    photo = jpeg(721)
    earlier = stand_in.post_photo(GROUP, jpeg_bytes(captioned(scene(721), 80)))
    elsewhere = stand_in.post_photo(OTHER_GROUP, photo)
    unrelated = stand_in.post_photo(GROUP, jpeg(722))
    key = shieldwall.key()
    state = tmp_path / "state.json"
    settings = guard_settings(stand_in, shieldwall.url, key)
    with started_guard(settings, state) as guard:
        assert guard.poll(0) == 3  # nothing is known yet: all allowed
    stand_in.delete_as_admin(OTHER_GROUP, elsewhere)  # an admin already removed this one
    shieldwall.report(photo)
    later = stand_in.post_photo(GROUP, photo)
    with started_guard(settings, state) as guard:
        guard.poll(0)
        [item_id] = guard.state.open_items
        shieldwall.confirm(item_id)

        def swept() -> bool:
            guard.sync()
            return not stand_in.exists(GROUP, earlier) and len(shieldwall.copies(key)) == 3

        eventually(swept, timeout=15, interval=0.3)
        guard.sync()  # the outcomes of the copies found in the last round
        assert guard.state.open_items == {}
    assert sorted(stand_in.deleted) == sorted([(GROUP, earlier), (GROUP, later)])
    assert stand_in.exists(GROUP, unrelated)
    outcomes = {c["content_ref"]: c["outcome"] for c in shieldwall.copies(key)}
    assert outcomes == {
        f"tg:{GROUP}/{earlier}": "removed",
        f"tg:{GROUP}/{later}": "removed",
        f"tg:{OTHER_GROUP}/{elsewhere}": "not_found",
    }
    assert {m["text"] for m in stand_in.sent} == {notice_text(Notice.SWEPT, "en")}
    assert {m["chat"]["id"] for m in stand_in.sent} == {GROUP}


def test_offsets_survive_a_restart_and_no_update_is_handled_twice(
    shieldwall: ShieldwallService, stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    banked = jpeg(731)
    shieldwall.block(banked)
    stand_in.post_photo(GROUP, jpeg(732))
    first = stand_in.post_photo(GROUP, banked)
    key = shieldwall.key()
    settings = guard_settings(stand_in, shieldwall.url, key)
    state = tmp_path / "state.json"
    with started_guard(settings, state) as guard:
        assert guard.poll(0) == 2
    handled = stand_in.pending_updates()
    assert len(handled) == 2  # Telegram has not been told yet: only the state file knows
    second = stand_in.post_photo(GROUP, banked)
    with started_guard(settings, state) as guard:
        assert guard.poll(0) == 1
    assert stand_in.calls_of("getUpdates")[-1].params["offset"] == handled[-1] + 1
    downloads = stand_in.downloads
    assert len(downloads) == len(set(downloads)) == 3
    assert stand_in.deleted == [(GROUP, first), (GROUP, second)]
    assert [m["text"] for m in stand_in.sent] == [BLOCKED, BLOCKED]


def test_flood_control_is_waited_out_as_telegram_asks(
    shieldwall: ShieldwallService, stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    banked = jpeg(741)
    shieldwall.block(banked)
    posted = stand_in.post_photo(GROUP, banked)
    stand_in.fail("getUpdates", 429, "Too Many Requests: retry after 1", retry_after=1)
    stand_in.fail("deleteMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    key = shieldwall.key()
    with started_guard(guard_settings(stand_in, shieldwall.url, key), tmp_path / "s") as guard:
        assert guard.poll(0) == 1
    for method in ("getUpdates", "deleteMessage"):
        refused, accepted = stand_in.calls_of(method)[:2]
        assert accepted.at - refused.at >= 1.0
    assert stand_in.deleted == [(GROUP, posted)]


def test_messages_telegram_will_not_delete_are_recorded_and_the_guard_goes_on(
    shieldwall: ShieldwallService, stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    banked = jpeg(751)
    shieldwall.block(banked)
    old = stand_in.post_photo(GROUP, banked)
    stand_in.make_undeletable(GROUP, old)
    gone = stand_in.post_photo(GROUP, banked)
    stand_in.delete_as_admin(GROUP, gone)
    fresh = stand_in.post_photo(GROUP, banked)
    key = shieldwall.key()
    with started_guard(guard_settings(stand_in, shieldwall.url, key), tmp_path / "s") as guard:
        assert guard.poll(0) == 3
        assert guard.state.refused == [MessageRef(GROUP, old).content_ref]
    assert stand_in.deleted == [(GROUP, fresh)]
    assert [m["text"] for m in stand_in.sent] == [BLOCKED]  # no notice for what did not go
    assert len(stand_in.calls_of("deleteMessage")) == 3


def test_fail_open_leaves_the_image_and_screens_it_once_shieldwall_is_back(
    shieldwall: ShieldwallService, stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    banked = jpeg(761)
    shieldwall.block(banked)
    benign = stand_in.post_photo(GROUP, jpeg(762))
    posted = stand_in.post_photo(GROUP, banked)
    huge = stand_in.post_document(GROUP, HUGE, "image/png")  # past the download limit
    key = shieldwall.key()
    state = tmp_path / "state.json"
    down = guard_settings(stand_in, f"http://127.0.0.1:{free_port()}", key)
    assert down.fail_mode is FailMode.OPEN
    with started_guard(down, state) as guard:
        with pytest.raises(ShieldwallUnavailable):
            guard.poll(0)
        assert guard.state.offset is None  # nothing confirmed: the same update comes again
    assert stand_in.exists(GROUP, posted)
    with started_guard(guard_settings(stand_in, shieldwall.url, key), state) as guard:
        assert guard.poll(0) == 3
    assert stand_in.exists(GROUP, benign)
    assert stand_in.exists(GROUP, huge)  # not screened: fail-open leaves it
    assert stand_in.deleted == [(GROUP, posted)]
    # The held photo fetched again, the banked one once, the huge document never.
    assert len(stand_in.calls_of("getFile")) == 3


def test_fail_closed_removes_what_cannot_be_checked_with_its_own_notice(
    stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    huge = stand_in.post_document(GROUP, HUGE, "image/png")
    posted = stand_in.post_photo(GROUP, jpeg(771))
    down = guard_settings(
        stand_in, f"http://127.0.0.1:{free_port()}", "sw_unused", fail_mode=FailMode.CLOSED
    )
    last = stand_in.pending_updates()[-1]
    with started_guard(down, tmp_path / "s") as guard:
        assert guard.poll(0) == 2
        assert guard.state.offset == last + 1  # handled: the next update comes next
    assert stand_in.deleted == [(GROUP, huge), (GROUP, posted)]
    assert [m["text"] for m in stand_in.sent] == [notice_text(Notice.UNCHECKED, "en")] * 2


def guard_env(
    stand_in: TelegramStandIn, shieldwall_url: str, key: str, home: Path
) -> dict[str, str]:
    return {
        **os.environ,
        "SHIELDWALL_HOME": str(home),
        "SHIELDWALL_CONFIG": str(home / "absent.toml"),
        "SHIELDWALL_TELEGRAM_TOKEN": stand_in.token,
        "SHIELDWALL_TELEGRAM_BOT_API_URL": stand_in.url,
        "SHIELDWALL_TELEGRAM_SHIELDWALL_URL": shieldwall_url,
        "SHIELDWALL_TELEGRAM_SHIELDWALL_KEY": key,
        "SHIELDWALL_TELEGRAM_POLL_TIMEOUT": "1",
        "SHIELDWALL_TELEGRAM_SYNC_INTERVAL": "1",
    }


def run_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`shieldwall telegram-guard ARGS` to its end."""
    command = [sys.executable, "-m", "shieldwall", "telegram-guard", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_the_command_guards_until_sigterm_and_never_logs_the_token_or_the_key(
    shieldwall: ShieldwallService, stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    banked = jpeg(781)
    shieldwall.block(banked)
    key = shieldwall.key()
    env = guard_env(stand_in, shieldwall.url, key, tmp_path / "home")
    log = tmp_path / "guard.log"
    with log.open("wb") as out:
        guard = subprocess.Popen(
            [sys.executable, "-m", "shieldwall", "telegram-guard", "--log-level", "debug"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            posted = stand_in.post_photo(GROUP, banked)
            eventually(lambda: not stand_in.exists(GROUP, posted), timeout=30, interval=0.1)
            eventually(lambda: len(stand_in.calls_of("getUpdates")) >= 3, timeout=10)
        finally:
            guard.send_signal(signal.SIGTERM)
            code = guard.wait(timeout=30)
    output = log.read_text()
    assert code == 0, output
    assert [m["text"] for m in stand_in.sent] == [BLOCKED]
    assert '"message": "message deleted"' in output
    assert "HTTP Request" in output  # httpx's own request lines, at debug, scrubbed
    assert stand_in.token not in output
    assert stand_in.token.split(":")[1] not in output
    assert key not in output
    saved = json.loads((tmp_path / "home" / "telegram-guard.json").read_text())
    assert saved["offset"] == stand_in.calls_of("getUpdates")[-1].params["offset"]


def test_a_refused_token_ends_the_command_with_a_clear_error(
    stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    wrong = f"{stand_in.token[:-4]}XXXX"
    env = {
        **guard_env(stand_in, "http://127.0.0.1:9", "sw_unused", tmp_path),
        "SHIELDWALL_TELEGRAM_TOKEN": wrong,
    }
    ran = run_command(env)
    assert ran.returncode == 1
    assert "error: the Telegram Bot API refused the bot token (401 Unauthorized)" in ran.stderr
    assert wrong not in ran.stderr + ran.stdout
    malformed = run_command({**env, "SHIELDWALL_TELEGRAM_TOKEN": "not a token/../getMe"})
    assert malformed.returncode == 1
    assert malformed.stderr.strip() == (
        "error: setting telegram_token is not a bot token (<bot id>:<secret>)"
    )


def test_once_handles_what_waits_and_says_when_shieldwall_is_away(
    shieldwall: ShieldwallService, stand_in: TelegramStandIn, tmp_path: Path
) -> None:
    banked = jpeg(791)
    shieldwall.block(banked)
    posted = stand_in.post_photo(GROUP, banked)
    env = guard_env(stand_in, shieldwall.url, shieldwall.key(), tmp_path)
    done = run_command(env, "--once")
    assert done.returncode == 0, done.stderr
    assert stand_in.deleted == [(GROUP, posted)]
    later = stand_in.post_photo(GROUP, banked)
    away = {**env, "SHIELDWALL_TELEGRAM_SHIELDWALL_URL": f"http://127.0.0.1:{free_port()}"}
    held = run_command(away, "--once")
    assert held.returncode == 1
    assert held.stderr.strip().splitlines()[-1] == (
        "error: Shieldwall /api/v1/lookup: ConnectError; the rest waits for the next run"
    )
    assert stand_in.exists(GROUP, later)
    again = run_command(env, "--once")
    assert again.returncode == 0, again.stderr
    assert stand_in.deleted == [(GROUP, posted), (GROUP, later)]
