"""Banks: create, list, read, change policy, enable/disable, rename, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from shieldwall.access.models import Capability
from shieldwall.web.bank_schemas import BankCreate, BankOut, BankUpdate
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.security import GuardedRoute, guarded

router = APIRouter(prefix="/api/v1/banks", tags=["banks"], route_class=GuardedRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


@router.get(
    "", summary="List banks", response_model=list[BankOut], **guarded(Capability.READ_BANKS)
)
def list_banks(runtime: RuntimeDep) -> list[BankOut]:
    """Every bank with its policy and entry counts."""
    banks = runtime.services.banks
    return [BankOut.of(b, banks.count_entries(b.name)) for b in banks.list_banks()]


@router.post(
    "",
    summary="Create a bank",
    status_code=201,
    response_model=BankOut,
    responses={
        404: {"description": "an allow-list bank does not exist"},
        409: {"description": "name taken"},
    },
    **guarded(Capability.WRITE_BANKS),
)
def create_bank(body: BankCreate, runtime: RuntimeDep) -> BankOut:
    """Create a bank with its policy."""
    bank = runtime.services.banks.create_bank(
        body.name, body.pdq_threshold, body.action, body.allow_list_banks, body.second_stage
    )
    return BankOut.of(bank, runtime.services.banks.count_entries(bank.name))


@router.get(
    "/{name}",
    summary="Read a bank",
    response_model=BankOut,
    responses={404: {"description": "no such bank"}},
    **guarded(Capability.READ_BANKS),
)
def get_bank(name: str, runtime: RuntimeDep) -> BankOut:
    """One bank with its policy and entry counts."""
    banks = runtime.services.banks
    bank = banks.get_bank(name)
    return BankOut.of(bank, banks.count_entries(bank.name))


@router.patch(
    "/{name}",
    summary="Change a bank",
    response_model=BankOut,
    responses={
        404: {"description": "no such bank (or allow-list bank)"},
        409: {"description": "new name taken"},
    },
    **guarded(Capability.WRITE_BANKS),
)
def update_bank(name: str, body: BankUpdate, runtime: RuntimeDep) -> BankOut:
    """Change policy, enable or disable, or rename; omitted fields stay as they are."""
    banks = runtime.services.banks
    banks.get_bank(name)
    if (
        body.pdq_threshold is not None
        or body.action is not None
        or body.allow_list_banks is not None
        or body.second_stage is not None
    ):
        banks.update_policy(
            name,
            body.pdq_threshold,
            body.action,
            body.allow_list_banks,
            second_stage=body.second_stage,
        )
    if body.enabled is not None:
        banks.set_bank_enabled(name, body.enabled)
    if body.name is not None and body.name != name:
        name = banks.rename_bank(name, body.name).name
    bank = banks.get_bank(name)
    return BankOut.of(bank, banks.count_entries(bank.name))


@router.delete(
    "/{name}",
    summary="Delete a bank and its entries",
    status_code=204,
    responses={404: {"description": "no such bank"}},
    **guarded(Capability.WRITE_BANKS),
)
def delete_bank(name: str, runtime: RuntimeDep) -> Response:
    """Delete a bank and every entry in it."""
    runtime.services.banks.delete_bank(name)
    return Response(status_code=204)
