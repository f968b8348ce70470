"""API keys: create (token shown once), list, revoke. Admin only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from shieldwall.access.models import Capability, Role
from shieldwall.web.bank_schemas import KeyCreate, KeyCreated, KeyOut
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.security import GuardedRoute, guarded

router = APIRouter(prefix="/api/v1/keys", tags=["keys"], route_class=GuardedRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


@router.get(
    "", summary="List API keys", response_model=list[KeyOut], **guarded(Capability.MANAGE_KEYS)
)
def list_keys(runtime: RuntimeDep) -> list[KeyOut]:
    """Every key, revoked ones included; never their secrets."""
    return [KeyOut.of(k) for k in runtime.services.access.list_keys()]


@router.post(
    "",
    summary="Create an API key",
    status_code=201,
    response_model=KeyCreated,
    **guarded(Capability.MANAGE_KEYS),
)
def create_key(body: KeyCreate, runtime: RuntimeDep) -> KeyCreated:
    """Create a key; its token is in this answer only."""
    issued = runtime.services.access.issue_key(body.name, Role(body.role), body.see_details)
    return KeyCreated(**KeyOut.of(issued.key).model_dump(), token=issued.token)


@router.delete(
    "/{key_id}",
    summary="Revoke an API key",
    response_model=KeyOut,
    responses={404: {"description": "no such key"}},
    **guarded(Capability.MANAGE_KEYS),
)
def revoke_key(key_id: Annotated[int, Path(ge=1, le=2**63 - 1)], runtime: RuntimeDep) -> KeyOut:
    """Revoke a key: refused at once by this worker, within 1 s by every other one."""
    return KeyOut.of(runtime.services.access.revoke(key_id))
