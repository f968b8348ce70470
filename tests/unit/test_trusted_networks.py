"""Trusted client networks: parsing the setting and choosing the key for an address."""

from __future__ import annotations

from pathlib import Path

import pytest

from shieldwall.access.models import Role
from shieldwall.access.networks import (
    FIRST_NETWORK_KEY_ID,
    parse_trusted_networks,
    trusted_key,
)
from shieldwall.config import load_settings
from shieldwall.errors import InvalidInputError


def role_at(setting: str, host: str | None) -> str | None:
    key = trusted_key(parse_trusted_networks(setting), host)
    if key is None:
        return None
    return key.role.value + ("+details" if key.see_details else "")


def test_entries_become_one_key_each_with_ids_storage_never_gives() -> None:
    wide, narrow = sorted(
        parse_trusted_networks("10.0.0.0/8=screener, 10.7.0.0/16 = Curator"),
        key=lambda entry: entry.network.prefixlen,
    )
    assert (str(wide.network), wide.key.role, wide.key.id) == (
        "10.0.0.0/8",
        Role.SCREENER,
        FIRST_NETWORK_KEY_ID,
    )
    assert (str(narrow.network), narrow.key.role) == ("10.7.0.0/16", Role.CURATOR)
    assert narrow.key.id == FIRST_NETWORK_KEY_ID - 1
    assert narrow.key.name == "network 10.7.0.0/16"
    assert parse_trusted_networks(["192.168.1.5=screener+details"])[0].key.sees_details
    assert parse_trusted_networks("") == ()


@pytest.mark.parametrize(
    ("host", "role"),
    [
        ("10.7.3.4", "curator"),  # the narrower network wins, whatever the order
        ("10.8.0.1", "screener"),
        ("::ffff:10.7.3.4", "curator"),  # an IPv4 client on an IPv6 socket
        ("11.0.0.1", None),
        ("fd00::1", "screener+details"),
        ("testclient", None),
        (None, None),
    ],
)
def test_the_most_specific_listed_network_decides(host: str | None, role: str | None) -> None:
    setting = "10.0.0.0/8=screener,10.7.0.0/16=curator,fd00::/8=screener+details"
    assert role_at(setting, host) == role


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.8.8", "::1", "::ffff:127.0.0.1"])
def test_loopback_is_trusted_only_where_named(host: str) -> None:
    assert role_at("0.0.0.0/0=curator,::/0=curator", host) is None
    assert role_at("127.0.0.0/8=screener,::1=screener", host) == "screener"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("10.0.0.0/8", "expected NETWORK=ROLE"),
        ("10.0.0.300/8=curator", "is not an address or network"),
        ("10.0.0.0/8=root", "unknown role 'root'"),
        ("media.internal=curator", "is not an address or network"),
    ],
)
def test_mistakes_fail_at_load_naming_the_setting(
    tmp_path: Path, setting: str, message: str
) -> None:
    environ = {"SHIELDWALL_HMA_TRUSTED_NETWORKS": setting}
    with pytest.raises(InvalidInputError, match=message) as error:
        load_settings(tmp_path / "absent.toml", environ)
    assert "hma_trusted_networks" in str(error.value)


def test_settings_hold_the_parsed_networks(tmp_path: Path) -> None:
    config = tmp_path / "shieldwall.toml"
    config.write_text('hma_trusted_networks = ["10.0.0.0/8=curator"]\n', encoding="utf-8")
    [entry] = load_settings(config, {}).hma_trusted_networks
    assert (str(entry.network), entry.key.role) == ("10.0.0.0/8", Role.CURATOR)
    assert load_settings(tmp_path / "absent.toml", {}).hma_trusted_networks == ()
    config.write_text("hma_trusted_networks = 10\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="hma_trusted_networks"):
        load_settings(config, {})
