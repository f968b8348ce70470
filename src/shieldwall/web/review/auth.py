"""Who is signed in to the console, and whether a form really came from its own pages.

The session cookie `sw_review` holds a random token (the server keeps only its SHA-256):
HttpOnly, SameSite=Strict, Path=/review, Secure when the request came over https (as the
ASGI server reports it: `request.url.scheme`), and no Max-Age, so it ends with the browser.

Forms are protected three ways: SameSite=Strict (no other site's page sends the cookie),
an origin check (a browser's `Sec-Fetch-Site: cross-site`/`same-site`, or an `Origin` for
another host, is refused; `Origin: null`, which browsers send under the pages'
`Referrer-Policy: no-referrer`, is not taken as proof either way), and a CSRF token in a
hidden `csrf` field: the session's own for signed-in forms, and for the sign-in form a
random pre-session token doubled in the `sw_review_login` cookie (double submit).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Annotated, Final
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from shieldwall.access.account_service import AccountService
from shieldwall.access.accounts import Account, Session
from shieldwall.access.rate_limit import RateLimit, RateLimiter
from shieldwall.errors import InvalidInputError, PermissionDeniedError

SESSION_COOKIE: Final = "sw_review"
LOGIN_COOKIE: Final = "sw_review_login"
"""The sign-in form's pre-session CSRF token (double submit)."""
COOKIE_PATH: Final = "/review"
LOGIN_PATH: Final = "/review/login"
TOTP_PATH: Final = "/review/totp"
HOME_PATH: Final = "/review"
CSRF_FIELD: Final = "csrf"
CSRF_HEADER: Final = "X-CSRF-Token"
"""For the console's scripts, which post with fetch rather than a form."""
LOGIN_LIMIT: Final = RateLimit(rate_per_second=1 / 6, burst=10)
"""Sign-in tries (and TOTP set-up codes) per client address: 10 at once, then one every
6 seconds (600 an hour across every username, where each account locks after 5)."""


@dataclass(frozen=True)
class ReviewAuth:
    """What the console's sign-in needs from the app: the accounts and the rate limiter."""

    accounts: AccountService
    limiter: RateLimiter
    login_limit: RateLimit = field(default=LOGIN_LIMIT)


class ReviewRedirect(Exception):  # noqa: N818 (an answer, not a failure)
    """Raised by a dependency to send the browser elsewhere (303): to sign in, or to set
    TOTP up."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class ReviewFormRefusedError(PermissionDeniedError):
    """A console form without the right CSRF token, or sent from another site (403)."""

    code = "csrf-refused"


class ReviewFormUnreadableError(InvalidInputError):
    """A console form that could not be parsed (400)."""


def review_auth(request: Request) -> ReviewAuth:
    """The console's sign-in services, as install_review_auth put them on the app."""
    auth: ReviewAuth = request.app.state.review_auth
    return auth


def client_address(request: Request) -> str:
    """The address rate limits are kept for (the proxy's client, as the server reports it)."""
    return request.client.host if request.client else "unknown"


def session_token(request: Request) -> str | None:
    """The session token the browser sent, if any."""
    return request.cookies.get(SESSION_COOKIE)


def set_cookie(request: Request, response: Response, name: str, value: str, path: str) -> None:
    """A session cookie (no Max-Age) that scripts cannot read and other sites never send."""
    response.set_cookie(
        name,
        value,
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(request: Request, response: Response, name: str, path: str) -> None:
    """Tell the browser to drop a cookie set by set_cookie."""
    response.delete_cookie(
        name, path=path, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )


def _resolve(request: Request) -> tuple[Account, Session]:
    resolved = review_auth(request).accounts.resolve_session(session_token(request))
    if resolved is None:
        raise ReviewRedirect(login_location(request))
    return resolved


def login_location(request: Request) -> str:
    """The sign-in page, coming back to this page (GETs only) once signed in."""
    if request.method == "GET" and request.url.path != HOME_PATH:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return f"{LOGIN_PATH}?next={quote(target, safe='/')}"
    return LOGIN_PATH


def signed_in(request: Request) -> tuple[Account, Session]:
    """Dependency: the account and session, even one that must set TOTP up first (the
    set-up page and signing out take it); 303 to the sign-in page without one."""
    return _resolve(request)


def current_reviewer(request: Request) -> tuple[Account, Session]:
    """Dependency for console pages: the signed-in account and its session; 303 to the
    sign-in page without a valid session, or to TOTP set-up where that comes first."""
    account, session = _resolve(request)
    if review_auth(request).accounts.needs_totp_setup(account):
        raise ReviewRedirect(TOTP_PATH)
    return account, session


Reviewer = Annotated[tuple[Account, Session], Depends(current_reviewer)]
"""A route parameter: the signed-in reviewer (pages only; 303 to sign in otherwise)."""
SignedIn = Annotated[tuple[Account, Session], Depends(signed_in)]
"""A route parameter: any signed-in session, TOTP set-up pending or not."""


def same_origin(request: Request) -> None:
    """Refuse a request a browser says came from another site or origin."""
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    host = request.headers.get("host", "")
    foreign_origin = origin not in (None, "null") and origin.split("://", 1)[-1] != host
    if site in ("cross-site", "same-site") or foreign_origin:
        raise ReviewFormRefusedError("forms from other sites are refused")


async def read_form(request: Request) -> FormData:
    """The posted form (urlencoded or multipart); ReviewFormUnreadableError if it is not one."""
    try:
        return await request.form()
    except (ValueError, AssertionError, KeyError):
        raise ReviewFormUnreadableError("the form could not be read") from None


def form_text(form: FormData, name: str) -> str:
    """A text field of the form ("" if missing or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def require_csrf(request: Request, session: Session) -> FormData:
    """Refuse (403) a form without the session's CSRF token (the `csrf` field, or the
    X-CSRF-Token header) or from another site; the form, read, otherwise."""
    same_origin(request)
    form = await read_form(request)
    given = request.headers.get(CSRF_HEADER) or form_text(form, CSRF_FIELD)
    if not review_auth(request).accounts.check_csrf(session, given):
        raise ReviewFormRefusedError("the form's security token is missing or out of date")
    return form


def new_login_token() -> str:
    """A pre-session CSRF token for the sign-in form."""
    return secrets.token_urlsafe(32)


def login_token_matches(request: Request, given: str) -> bool:
    """Whether the sign-in form's token is the one in its cookie (double submit)."""
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not given:
        return False
    return hmac.compare_digest(cookie.encode(), given.encode())
