"""SQL adapters of the webhook endpoints (secrets sealed) and the delivery outbox.

Claiming is one UPDATE per delivery guarded by its state, due time and claim, so two
workers running the delivery round at once never both send a delivery: the one whose
UPDATE changed the row holds it until `claimed_until`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, func, insert, or_, select, update

from shieldwall.errors import ConflictError, NotFoundError
from shieldwall.storage.sealing import Sealer
from shieldwall.storage.sql_adapter import SqlAdapter
from shieldwall.storage.tables import WebhookDeliveryRow, WebhookEndpointRow
from shieldwall.webhooks.models import Delivery, DeliveryState, Endpoint, NewDelivery, NewEndpoint

_SECRET_CONTEXT = "webhook-endpoint-secret"


class SqlEndpointRepository(SqlAdapter):
    """Webhook endpoints on SQLite or PostgreSQL; the secrets sealed under the data key."""

    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        super().__init__(engine)
        self._sealer = sealer

    def _endpoint(self, row: Row[Any]) -> Endpoint:
        return Endpoint(
            row.url,
            frozenset(row.events.split(",")),
            self._sealer.open(row.secret, _SECRET_CONTEXT),
            row.key_id,
            row.created_at,
            id=row.id,
            active=row.active,
        )

    def add(self, endpoint: NewEndpoint) -> Endpoint:
        """Store a new endpoint."""
        with self._write() as connection:
            row = connection.execute(
                insert(WebhookEndpointRow).returning(WebhookEndpointRow),
                {
                    "url": endpoint.url,
                    "events": ",".join(sorted(endpoint.events)),
                    "secret": self._sealer.seal(endpoint.secret, _SECRET_CONTEXT),
                    "key_id": endpoint.key_id,
                    "created_at": endpoint.created_at,
                    "active": True,
                },
            ).one()
        return self._endpoint(row)

    def all(self) -> list[Endpoint]:
        """Every endpoint, by id."""
        with self._read() as connection:
            rows = connection.execute(
                select(WebhookEndpointRow).order_by(WebhookEndpointRow.id)
            ).all()
        return [self._endpoint(row) for row in rows]

    def get(self, endpoint_id: int) -> Endpoint:
        """An endpoint by id."""
        with self._read() as connection:
            row = connection.execute(
                select(WebhookEndpointRow).where(WebhookEndpointRow.id == endpoint_id)
            ).one_or_none()
        if row is None:
            raise NotFoundError(f"no webhook endpoint {endpoint_id}")
        return self._endpoint(row)

    def deactivate(self, endpoint_id: int) -> Endpoint:
        """Stop an endpoint hearing events."""
        with self._write() as connection:
            changed = connection.execute(
                update(WebhookEndpointRow)
                .where(WebhookEndpointRow.id == endpoint_id)
                .values(active=False)
            ).rowcount
        if not changed:
            raise NotFoundError(f"no webhook endpoint {endpoint_id}")
        return self.get(endpoint_id)


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(
        row.endpoint_id,
        row.event,
        bytes(row.body),
        row.created_at,
        id=row.id,
        state=DeliveryState(row.state),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
    )


class SqlDeliveryRepository(SqlAdapter):
    """The delivery outbox on SQLite or PostgreSQL."""

    def add_many(self, deliveries: Sequence[NewDelivery], due: datetime) -> list[Delivery]:
        """Queue deliveries in one transaction."""
        if not deliveries:
            return []
        with self._write() as connection:
            rows = [
                connection.execute(
                    insert(WebhookDeliveryRow).returning(WebhookDeliveryRow),
                    {
                        "endpoint_id": new.endpoint_id,
                        "event": new.event,
                        "body": new.body,
                        "created_at": new.created_at,
                        "state": DeliveryState.PENDING.value,
                        "attempts": 0,
                        "next_attempt_at": due,
                        "claimed_until": None,
                        "last_error": "",
                        "delivered_at": None,
                    },
                ).one()
                for new in deliveries
            ]
        return [_delivery(row) for row in rows]

    def claim_due(self, now: datetime, until: datetime, limit: int) -> list[Delivery]:
        """Due pending deliveries, oldest first, each claimed until `until`."""
        due = (
            WebhookDeliveryRow.state == DeliveryState.PENDING.value,
            WebhookDeliveryRow.next_attempt_at <= now,
            or_(
                WebhookDeliveryRow.claimed_until.is_(None),
                WebhookDeliveryRow.claimed_until <= now,
            ),
        )
        with self._read() as connection:
            candidates = (
                connection.execute(
                    select(WebhookDeliveryRow.id)
                    .where(*due)
                    .order_by(WebhookDeliveryRow.id)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
        claimed = []
        for delivery_id in candidates:
            with self._write() as connection:
                changed = connection.execute(
                    update(WebhookDeliveryRow)
                    .where(WebhookDeliveryRow.id == delivery_id, *due)
                    .values(claimed_until=until)
                ).rowcount
                if changed:
                    row = connection.execute(
                        select(WebhookDeliveryRow).where(WebhookDeliveryRow.id == delivery_id)
                    ).one()
                    claimed.append(_delivery(row))
        return claimed

    def record_attempt(
        self,
        delivery_id: int,
        state: DeliveryState,
        at: datetime,
        next_attempt_at: datetime | None,
        error: str,
    ) -> Delivery:
        """Count an attempt and its result; the claim ends."""
        with self._write() as connection:
            changed = connection.execute(
                update(WebhookDeliveryRow)
                .where(WebhookDeliveryRow.id == delivery_id)
                .values(
                    state=state.value,
                    attempts=WebhookDeliveryRow.attempts + 1,
                    next_attempt_at=next_attempt_at,
                    claimed_until=None,
                    last_error=error,
                    delivered_at=at if state is DeliveryState.DELIVERED else None,
                )
            ).rowcount
            if not changed:
                raise NotFoundError(f"no webhook delivery {delivery_id}")
            row = connection.execute(
                select(WebhookDeliveryRow).where(WebhookDeliveryRow.id == delivery_id)
            ).one()
        return _delivery(row)

    def listed(self, state: DeliveryState | None, limit: int) -> list[Delivery]:
        """Deliveries (in that state), newest first."""
        query = select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.id.desc()).limit(limit)
        if state is not None:
            query = query.where(WebhookDeliveryRow.state == state.value)
        with self._read() as connection:
            return [_delivery(row) for row in connection.execute(query).all()]

    def get(self, delivery_id: int) -> Delivery:
        """A delivery by id."""
        with self._read() as connection:
            row = connection.execute(
                select(WebhookDeliveryRow).where(WebhookDeliveryRow.id == delivery_id)
            ).one_or_none()
        if row is None:
            raise NotFoundError(f"no webhook delivery {delivery_id}")
        return _delivery(row)

    def revive(self, delivery_id: int, due: datetime) -> Delivery:
        """Queue a dead delivery again."""
        with self._write() as connection:
            changed = connection.execute(
                update(WebhookDeliveryRow)
                .where(
                    WebhookDeliveryRow.id == delivery_id,
                    WebhookDeliveryRow.state == DeliveryState.DEAD.value,
                )
                .values(state=DeliveryState.PENDING.value, next_attempt_at=due)
            ).rowcount
        if not changed:
            current = self.get(delivery_id)
            raise ConflictError(f"delivery {delivery_id} is {current.state.value}, not dead")
        return self.get(delivery_id)

    def counts(self) -> dict[str, int]:
        """Deliveries by state."""
        with self._read() as connection:
            rows = connection.execute(
                select(WebhookDeliveryRow.state, func.count()).group_by(WebhookDeliveryRow.state)
            ).all()
        return {str(state): int(count) for state, count in rows}
