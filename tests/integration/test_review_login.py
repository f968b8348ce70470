"""Signing in to the review console: `/review/login`, `/review/logout`, `/review/totp`.

A small app holds the console's sign-in routes (install_review_auth) over an AccountService
on the in-memory adapter with a fake clock, plus two stand-in console routes: a page and a
form behind `current_reviewer` and `require_csrf`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from shieldwall.access.account_service import AccountService
from shieldwall.access.accounts import MAX_FAILED_LOGINS, SESSION_IDLE, ConsoleRole
from shieldwall.access.memory_accounts import InMemoryAccountRepository
from shieldwall.access.rate_limit import RateLimit, RateLimiter
from shieldwall.web.response_headers import ResponseHeadersMiddleware
from shieldwall.web.review.auth import LOGIN_LIMIT, ReviewAuth, Reviewer, require_csrf
from shieldwall.web.review.login import install_review_auth
from tests.support.clock import FakeClock

PASSWORD = "correct horse battery"
FAILED = "The username, password or code is not right"
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class Console:
    """The app, its accounts and clock, and a browser on it."""

    def __init__(
        self, *, require_totp: bool = False, https: bool = False, limit: RateLimit = LOGIN_LIMIT
    ) -> None:
        self.clock = FakeClock()
        self.accounts = AccountService(
            InMemoryAccountRepository(),
            self.clock,
            require_totp_for_leads=require_totp,
            hasher=FAST,
        )
        self.accounts.create("alice", ConsoleRole.REVIEWER, PASSWORD)
        app = FastAPI()
        limiter = RateLimiter(clock=self.clock.monotonic)
        install_review_auth(app, ReviewAuth(self.accounts, limiter, limit))

        @app.get("/review")
        def console_home(reviewer: Reviewer) -> PlainTextResponse:
            return PlainTextResponse(f"queue of {reviewer[0].username}")

        @app.post("/review/things")
        async def console_form(request: Request, reviewer: Reviewer) -> PlainTextResponse:
            await require_csrf(request, reviewer[1])
            return PlainTextResponse("done")

        app.add_middleware(ResponseHeadersMiddleware)
        base = "https://testserver" if https else "http://testserver"
        self.client = TestClient(app, base_url=base, follow_redirects=False)

    def login_form(self) -> str:
        page = self.client.get("/review/login")
        assert page.status_code == 200
        return hidden(page.text, "csrf")

    def login(
        self, username: str = "alice", password: str = PASSWORD, code: str = "", **extra: str
    ) -> httpx.Response:
        form = {"csrf": self.login_form(), "username": username, "password": password}
        answer: httpx.Response = self.client.post(
            "/review/login", data={**form, "code": code, **extra}
        )
        return answer

    def signed_in(self) -> str:
        """Sign alice in; the session's CSRF token."""
        assert self.login().status_code == 303
        return self.csrf_of_session()

    def csrf_of_session(self) -> str:
        page = self.client.get("/review/totp")
        assert page.status_code == 200
        return hidden(page.text, "csrf")


def hidden(html: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)
    assert match is not None, html
    return match.group(1)


def cookie_header(response: httpx.Response, name: str) -> str:
    (header,) = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    return header


@pytest.fixture
def console() -> Iterator[Console]:
    console = Console()
    with console.client:
        yield console


def test_the_sign_in_page_is_strict_and_plants_a_pre_session_token(console: Console) -> None:
    page = console.client.get("/review/login")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "<script" not in page.text
    assert "style=" not in page.text
    cookie = cookie_header(page, "sw_review_login")
    assert hidden(page.text, "csrf") in cookie
    for flag in ("HttpOnly", "SameSite=strict", "Path=/review/login"):
        assert flag in cookie
    assert 'href="/review/static/review.css"' in page.text
    assert console.client.get("/review/static/review.css").status_code == 200


