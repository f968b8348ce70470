"""Likeness protection's JSON API for the person: enrol (consent and face templates made
on their own device, never photos), read the enrolment with its number and secret, and
withdraw it (its templates are deleted at once).

The same guards as the cases' API (web/protect_guards.py): JSON only, same site only,
limits per address before a byte of the body is read, failed tries counted per enrolment
(the right secret is never refused). A wrong secret answers exactly like an unknown
number. Templates are never returned.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from shieldwall.errors import NotFoundError
from shieldwall.likeness.models import Enrolment, consent_from_mapping, templates_from_lists
from shieldwall.likeness.service import normalise_enrolment_number
from shieldwall.web.protect_guards import (
    client_address,
    json_object,
    receipt_key,
    same_site,
    take_token,
)
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.security import GuardedRoute

router = APIRouter(prefix="/protect/api/enrolments", tags=["likeness"], route_class=GuardedRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]

MAX_ENROL_BYTES: Final = 64 * 1024
"""Five templates of 128 numbers and the consent fields take under 20 KB as JSON."""


class EnrolmentOut(BaseModel):
    """An enrolment as its person sees it: never its templates."""

    enrolment_number: str
    state: str
    enrollee: str
    templates: int = Field(description="Templates held now (0 once withdrawn or expired)")
    given_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    purpose_version: str
    acted_on: list[datetime] = Field(
        description="When an image showing the enrolled person was found, confirmed by a "
        "reviewer and blocked (never the image, nor where it was)"
    )


class EnrolledOut(EnrolmentOut):
    """A new enrolment and its secret, shown once."""

    secret: str


class EnrolmentKey(BaseModel):
    """What proves an enrolment is the person's: its number and secret, nothing else."""

    model_config = ConfigDict(extra="forbid")

    enrolment_number: str = Field(max_length=64)
    secret: str = Field(max_length=128)


def enrolment_out(enrolment: Enrolment) -> dict[str, Any]:
    """The fields of EnrolmentOut."""
    consent = enrolment.consent
    return {
        "enrolment_number": enrolment.number,
        "state": enrolment.state.value,
        "enrollee": consent.enrollee.value,
        "templates": enrolment.templates,
        "given_at": consent.given_at,
        "expires_at": consent.expires_at,
        "ended_at": enrolment.ended_at,
        "purpose_version": consent.purpose_version,
        "acted_on": list(enrolment.acted_on),
    }


@router.post(
    "",
    summary="Enrol a face, with consent, from templates made on the person's device",
    status_code=201,
    response_model=EnrolledOut,
    responses={
        422: {"description": "invalid consent or templates, every problem named"},
        403: {"description": "sent from another site"},
        413: {"description": "the body is over 64 KiB"},
        429: {"description": "too many enrolments from this address"},
    },
)
async def enrol(request: Request, runtime: RuntimeDep) -> Any:
    """Record the consent, seal the templates and answer with the receipt."""
    same_site(request)
    settings = runtime.services.settings
    take_token(runtime, f"enrol:{client_address(request)}", settings.protect_file_limit)
    data = await json_object(request, MAX_ENROL_BYTES, "enrolment")
    templates = templates_from_lists(data.pop("templates", None))
    enrolments = runtime.services.enrolments
    consent = consent_from_mapping(data, enrolments.now())
    enrolment, secret = await run_in_threadpool(enrolments.enrol, consent, templates)
    body = EnrolledOut(**enrolment_out(enrolment), secret=secret)
    return JSONResponse(body.model_dump(mode="json"), status_code=201)


_KEY_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    403: {"description": "sent from another site"},
    404: {"description": "no enrolment with this number and secret (the same for either)"},
    413: {"description": "the body is over 4 KiB"},
    422: {"description": "not a JSON object with exactly `enrolment_number` and `secret`"},
    429: {"description": "too many attempts from this address or for this enrolment"},
}


@router.post(
    "/status",
    summary="An enrolment's state, with its number and secret",
    response_model=EnrolmentOut,
    responses=_KEY_RESPONSES,
)
async def enrolment_status(request: Request, runtime: RuntimeDep) -> Any:
    """The enrolment's state and term (404 for a wrong secret or unknown number)."""
    key = await _key(request, runtime)
    return await run_in_threadpool(_answer, runtime, key, runtime.services.enrolments.open)


@router.post(
    "/withdraw",
    summary="Withdraw an enrolment: its templates are deleted at once",
    response_model=EnrolmentOut,
    responses=_KEY_RESPONSES,
)
async def withdraw_enrolment(request: Request, runtime: RuntimeDep) -> Any:
    """Withdraw the enrolment (404 for a wrong secret or unknown number)."""
    key = await _key(request, runtime)
    return await run_in_threadpool(_answer, runtime, key, runtime.services.enrolments.withdraw)


async def _key(request: Request, runtime: Runtime) -> EnrolmentKey:
    return await receipt_key(request, runtime, EnrolmentKey, "enrol-read")


def _answer(
    runtime: Runtime, key: EnrolmentKey, action: Callable[[str, str], Enrolment]
) -> EnrolmentOut:
    """Run `action` (open or withdraw); only failures are charged to the enrolment's
    bucket, so the right secret is never refused however many guesses others made."""
    try:
        enrolment = action(key.enrolment_number, key.secret)
    except NotFoundError:
        number = normalise_enrolment_number(key.enrolment_number)
        take_token(runtime, f"enrolment:{number}", runtime.services.settings.protect_read_limit)
        raise
    return EnrolmentOut(**enrolment_out(enrolment))
