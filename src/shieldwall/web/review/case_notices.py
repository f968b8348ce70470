"""A case's notices to other platforms in the console: `/review/cases/{number}/notices`.

For each link of the case: the platform serving it (from the directory), the law its
notice rests on, and what became of it; forms to email the notices, to download one as
text or PDF for a platform's web form (recorded as sent), and to record a platform's answer
with a re-check date. Every console account may use it; each change is recorded by the
notice service (which the audit log follows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from shieldwall.access.accounts import Account, Session
from shieldwall.audit.models import Actor, ActorKind
from shieldwall.cases.models import Case
from shieldwall.cases.service import normalise_case_number
from shieldwall.errors import InvalidInputError, NotFoundError, UnavailableError
from shieldwall.integrations.notice_pdf import notice_pdf
from shieldwall.takedown.platforms import Platform
from shieldwall.takedown.service import NoticeService, PreparedNotice
from shieldwall.takedown.tracking import LocatorNotice, NoticeState
from shieldwall.web.review.auth import Reviewer, form_text, require_csrf
from shieldwall.web.review.render import page_headers, render_page, see_other
from shieldwall.web.review.views import Countdown, at_risk_margin, console_page

router = APIRouter(include_in_schema=False)
CaseNumber = Annotated[str, Path(max_length=40)]
NoticeId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ANSWERS = (NoticeState.ACKNOWLEDGED, NoticeState.REMOVED, NoticeState.REFUSED)


@dataclass(frozen=True)
class LocatorRow:
    """One link of the case as the page shows it."""

    position: int
    locator: str
    swept: bool  # a copy a sweep found, not a link of the report
    platform: Platform | None
    prepared: PreparedNotice | None
    sent: LocatorNotice | None
    state: NoticeState | None
    countdown: Countdown | None


def notices_of(request: Request) -> NoticeService:
    """The notice service of the app serving this request."""
    service: NoticeService = request.app.state.runtime.services.notices
    return service


def notices_path(number: str) -> str:
    """The page of a case's notices."""
    return f"/review/cases/{quote(number)}/notices"


def _rows(request: Request, case: Case) -> list[LocatorRow]:
    notices = notices_of(request)
    platforms = request.app.state.runtime.services.platforms
    prepared = {n.locator: n for n in notices.prepared(case.number, synthetic=False)}
    sent = {n.locator: n for n in notices.notices(case.number)}
    now, margin = notices.now(), at_risk_margin(request)
    rows = []
    for position, link in enumerate(notices.links(case.number), 1):
        notice, ready = sent.get(link.value), prepared.get(link.value)
        due = notice.next_look(now) if notice is not None else None
        rows.append(
            LocatorRow(
                position,
                link.value,
                link.swept,
                ready.platform if ready else platforms.platform_of(link.value),
                ready,
                notice,
                notice.state(now) if notice is not None else None,
                Countdown.of(due, now, margin) if due is not None else None,
            )
        )
    return rows


