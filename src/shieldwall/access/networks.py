"""Trusted client networks: HMA clients that can only set a base URL, known by address.

ROOST Coop and the atproto-hma bridge send no key. Where they run on an internal network,
the operator may map that network to a role (`10.0.0.0/8=curator`): a request from it that
carries no key acts, on the HMA routes only, as a key of that role, one per listed network
(its own rate bucket; audit records carry its id, counted down from the largest id storage
holds, so no stored key has it). A key the request does carry always wins. Loopback
addresses are trusted only by an entry that names loopback itself (`127.0.0.1=screener`):
a reverse proxy on the same host makes every client look like loopback, and a wide entry
such as `::/0` must not trust the whole internet through it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from shieldwall.access.models import ApiKey, Role
from shieldwall.errors import InvalidInputError

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
DETAILS_SUFFIX: Final = "+details"
"""`=screener+details`: the role with `see_details` (HMA lookups answer only such keys)."""
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
FIRST_NETWORK_KEY_ID: Final = 2**63 - 1
"""The first listed network's key id (the next is one less): stored keys count up from 1."""


@dataclass(frozen=True)
class TrustedNetwork:
    """Clients in `network` that send no key act as `key` on the HMA routes."""

    network: IpNetwork
    key: ApiKey


def _entry(position: int, text: str) -> TrustedNetwork:
    where, separator, role_text = text.partition("=")
    if not separator:
        raise InvalidInputError(f"{text!r}: expected NETWORK=ROLE, e.g. 10.0.0.0/8=curator")
    try:
        network = ipaddress.ip_network(where.strip(), strict=False)
    except ValueError:
        raise InvalidInputError(f"{where.strip()!r} is not an address or network") from None
    role_name = role_text.strip().lower()
    details = role_name.endswith(DETAILS_SUFFIX)
    role_name = role_name.removesuffix(DETAILS_SUFFIX)
    try:
        role = Role(role_name)
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise InvalidInputError(f"unknown role {role_name!r} (known: {known})") from None
    key = ApiKey(FIRST_NETWORK_KEY_ID - position, f"network {network}", role, details, "", _EPOCH)
    return TrustedNetwork(network, key)


def parse_trusted_networks(value: str | Sequence[str]) -> tuple[TrustedNetwork, ...]:
    """`"10.0.0.0/8=screener+details,192.168.4.7=curator"` (or a list of such entries).

    Ordered most specific first, so a narrower network's role wins over a wider one's."""
    items = value.split(",") if isinstance(value, str) else list(value)
    texts = [str(item).strip() for item in items if str(item).strip()]
    entries = [_entry(position, text) for position, text in enumerate(texts)]
    return tuple(sorted(entries, key=lambda entry: -entry.network.prefixlen))


def trusted_key(networks: Sequence[TrustedNetwork], host: str | None) -> ApiKey | None:
    """The key a keyless client at `host` acts as, or None (not listed, or not an address)."""
    if not networks or not host:
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for entry in networks:
        if address.is_loopback and not entry.network.is_loopback:
            continue  # loopback only where it is named
        if address.version == entry.network.version and address in entry.network:
            return entry.key
    return None
