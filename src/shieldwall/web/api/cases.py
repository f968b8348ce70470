"""Reports filed by trusted flaggers (DSA Art. 22): support centres and hotlines that
have seen the content, registered by being given a `reporter` key.

Their reports are validated like a person's own (the same legal fields) and marked with
the key's name as the flagger: their review item goes before others due at the same time,
and accepting one may block its hashes at once (setting `trusted_flaggers_confirm`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from shieldwall.access.models import Capability
from shieldwall.cases.models import InvalidReportError, validate_report
from shieldwall.web.problems import problem
from shieldwall.web.protect_api import FiledOut, case_out, report_object
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.security import Caller, GuardedRoute, guarded

router = APIRouter(prefix="/api/v1/cases", tags=["cases"], route_class=GuardedRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


@router.post(
    "",
    summary="File a report as a trusted flagger (a reporter key)",
    status_code=201,
    response_model=FiledOut,
    responses={
        413: {"description": "the body is over 1 MiB"},
        422: {"description": "invalid report fields, each named with a stable code"},
    },
    **guarded(Capability.FILE_CASES),
)
async def file_flagged_case(request: Request, runtime: RuntimeDep, caller: Caller) -> Any:
    """The same report as `/protect/api/cases`; the case's secret is in this answer only."""
    data = await report_object(request)
    try:
        report = replace(validate_report(data), flagger=caller.name)
    except InvalidReportError as exc:
        problems = [{"field": p.field, "code": p.code} for p in exc.problems]
        return problem(422, "invalid-report", str(exc), problems=problems)
    filed = await run_in_threadpool(runtime.services.cases.file, report)
    body = FiledOut(**case_out(filed.case, 0), secret=filed.secret)
    return JSONResponse(body.model_dump(mode="json"), status_code=201)
