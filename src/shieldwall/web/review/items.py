"""The item page of the console: `/review/items/{id}` (what triggered it, the case's report,
matches, signals, deadline, past decisions, the blurred media) and its forms: claim (also
renewed by the page's script), release, decide.

Opening an item never changes anything (GET); claiming is a form, and after a decision the
console claims the next waiting item for the reviewer and goes there.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from shieldwall.access.accounts import Account, Session
from shieldwall.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from shieldwall.review.complaint_models import OwnDecisionError
from shieldwall.review.models import KINDS_BY_SOURCE, ItemState, Reviewer, ReviewItem
from shieldwall.review.queue import QueueFilter
from shieldwall.web.review.auth import CSRF_HEADER, require_csrf
from shieldwall.web.review.auth import Reviewer as ReviewerDep
from shieldwall.web.review.complaint_view import complaint_view
from shieldwall.web.review.decision_form import DecisionForm
from shieldwall.web.review.render import page_headers, render_page, see_other
from shieldwall.web.review.views import (
    Countdown,
    as_reviewer,
    at_risk_margin,
    console_page,
    holder_label,
    reviews_of,
)

router = APIRouter(include_in_schema=False)
ItemId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def item_page(
    request: Request,
    reviewer: tuple[Account, Session],
    item_id: int,
    *,
    error: str = "",
    detail: str = "",
    form: DecisionForm | None = None,
    original_token: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    """The item page, with an error, a decision form to show again, or a revealed original."""
    account, session = reviewer
    reviews = reviews_of(request)
    try:
        item = reviews.item(item_id)
    except NotFoundError:
        return render_page(request, "console_message.html", status_code=404, message="no-item")
    now = reviews.now()
    case = reviews.case(item.case_number) if item.case_number else None
    viewer = as_reviewer(account)
    previous, following = _neighbours(reviews.queue(viewer, _queue_of(item, viewer)), item)
    return console_page(
        request,
        "item.html",
        (account, session),
        status_code=status_code,
        item=item,
        case=case,
        countdown=Countdown.of(item.deadline, now, at_risk_margin(request)),
        holder=holder_label(item, account, now),
        mine=item.claimed_by(now) == account.username,
        kinds=sorted(k.value for k in KINDS_BY_SOURCE[item.source]),
        grounds=reviews.grounds(),
        error=error,
        detail=detail,
        form=form,
        original_token=original_token,
        previous=previous,
        following=following,
        decided=item.state is ItemState.DECIDED,
        complaint=complaint_view(request, item, account),
    )


def _queue_of(item: ReviewItem, viewer: Reviewer) -> QueueFilter:
    """The queue an item is worked from: the escalations for an escalated one (leads)."""
    if item.state is ItemState.ESCALATED and viewer.lead:
        return QueueFilter(states=frozenset({ItemState.ESCALATED}))
    return QueueFilter()


def _neighbours(queue: list[ReviewItem], item: ReviewItem) -> tuple[int | None, int | None]:
    """The ids before and after the item in its queue (j/k on the page)."""
    ids = [i.id for i in queue]
    if item.id not in ids:
        return None, (ids[0] if ids else None)
    at = ids.index(item.id)
    return (ids[at - 1] if at else None), (ids[at + 1] if at + 1 < len(ids) else None)


@router.get("/review/items/{item_id}")
def show_item(request: Request, item_id: ItemId, reviewer: ReviewerDep) -> HTMLResponse:
    """The item; with `?r=` (a fresh reveal token of this session) the original too."""
    token = request.query_params.get("r", "")
    tokens = request.app.state.review_reveal_tokens
    now = reviews_of(request).now()
    if token and not tokens.valid(token, item_id, reviewer[1].csrf_token, now):
        token = ""
    return item_page(request, reviewer, item_id, original_token=token)


@router.post("/review/items/{item_id}/claim")
async def claim_item(request: Request, item_id: ItemId, reviewer: ReviewerDep) -> Response:
    """Claim (or renew the claim on) the item: a form goes on to the item page; the page's
    script (X-CSRF-Token header) gets 204, or 409/403 when the claim is lost."""
    await require_csrf(request, reviewer[1])
    from_script = CSRF_HEADER.lower() in request.headers
    try:
        await run_in_threadpool(reviews_of(request).claim, item_id, as_reviewer(reviewer[0]))
    except NotFoundError:
        if from_script:
            return Response(status_code=404, headers=page_headers())
        return item_page(request, reviewer, item_id)  # the page says there is no such item
    except (ConflictError, PermissionDeniedError, InvalidInputError) as exc:
        if from_script:
            status = 403 if isinstance(exc, PermissionDeniedError) else 409
            return Response(status_code=status, headers=page_headers())
        status = 403 if isinstance(exc, PermissionDeniedError) else 409
        return item_page(request, reviewer, item_id, error=_claim_problem(exc), status_code=status)
    if from_script:
        return Response(status_code=204, headers=page_headers())
    return see_other(f"/review/items/{item_id}")


def _claim_problem(exc: Exception) -> str:
    """The page's code for a refused claim."""
    if isinstance(exc, ConflictError):
        return "held-by-other"
    if isinstance(exc, OwnDecisionError):
        return "own-decision"
    if isinstance(exc, PermissionDeniedError):
        return "leads-only"
    return "already-decided"


