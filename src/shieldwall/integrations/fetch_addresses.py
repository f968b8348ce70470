"""Which addresses URL lookups may reach: the SSRF address rules and the operator's
`url_allow_private` exceptions (integrations/fetch.py applies them to every hop)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_METADATA_ADDRESSES: Final = frozenset(
    ipaddress.ip_address(text) for text in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_SHARED_V4: Final = ipaddress.ip_network("100.64.0.0/10")
_NAT64_V6: Final = ipaddress.ip_network("64:ff9b::/96")
_UNIQUE_LOCAL_V6: Final = ipaddress.ip_network("fc00::/7")


def address_refusal_reason(address: IPAddress | str) -> str | None:
    """Why content may not be fetched from `address` (e.g. "private"), or None if it may."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if ip in _METADATA_ADDRESSES:
        return "cloud metadata"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded, kind = _embedded_ipv4(ip)
        if embedded is not None:
            reason = address_refusal_reason(embedded)
            return None if reason is None else f"{kind} {reason}"
    checks: tuple[tuple[bool, str], ...] = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip in _SHARED_V4, "shared (carrier-grade NAT)"),
        (ip in _UNIQUE_LOCAL_V6, "unique local"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "site-local"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "non-global"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address | None, str]:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), judged as that."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "IPv4-mapped"
    if ip.sixtofour is not None:
        return ip.sixtofour, "6to4"
    if ip in _NAT64_V6:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
    return None, ""


def _exact_only(ip: IPAddress) -> bool:
    """Addresses that only an exact listing unlocks: loopback, link-local, metadata, ..."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded, _ = _embedded_ipv4(ip)
        if embedded is not None and _exact_only(embedded):
            return True
    return (
        ip in _METADATA_ADDRESSES
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_multicast
    )


@dataclass(frozen=True)
class PrivateAllowance:
    """The operator's `url_allow_private`: internal names, addresses and networks to reach.

    A listed name or network allows private addresses (10.0.0.0/8, fc00::/7, ...); loopback,
    link-local, metadata, unspecified and multicast addresses are allowed only when that
    exact address is listed, never through a name (whose DNS answer may change) or a range.
    """

    names: frozenset[str] = frozenset()
    addresses: frozenset[IPAddress] = frozenset()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def parse(cls, entries: Sequence[str]) -> PrivateAllowance:
        """Sort the setting's entries into names, exact addresses and networks."""
        names: set[str] = set()
        addresses: set[IPAddress] = set()
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in entries:
            try:
                network = ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                names.add(ascii_host(entry))
                continue
            if network.num_addresses == 1:
                addresses.add(network.network_address)
            else:
                networks.append(network)
        return cls(frozenset(names), frozenset(addresses), tuple(networks))

    def allows_host(self, host: str, is_ip_literal: bool) -> bool:
        """Whether the URL's host itself is listed (as a name, or an address it covers)."""
        if not is_ip_literal:
            return host in self.names
        ip = ipaddress.ip_address(host)
        return ip in self.addresses or any(ip in network for network in self.networks)

    def refusal(self, host: str, address: IPAddress, reason: str) -> str | None:
        """Why `address` (refused by the SSRF rules for `reason`) stays refused, or None."""
        if address in self.addresses:
            return None
        if _exact_only(address):
            return (
                f"{host} resolves to {address} ({reason}): refused; only listing the exact "
                f"address {address} in url_allow_private allows it"
            )
        if host in self.names or any(address in network for network in self.networks):
            return None
        return (
            f"{host} resolves to {address} ({reason}): refused; list the host or its "
            "network in url_allow_private to allow it"
        )


def ascii_host(entry: str) -> str:
    """An allow-list entry as URL hosts are compared: lower case, IDNA, no trailing dot."""
    try:
        host = httpx.URL(f"http://{entry.strip()}/").raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError):
        host = entry.strip().lower()
    return host.rstrip(".")
