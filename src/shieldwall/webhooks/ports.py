"""What webhooks need from outside: storage for endpoints and deliveries, and a sender.
Adapters: memory (webhooks/memory.py), SQL (storage/webhook_repositories.py), the
SSRF-safe HTTP sender (integrations/webhook_sender.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shieldwall.webhooks.models import Delivery, DeliveryState, Endpoint, NewDelivery, NewEndpoint


class EndpointRepository(Protocol):
    """Registered endpoints. Errors are ShieldwallErrors."""

    def add(self, endpoint: NewEndpoint) -> Endpoint:
        """Store a new endpoint."""
        ...

    def all(self) -> list[Endpoint]:
        """Every endpoint, by id."""
        ...

    def get(self, endpoint_id: int) -> Endpoint:
        """An endpoint by id; NotFoundError if none."""
        ...

    def deactivate(self, endpoint_id: int) -> Endpoint:
        """Stop an endpoint hearing events (its deliveries stay); NotFoundError if none."""
        ...


class DeliveryRepository(Protocol):
    """Deliveries, kept until delivered or dead. Errors are ShieldwallErrors."""

    def add_many(self, deliveries: Sequence[NewDelivery], due: datetime) -> list[Delivery]:
        """Queue deliveries, first due at `due` (one transaction)."""
        ...

    def claim_due(self, now: datetime, until: datetime, limit: int) -> list[Delivery]:
        """Pending deliveries due at `now`, oldest first, each claimed until `until` so that
        another worker does not send it meanwhile (atomic per delivery)."""
        ...

    def record_attempt(
        self,
        delivery_id: int,
        state: DeliveryState,
        at: datetime,
        next_attempt_at: datetime | None,
        error: str,
    ) -> Delivery:
        """Count an attempt and record its result (and the next attempt's time)."""
        ...

    def listed(self, state: DeliveryState | None, limit: int) -> list[Delivery]:
        """Deliveries (in that state), newest first."""
        ...

    def get(self, delivery_id: int) -> Delivery:
        """A delivery by id; NotFoundError if none."""
        ...

    def revive(self, delivery_id: int, due: datetime) -> Delivery:
        """Put a dead delivery back in the queue (attempts kept); ConflictError unless dead."""
        ...

    def counts(self) -> dict[str, int]:
        """Deliveries by state (for /metrics)."""
        ...


@dataclass(frozen=True)
class SendResult:
    """What one attempt brought: the endpoint's status (0 if none) and a short error."""

    status: int
    error: str = ""

    @property
    def delivered(self) -> bool:
        """Whether the endpoint took it (any 2xx)."""
        return 200 <= self.status < 300


class WebhookSender(Protocol):
    """POSTs a signed body to an endpoint; never raises for the endpoint's failures."""

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        """One attempt (its timeout is the sender's)."""
        ...


class UrlCheck(Protocol):
    """Refuses endpoint URLs that would reach private networks (SSRF), with a reason."""

    def __call__(self, url: str) -> None:
        """Raise InvalidInputError if the URL may not be an endpoint."""
        ...
