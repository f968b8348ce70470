"""The person's complaint about a decision on their case (DSA Art. 20), from
`/protect/status`: `POST /protect/api/complaint` with the case number, its secret and why.

The same guards as reading the case (same site only, per-address and per-case limits, a
wrong secret answering like an unknown case), and a body of at most 16 KiB. The answer is
the case as the status page shows it, with the complaint in `complaints`.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from shieldwall.cases.models import Case
from shieldwall.review.complaint_models import MAX_EXPLANATION
from shieldwall.web.body_docs import json_model, request_body
from shieldwall.web.protect_api import CaseKey, CaseOut, case_answer
from shieldwall.web.protect_guards import receipt_key
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.security import GuardedRoute

router = APIRouter(prefix="/protect/api", tags=["victims"], route_class=GuardedRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]

MAX_COMPLAINT_BYTES: Final = 16 * 1024
"""The number, the secret and 2,000 characters of any script, escaped, fit well within."""


class ComplaintRequest(CaseKey):
    """A case number and its secret, why the decision should be looked at again, and which
    decision: the case's own (no `item`), or a rejected upload's (`item` from `uploads`)."""

    model_config = ConfigDict(extra="forbid")

    explanation: str = Field(min_length=1, max_length=MAX_EXPLANATION)
    item: int | None = Field(default=None, ge=1, le=2**63 - 1)


_BODY: Final = request_body({"application/json": json_model(ComplaintRequest)})
_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    403: {"description": "sent from another site"},
    404: {"description": "no case with this number and secret, or no such decision in it"},
    409: {"description": "not decided yet, or already being (or already) looked at again"},
    413: {"description": "the body is over 16 KiB"},
    422: {"description": "no explanation, or more than six months after the decision"},
    429: {"description": "too many attempts from this address or for this case"},
}


@router.post(
    "/complaint",
    summary="Ask for a decision on a case to be looked at again (within six months)",
    status_code=201,
    response_model=CaseOut,
    responses=_RESPONSES,
    openapi_extra=_BODY,
)
async def lodge_complaint(request: Request, runtime: RuntimeDep) -> Any:
    """Record the complaint for a reviewer who did not make the decision; the answer is the
    case with it (404 for a wrong secret or unknown case, as for reading it)."""
    body = await receipt_key(request, runtime, ComplaintRequest, "complaint", MAX_COMPLAINT_BYTES)

    def complain(number: str, secret: str) -> Case:
        case = runtime.services.cases.open(number, secret)
        runtime.services.complaints.lodge_for_reporter(case, body.explanation, body.item)
        return runtime.services.cases.get(case.number)

    answer = await run_in_threadpool(case_answer, runtime, body, complain)
    return JSONResponse(answer.model_dump(mode="json"), status_code=201)
