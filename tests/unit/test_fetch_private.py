"""`url_allow_private`: internal hosts and networks an operator lets URL lookups reach."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from pathlib import Path

import pytest

from shieldwall.config import Settings, load_settings
from shieldwall.errors import InvalidInputError
from shieldwall.integrations.fetch_addresses import PrivateAllowance
from tests.unit.test_fetch import ON, FakeDns, fetch, refused

pytestmark = pytest.mark.anyio

MEDIA_STORE = replace(ON, url_allow_private=("10.1.2.0/24", "media.internal", "127.0.0.1"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_listed_network_is_reachable_and_its_neighbours_are_not() -> None:
    dns = FakeDns({"store.corp": ["10.1.2.7"], "other.corp": ["10.1.3.7"]})
    body, recorder, _ = await fetch("http://store.corp/a.jpg", settings=MEDIA_STORE, dns=dns)
    assert body == b"image bytes"
    assert recorder.requests[0].url.host == "10.1.2.7"  # still pinned to the checked address
    error = await refused("http://other.corp/a.jpg", settings=MEDIA_STORE, dns=dns)
    assert str(error) == (
        "other.corp resolves to 10.1.3.7 (private): refused; list the host or its network "
        "in url_allow_private to allow it"
    )
    literal, _, _ = await fetch("http://10.1.2.200/x", settings=MEDIA_STORE, dns=dns)
    assert literal == b"image bytes"


async def test_a_listed_name_reaches_its_private_addresses() -> None:
    dns = FakeDns(
        {"media.internal": ["192.168.7.7", "fd00::7"], "cdn.media.internal": ["10.9.9.9"]}
    )
    body, _, _ = await fetch("http://Media.Internal./p.png", settings=MEDIA_STORE, dns=dns)
    assert body == b"image bytes"
    # A name is exact: its subdomains are not listed with it.
    error = await refused("http://cdn.media.internal/p.png", settings=MEDIA_STORE, dns=dns)
    assert "10.9.9.9 (private): refused" in str(error)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.2", "loopback"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.10.10", "link-local"),
        ("::ffff:127.0.0.2", "IPv4-mapped loopback"),
        ("0.0.0.0", "unspecified"),
    ],
)
async def test_a_name_never_unlocks_loopback_link_local_or_metadata(
    address: str, reason: str
) -> None:
    """DNS for a listed name may change (rebinding): only an exact address unlocks these."""
    dns = FakeDns({"media.internal": [address]})
    settings = replace(MEDIA_STORE, url_allow_private=(*MEDIA_STORE.url_allow_private, "0.0.0.0/0"))
    error = await refused("http://media.internal/p.png", settings=settings, dns=dns)
    assert f"({reason}): refused; only listing the exact address" in str(error)


async def test_an_exactly_listed_loopback_address_is_reachable() -> None:
    body, _, _ = await fetch("http://127.0.0.1:8080/p.png", settings=MEDIA_STORE)
    assert body == b"image bytes"
    error = await refused("http://127.0.0.2/p.png", settings=MEDIA_STORE)
    assert "only listing the exact address 127.0.0.2 in url_allow_private" in str(error)
    error = await refused("http://localhost/p.png", settings=MEDIA_STORE)
    assert "loopback name" in str(error)


async def test_listed_hosts_pass_a_host_allow_list_too() -> None:
    settings = replace(MEDIA_STORE, url_allow_hosts=("partner.example",))
    dns = FakeDns({"media.internal": ["10.20.0.1"], "example.com": ["93.184.216.34"]})
    body, _, _ = await fetch("http://media.internal/p.png", settings=settings, dns=dns)
    assert body == b"image bytes"
    error = await refused("http://example.com/p.png", settings=settings, dns=dns)
    assert "not on this server's list of allowed hosts" in str(error)


async def test_lookups_stay_off_whatever_is_listed() -> None:
    settings = Settings(url_allow_private=("10.0.0.0/8",))
    error = await refused("http://10.0.0.1/p.png", settings=settings)
    assert str(error) == "URL lookups are disabled on this server"


def test_entries_sort_into_names_addresses_and_networks() -> None:
    allowance = PrivateAllowance.parse(["10.1.2.0/24", "Media.Internal", "fd00::1/128", "::1"])
    assert allowance.names == frozenset({"media.internal"})
    assert allowance.addresses == {ipaddress.ip_address("fd00::1"), ipaddress.ip_address("::1")}
    assert allowance.networks == (ipaddress.ip_network("10.1.2.0/24"),)


def test_the_setting_is_read_from_the_environment_and_checked(tmp_path: Path) -> None:
    settings = load_settings(
        config_file=tmp_path / "absent.toml",
        environ={"SHIELDWALL_URL_ALLOW_PRIVATE": "10.1.2.0/24, media.internal"},
    )
    assert settings.url_allow_private == ("10.1.2.0/24", "media.internal")
    with pytest.raises(InvalidInputError, match="is not a network"):
        load_settings(
            config_file=tmp_path / "absent.toml",
            environ={"SHIELDWALL_URL_ALLOW_PRIVATE": "10.1.2.0/33"},
        )
