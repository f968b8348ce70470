"""The admins' console pages: `/review/admin/users` (list, create with a role, disable or
enable, reset TOTP) and `/review/admin/grounds` (list, add or replace, remove). Admins
only (403 page otherwise); every change goes through AccountService or ReviewService, which
append it to the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from shieldwall.access.account_service import actor_of
from shieldwall.access.accounts import Account, ConsoleRole, Session
from shieldwall.errors import ConflictError, InvalidInputError, NotFoundError
from shieldwall.review.models import Ground
from shieldwall.web.review.auth import Reviewer, form_text, require_csrf
from shieldwall.web.review.render import see_other
from shieldwall.web.review.views import (
    accounts_of,
    as_reviewer,
    console_page,
    require_admin,
    reviews_of,
)

router = APIRouter(include_in_schema=False)
USERS_PATH = "/review/admin/users"
GROUNDS_PATH = "/review/admin/grounds"


def _users_page(
    request: Request,
    reviewer: tuple[Account, Session],
    *,
    error: str = "",
    detail: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    account, session = reviewer
    require_admin(account)
    return console_page(
        request,
        "admin_users.html",
        (account, session),
        status_code=status_code,
        users=accounts_of(request).list(),
        roles=[r.value for r in ConsoleRole],
        error=error,
        detail=detail,
        done=request.query_params.get("done", "")[:40],
    )


@router.get(USERS_PATH)
def users(request: Request, reviewer: Reviewer) -> HTMLResponse:
    """Every account, and the form to create one."""
    return _users_page(request, reviewer)


@router.post(USERS_PATH)
async def change_user(request: Request, reviewer: Reviewer) -> Response:
    """Create an account, disable or enable one, or reset its TOTP (`change` field)."""
    require_admin(reviewer[0])
    form = await require_csrf(request, reviewer[1])
    accounts = accounts_of(request)
    actor = actor_of(reviewer[0])
    change, username = form_text(form, "change"), form_text(form, "username").strip()
    try:
        if change == "create":
            role, password = form_text(form, "role"), form_text(form, "password")
            await run_in_threadpool(accounts.create, username, role, password, actor=actor)
        elif change in ("disable", "enable"):
            target = accounts.account(username)
            accounts.set_disabled(target, change == "disable", actor=actor)
        elif change == "reset-totp":
            accounts.reset_totp(accounts.account(username), actor=actor)
        else:
            raise InvalidInputError("unknown change")
    except (InvalidInputError, ConflictError, NotFoundError) as exc:
        return _users_page(request, reviewer, error=change, detail=str(exc), status_code=422)
    return see_other(f"{USERS_PATH}?done={change}")


def _grounds_page(
    request: Request,
    reviewer: tuple[Account, Session],
    *,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    account, session = reviewer
    require_admin(account)
    return console_page(
        request,
        "admin_grounds.html",
        (account, session),
        status_code=status_code,
        grounds=reviews_of(request).grounds(),
        error=error,
        done=request.query_params.get("done", "")[:40],
    )


@router.get(GROUNDS_PATH)
def grounds(request: Request, reviewer: Reviewer) -> HTMLResponse:
    """The grounds decisions may rest on, and the forms to change them."""
    return _grounds_page(request, reviewer)


@router.post(GROUNDS_PATH)
async def change_ground(request: Request, reviewer: Reviewer) -> Response:
    """Add or replace a ground (`change=put`), or remove one (`change=remove`)."""
    require_admin(reviewer[0])
    form = await require_csrf(request, reviewer[1])
    reviews = reviews_of(request)
    viewer = as_reviewer(reviewer[0])
    change, code = form_text(form, "change"), form_text(form, "code").strip()
    try:
        if change == "put":
            ground = Ground(
                code,
                form_text(form, "label").strip(),
                form_text(form, "kind"),
                form_text(form, "reference_url").strip(),
            )
            reviews.put_ground(viewer, ground)
        elif change == "remove":
            reviews.remove_ground(viewer, code)
        else:
            raise InvalidInputError("unknown change")
    except (InvalidInputError, NotFoundError) as exc:
        return _grounds_page(request, reviewer, error=str(exc), status_code=422)
    return see_other(f"{GROUNDS_PATH}?done={change}")
