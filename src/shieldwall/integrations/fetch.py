"""Fetch content by URL for lookups without letting callers reach internal networks (SSRF).

Each hop's host is resolved once, every address is checked, and the connection goes to
that checked address (the URL is rewritten to the IP) while the original name is sent as
the Host header and used for TLS SNI and certificate checks, so a second DNS answer
(rebinding) can never redirect the connection. Redirects are followed by hand and each
hop is checked again; the body is read as a stream under the byte limit.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import anyio
import anyio.to_thread
import httpx

from shieldwall.config import Settings
from shieldwall.errors import FetchError, MediaTooLargeError
from shieldwall.integrations.fetch_addresses import (
    IPAddress,
    PrivateAllowance,
    address_refusal_reason,
    ascii_host,
)

__all__ = [
    "DISABLED_MESSAGE",
    "DisabledFetcher",
    "FetchTimeouts",
    "IPAddress",
    "UrlFetcher",
    "address_refusal_reason",  # re-exported from its home, integrations/fetch_addresses.py
    "fetch_url",
    "system_resolver",
]

AddressPolicy = Callable[[IPAddress], str | None]

DISABLED_MESSAGE: Final = "URL lookups are disabled on this server"
MAX_REDIRECTS: Final = 3
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_SCHEMES: Final = frozenset({"http", "https"})
_METADATA_NAMES: Final = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_LABEL: Final = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME: Final = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_NUMERIC_LABEL: Final = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")
_HEADERS: Final = {
    "User-Agent": "shieldwall-url-lookup",
    "Accept": "*/*",
    # Compressed bodies would be inflated past what the byte limit counted on the wire.
    "Accept-Encoding": "identity",
}


class Resolver(Protocol):
    """Turns a host name into the addresses to connect to (IP strings)."""

    async def __call__(self, host: str, port: int) -> Sequence[str]: ...


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the system's getaddrinfo in a worker thread; addresses in its order."""
    lookup = functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    infos = await anyio.to_thread.run_sync(lookup, abandon_on_cancel=True)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class FetchTimeouts:
    """Seconds allowed to connect, between reads, and for the whole fetch with redirects."""

    connect: float = 5.0
    read: float = 10.0
    total: float = 20.0


@dataclass(frozen=True)
class _Target:
    """One checked hop: the URL as given, its ASCII host and the Host header to send."""

    url: httpx.URL
    host: str
    port: int
    host_header: str
    is_ip_literal: bool


def _parse_target(
    url: httpx.URL | str, allow_hosts: Sequence[str], allowance: PrivateAllowance
) -> _Target:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise FetchError("not a valid URL") from None
    if parsed.scheme not in _SCHEMES:
        shown = parsed.scheme or "(none)"
        raise FetchError(f"only http and https URLs can be fetched, not scheme {shown}")
    if parsed.userinfo:
        raise FetchError("URLs with a user name or password are refused")
    host = parsed.raw_host.decode("ascii").lower().rstrip(".")
    port = (443 if parsed.scheme == "https" else 80) if parsed.port is None else parsed.port
    if not 1 <= port <= 65535:
        raise FetchError(f"port {port} is not a valid port")
    is_ip_literal = _is_ip_literal(host)
    if not is_ip_literal:
        _check_host_name(host)
    if not allowance.allows_host(host, is_ip_literal):  # listed internal hosts are allowed
        _check_allow_list(host, is_ip_literal, allow_hosts)
    shown_host = f"[{host}]" if ":" in host else host
    host_header = shown_host if parsed.port is None else f"{shown_host}:{port}"
    return _Target(parsed.copy_with(fragment=None), host, port, host_header, is_ip_literal)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _check_host_name(host: str) -> None:
    # Names like 2130706433 or 0x7f.1 are IPv4 addresses to getaddrinfo: refuse the disguise.
    last_label = host.rsplit(".", 1)[-1]
    if len(host) > 253 or not _HOST_NAME.fullmatch(host) or _NUMERIC_LABEL.fullmatch(last_label):
        raise FetchError("the URL has no valid host name")
    if host in _METADATA_NAMES:
        raise FetchError(f"{host} is a cloud metadata service and is refused")
    if host == "localhost" or host.endswith(".localhost"):
        raise FetchError(f"{host} is a loopback name and is refused")


