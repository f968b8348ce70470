"""The Synapse module's parts that need no Synapse: its configuration, Shieldwall's
webhook signatures as the module checks them, and the references it gives uploads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from shieldwall_synapse.config import ConfigError, parse
from shieldwall_synapse.refs import (
    Media,
    content_ref,
    media_in_event,
    media_of,
    remote_media_of,
    sender_of,
)
from shieldwall_synapse.signing import verified

from shieldwall.webhooks.signing import signature_header

MINIMAL: dict[str, Any] = {"shieldwall_url": "https://shieldwall.example.org/", "api_key": "sw_x"}


def test_the_defaults_screen_for_three_seconds_and_fail_open() -> None:
    config = parse(MINIMAL)
    assert config.shieldwall_url == "https://shieldwall.example.org"
    assert (config.timeout, config.fail_open, config.max_bytes) == (3.0, True, 20 * 1024 * 1024)
    assert config.queue_reviews
    assert config.screen_remote_media
    assert config.quarantine
    assert not config.takes_down  # no webhook secret: nothing is taken down


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"shieldwall_url": None}, "shieldwall_url: required"),
        ({"shieldwall_url": "ftp://x"}, "shieldwall_url: an http(s) URL"),
        ({"api_key": None}, "api_key (or api_key_path): required"),
        ({"api_key_path": "/k"}, "not both"),
        ({"failure_mode": "maybe"}, "failure_mode"),
        ({"timeout": 0}, "timeout: a number from 0.1 to 60"),
        ({"timeout": True}, "timeout"),
        ({"max_bytes": -1}, "max_bytes"),
        ({"queue_reviews": "yes"}, "queue_reviews: true or false"),
        ({"webhook_path": "/_matrix/x"}, "webhook_path"),
        ({"redact_as": "moderator"}, "redact_as"),
        ({"shieldwall_ur1": "typo"}, "unknown option(s): shieldwall_ur1"),
    ],
)
def test_a_mistake_in_the_configuration_is_named(changes: dict[str, Any], complaint: str) -> None:
    raw = {key: value for key, value in {**MINIMAL, **changes}.items() if value is not None}
    with pytest.raises(ConfigError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        parse(raw)


def test_secrets_in_files_are_read_when_used(tmp_path: Path) -> None:
    token = tmp_path / "token"
    config = parse({**MINIMAL, "admin_access_token_path": str(token), "failure_mode": "closed"})
    assert config.admin_token is not None
    assert not config.fail_open
    with pytest.raises(ConfigError, match="cannot read"):
        config.admin_token.read()
    token.write_text("  syt_admin\n", encoding="utf-8")
    assert config.admin_token.read() == "syt_admin"
    token.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is empty"):
        config.admin_token.read()


def test_the_module_accepts_shieldwall_signatures_only_fresh_and_intact() -> None:
    body = b'{"event":"sweep.copies","data":{}}'
    header = signature_header(["old", "current"], 1_800_000_000, body)
    assert verified(header, "current", body, 300, now=1_800_000_100)
    assert verified(header, "old", body, 300, now=1_800_000_100)  # during a rotation
    assert not verified(header, "current", body + b" ", 300, now=1_800_000_100)
    assert not verified(header, "wrong", body, 300, now=1_800_000_100)
    assert not verified(header, "current", body, 300, now=1_800_000_301)  # replayed later
    assert not verified("v1=abc", "current", body, 300, now=1_800_000_000)
    assert not verified("", "current", body, 300)


def test_references_name_the_media_and_the_uploader() -> None:
    ref = content_ref(Media("example.org", "AbC-12_x"), "@alice:example.org")
    assert ref == "mxc://example.org/AbC-12_x#sender=@alice:example.org"
    assert media_of(ref) == Media("example.org", "AbC-12_x")
    assert sender_of(ref) == "@alice:example.org"
    assert media_of("mxc://[::1]:8448/id") == Media("[::1]:8448", "id")
    assert media_of("https://example.org/p/1") is None
    assert media_of("mxc://example.org/") is None
    assert sender_of("mxc://example.org/x") is None


def test_remote_media_are_named_from_the_download_that_fetched_them() -> None:
    for path in (
        "/_matrix/client/v1/media/download/remote.org/xyz",
        "/_matrix/media/v3/download/remote.org/xyz/name.jpg?allow_redirect=true",
        "/_matrix/media/r0/thumbnail/remote.org/xyz?width=32&height=32",
    ):
        assert remote_media_of(path) == ("remote.org", "xyz")
    assert remote_media_of("/_matrix/media/v3/upload") is None
    assert remote_media_of(None) is None


def test_the_media_an_event_posts_are_its_file_and_thumbnail() -> None:
    content = {
        "msgtype": "m.image",
        "url": "mxc://example.org/full",
        "info": {"thumbnail_url": "mxc://example.org/thumb"},
    }
    assert media_in_event(content) == ["mxc://example.org/full", "mxc://example.org/thumb"]
    assert media_in_event({"msgtype": "m.text", "body": "mxc://example.org/x"}) == []
    assert media_in_event({"url": "https://example.org/x"}) == []
    assert media_in_event(None) == []
