"""The victims' JSON API: file a report, read a case with its secret, withdraw it.

No account and no API key: the case number and its secret are the only credentials, so
every route is rate-limited per client address before its body is read, and bodies are
read within small limits. Status and withdrawal also count failed tries per case
(guessing a secret is as slow as asking a few times an hour), but never refuse the
right secret. A wrong secret answers exactly like an unknown case, at the same cost.
Only hashes arrive here, never images. The pages of `/protect` post to these routes;
`shieldwall case submit` does too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from shieldwall.cases.models import (
    Case,
    CaseState,
    InvalidReportError,
    LocatorKind,
    LocatorState,
    validate_report,
)
from shieldwall.cases.service import normalise_case_number
from shieldwall.errors import NotFoundError
from shieldwall.review.models import DecisionKind
from shieldwall.takedown.tracking import LocatorNotice
from shieldwall.web.body_docs import json_model, request_body
from shieldwall.web.complaint_notices import (
    ComplaintNoticeOut,
    UploadDecisionOut,
    case_complaint,
    complaint_fields,
)
from shieldwall.web.pages import choose_language, problem_message
from shieldwall.web.problems import problem
from shieldwall.web.protect_guards import (
    client_address,
    json_object,
    receipt_key,
    same_site,
    take_token,
)
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.security import GuardedRoute

router = APIRouter(prefix="/protect/api", tags=["victims"], route_class=GuardedRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]

MAX_REPORT_BYTES: Final = 2 * 1024 * 1024
"""A report is hashes and text: 100 items with 63 region hashes and 24 pair windows each
(about 950 KB as compact JSON) and 50 locators fit."""


_NOTICE_OUTCOMES: Final[dict[DecisionKind, Literal["accepted", "refused"]]] = {
    DecisionKind.ACCEPT: "accepted",
    DecisionKind.REFUSE: "refused",
}


class CaseKey(BaseModel):
    """A case number and its secret."""

    model_config = ConfigDict(extra="forbid")

    case_number: str = Field(max_length=40)
    secret: str = Field(max_length=200)


_KEY_BODY: Final = request_body({"application/json": json_model(CaseKey)})
"""The body, documented by hand: the routes read it themselves, after their limits."""


class CaseEventOut(BaseModel):
    """One line of the timeline."""

    at: datetime
    kind: str
    detail: str


class LocatorOut(BaseModel):
    """A locator and what has been done about it."""

    kind: LocatorKind
    value: str
    state: LocatorState
    notice: LocatorNoticeOut | None = None
    """The latest takedown notice about it to the platform it is on, if one was sent."""


class LocatorNoticeOut(BaseModel):
    """A takedown notice about a locator, as the person reads it."""

    platform: str
    state: str = Field(description="notified, acknowledged, removed, refused or no_answer")
    notified_at: datetime
    deadline: datetime


class DecisionNoticeOut(BaseModel):
    """The decision on the report, as the person reads it (the page words the outcome in
    their language; the ground and reasons are the reviewer's)."""

    outcome: Literal["accepted", "refused"]
    at: datetime
    ground: str
    """The law or terms clause the decision rests on, as the deployment names it."""
    reasons: str
    complaint_until: datetime
    """The person may complain about the decision until then (six months; DSA Art. 20)."""
    item: int | None = None
    """The case's review item (what `POST /protect/api/complaint` complains about)."""
    can_complain: bool = False
    """Whether the person may still complain about it (within the window, none open)."""


class CaseOut(BaseModel):
    """What the person sees of their case (never the contact details they gave)."""

    case_number: str
    state: CaseState
    received_at: datetime
    deadline: datetime
    priority: bool
    items: int
    copies_found: int
    """Lookups that have matched the case's hashes so far (each a copy caught somewhere)."""
    blocked_since_decision: int = 0
    """Re-uploads blocked by the case's confirmed pictures since the decision."""
    last_blocked_at: datetime | None = None
    timeline: list[CaseEventOut]
    locators: list[LocatorOut]
    decision: DecisionNoticeOut | None = None
    complaints: list[ComplaintNoticeOut] = Field(default_factory=list)
    """The person's complaints about decisions, with their outcomes."""
    uploads: list[UploadDecisionOut] = Field(default_factory=list)
    """Uploads matching the case's pictures that a reviewer rejected."""


class FiledOut(CaseOut):
    """A new case: its secret is shown this once."""

    secret: str


def case_out(
    case: Case,
    copies_found: int,
    notices: Sequence[LocatorNotice] = (),
    now: datetime | None = None,
    platform_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The fields of CaseOut for a case (the decision notice aside), each locator with its
    latest notice's state at `now`."""
    latest = {notice.locator: notice for notice in notices}  # oldest first: the last wins
    return {
        "case_number": case.number,
        "state": case.state,
        "received_at": case.received_at,
        "deadline": case.deadline,
        "priority": case.priority,
        "items": len(case.report.hashes),
        "copies_found": copies_found,
        "timeline": [{"at": e.at, "kind": e.kind, "detail": e.detail} for e in case.events],
        "locators": [
            {
                "kind": loc.kind,
                "value": loc.value,
                "state": loc.state,
                "notice": _notice_out(latest.get(loc.value), now, platform_names or {}),
            }
            for loc in case.report.locators
        ],
    }


def _notice_out(
    notice: LocatorNotice | None, now: datetime | None, names: Mapping[str, str]
) -> dict[str, Any] | None:
    if notice is None or now is None:
        return None
    return {
        "platform": names.get(notice.platform, notice.platform),
        "state": notice.state(now).value,
        "notified_at": notice.notified_at,
        "deadline": notice.deadline,
    }


async def report_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, read within MAX_REPORT_BYTES (a report's limit)."""
    return await json_object(request, MAX_REPORT_BYTES, "report")


@router.post(
    "/cases",
    summary="File a report (hashes and legal fields) and open a case",
    status_code=201,
    response_model=FiledOut,
    responses={
        422: {"description": "invalid fields, each with a stable code"},
        403: {"description": "sent from another site"},
        413: {"description": "the body is over 1 MiB"},
        429: {"description": "too many reports from this address"},
    },
)
async def file_case(request: Request, runtime: RuntimeDep) -> Any:
    """Validate the report, put its hashes in the `reported` bank and open a case."""
    same_site(request)
    take_token(
        runtime, f"file:{client_address(request)}", runtime.services.settings.protect_file_limit
    )
    data = await report_object(request)
    try:
        report = validate_report(data)
    except InvalidReportError as exc:
        language = data.get("language") if isinstance(data.get("language"), str) else None
        lang = choose_language(language, request.headers.get("accept-language", ""))
        problems = [
            {"field": p.field, "code": p.code, "message": problem_message(p.field, p.code, lang)}
            for p in exc.problems
        ]
        return problem(422, "invalid-report", str(exc), problems=problems)
    filed = await run_in_threadpool(runtime.services.cases.file, report)
    body = FiledOut(**case_out(filed.case, 0), secret=filed.secret)
    return JSONResponse(body.model_dump(mode="json"), status_code=201)


_CASE_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    403: {"description": "sent from another site"},
    404: {"description": "no case with this number and secret (the same for either)"},
    413: {"description": "the body is over 4 KiB"},
    422: {"description": "not a JSON object with exactly `case_number` and `secret`"},
    429: {"description": "too many attempts from this address or for this case"},
}


@router.post(
    "/status",
    summary="A case's timeline, with its number and secret",
    response_model=CaseOut,
    responses=_CASE_RESPONSES,
    openapi_extra=_KEY_BODY,
)
async def case_status(request: Request, runtime: RuntimeDep) -> Any:
    """The case's state, timeline and locators (404 for a wrong secret or unknown case)."""
    key = await _case_key(request, runtime)
    return await run_in_threadpool(case_answer, runtime, key, runtime.services.cases.open)


@router.post(
    "/withdraw",
    summary="Withdraw a case: its hashes stop matching at once",
    response_model=CaseOut,
    responses=_CASE_RESPONSES,
    openapi_extra=_KEY_BODY,
)
async def withdraw_case(request: Request, runtime: RuntimeDep) -> Any:
    """Withdraw the case; its hashes are tombstoned (404 for a wrong secret or unknown case)."""
    key = await _case_key(request, runtime)
    return await run_in_threadpool(case_answer, runtime, key, runtime.services.cases.withdraw)


async def _case_key(request: Request, runtime: Runtime) -> CaseKey:
    """The body as a CaseKey, behind the receipt guards (protect_guards.receipt_key)."""
    return await receipt_key(request, runtime, CaseKey, "read")


def case_answer(runtime: Runtime, key: CaseKey, action: Callable[[str, str], Case]) -> CaseOut:
    """Run `action` (open, withdraw or complain) with the key. Only failures are charged to the
    case's bucket, keyed on the number as the service reads it: wrong guesses run out of
    tries (429, the same for unknown numbers), while the right secret is never refused,
    however many guesses others made. Secrets are 144 random bits: guessing stays hopeless.
    """
    try:
        case = action(key.case_number, key.secret)
    except NotFoundError:
        number = normalise_case_number(key.case_number)
        take_token(runtime, f"case:{number}", runtime.services.settings.protect_read_limit)
        raise
    notice = decision_notice(runtime, case.number)
    services = runtime.services
    notices = services.notices
    sent = notices.notices(case.number)
    names = {p.name: p.display_name for p in services.platforms.all()} if sent else {}
    fields = case_out(case, services.cases.copies_found(case), sent, notices.now(), names)
    blocked, last_blocked = services.cases.blocked_since_decision(case)
    return CaseOut(
        **fields,
        blocked_since_decision=blocked,
        last_blocked_at=last_blocked,
        decision=notice,
        **complaint_fields(runtime, case.number),
    )


def decision_notice(runtime: Runtime, number: str) -> DecisionNoticeOut | None:
    """The decision on the case's own review item, if there is one yet."""
    decision = runtime.services.reviews.case_decision(number)
    if decision is None or decision.kind not in _NOTICE_OUTCOMES:
        return None
    grounds = {g.code: g.label for g in runtime.services.reviews.grounds()}
    return DecisionNoticeOut(
        outcome=_NOTICE_OUTCOMES[decision.kind],
        at=decision.at,
        ground=grounds.get(decision.ground, decision.ground),
        reasons=decision.reason or decision.facts,
        complaint_until=runtime.services.complaints.window_end(decision),
        **case_complaint(runtime, number),
    )
