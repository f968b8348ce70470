"""A platform's complaint about a decision on an upload its key queued (DSA Art. 20).

`POST /api/v1/lookup/items/{id}/complaint` with the key whose lookup opened the item; the
complaint's state and outcome then show in `GET /api/v1/lookup/items/{id}` (`complaint`).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path

from shieldwall.access.models import Capability
from shieldwall.web.complaint_schemas import ComplaintIn, ComplaintOut
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.security import Caller, GuardedRoute, guarded

router = APIRouter(prefix="/api/v1/lookup", tags=["lookup"], route_class=GuardedRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    404: {"description": "no such item opened by this key"},
    409: {
        "description": "the item is not decided yet, a complaint about its decision is "
        "open, or this key already complained about it"
    },
    422: {"description": "more than six months after the decision, or no explanation"},
}


@router.post(
    "/items/{item_id}/complaint",
    summary="Complain about the decision on a queued upload (within six months)",
    status_code=201,
    response_model=ComplaintOut,
    responses=_RESPONSES,
    **guarded(Capability.LOOKUP),
)
def lodge_complaint(
    item_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: ComplaintIn,
    runtime: RuntimeDep,
    caller: Caller,
) -> ComplaintOut:
    """Ask for the decision to be looked at again by a reviewer who did not make it (e.g.
    your user disputes that their upload was confirmed as non-consensual imagery). Poll
    `GET /api/v1/lookup/items/{item_id}` for the complaint's outcome."""
    complaint = runtime.services.complaints.lodge_for_platform(item_id, caller.id, body.explanation)
    return ComplaintOut.lodged(complaint)
