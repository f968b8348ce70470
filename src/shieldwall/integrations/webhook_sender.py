"""Webhook deliveries over HTTP, through the URL fetcher's SSRF rules (integrations/fetch.py):
an endpoint's host is resolved once per attempt, every address it resolves to is checked
(no private, loopback or link-local address unless `url_allow_private` lists the host), and
the connection goes to the checked address. Redirects are not followed: a receiver that
redirects has not taken the delivery."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import anyio
import httpx

from shieldwall.config import Settings
from shieldwall.errors import FetchError, InvalidInputError
from shieldwall.integrations.fetch import AddressPolicy, FetchTimeouts, Resolver, UrlFetcher
from shieldwall.integrations.fetch_addresses import address_refusal_reason
from shieldwall.webhooks.ports import SendResult

TIMEOUTS: Final = FetchTimeouts(connect=5.0, read=10.0, total=15.0)


class HttpWebhookSender:
    """Sends deliveries and checks endpoint URLs (the service's sender and URL check)."""

    def __init__(
        self,
        settings: Settings,
        *,
        resolver: Resolver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        address_policy: AddressPolicy = address_refusal_reason,
        timeouts: FetchTimeouts = TIMEOUTS,
    ) -> None:
        self._fetcher = UrlFetcher(
            settings,
            resolver=resolver,
            transport=transport,
            timeouts=timeouts,
            address_policy=address_policy,
        )

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        """One attempt: the endpoint's status, or 0 with the reason it could not be reached."""
        try:
            status = anyio.run(self._fetcher.post, url, body, headers)
        except FetchError as exc:
            return SendResult(0, str(exc))
        return SendResult(status, "" if 200 <= status < 300 else f"HTTP {status}")

    def __call__(self, url: str) -> None:
        """Refuse an endpoint URL the sender would refuse (InvalidInputError, with why)."""
        try:
            anyio.run(self._fetcher.vet, url)
        except FetchError as exc:
            raise InvalidInputError(f"the endpoint is refused: {exc}") from None
