"""The review API: the queue, claims and decisions for keys with the `reviewer` role.

The console pages (`/review`) and these routes go through the same ReviewService, so the
same locks, rules and audit records hold for both. An API key acts as `key:<id>` in the
audit log; admin keys act as leads.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from shieldwall.access.models import ApiKey, Capability, Role
from shieldwall.review.models import DecisionInput, ItemSource, ItemState, Reviewer, ReviewItem
from shieldwall.review.queue import QueueFilter
from shieldwall.web.review_schemas import DecisionIn, GroundOut, ItemOut
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.security import Caller, GuardedRoute, guarded

router = APIRouter(prefix="/api/v1/review", tags=["review"], route_class=GuardedRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
ItemId = Annotated[int, Path(ge=1, le=2**63 - 1)]
_MISSING: dict[int | str, dict[str, Any]] = {404: {"description": "no such item"}}
_REFUSED: dict[int | str, dict[str, Any]] = {
    **_MISSING,
    403: {"description": "escalated items are for leads; claim an item before deciding it"},
    409: {"description": "another reviewer holds the item, or decided it first"},
}


def reviewer_of(key: ApiKey) -> Reviewer:
    """The reviewer an API key acts as: admin keys are leads."""
    admin = key.role is Role.ADMIN
    return Reviewer(f"key:{key.id}", lead=admin, admin=admin, is_key=True)


def _out(runtime: Runtime, item_id: int, item: ReviewItem | None = None) -> ItemOut:
    """The reviewer's view of the item (as just returned by the service, or read now)."""
    reviews = runtime.services.reviews
    item = item or reviews.item(item_id)
    case = reviews.case(item.case_number) if item.case_number else None
    complaint = runtime.services.complaints.of_review_item(item)
    return ItemOut.of(item, reviews.now(), case, complaint)


@router.get(
    "/queue",
    summary="The review queue: by deadline, then minors, trusted flaggers, age",
    response_model=list[ItemOut],
    **guarded(Capability.REVIEW),
)
def review_queue(
    runtime: RuntimeDep,
    caller: Caller,
    source: Annotated[ItemSource | None, Query()] = None,
    bank: Annotated[str | None, Query(max_length=255)] = None,
    state: Annotated[ItemState | None, Query(description="open, needs_info, escalated")] = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
) -> list[ItemOut]:
    """Waiting items; escalated ones only for admin keys (leads)."""
    states = frozenset({state}) if state else frozenset({ItemState.OPEN, ItemState.NEEDS_INFO})
    wanted = QueueFilter(source=source, bank=bank, states=states, assignee=assignee)
    reviews = runtime.services.reviews
    now = reviews.now()
    return [ItemOut.of(i, now) for i in reviews.queue(reviewer_of(caller), wanted)]


@router.get(
    "/items/{item_id}",
    summary="One review item: its matches, case and decisions",
    response_model=ItemOut,
    responses=_MISSING,
    **guarded(Capability.REVIEW),
)
def review_item(item_id: ItemId, runtime: RuntimeDep) -> ItemOut:
    """The item with its case's report (never images or contact details)."""
    return _out(runtime, item_id)


@router.post(
    "/items/{item_id}/claim",
    summary="Claim an item for ten minutes (again to renew)",
    response_model=ItemOut,
    responses=_REFUSED,
    **guarded(Capability.REVIEW),
)
def claim_item(item_id: ItemId, runtime: RuntimeDep, caller: Caller) -> ItemOut:
    """Lock the item to this key; 409 while another reviewer holds it."""
    claimed = runtime.services.reviews.claim(item_id, reviewer_of(caller))
    return _out(runtime, item_id, claimed)


@router.delete(
    "/items/{item_id}/claim",
    summary="Give an item back to the queue",
    status_code=204,
    responses=_MISSING,
    **guarded(Capability.REVIEW),
)
def release_item(item_id: ItemId, runtime: RuntimeDep, caller: Caller) -> Response:
    """Drop this key's claim (nothing happens if it holds none)."""
    runtime.services.reviews.release(item_id, reviewer_of(caller))
    return Response(status_code=204)


@router.post(
    "/items/{item_id}/decisions",
    summary="Decide an item (confirm, reject, accept, refuse, uphold, reverse, escalate, "
    "need_info)",
    response_model=ItemOut,
    responses={**_REFUSED, 422: {"description": "a decision that does not fit the item"}},
    **guarded(Capability.REVIEW),
)
async def decide_item(
    item_id: ItemId, body: DecisionIn, runtime: RuntimeDep, caller: Caller
) -> ItemOut:
    """Record and carry out a decision; the key must hold the item's claim."""
    given = DecisionInput(body.kind, body.action, body.ground, body.facts, body.reason)
    # Confirming hashes the quarantined content (region variants): off the event loop.
    decided = await run_in_threadpool(
        runtime.services.reviews.decide, item_id, reviewer_of(caller), given
    )
    return _out(runtime, item_id, decided)


@router.get(
    "/grounds",
    summary="The grounds decisions may rest on",
    response_model=list[GroundOut],
    **guarded(Capability.REVIEW),
)
def list_grounds(runtime: RuntimeDep) -> list[GroundOut]:
    """Codes to put in a decision's `ground`."""
    return [GroundOut(**g.__dict__) for g in runtime.services.reviews.grounds()]