def _page(
    request: Request,
    reviewer: tuple[Account, Session],
    number: str,
    *,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    try:
        case = request.app.state.runtime.services.cases.get(normalise_case_number(number))
    except (NotFoundError, InvalidInputError):
        return render_page(request, "console_message.html", status_code=404, message="no-case")
    rows = _rows(request, case)
    services = request.app.state.runtime.services
    sweeps = services.sweeps.of_case(case.number)
    blocked, last_blocked = services.cases.blocked_since_decision(case)
    return console_page(
        request,
        "case_notices.html",
        reviewer,
        status_code=status_code,
        case=case,
        rows=rows,
        answers=[state.value for state in ANSWERS],
        to_email=sum(
            1 for r in rows if r.prepared and r.sent is None and r.prepared.platform.abuse_email
        ),
        can_email=notices_of(request).can_send,
        sweeps=sweeps,
        copies=[hit for sweep in sweeps for hit in sweep.hits],
        blocked=blocked,
        last_blocked=last_blocked,
        retention_days=services.settings.screened_retention_days,
        error=error,
        done=request.query_params.get("done", "")[:20],
    )


@router.get("/review/cases/{number}/notices")
def case_notices(request: Request, reviewer: Reviewer, number: CaseNumber) -> HTMLResponse:
    """The case's links, their platforms and notices, and the forms to act on them."""
    return _page(request, reviewer, number)


@router.post("/review/cases/{number}/notices/send")
async def send_notices(request: Request, reviewer: Reviewer, number: CaseNumber) -> Response:
    """Email every notice not sent yet to platforms with an abuse address."""
    form = await require_csrf(request, reviewer[1])
    canonical = normalise_case_number(number)
    synthetic = form_text(form, "synthetic") == "yes"
    try:
        sent = await run_in_threadpool(
            notices_of(request).send, canonical, synthetic=synthetic, actor=_actor(reviewer[0])
        )
    except (InvalidInputError, UnavailableError, NotFoundError) as exc:
        return _page(request, reviewer, number, error=str(exc), status_code=422)
    return see_other(f"{notices_path(canonical)}?done=sent-{len(sent)}")


@router.post("/review/cases/{number}/notices/export")
async def export_notice(request: Request, reviewer: Reviewer, number: CaseNumber) -> Response:
    """One link's notice as a text or PDF download for the platform's web form; recorded
    as sent (its clock starts) the first time."""
    form = await require_csrf(request, reviewer[1])
    canonical = normalise_case_number(number)
    notices = notices_of(request)
    as_pdf = form_text(form, "format") == "pdf"
    try:
        notice = notices.prepared_for(
            canonical, form_text(form, "locator"), synthetic=form_text(form, "synthetic") == "yes"
        )
        body = (
            await run_in_threadpool(notice_pdf, notice.subject, notice.body)
            if as_pdf
            else f"{notice.subject}\n\n{notice.body}".encode()
        )
        notices.exported(canonical, notice, _actor(reviewer[0]))
    except (InvalidInputError, UnavailableError, NotFoundError) as exc:
        return _page(request, reviewer, number, error=str(exc), status_code=422)
    name = f"{canonical}-{notice.platform.name}.{'pdf' if as_pdf else 'txt'}"
    media_type = "application/pdf" if as_pdf else "text/plain; charset=utf-8"
    headers = page_headers({"Content-Disposition": f'attachment; filename="{name}"'})
    return Response(body, media_type=media_type, headers=headers)


@router.post("/review/notices/{notice_id}/answer")
async def answer_notice(request: Request, reviewer: Reviewer, notice_id: NoticeId) -> Response:
    """Record the platform's answer (state, note, an optional re-check date)."""
    form = await require_csrf(request, reviewer[1])
    notices = notices_of(request)
    try:
        notice = notices.get(notice_id)
    except NotFoundError:
        return render_page(request, "console_message.html", status_code=404, message="no-case")
    try:
        state = form_text(form, "state")
        if state not in {s.value for s in ANSWERS}:
            raise InvalidInputError("choose what the platform answered")
        notices.answer(
            notice_id,
            NoticeState(state),
            form_text(form, "note"),
            reviewer[0].username,
            _recheck(form_text(form, "recheck")),
            actor=_actor(reviewer[0]),
        )
    except InvalidInputError as exc:
        return _page(request, reviewer, notice.case_number, error=str(exc), status_code=422)
    return see_other(f"{notices_path(notice.case_number)}?done=answer")


def _actor(account: Account) -> Actor:
    """The signed-in reviewer as the audit log names them."""
    return Actor(ActorKind.REVIEWER, account.username)


def _recheck(given: str) -> datetime | None:
    """A date input's value (YYYY-MM-DD) as the start of that day, UTC."""
    if not given.strip():
        return None
    try:
        day = datetime.strptime(given.strip(), "%Y-%m-%d").date()
    except ValueError as exc:
        raise InvalidInputError("the re-check date is a date (YYYY-MM-DD)") from exc
    return datetime.combine(day, time(9), tzinfo=UTC)
