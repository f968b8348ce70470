"""AccountService: sign-in with lock-out and TOTP, sessions, CSRF, changes told to the audit."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher

from shieldwall.access.account_service import (
    MAX_SESSION_AGE,
    SIGN_IN_REFUSED,
    AccountService,
    DetailValue,
    token_hash,
)
from shieldwall.access.accounts import (
    LOCK_OUT,
    MAX_BLUR,
    MAX_FAILED_LOGINS,
    SESSION_IDLE,
    Account,
    ConsoleRole,
)
from shieldwall.access.memory_accounts import InMemoryAccountRepository
from shieldwall.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from tests.support.clock import FakeClock

PASSWORD = "correct horse battery"
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
"""Cheap argon2 parameters: the tests check behaviour, not the cost."""

Change = tuple[str, str, dict[str, DetailValue]]


class World:
    """A service over the in-memory repository, with a fake clock and a change log."""

    def __init__(self, *, require_totp_for_leads: bool = False) -> None:
        self.clock = FakeClock()
        self.repository = InMemoryAccountRepository()
        self.changes: list[Change] = []
        self.service = AccountService(
            self.repository,
            self.clock,
            require_totp_for_leads=require_totp_for_leads,
            on_change=lambda actor, action, details: self.changes.append((actor, action, details)),
            hasher=FAST,
        )

    def user(self, name: str = "alice", role: ConsoleRole = ConsoleRole.REVIEWER) -> Account:
        return self.service.create(name, role, PASSWORD)

    def code(self, secret: str, steps: int = 0) -> str:
        return pyotp.TOTP(secret).at(self.clock() + timedelta(seconds=30 * steps))

    def with_totp(self, account: Account) -> str:
        setup = self.service.begin_totp(account)
        self.clock.advance(60)  # the confirming code's step is spent: sign-ins use later ones
        self.service.confirm_totp(account, self.code(setup.secret))
        self.clock.advance(60)
        return setup.secret


@pytest.fixture
def world() -> World:
    return World()


def refused(world: World, username: str, password: str, code: str | None = None) -> str:
    with pytest.raises(AuthenticationError) as caught:
        world.service.authenticate(username, password, code)
    return str(caught.value)


def test_the_right_password_signs_in_and_clears_failures(world: World) -> None:
    world.user()
    refused(world, "alice", "wrong password!")
    account = world.service.authenticate("alice", PASSWORD, None)
    assert (account.username, account.failed_logins) == ("alice", 0)
    assert world.repository.get("alice") == account


def test_usernames_are_read_case_and_space_insensitively(world: World) -> None:
    world.user()
    assert world.service.authenticate("  Alice ", PASSWORD, None).username == "alice"


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong password!"), ("nobody", PASSWORD), ("NOT A NAME!", PASSWORD)],
)
def test_every_failure_says_the_same_thing(world: World, username: str, password: str) -> None:
    world.user()
    assert refused(world, username, password) == SIGN_IN_REFUSED


def test_a_disabled_account_is_refused_alike_and_its_sessions_end(world: World) -> None:
    alice = world.user()
    token, _ = world.service.start_session(alice)
    world.service.set_disabled(alice, True)
    assert refused(world, "alice", PASSWORD) == SIGN_IN_REFUSED
    assert world.service.resolve_session(token) is None
    assert world.repository.session(token_hash(token)) is None


def test_the_fifth_failure_locks_the_account_even_against_the_right_password(
    world: World,
) -> None:
    world.user()
    for _ in range(MAX_FAILED_LOGINS - 1):
        refused(world, "alice", "wrong password!")
    assert world.repository.get("alice").locked_until is None  # type: ignore[union-attr]
    refused(world, "alice", "wrong password!")
    assert world.repository.get("alice").locked(world.clock())  # type: ignore[union-attr]
    assert refused(world, "alice", PASSWORD) == SIGN_IN_REFUSED
    assert [c[1] for c in world.changes] == ["created", "locked"]


def test_a_lock_ends_after_lock_out_and_the_count_starts_again(world: World) -> None:
    world.user()
    for _ in range(MAX_FAILED_LOGINS):
        refused(world, "alice", "wrong password!")
    world.clock.advance(LOCK_OUT - timedelta(seconds=1))
    refused(world, "alice", PASSWORD)
    world.clock.advance(timedelta(seconds=1))
    for _ in range(MAX_FAILED_LOGINS - 1):  # four fresh tries do not lock it again
        refused(world, "alice", "wrong password!")
    assert world.service.authenticate("alice", PASSWORD, None).failed_logins == 0


def test_tries_while_locked_do_not_extend_the_lock(world: World) -> None:
    world.user()
    for _ in range(MAX_FAILED_LOGINS):
        refused(world, "alice", "wrong password!")
    locked_until = world.repository.get("alice").locked_until  # type: ignore[union-attr]
    world.clock.advance(60)
    for _ in range(10):
        refused(world, "alice", "wrong password!")
    assert world.repository.get("alice").locked_until == locked_until  # type: ignore[union-attr]


def test_totp_is_required_once_confirmed_and_accepts_the_previous_step(world: World) -> None:
    alice = world.user()
    secret = world.with_totp(alice)
    assert refused(world, "alice", PASSWORD) == SIGN_IN_REFUSED
    assert refused(world, "alice", PASSWORD, "000000x") == SIGN_IN_REFUSED
    assert refused(world, "alice", PASSWORD, world.code(secret, -2)) == SIGN_IN_REFUSED
    previous = world.code(secret, -1)
    assert world.service.authenticate("alice", PASSWORD, previous).totp_enabled


def test_a_totp_code_works_once(world: World) -> None:
    alice = world.user()
    secret = world.with_totp(alice)
    code = world.code(secret)
    world.service.authenticate("alice", PASSWORD, code)
    assert refused(world, "alice", PASSWORD, code) == SIGN_IN_REFUSED
    world.service.authenticate("alice", PASSWORD, world.code(secret, 1))


def test_a_right_code_with_a_wrong_password_is_not_spent(world: World) -> None:
    alice = world.user()
    secret = world.with_totp(alice)
    code = world.code(secret)
    refused(world, "alice", "wrong password!", code)
    assert world.service.authenticate("alice", PASSWORD, f"{code[:3]} {code[3:]}").totp_enabled


def test_wrong_codes_count_towards_the_lock(world: World) -> None:
    alice = world.user()
    secret = world.with_totp(alice)
    for _ in range(MAX_FAILED_LOGINS):
        refused(world, "alice", PASSWORD, "123456")
    assert refused(world, "alice", PASSWORD, world.code(secret)) == SIGN_IN_REFUSED


def test_totp_set_up_is_stored_unconfirmed_until_a_code_checks_out(world: World) -> None:
    alice = world.user()
    setup = world.service.begin_totp(alice)
    assert setup.uri.startswith("otpauth://totp/Shieldwall:alice?secret=" + setup.secret)
    assert world.service.begin_totp(alice) == setup  # reloading the page keeps the secret
    assert world.service.authenticate("alice", PASSWORD, None)  # not required yet
    with pytest.raises(AuthenticationError):
        world.service.confirm_totp(alice, "123456")
    world.service.confirm_totp(alice, world.code(setup.secret))
    with pytest.raises(ConflictError):
        world.service.begin_totp(alice)
    assert world.changes[-1] == (
        "account:1",
        "totp",
        {"account": 1, "username": "alice", "totp": "enabled"},
    )


def test_reset_totp_removes_it_and_ends_sessions(world: World) -> None:
    alice = world.user()
    world.with_totp(alice)
    token, _ = world.service.start_session(alice)
    world.service.reset_totp(alice, actor="cli")
    assert world.service.authenticate("alice", PASSWORD, None).totp_enabled is False
    assert world.service.resolve_session(token) is None
    assert world.service.begin_totp(alice).secret != ""


def test_leads_without_totp_need_set_up_where_it_is_required() -> None:
    world = World(require_totp_for_leads=True)
    lead = world.user("lena", ConsoleRole.LEAD)
    reviewer = world.user("rui", ConsoleRole.REVIEWER)
    signed_in = world.service.authenticate("lena", PASSWORD, None)
    assert world.service.needs_totp_setup(signed_in)
    assert not world.service.needs_totp_setup(reviewer)
    world.with_totp(lead)
    assert not world.service.needs_totp_setup(world.service.account("lena"))
    assert not World().service.needs_totp_setup(lead)


def test_an_outdated_hash_is_replaced_at_sign_in() -> None:
    world = World()
    world.user()
    old_hash = world.repository.credentials(1).password_hash
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    service = AccountService(world.repository, world.clock, hasher=stronger)
    service.authenticate("alice", PASSWORD, None)
    new_hash = world.repository.credentials(1).password_hash
    assert new_hash != old_hash
    assert not stronger.check_needs_rehash(new_hash)
    assert service.authenticate("alice", PASSWORD, None)
    service.authenticate("alice", PASSWORD, None)
    assert world.repository.credentials(1).password_hash == new_hash  # no rehash when current


def test_a_session_token_is_stored_only_as_its_hash(world: World) -> None:
    alice = world.user()
    token, session = world.service.start_session(alice)
    assert len(token) >= 43
    assert session.csrf_token != token
    assert world.repository.session(token) is None
    assert world.repository.session(token_hash(token)) == session
    account, resolved = world.service.resolve_session(token) or (None, None)
    assert account == alice
    assert resolved == session


def test_a_session_ends_after_idling_and_activity_keeps_it(world: World) -> None:
    alice = world.user()
    token, _ = world.service.start_session(alice)
    world.clock.advance(SESSION_IDLE - timedelta(seconds=1))
    resolved = world.service.resolve_session(token)
    assert resolved is not None
    assert resolved[1].last_seen == world.clock()
    world.clock.advance(SESSION_IDLE - timedelta(seconds=1))
    assert world.service.resolve_session(token) is not None
    world.clock.advance(SESSION_IDLE)
    assert world.service.resolve_session(token) is None
    assert world.repository.session(token_hash(token)) is None


def test_a_session_ends_at_its_maximum_age_however_active(world: World) -> None:
    alice = world.user()
    token, _ = world.service.start_session(alice)
    for _ in range(int(MAX_SESSION_AGE / SESSION_IDLE) * 2 - 1):
        world.clock.advance(SESSION_IDLE / 2)
        assert world.service.resolve_session(token) is not None
    world.clock.advance(SESSION_IDLE / 2)
    assert world.service.resolve_session(token) is None


def test_signing_out_ends_the_session(world: World) -> None:
    token, _ = world.service.start_session(world.user())
    world.service.end_session(token)
    world.service.end_session(token)
    assert world.service.resolve_session(token) is None
    assert world.service.resolve_session("x" * 500) is None
    assert world.service.resolve_session(None) is None


def test_csrf_tokens_must_match_the_session(world: World) -> None:
    _, session = world.service.start_session(world.user())
    _other_token, other = world.service.start_session(world.user("bob"))
    assert world.service.check_csrf(session, session.csrf_token)
    assert not world.service.check_csrf(session, other.csrf_token)
    assert not world.service.check_csrf(session, "")
    assert not world.service.check_csrf(session, None)
    assert not world.service.check_csrf(session, session.csrf_token + "x")


def test_create_validates_and_refuses_duplicates(world: World) -> None:
    world.user()
    with pytest.raises(ConflictError):
        world.user()
    with pytest.raises(InvalidInputError):
        world.service.create("bob", ConsoleRole.REVIEWER, "short")
    with pytest.raises(InvalidInputError):
        world.service.create("Bob!", ConsoleRole.REVIEWER, PASSWORD)
    with pytest.raises(InvalidInputError):
        world.service.create("bob", "owner", PASSWORD)
    with pytest.raises(NotFoundError):
        world.service.account("bob")


def test_changing_a_password_needs_the_old_one_and_ends_sessions(world: World) -> None:
    alice = world.user()
    token, _ = world.service.start_session(alice)
    with pytest.raises(AuthenticationError):
        world.service.change_password(alice, "wrong password!", "a brand new passphrase")
    world.service.change_password(alice, PASSWORD, "a brand new passphrase")
    assert world.service.resolve_session(token) is None
    refused(world, "alice", PASSWORD)
    assert world.service.authenticate("alice", "a brand new passphrase", None)


def test_a_password_reset_unlocks_the_account(world: World) -> None:
    alice = world.user()
    for _ in range(MAX_FAILED_LOGINS):
        refused(world, "alice", "wrong password!")
    world.service.reset_password(alice, "a brand new passphrase", actor="cli")
    assert world.service.authenticate("alice", "a brand new passphrase", None)


def test_the_last_enabled_admin_cannot_be_demoted_or_disabled(world: World) -> None:
    admin = world.user("ada", ConsoleRole.ADMIN)
    with pytest.raises(ConflictError):
        world.service.set_role(admin, ConsoleRole.LEAD)
    with pytest.raises(ConflictError):
        world.service.set_disabled(admin, True)
    world.user("bea", ConsoleRole.ADMIN)
    assert world.service.set_role(admin, "lead").role is ConsoleRole.LEAD


def test_blur_is_bounded(world: World) -> None:
    alice = world.user()
    assert world.service.set_blur(alice, MAX_BLUR).blur == MAX_BLUR
    assert world.service.set_blur(alice, 0).blur == 0
    for bad in (-1, MAX_BLUR + 1, True):
        with pytest.raises(InvalidInputError):
            world.service.set_blur(alice, bad)


def test_every_account_change_is_told_with_its_actor(world: World) -> None:
    alice = world.user()
    world.service.set_role(alice, ConsoleRole.LEAD, actor="cli")
    world.service.set_disabled(alice, True, actor="account:9")
    world.service.set_disabled(alice, False, actor="account:9")
    world.service.reset_password(alice, "a brand new passphrase", actor="cli")
    world.service.reset_totp(alice, actor="cli")
    base = {"account": 1, "username": "alice"}
    assert world.changes == [
        ("system", "created", {**base, "role": "reviewer"}),
        ("cli", "role", {**base, "role": "lead"}),
        ("account:9", "disabled", {**base, "disabled": True}),
        ("account:9", "disabled", {**base, "disabled": False}),
        ("cli", "password", base),
        ("cli", "totp", {**base, "totp": "reset"}),
    ]