@router.post("/review/items/{item_id}/release")
async def release_item(request: Request, item_id: ItemId, reviewer: ReviewerDep) -> Response:
    """Give the item back to the queue and go to the queue."""
    await require_csrf(request, reviewer[1])
    try:
        await run_in_threadpool(reviews_of(request).release, item_id, as_reviewer(reviewer[0]))
    except NotFoundError:
        return item_page(request, reviewer, item_id)
    return see_other("/review")


@router.post("/review/items/{item_id}/decide")
async def decide_item(request: Request, item_id: ItemId, reviewer: ReviewerDep) -> Response:
    """Record a decision; then on to the next waiting item (claimed), or the queue."""
    form = await require_csrf(request, reviewer[1])
    reviews = reviews_of(request)
    viewer = as_reviewer(reviewer[0])
    posted = DecisionForm.read(form, {g.code for g in reviews.grounds()})
    if posted.problems:
        return item_page(
            request, reviewer, item_id, error="form-problems", form=posted, status_code=422
        )
    try:
        await run_in_threadpool(reviews.decide, item_id, viewer, posted.to_input())
    except NotFoundError:
        return item_page(request, reviewer, item_id)
    except ConflictError:
        return item_page(request, reviewer, item_id, error="held-by-other", status_code=409)
    except OwnDecisionError:
        return item_page(request, reviewer, item_id, error="own-decision", status_code=403)
    except PermissionDeniedError:
        return item_page(
            request, reviewer, item_id, error="not-yours", form=posted, status_code=403
        )
    except InvalidInputError as exc:
        return item_page(
            request, reviewer, item_id, error="not-allowed", detail=str(exc), status_code=422
        )
    following = await run_in_threadpool(claim_next, request, viewer, item_id)
    if following is None:
        return see_other(f"/review?done={item_id}")
    return see_other(f"/review/items/{following}")


def claim_next(request: Request, viewer: Reviewer, after: int) -> int | None:
    """Claim the first waiting item nobody else holds (leads: escalations first); its id."""
    reviews = reviews_of(request)
    queues = [QueueFilter()]
    if viewer.lead:
        queues.insert(0, QueueFilter(states=frozenset({ItemState.ESCALATED})))
    now = reviews.now()
    for wanted in queues:
        for item in reviews.queue(viewer, wanted):
            if item.id == after or item.claimed_by(now) not in (None, viewer.name):
                continue
            try:
                reviews.claim(item.id, viewer)
            except (ConflictError, PermissionDeniedError, InvalidInputError, NotFoundError):
                continue  # taken meanwhile: try the next
            return item.id
    return None
