"""The webhook use cases: register endpoints, publish events (one delivery per subscribed
endpoint, queued in the database so that deliveries survive a restart), deliver what is
due with signatures and retries, and let an admin inspect and replay the dead letters."""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from shieldwall.clock import Clock, utc_now
from shieldwall.errors import InvalidInputError
from shieldwall.webhooks.models import (
    MAX_URL,
    Delivery,
    DeliveryState,
    Endpoint,
    NewDelivery,
    NewEndpoint,
    RetryPolicy,
    checked_events,
)
from shieldwall.webhooks.ports import (
    DeliveryRepository,
    EndpointRepository,
    UrlCheck,
    WebhookSender,
)
from shieldwall.webhooks.signing import HEADER, signature_header

CLAIM: Final = timedelta(minutes=2)
"""How long a worker holds the deliveries it is sending (past it, another may retry)."""
BATCH: Final = 50
MAX_ERROR: Final = 300


@dataclass(frozen=True)
class Round:
    """One delivery round: how many were delivered, retried later, and given up."""

    delivered: int = 0
    retrying: int = 0
    dead: int = 0


class WebhookService:
    """Endpoints, the outbox, and its delivery."""

    def __init__(
        self,
        endpoints: EndpointRepository,
        deliveries: DeliveryRepository,
        sender: WebhookSender,
        url_check: UrlCheck,
        clock: Clock = utc_now,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._endpoints = endpoints
        self._deliveries = deliveries
        self._sender = sender
        self._url_check = url_check
        self._clock = clock
        self.policy = policy or RetryPolicy()
        self._rng = rng or random.Random()

    # Endpoints ---------------------------------------------------------------------------

    def add_endpoint(
        self, url: str, events: object, key_id: int | None = None
    ) -> tuple[Endpoint, str]:
        """Register an endpoint; its new secret is returned this once."""
        url = url.strip()
        parts = urlsplit(url)
        if len(url) > MAX_URL or parts.scheme not in ("https", "http") or not parts.hostname:
            raise InvalidInputError("the endpoint is an http(s) URL of at most 2000 characters")
        self._url_check(url)
        secret = "whsec_" + secrets.token_urlsafe(32)
        endpoint = self._endpoints.add(
            NewEndpoint(url, checked_events(events), secret, key_id, self._clock())
        )
        return endpoint, secret

    def endpoints(self) -> list[Endpoint]:
        """Every endpoint."""
        return self._endpoints.all()

    def remove_endpoint(self, endpoint_id: int) -> Endpoint:
        """Stop an endpoint hearing events (what was queued for it is still delivered)."""
        return self._endpoints.deactivate(endpoint_id)

    # Publishing --------------------------------------------------------------------------

    def publish(self, event: str, data: Mapping[str, Any], audience: int | None = None) -> int:
        """Queue `event` for every endpoint that hears it (the deployment's, and the key
        `audience`'s); how many deliveries were queued."""
        now = self._clock()
        hearing = [e for e in self._endpoints.all() if e.hears(event, audience)]
        if not hearing:
            return 0
        body = json.dumps(
            {"event": event, "created_at": now.isoformat(), "data": dict(data)},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        queued = [NewDelivery(endpoint.id, event, body, now) for endpoint in hearing]
        return len(self._deliveries.add_many(queued, now))

    # Delivering --------------------------------------------------------------------------

    def deliver_due(self, limit: int = BATCH) -> Round:
        """Send every delivery due now (up to `limit`), recording each attempt."""
        now = self._clock()
        claimed = self._deliveries.claim_due(now, now + CLAIM, limit)
        if not claimed:
            return Round()  # most rounds: the endpoints are not even read
        endpoints = {e.id: e for e in self._endpoints.all()}
        delivered = retrying = dead = 0
        for delivery in claimed:
            endpoint = endpoints.get(delivery.endpoint_id)
            if endpoint is None:
                continue
            outcome = self._attempt(endpoint, delivery)
            if outcome is DeliveryState.DELIVERED:
                delivered += 1
            elif outcome is DeliveryState.DEAD:
                dead += 1
            else:
                retrying += 1
        return Round(delivered, retrying, dead)

    def _attempt(self, endpoint: Endpoint, delivery: Delivery) -> DeliveryState:
        sent_at = self._clock()
        headers = {
            "Content-Type": "application/json",
            HEADER: signature_header([endpoint.secret], int(sent_at.timestamp()), delivery.body),
            "Shieldwall-Event": delivery.event,
            "Shieldwall-Delivery": str(delivery.id),
        }
        result = self._sender.send(endpoint.url, delivery.body, headers)
        now = self._clock()
        if result.delivered:
            self._deliveries.record_attempt(delivery.id, DeliveryState.DELIVERED, now, None, "")
            return DeliveryState.DELIVERED
        error = (result.error or f"HTTP {result.status}")[:MAX_ERROR]
        counted = replace(delivery, attempts=delivery.attempts + 1)
        retry_at = self.policy.next_attempt(counted, now, self._rng)
        state = DeliveryState.PENDING if retry_at is not None else DeliveryState.DEAD
        self._deliveries.record_attempt(delivery.id, state, now, retry_at, error)
        return state

    # The dead letters --------------------------------------------------------------------

    def deliveries(self, state: DeliveryState | None = None, limit: int = 100) -> list[Delivery]:
        """Deliveries (in that state), newest first."""
        return self._deliveries.listed(state, limit)

    def replay(self, delivery_id: int) -> Delivery:
        """Queue a dead delivery again, due now (an admin's action)."""
        return self._deliveries.revive(delivery_id, self._clock())

    def counts(self) -> dict[str, int]:
        """Deliveries by state."""
        return self._deliveries.counts()
