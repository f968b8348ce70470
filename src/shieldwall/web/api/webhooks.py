"""Webhooks for admins: endpoints (list, add, deactivate) and the deliveries, the dead
letters among them, and their replay. Admin keys only (the capability of managing keys:
an endpoint names a key and receives what that key may see)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from shieldwall.access.models import Capability
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.security import GuardedRoute, guarded
from shieldwall.webhooks.models import Delivery, DeliveryState, Endpoint

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], route_class=GuardedRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
EventName = Literal["lookup.verdict", "review.decided", "sweep.copies", "case.event"]


class EndpointIn(BaseModel):
    """An endpoint to register."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, description="http(s) URL; checked like URL lookups")
    events: list[EventName] = Field(min_length=1, max_length=4)
    key_id: int | None = Field(
        default=None, ge=1, description="The platform key it belongs to; none: the deployment's"
    )


class EndpointOut(BaseModel):
    """A registered endpoint (never its secret)."""

    id: int
    url: str
    events: list[str]
    key_id: int | None
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, endpoint: Endpoint) -> EndpointOut:
        """The endpoint as the API shows it."""
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            events=sorted(endpoint.events),
            key_id=endpoint.key_id,
            active=endpoint.active,
            created_at=endpoint.created_at,
        )


class EndpointCreated(EndpointOut):
    """A new endpoint: its signing secret is in this answer only."""

    secret: str


class DeliveryOut(BaseModel):
    """A delivery and its attempts (never its body)."""

    id: int
    endpoint_id: int
    event: str
    state: Literal["pending", "delivered", "dead"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        """The delivery as the API shows it."""
        return cls.model_validate(
            {
                "id": delivery.id,
                "endpoint_id": delivery.endpoint_id,
                "event": delivery.event,
                "state": delivery.state.value,
                "attempts": delivery.attempts,
                "created_at": delivery.created_at,
                "next_attempt_at": delivery.next_attempt_at,
                "delivered_at": delivery.delivered_at,
                "last_error": delivery.last_error,
            }
        )


@router.get(
    "/endpoints",
    summary="List webhook endpoints",
    response_model=list[EndpointOut],
    **guarded(Capability.MANAGE_KEYS),
)
def list_endpoints(runtime: RuntimeDep) -> list[EndpointOut]:
    """Every endpoint, deactivated ones too."""
    return [EndpointOut.of(e) for e in runtime.services.webhooks.endpoints()]


@router.post(
    "/endpoints",
    summary="Register a webhook endpoint",
    status_code=201,
    response_model=EndpointCreated,
    **guarded(Capability.MANAGE_KEYS),
)
def add_endpoint(body: EndpointIn, runtime: RuntimeDep) -> EndpointCreated:
    """Register an endpoint; its signing secret is in this answer only."""
    endpoint, secret = runtime.services.webhooks.add_endpoint(body.url, body.events, body.key_id)
    return EndpointCreated(**EndpointOut.of(endpoint).model_dump(), secret=secret)


@router.delete(
    "/endpoints/{endpoint_id}",
    summary="Deactivate a webhook endpoint",
    response_model=EndpointOut,
    responses={404: {"description": "no such endpoint"}},
    **guarded(Capability.MANAGE_KEYS),
)
def remove_endpoint(endpoint_id: Id, runtime: RuntimeDep) -> EndpointOut:
    """It hears no new event; what was queued for it is still delivered."""
    return EndpointOut.of(runtime.services.webhooks.remove_endpoint(endpoint_id))


@router.get(
    "/deliveries",
    summary="List deliveries (state=dead: the dead letters)",
    response_model=list[DeliveryOut],
    **guarded(Capability.MANAGE_KEYS),
)
def list_deliveries(
    runtime: RuntimeDep,
    state: Annotated[Literal["pending", "delivered", "dead"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    """Deliveries, newest first."""
    wanted = DeliveryState(state) if state else None
    return [DeliveryOut.of(d) for d in runtime.services.webhooks.deliveries(wanted, limit)]


@router.post(
    "/deliveries/{delivery_id}/replay",
    summary="Queue a dead delivery again",
    response_model=DeliveryOut,
    responses={404: {"description": "no such delivery"}, 409: {"description": "not dead"}},
    **guarded(Capability.MANAGE_KEYS),
)
def replay_delivery(delivery_id: Id, runtime: RuntimeDep) -> DeliveryOut:
    """Due now; the next delivery round sends it."""
    return DeliveryOut.of(runtime.services.webhooks.replay(delivery_id))
