"""Signing in to the console and out of it, and setting up TOTP: `/review/login`,
`/review/logout`, `/review/totp`.

Sign-in tries are limited per client address (auth.LOGIN_LIMIT) before any password is
checked; every failure shows one message. A lead or admin who must use TOTP but has not set
it up signs in with the password into a session that only reaches the set-up page (see
access/account_service.py). The set-up page shows the secret as text and its `otpauth://`
link (no QR service: the secret never leaves this service).
"""

from __future__ import annotations

from importlib import resources
from typing import Final
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from shieldwall.access.account_service import actor_of
from shieldwall.access.accounts import Account, Session
from shieldwall.errors import AuthenticationError, ConflictError, RateLimitedError
from shieldwall.web.review.auth import (
    COOKIE_PATH,
    HOME_PATH,
    LOGIN_COOKIE,
    LOGIN_PATH,
    SESSION_COOKIE,
    TOTP_PATH,
    ReviewAuth,
    ReviewFormRefusedError,
    ReviewFormUnreadableError,
    ReviewRedirect,
    SignedIn,
    clear_cookie,
    client_address,
    form_text,
    login_token_matches,
    new_login_token,
    read_form,
    require_csrf,
    review_auth,
    same_origin,
    session_token,
    set_cookie,
)
from shieldwall.web.review.render import render_page, see_other

router = APIRouter(include_in_schema=False)

# What went wrong, as codes: the templates hold the texts, so catalogues can find them.
SIGN_IN_FAILED: Final = "sign-in-failed"
TOO_MANY: Final = "too-many"
FORM_EXPIRED: Final = "form-expired"
FORM_UNREADABLE: Final = "form-unreadable"
CODE_WRONG: Final = "code-wrong"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path of this service, else the console."""
    if not target or "\\" in target or not target.isprintable():
        return HOME_PATH
    parts = urlsplit(target)
    path = parts.path
    inside = path == HOME_PATH or path.startswith(HOME_PATH + "/")
    if parts.scheme or parts.netloc or not inside or path in (LOGIN_PATH, "/review/logout"):
        return HOME_PATH
    return target


def _login_page(
    request: Request,
    *,
    error: str = "",
    username: str = "",
    target: str = HOME_PATH,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The sign-in form with a pre-session CSRF token (the cookie's, or a new one)."""
    token = request.cookies.get(LOGIN_COOKIE) or new_login_token()
    response = render_page(
        request,
        "login.html",
        status_code=status_code,
        headers=headers,
        csrf=token,
        error=error,
        username=username,
        next=safe_next(target),
    )
    set_cookie(request, response, LOGIN_COOKIE, token, LOGIN_PATH)
    return response


@router.get(LOGIN_PATH)
def login_form(request: Request) -> Response:
    """The sign-in form (or on to the console, for a browser already signed in)."""
    target = safe_next(request.query_params.get("next"))
    if review_auth(request).accounts.resolve_session(session_token(request)) is not None:
        return see_other(target)
    return _login_page(request, target=target)


@router.post(LOGIN_PATH)
async def login(request: Request) -> Response:
    """Check the credentials; on success start a session and go on (or to TOTP set-up)."""
    auth = review_auth(request)
    same_origin(request)
    try:
        auth.limiter.check_bucket(("review-login", client_address(request)), auth.login_limit)
    except RateLimitedError as exc:
        retry = {"Retry-After": str(max(1, round(exc.retry_after + 0.499)))}
        return _login_page(request, error=TOO_MANY, status_code=429, headers=retry)
    form = await read_form(request)
    username, target = form_text(form, "username"), form_text(form, "next")
    if not login_token_matches(request, form_text(form, "csrf")):
        return _login_page(
            request, error=FORM_EXPIRED, username=username, target=target, status_code=403
        )
    try:
        account = await run_in_threadpool(
            auth.accounts.authenticate,
            username,
            form_text(form, "password"),
            form_text(form, "code"),
        )
    except AuthenticationError:
        return _login_page(request, error=SIGN_IN_FAILED, username=username, target=target)
    token, _ = await run_in_threadpool(auth.accounts.start_session, account)
    onward = TOTP_PATH if auth.accounts.needs_totp_setup(account) else safe_next(target)
    response = see_other(onward)
    set_cookie(request, response, SESSION_COOKIE, token, COOKIE_PATH)
    clear_cookie(request, response, LOGIN_COOKIE, LOGIN_PATH)
    return response