def test_a_wrong_password_or_unknown_user_shows_the_same_page_and_error(
    console: Console,
) -> None:
    wrong = console.login(password="not the password")
    unknown = console.login(username="mallory")
    for answer in (wrong, unknown):
        assert answer.status_code == 200
        assert FAILED in answer.text
        assert "sw_review=" not in answer.headers.get("set-cookie", "")
    assert 'value="mallory"' in unknown.text
    assert console.client.get("/review").status_code == 303


def test_the_sixth_try_is_refused_even_with_the_right_password(console: Console) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        assert FAILED in console.login(password="not the password").text
    locked = console.login()
    assert locked.status_code == 200
    assert FAILED in locked.text
    assert console.client.get("/review").headers["location"] == "/review/login"


def test_signing_in_sets_a_strict_session_cookie_and_goes_on(console: Console) -> None:
    answer = console.login()
    assert answer.status_code == 303
    assert answer.headers["location"] == "/review"
    cookie = cookie_header(answer, "sw_review")
    for flag in ("HttpOnly", "SameSite=strict", "Path=/review"):
        assert flag in cookie
    for absent in ("Max-Age", "expires", "Secure"):
        assert absent.lower() not in cookie.lower()
    assert cookie_header(answer, "sw_review_login").startswith('sw_review_login="";')
    assert console.client.get("/review").text == "queue of alice"


def test_over_https_the_session_cookie_is_secure() -> None:
    console = Console(https=True)
    with console.client:
        answer = console.login()
        assert "; Secure" in cookie_header(answer, "sw_review")
        assert console.client.get("/review").text == "queue of alice"


