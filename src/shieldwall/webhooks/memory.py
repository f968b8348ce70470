"""Webhook endpoints and deliveries in memory (tests)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from shieldwall.errors import ConflictError, NotFoundError
from shieldwall.webhooks.models import Delivery, DeliveryState, Endpoint, NewDelivery, NewEndpoint


class InMemoryEndpointRepository:
    """Endpoints in a list."""

    def __init__(self) -> None:
        self._endpoints: list[Endpoint] = []
        self._lock = threading.Lock()

    def add(self, endpoint: NewEndpoint) -> Endpoint:
        with self._lock:
            stored = Endpoint(**vars(endpoint), id=len(self._endpoints) + 1)
            self._endpoints.append(stored)
            return stored

    def all(self) -> list[Endpoint]:
        with self._lock:
            return list(self._endpoints)

    def get(self, endpoint_id: int) -> Endpoint:
        with self._lock:
            if not 1 <= endpoint_id <= len(self._endpoints):
                raise NotFoundError(f"no webhook endpoint {endpoint_id}")
            return self._endpoints[endpoint_id - 1]

    def deactivate(self, endpoint_id: int) -> Endpoint:
        endpoint = replace(self.get(endpoint_id), active=False)
        with self._lock:
            self._endpoints[endpoint_id - 1] = endpoint
        return endpoint


class InMemoryDeliveryRepository:
    """Deliveries in a dict, with claims."""

    def __init__(self) -> None:
        self._deliveries: dict[int, Delivery] = {}
        self._claims: dict[int, datetime] = {}
        self._lock = threading.Lock()

    def add_many(self, deliveries: Sequence[NewDelivery], due: datetime) -> list[Delivery]:
        with self._lock:
            added = []
            for new in deliveries:
                stored = Delivery(**vars(new), id=len(self._deliveries) + 1, next_attempt_at=due)
                self._deliveries[stored.id] = stored
                added.append(stored)
            return added

    def claim_due(self, now: datetime, until: datetime, limit: int) -> list[Delivery]:
        with self._lock:
            due = [
                d
                for d in sorted(self._deliveries.values(), key=lambda d: d.id)
                if d.state is DeliveryState.PENDING
                and d.next_attempt_at is not None
                and d.next_attempt_at <= now
                and self._claims.get(d.id, now) <= now
            ][:limit]
            for delivery in due:
                self._claims[delivery.id] = until
            return due

    def record_attempt(
        self,
        delivery_id: int,
        state: DeliveryState,
        at: datetime,
        next_attempt_at: datetime | None,
        error: str,
    ) -> Delivery:
        with self._lock:
            current = self._get(delivery_id)
            updated = replace(
                current,
                state=state,
                attempts=current.attempts + 1,
                next_attempt_at=next_attempt_at,
                last_error=error,
                delivered_at=at if state is DeliveryState.DELIVERED else None,
            )
            self._deliveries[delivery_id] = updated
            self._claims.pop(delivery_id, None)
            return updated

    def listed(self, state: DeliveryState | None, limit: int) -> list[Delivery]:
        with self._lock:
            found = [d for d in self._deliveries.values() if state is None or d.state is state]
        return sorted(found, key=lambda d: -d.id)[:limit]

    def get(self, delivery_id: int) -> Delivery:
        with self._lock:
            return self._get(delivery_id)

    def _get(self, delivery_id: int) -> Delivery:
        if delivery_id not in self._deliveries:
            raise NotFoundError(f"no webhook delivery {delivery_id}")
        return self._deliveries[delivery_id]

    def revive(self, delivery_id: int, due: datetime) -> Delivery:
        with self._lock:
            current = self._get(delivery_id)
            if current.state is not DeliveryState.DEAD:
                raise ConflictError(f"delivery {delivery_id} is {current.state.value}, not dead")
            revived = replace(current, state=DeliveryState.PENDING, next_attempt_at=due)
            self._deliveries[delivery_id] = revived
            return revived

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(Counter(d.state.value for d in self._deliveries.values()))