def _check_allow_list(host: str, is_ip_literal: bool, allow_hosts: Sequence[str]) -> None:
    if not allow_hosts:
        return
    for allowed in (ascii_host(entry) for entry in allow_hosts):
        if allowed and (host == allowed or (not is_ip_literal and host.endswith("." + allowed))):
            return
    raise FetchError(f"{host} is not on this server's list of allowed hosts")


class UrlFetcher:
    """The ContentFetcher of a server: fetches each URL under the SSRF rules.

    `resolver`, `transport`, `address_policy` and `timeouts` are for tests."""

    def __init__(
        self,
        settings: Settings,
        *,
        resolver: Resolver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: FetchTimeouts = FetchTimeouts(),
        address_policy: AddressPolicy = address_refusal_reason,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        self._settings = settings
        self._resolver: Resolver = resolver or system_resolver
        self._transport = transport
        self._timeouts = timeouts
        self._policy = address_policy
        self._max_redirects = max_redirects
        self._allowance = PrivateAllowance.parse(settings.url_allow_private)

    async def fetch(self, url: str) -> bytes:
        """The content at `url`, or FetchError / MediaTooLargeError with a one-line reason."""
        if not self._settings.url_lookups:
            raise FetchError(DISABLED_MESSAGE)
        try:
            with anyio.fail_after(self._timeouts.total):
                if self._transport is not None:
                    return await self._follow(url, self._transport)
                # No kept-alive connections: each hop connects afresh with its own SNI.
                limits = httpx.Limits(max_keepalive_connections=0)
                async with httpx.AsyncHTTPTransport(limits=limits, trust_env=False) as owned:
                    return await self._follow(url, owned)
        except TimeoutError:
            raise FetchError(
                f"fetching the URL took longer than {self._timeouts.total:g} s"
            ) from None

    async def vet(self, url: str) -> None:
        """Refuse (FetchError) a URL that `post` would refuse: its scheme, host, or any
        address its host resolves to now."""
        await self._vetted_addresses(_parse_target(url, (), self._allowance))

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body` to `url` under the same SSRF rules (its host resolved once, every
        address checked, the connection pinned to it; the lookups' host allow-list does
        not apply); redirects are not followed. The status; FetchError if no answer came."""
        target = _parse_target(url, (), self._allowance)
        try:
            with anyio.fail_after(self._timeouts.total):  # the resolution counts too
                addresses = await self._vetted_addresses(target)
                limits = httpx.Limits(max_keepalive_connections=0)
                async with httpx.AsyncHTTPTransport(limits=limits, trust_env=False) as owned:
                    transport = self._transport or owned
                    request_headers = {"User-Agent": "shieldwall-webhook", **headers}
                    response = await self._connect(
                        transport, target, addresses, "POST", body, request_headers
                    )
                    with anyio.CancelScope(shield=True):
                        await response.aclose()
                    return response.status_code
        except TimeoutError:
            raise FetchError(f"{target.host} did not answer in time") from None

    async def _follow(self, url: str, transport: httpx.AsyncBaseTransport) -> bytes:
        location: httpx.URL | str = url
        for hop in range(self._max_redirects + 1):
            try:
                target = _parse_target(location, self._settings.url_allow_hosts, self._allowance)
                addresses = await self._vetted_addresses(target)
            except FetchError as exc:
                if hop == 0:
                    raise
                raise FetchError(f"redirect refused: {exc}") from None
            response = await self._connect(transport, target, addresses)
            try:
                if response.status_code in _REDIRECTS:
                    location = self._redirect_location(target, response)
                    continue
                if not 200 <= response.status_code < 300:
                    raise _status_error(target, response.status_code)
                return await self._read_capped(target, response)
            finally:
                # Shielded: a deadline that fires mid-read must still close the socket.
                with anyio.CancelScope(shield=True):
                    await response.aclose()
        raise FetchError(f"the URL redirected more than {self._max_redirects} times")

    async def _vetted_addresses(self, target: _Target) -> list[IPAddress]:
        """Resolve once; refuse the host if any address it resolves to is refused."""
        if target.is_ip_literal:
            texts: Sequence[str] = [target.host]
        else:
            try:
                texts = await self._resolver(target.host, target.port)
            except (OSError, UnicodeError):
                raise FetchError(f"cannot resolve {target.host}") from None
        addresses: list[IPAddress] = []
        for text in texts:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                raise FetchError(f"{target.host} resolved to an unusable address") from None
            reason = self._policy(address)
            if reason is not None:
                refusal = self._allowance.refusal(target.host, address, reason)
                if refusal is not None:
                    raise FetchError(refusal)
            addresses.append(address)
        if not addresses:
            raise FetchError(f"cannot resolve {target.host}")
        return addresses

    async def _connect(
        self,
        transport: httpx.AsyncBaseTransport,
        target: _Target,
        addresses: list[IPAddress],
        method: str = "GET",
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send the request to the first checked address that accepts a connection."""
        for position, address in enumerate(addresses, start=1):
            request = self._request(target, address, method, body, headers)
            try:
                response = await transport.handle_async_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if position < len(addresses):
                    continue  # e.g. an IPv6 address on a host without IPv6: try the next
                raise _transport_error(target, exc) from None
            except httpx.HTTPError as exc:
                raise _transport_error(target, exc) from None
            response.request = request
            return response
        raise FetchError(f"cannot resolve {target.host}")

    def _request(
        self,
        target: _Target,
        address: IPAddress,
        method: str = "GET",
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        """A request to the pinned address, naming the original host in Host and TLS SNI."""
        connect, read = self._timeouts.connect, self._timeouts.read
        timeout = {"connect": connect, "read": read, "write": read, "pool": connect}
        extensions: dict[str, object] = {"timeout": timeout}
        if not target.is_ip_literal:
            # httpcore gives this to TLS as server_hostname: the SNI and the name the
            # certificate must match, while the TCP connection goes to `address`.
            extensions["sni_hostname"] = target.host
        pinned = target.url.copy_with(host=str(address))
        sent = {**_HEADERS, **(headers or {}), "Host": target.host_header}
        content = body if method != "GET" else None
        return httpx.Request(method, pinned, headers=sent, content=content, extensions=extensions)

    def _redirect_location(self, target: _Target, response: httpx.Response) -> httpx.URL:
        location = response.headers.get("location", "").strip()
        if not location:
            raise FetchError(f"{target.host} sent a redirect without a location")
        try:
            return target.url.join(location)
        except (httpx.InvalidURL, TypeError, ValueError):
            raise FetchError(f"{target.host} sent a redirect to an invalid URL") from None

    async def _read_capped(self, target: _Target, response: httpx.Response) -> bytes:
        """The body, refused as soon as it is known to be over the byte limit."""
        limit = self._settings.media.max_bytes
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise MediaTooLargeError(
                f"content is {int(declared)} bytes, over the limit of {limit} bytes"
            )
        body = bytearray()
        try:
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    raise MediaTooLargeError(f"content is over the limit of {limit} bytes")
        except httpx.HTTPError as exc:
            raise _transport_error(target, exc) from None
        return bytes(body)


def _status_error(target: _Target, status: int) -> FetchError:
    """The final answer was not 2xx: name the status (our own phrase, not the server's)."""
    phrase = httpx.codes.get_reason_phrase(status)
    return FetchError(f"{target.host} answered HTTP {status} {phrase}".rstrip())


def _transport_error(target: _Target, exc: httpx.HTTPError) -> FetchError:
    """One line naming the host and what went wrong; never any part of a response body."""
    if isinstance(exc, httpx.ConnectTimeout):
        return FetchError(f"connecting to {target.host} timed out")
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(f"{target.host} did not answer in time")
    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return FetchError(f"cannot connect to {target.host}: {detail}")
    return FetchError(f"fetching from {target.host} failed: {detail}")


class DisabledFetcher:
    """The ContentFetcher while URL lookups are off: every URL is refused, saying so."""

    async def fetch(self, url: str) -> bytes:
        """Never fetches: FetchError naming the setting that is off."""
        raise FetchError(DISABLED_MESSAGE)


async def fetch_url(
    url: str,
    settings: Settings,
    *,
    resolver: Resolver | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> bytes:
    """The content at `url` if URL lookups are on and every hop passes the SSRF checks."""
    fetcher = UrlFetcher(settings, resolver=resolver, transport=transport)
    return await fetcher.fetch(url)
