"""Known copies for platforms: after a confirm decision the service sweeps what it screened
for the same picture and its edited copies; each platform lists the copies its own lookups
brought ("remove these uploads too", by its `content_ref`) and says what it did with them.
A key sees only the copies of its own lookups."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from shieldwall.access.models import Capability
from shieldwall.audit.models import Actor, ActorKind
from shieldwall.review.sweeps import HitOutcome
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.security import Caller, GuardedRoute, guarded
from shieldwall.web.sweep_schemas import CopiesOut, CopyOut, OutcomeIn

router = APIRouter(prefix="/api/v1/sweeps", tags=["sweeps"], route_class=GuardedRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


@router.get(
    "/copies",
    summary="Copies of confirmed content among your uploads (remove these too)",
    response_model=CopiesOut,
    **guarded(Capability.LOOKUP),
)
def copies(
    runtime: RuntimeDep,
    caller: Caller,
    outcome: Annotated[
        Literal["pending", "removed", "not_found", "kept", "withdrawn", "all"],
        Query(description="Only copies with this outcome (`pending`: not answered yet)."),
    ] = "pending",
) -> CopiesOut:
    """The copies your lookups screened that sweeps after confirm decisions found: the same
    picture, byte for byte or edited (cropped, re-encoded, captioned, mirrored...)."""
    wanted = None if outcome == "all" else HitOutcome(outcome)
    hits = runtime.services.sweeps.to_remove(caller.id, wanted)
    return CopiesOut(copies=[CopyOut.of(hit) for hit in hits])


@router.post(
    "/copies/{copy_id}",
    summary="Say what you did with a copy",
    response_model=CopyOut,
    responses={404: {"description": "no such copy among your lookups"}},
    **guarded(Capability.LOOKUP),
)
def report_copy(
    copy_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: OutcomeIn,
    runtime: RuntimeDep,
    caller: Caller,
) -> CopyOut:
    """`removed`, `not_found` (already gone) or `kept`; recorded in the audit log."""
    actor = Actor(ActorKind.API_KEY, caller.name)
    hit = runtime.services.sweeps.report(copy_id, caller.id, HitOutcome(body.outcome), actor)
    return CopyOut.of(hit)