def test_pages_send_a_browser_without_a_session_to_sign_in_and_back(console: Console) -> None:
    answer = console.client.get("/review/totp", params={"x": "1"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/review/login?next=/review/totp%3Fx%3D1"
    assert answer.headers["cache-control"] == "no-store"
    form = console.client.get(answer.headers["location"])
    assert hidden(form.text, "next") == "/review/totp?x=1"
    assert console.login(next="/review/totp?x=1").headers["location"] == "/review/totp?x=1"


@pytest.mark.parametrize(
    "target", ["//evil.example/review", "https://evil.example/review", "/protect", "/review/login"]
)
def test_only_console_paths_are_followed_after_sign_in(console: Console, target: str) -> None:
    assert console.login(next=target).headers["location"] == "/review"


def test_signing_out_ends_the_session(console: Console) -> None:
    csrf = console.signed_in()
    old_cookie = console.client.cookies.get("sw_review")
    answer = console.client.post("/review/logout", data={"csrf": csrf})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/review/login"
    assert cookie_header(answer, "sw_review").startswith('sw_review="";')
    console.client.cookies.set("sw_review", old_cookie or "", path="/review")
    assert console.client.get("/review").status_code == 303  # the old token is dead


@pytest.mark.parametrize("csrf", [None, "", "forged-token"])
def test_forms_without_the_sessions_csrf_token_are_refused(
    console: Console, csrf: str | None
) -> None:
    console.signed_in()
    data = {} if csrf is None else {"csrf": csrf}
    for path in ("/review/logout", "/review/things", "/review/totp"):
        answer = console.client.post(path, data=data)
        assert answer.status_code == 403, path
        assert "The page had expired" in answer.text
    assert console.client.get("/review").text == "queue of alice"  # still signed in


def test_another_users_csrf_token_is_refused(console: Console) -> None:
    console.accounts.create("bob", ConsoleRole.REVIEWER, PASSWORD)
    console.login("bob")
    bobs = console.csrf_of_session()
    console.client.post("/review/logout", data={"csrf": bobs})
    console.signed_in()
    assert console.client.post("/review/things", data={"csrf": bobs}).status_code == 403


def test_the_right_csrf_token_in_field_or_header_is_taken(console: Console) -> None:
    csrf = console.signed_in()
    assert console.client.post("/review/things", data={"csrf": csrf}).text == "done"
    assert console.client.post("/review/things", headers={"X-CSRF-Token": csrf}).text == "done"


def test_forms_from_another_site_are_refused(console: Console) -> None:
    csrf = console.signed_in()
    for headers in ({"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}):
        answer = console.client.post("/review/things", data={"csrf": csrf}, headers=headers)
        assert answer.status_code == 403
    # Browsers send `Origin: null` under no-referrer: the token decides then.
    same = {"origin": "null", "sec-fetch-site": "same-origin"}
    assert console.client.post("/review/things", data={"csrf": csrf}, headers=same).text == "done"


def test_the_sign_in_form_needs_its_pre_session_token(console: Console) -> None:
    console.login_form()
    form = {"username": "alice", "password": PASSWORD}
    for token in ({}, {"csrf": "forged"}):
        answer = console.client.post("/review/login", data={**form, **token})
        assert answer.status_code == 403
        assert "The page had expired" in answer.text
        assert "sw_review=" not in answer.headers.get("set-cookie", "")
    console.client.cookies.clear()
    assert console.client.post("/review/login", data={**form, "csrf": "x"}).status_code == 403


def test_a_session_idle_too_long_goes_back_to_sign_in(console: Console) -> None:
    console.signed_in()
    console.clock.advance(SESSION_IDLE - timedelta(seconds=1))
    assert console.client.get("/review").status_code == 200
    console.clock.advance(SESSION_IDLE)
    answer = console.client.get("/review")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/review/login"
    assert cookie_header(answer, "sw_review").startswith('sw_review="";')


def test_a_signed_in_browser_skips_the_sign_in_form(console: Console) -> None:
    console.signed_in()
    assert console.client.get("/review/login").headers["location"] == "/review"


def test_with_totp_on_the_code_is_required(console: Console) -> None:
    alice = console.accounts.account("alice")
    secret = console.accounts.begin_totp(alice).secret
    console.accounts.confirm_totp(alice, pyotp.TOTP(secret).at(console.clock()))
    console.clock.advance(60)
    assert FAILED in console.login().text
    assert FAILED in console.login(code="123456").text
    answer = console.login(code=pyotp.TOTP(secret).at(console.clock()))
    assert answer.status_code == 303
    assert console.client.get("/review").text == "queue of alice"


def test_setting_up_totp_from_the_page(console: Console) -> None:
    csrf = console.signed_in()
    page = console.client.get("/review/totp")
    secret = "".join(re.findall(r"<span>([A-Z2-7]{1,4})</span>", page.text))
    assert len(secret) == 32
    assert f"otpauth://totp/Shieldwall:alice?secret={secret}" in page.text
    wrong = console.client.post("/review/totp", data={"csrf": csrf, "code": "000000"})
    assert "That code is not right" in wrong.text
    code = pyotp.TOTP(secret).at(console.clock())
    done = console.client.post("/review/totp", data={"csrf": csrf, "code": code})
    assert done.headers["location"] == "/review/totp"
    assert "Two-step sign-in is on" in console.client.get("/review/totp").text
    assert console.accounts.account("alice").totp_enabled


def test_a_lead_must_set_up_totp_before_anything_else() -> None:
    console = Console(require_totp=True)
    with console.client:
        console.accounts.create("lena", ConsoleRole.LEAD, PASSWORD)
        answer = console.login("lena")
        assert answer.headers["location"] == "/review/totp"
        assert console.client.get("/review").headers["location"] == "/review/totp"
        page = console.client.get("/review/totp")
        assert "Your role needs a code" in page.text
        secret = "".join(re.findall(r"<span>([A-Z2-7]{1,4})</span>", page.text))
        code = pyotp.TOTP(secret).at(console.clock())
        console.client.post("/review/totp", data={"csrf": hidden(page.text, "csrf"), "code": code})
        assert console.client.get("/review").text == "queue of lena"


def test_sign_in_tries_are_limited_per_address() -> None:
    console = Console(limit=RateLimit(rate_per_second=0.1, burst=3))
    with console.client:
        for _ in range(3):
            assert console.login(password="not the password").status_code == 200
        limited = console.login()
        assert limited.status_code == 429
        assert "Too many tries" in limited.text
        assert int(limited.headers["retry-after"]) >= 1
        console.clock.advance(10)
        assert console.login().status_code == 303
