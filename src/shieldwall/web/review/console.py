"""The reviewer console's pages: the queue (`/review`), the leads' escalations, the blur
setting, and `install_review_console` putting them (with the item pages, media and admin
pages) on the app.

Every page is server-rendered under the console's strict headers (render.py); the one
script, static/review/console.js, adds the countdowns, the claim renewal, the break prompt,
re-blurring and the keyboard shortcuts.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from shieldwall.access.accounts import MAX_BLUR, Account, Session
from shieldwall.deadlines import ClockState
from shieldwall.errors import InvalidInputError
from shieldwall.review.models import ItemSource, ItemState
from shieldwall.review.queue import QueueFilter
from shieldwall.storage.sealing import load_data_key
from shieldwall.web.review import (
    admin,
    case_notices,
    items,
    media,
    platforms_page,
    transparency_page,
)
from shieldwall.web.review.auth import Reviewer, form_text, require_csrf
from shieldwall.web.review.render import render_page, see_other
from shieldwall.web.review.reveal_tokens import RevealTokens
from shieldwall.web.review.views import (
    ConsoleForbiddenError,
    Countdown,
    accounts_of,
    as_reviewer,
    at_risk_margin,
    console_page,
    holder_label,
    require_lead,
    reviews_of,
)

router = APIRouter(include_in_schema=False)
SignedInAccount = tuple[Account, Session]
_WAITING = frozenset({ItemState.OPEN, ItemState.NEEDS_INFO})


def _filter_of(request: Request, username: str) -> tuple[QueueFilter, dict[str, str]]:
    """The queue filter of the page's GET form, and the form's values to show again."""
    params = request.query_params
    shown = {name: params.get(name, "") for name in ("source", "bank", "state", "assignee")}
    source = ItemSource(shown["source"]) if shown["source"] in set(ItemSource) else None
    states = _WAITING
    if shown["state"] in {s.value for s in ItemState if s is not ItemState.DECIDED}:
        states = frozenset({ItemState(shown["state"])})
    assignee = {"me": username, "unclaimed": ""}.get(shown["assignee"])
    bank = shown["bank"].strip()[:255] or None
    return QueueFilter(source=source, bank=bank, states=states, assignee=assignee), shown


def _queue_page(request: Request, reviewer: SignedInAccount, escalations: bool) -> HTMLResponse:
    account, session = reviewer
    wanted, shown = _filter_of(request, account.username)
    if escalations:
        wanted = QueueFilter(
            source=wanted.source,
            bank=wanted.bank,
            states=frozenset({ItemState.ESCALATED}),
            assignee=wanted.assignee,
        )
    if ItemState.ESCALATED in wanted.states:
        require_lead(account)
    reviews = reviews_of(request)
    now = reviews.now()
    rows = [
        {
            "item": item,
            "countdown": Countdown.of(item.deadline, now, at_risk_margin(request)),
            "holder": holder_label(item, account, now),
        }
        for item in reviews.queue(as_reviewer(account), wanted)
    ]
    done = request.query_params.get("done", "")
    return console_page(
        request,
        "queue.html",
        (account, session),
        rows=rows,
        shown=shown,
        escalations=escalations or wanted.states == frozenset({ItemState.ESCALATED}),
        done=done if done.isdigit() else "",
    )


@router.get("/review")
def queue(request: Request, reviewer: Reviewer) -> HTMLResponse:
    """The queue: by deadline, then minors, trusted flaggers, age; filters as a GET form."""
    return _queue_page(request, reviewer, escalations=False)


@router.get("/review/escalations")
def escalations(request: Request, reviewer: Reviewer) -> HTMLResponse:
    """The leads' queue of escalated items (403 for reviewers)."""
    return _queue_page(request, reviewer, escalations=True)


@router.get("/review/overview")
def overview(request: Request, reviewer: Reviewer) -> HTMLResponse:
    """The leads' overview of the takedown clocks: every waiting case (and item without
    one), overdue first, then at risk; `?show=overdue|at_risk|all` (403 for reviewers)."""
    account, session = reviewer
    require_lead(account)
    services = request.app.state.runtime.services
    now = reviews_of(request).now()
    clocks = services.deadlines.clocks()
    counts = {state.value: sum(c.state is state for c in clocks) for state in ClockState}
    show = request.query_params.get("show", "")
    if show not in counts:
        show = "all"
    margin = at_risk_margin(request)
    rows = [
        {"clock": c, "countdown": Countdown.of(c.deadline, now, margin)}
        for c in clocks
        if show in ("all", c.state.value)
    ]
    locators = [
        {"clock": c, "countdown": Countdown.of(c.due, now, margin)}
        for c in services.deadlines.locator_clocks()
        if show in ("all", c.clock.value)
    ]
    return console_page(
        request,
        "overview.html",
        (account, session),
        rows=rows,
        locators=locators,
        counts=counts,
        show=show,
    )


@router.get("/review/settings")
def settings_page(request: Request, reviewer: Reviewer) -> HTMLResponse:
    """The account's own settings: the blur strength of its media."""
    return _settings(request, reviewer)


def _settings(
    request: Request,
    reviewer: SignedInAccount,
    *,
    error: str = "",
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    account, session = reviewer
    return console_page(
        request,
        "settings.html",
        (account, session),
        status_code=status_code,
        max_blur=MAX_BLUR,
        error=error,
        saved=saved or request.query_params.get("saved") == "1",
    )


@router.post("/review/settings")
async def save_settings(request: Request, reviewer: Reviewer) -> Response:
    """Set the blur strength (0..MAX_BLUR)."""
    form = await require_csrf(request, reviewer[1])
    given = form_text(form, "blur").strip()
    try:
        if not given.isdigit():
            raise InvalidInputError("not a number")
        accounts_of(request).set_blur(reviewer[0], int(given))
    except InvalidInputError:
        return _settings(request, reviewer, error="blur-range", status_code=422)
    return see_other("/review/settings?saved=1")


async def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleForbiddenError)
    return render_page(request, "console_message.html", status_code=403, message="forbidden")


def install_review_console(app: FastAPI) -> None:
    """Put the console's pages on the app (after install_review_auth: they need its
    accounts); reveal tokens are signed under a key derived from the data key."""
    settings = app.state.runtime.services.settings
    app.state.review_reveal_tokens = RevealTokens(load_data_key(settings.data_key, settings.home))
    app.add_exception_handler(ConsoleForbiddenError, _forbidden)
    app.include_router(router)
    app.include_router(items.router)
    app.include_router(media.router)
    app.include_router(admin.router)
    app.include_router(case_notices.router)
    app.include_router(platforms_page.router)
    app.include_router(transparency_page.router)