@router.post("/review/logout")
async def logout(request: Request, reviewer: SignedIn) -> Response:
    """End the session and go back to the sign-in page."""
    await require_csrf(request, reviewer[1])
    review_auth(request).accounts.end_session(session_token(request))
    response = see_other(LOGIN_PATH)
    clear_cookie(request, response, SESSION_COOKIE, COOKIE_PATH)
    return response


@router.get(TOTP_PATH)
def totp_form(request: Request, reviewer: SignedIn) -> HTMLResponse:
    """Set TOTP up (the secret, as text and as an otpauth link), or say it is on."""
    return _totp_page(request, reviewer)


@router.post(TOTP_PATH)
async def confirm_totp(request: Request, reviewer: SignedIn) -> Response:
    """Turn TOTP on with a code from the app; the console follows."""
    auth = review_auth(request)
    form = await require_csrf(request, reviewer[1])
    try:
        auth.limiter.check_bucket(("review-totp", client_address(request)), auth.login_limit)
        await run_in_threadpool(
            auth.accounts.confirm_totp,
            reviewer[0],
            form_text(form, "code"),
            actor=actor_of(reviewer[0]),
        )
    except RateLimitedError:
        return _totp_page(request, reviewer, error=TOO_MANY, status_code=429)
    except AuthenticationError:
        return _totp_page(request, reviewer, error=CODE_WRONG)
    except ConflictError:
        pass  # already on (a second tab, a double click): the page says so
    return see_other(TOTP_PATH)


def _totp_page(
    request: Request, reviewer: tuple[Account, Session], *, error: str = "", status_code: int = 200
) -> HTMLResponse:
    accounts = review_auth(request).accounts
    account, session = reviewer
    setup = None if account.totp_enabled else accounts.begin_totp(account)
    return render_page(
        request,
        "totp.html",
        status_code=status_code,
        account=account,
        csrf=session.csrf_token,
        setup=setup,
        secret_groups=_groups_of_four(setup.secret) if setup else [],
        required=accounts.require_totp_for_leads and account.is_lead,
        error=error,
    )


def _groups_of_four(secret: str) -> list[str]:
    """The secret as people copy it: `JBSW Y3DP EHPK 3PXP`."""
    return [secret[i : i + 4] for i in range(0, len(secret), 4)]


async def _redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ReviewRedirect)
    response = see_other(exc.location)
    if exc.location.startswith(LOGIN_PATH) and session_token(request):
        clear_cookie(request, response, SESSION_COOKIE, COOKIE_PATH)  # ended or unknown
    return response


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ReviewFormRefusedError)
    return render_page(request, "message.html", status_code=403, message=FORM_EXPIRED)


async def _unreadable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ReviewFormUnreadableError)
    return render_page(request, "message.html", status_code=400, message=FORM_UNREADABLE)


def install_review_auth(app: FastAPI, auth: ReviewAuth) -> None:
    """Mount the console's static files, sign-in routes and redirects on the app, with
    `auth` (the accounts service and the rate limiter) for every console route."""
    app.state.review_auth = auth
    static = resources.files("shieldwall.web") / "static" / "review"
    app.mount("/review/static", StaticFiles(directory=str(static)), name="review-static")
    app.add_exception_handler(ReviewRedirect, _redirect)
    app.add_exception_handler(ReviewFormRefusedError, _refused)
    app.add_exception_handler(ReviewFormUnreadableError, _unreadable)
    app.include_router(router)
