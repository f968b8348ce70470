"""What every console page shares: who is looking (as the review service's Reviewer), the
services, the wellbeing figures, and deadlines told in words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from fastapi.responses import HTMLResponse

from shieldwall.access.account_service import AccountService
from shieldwall.access.accounts import Account, ConsoleRole, Session
from shieldwall.errors import PermissionDeniedError
from shieldwall.review.models import Reviewer, ReviewItem
from shieldwall.review.service import ReviewService
from shieldwall.web.review.auth import review_auth
from shieldwall.web.review.render import render_page


def at_risk_margin(request: Request) -> timedelta:
    """The deployment's at-risk margin (`deadline_at_risk_hours`, 12 unless set)."""
    margin: timedelta = request.app.state.runtime.services.settings.deadline_policy.at_risk
    return margin


class ConsoleForbiddenError(PermissionDeniedError):
    """A console page the account's role does not reach (403 page)."""


def reviews_of(request: Request) -> ReviewService:
    """The review service of the app serving this request."""
    service: ReviewService = request.app.state.runtime.services.reviews
    return service


def accounts_of(request: Request) -> AccountService:
    """The console accounts service."""
    return review_auth(request).accounts


def as_reviewer(account: Account) -> Reviewer:
    """The review service's view of a console account (leads and admins handle escalations)."""
    return Reviewer(account.username, lead=account.is_lead, admin=account.role is ConsoleRole.ADMIN)


def require_lead(account: Account) -> None:
    """Refuse (403) anyone below a lead."""
    if not account.is_lead:
        raise ConsoleForbiddenError("only leads and admins see this page")


def require_admin(account: Account) -> None:
    """Refuse (403) anyone but an admin."""
    if account.role is not ConsoleRole.ADMIN:
        raise ConsoleForbiddenError("only admins see this page")


@dataclass(frozen=True)
class Countdown:
    """An item's deadline as the console tells it: in words, never by colour only."""

    deadline: datetime
    seconds_left: int
    status: str  # "ok", "at-risk" or "overdue"
    at_risk_seconds: int

    @classmethod
    def of(cls, deadline: datetime, now: datetime, at_risk: timedelta) -> Countdown:
        """The countdown to `deadline` at `now`; "at risk" within `at_risk` of it."""
        left = deadline - now
        status = "overdue" if left <= timedelta(0) else "at-risk" if left <= at_risk else "ok"
        return cls(deadline, int(left.total_seconds()), status, int(at_risk.total_seconds()))

    @property
    def text(self) -> str:
        """The time left (or past) as `31 h 5 min`."""
        return duration_text(abs(self.seconds_left))


def duration_text(seconds: int) -> str:
    """A span as people read it: `2 d 3 h`, `5 h 12 min`, `7 min`."""
    minutes = seconds // 60
    days, hours, mins = minutes // 1440, (minutes // 60) % 24, minutes % 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


@dataclass(frozen=True)
class Wellbeing:
    """The figures every page shows: how long this session has been open (the exposure
    timer), when the next break prompt comes, and the reveals left today."""

    since: datetime
    seconds: int
    break_minutes: int
    reveals_left: int

    @property
    def text(self) -> str:
        """The exposure time in words."""
        return duration_text(self.seconds)


def wellbeing_of(request: Request, account: Account, session: Session) -> Wellbeing:
    """The wellbeing figures of this reviewer now."""
    reviews = reviews_of(request)
    now = reviews.now()
    seconds = max(0, int((now - session.created_at).total_seconds()))
    settings = request.app.state.runtime.services.settings
    return Wellbeing(
        since=session.created_at,
        seconds=seconds,
        break_minutes=max(1, int(settings.review_break_minutes)),
        reveals_left=reviews.reveals_left(as_reviewer(account)),
    )


def holder_label(item: ReviewItem, account: Account, now: datetime) -> str:
    """Who holds the item as this viewer may see it: leads see names, reviewers see "you"
    or "someone else" ("" for nobody)."""
    holder = item.claimed_by(now)
    if holder is None:
        return ""
    if holder == account.username:
        return "you"
    return holder if account.is_lead else "another reviewer"


def console_page(
    request: Request,
    template: str,
    reviewer: tuple[Account, Session],
    *,
    status_code: int = 200,
    **context: object,
) -> HTMLResponse:
    """A signed-in console page: `context` plus what console_base.html and the console's
    script need (the account, its CSRF token, the wellbeing figures)."""
    account, session = reviewer
    render: Callable[..., HTMLResponse] = render_page  # context keys are template names
    return render(
        request,
        template,
        status_code=status_code,
        account=account,
        csrf=session.csrf_token,
        wellbeing=wellbeing_of(request, account, session),
        is_admin=account.role is ConsoleRole.ADMIN,
        **context,
    )
