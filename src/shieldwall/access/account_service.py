"""Console accounts as use cases: create, sign in (argon2, TOTP, lock-out), sessions, CSRF.

Every failed sign-in answers with one message, whatever went wrong (unknown username, wrong
password or code, disabled or locked account), and costs one argon2 check either way, so
neither the answer nor its timing tells a guesser which usernames exist.

When the deployment requires TOTP for leads and admins, one who has not set it up yet may
still sign in with the password, into a session that can only set TOTP up (see
`needs_totp_setup`): the console sends them straight to the set-up page, and the session
becomes a full one the moment a code is confirmed. Nothing else is reachable before that.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Final

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shieldwall.access.account_ports import AccountRepository
from shieldwall.access.accounts import (
    LOCK_OUT,
    MAX_BLUR,
    MAX_FAILED_LOGINS,
    MAX_PASSWORD,
    SESSION_IDLE,
    Account,
    ConsoleRole,
    Session,
    validate_password,
    validate_username,
)
from shieldwall.clock import Clock, utc_now
from shieldwall.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)

SIGN_IN_REFUSED: Final = "wrong username, password or code, or the account is locked for now"
"""The one answer to every failed sign-in."""
MAX_SESSION_AGE: Final = timedelta(hours=12)
"""A session ends after this long however active it is: a working day, then sign in again."""
TOKEN_BYTES: Final = 32
MAX_TOKEN_CHARS: Final = 64
"""A session token is 43 characters; anything much longer is not one."""
TOTP_DIGITS: Final = 6
SYSTEM_ACTOR: Final = "system"
CLI_ACTOR: Final = "cli"

DetailValue = str | int | bool | None
OnChange = Callable[[str, str, dict[str, DetailValue]], None]
"""Told (actor, action, details) after each account change, for the audit log."""


def actor_of(account: Account) -> str:
    """How an account acting in the console is named to `on_change`: `account:<id>`."""
    return f"account:{account.id}"


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a session token is stored: the token never is."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TotpSetup:
    """A TOTP secret waiting to be confirmed: the text and the `otpauth://` URI of it."""

    secret: str
    uri: str


class AccountService:
    """Console accounts, their sign-in, sessions and second factor."""

    def __init__(
        self,
        repository: AccountRepository,
        clock: Clock = utc_now,
        *,
        require_totp_for_leads: bool = False,
        on_change: OnChange | None = None,
        hasher: PasswordHasher | None = None,
        issuer: str = "Shieldwall",
    ) -> None:
        self._repository = repository
        self._clock = clock
        self.require_totp_for_leads = require_totp_for_leads
        self._on_change = on_change
        self._hasher = hasher if hasher is not None else PasswordHasher()
        self._issuer = issuer
        # The last TOTP time step accepted per account, so a code works once (per process).
        self._last_steps: dict[int, int] = {}

    @cached_property
    def _dummy_hash(self) -> str:
        """A hash nobody knows the password of: unknown usernames are checked against it."""
        return self._hasher.hash(secrets.token_urlsafe(24))

    # Accounts -------------------------------------------------------------------------

    def create(
        self, username: str, role: ConsoleRole | str, password: str, *, actor: str = SYSTEM_ACTOR
    ) -> Account:
        """A new account; InvalidInputError for a bad name, role or password, ConflictError
        if the username is taken."""
        validate_username(username)
        console_role = _role(role)
        validate_password(password)
        account = self._repository.create(
            username, console_role, self._hasher.hash(password), self._clock()
        )
        self._changed(actor, "created", account, role=console_role.value)
        return account

    def account(self, username: str) -> Account:
        """The account with this username; NotFoundError if none."""
        account = self._repository.get(username)
        if account is None:
            raise NotFoundError(f"no account {username!r}")
        return account

    def list(self) -> list[Account]:
        """Every account, by username."""
        return self._repository.list()

    def set_role(
        self, account: Account, role: ConsoleRole | str, *, actor: str = SYSTEM_ACTOR
    ) -> Account:
        """Change the role (never the last enabled admin's: ConflictError)."""
        new_role = _role(role)
        if new_role is not ConsoleRole.ADMIN:
            self._keep_an_admin(account)
        updated = self._repository.set_role(account.id, new_role)
        self._changed(actor, "role", updated, role=new_role.value)
        return updated

    def set_disabled(
        self, account: Account, disabled: bool, *, actor: str = SYSTEM_ACTOR
    ) -> Account:
        """Disable (its sessions end at once) or re-enable an account; the last enabled admin
        cannot be disabled (ConflictError)."""
        if disabled:
            self._keep_an_admin(account)
        updated = self._repository.set_disabled(account.id, disabled)
        if disabled:  # the repository does too; a session must never outlive this
            self._repository.end_sessions_of(account.id)
        self._changed(actor, "disabled", updated, disabled=disabled)
        return updated

    def set_blur(self, account: Account, blur: int) -> Account:
        """The blur strength of the account's media renditions, 0..MAX_BLUR."""
        if isinstance(blur, bool) or not isinstance(blur, int) or not 0 <= blur <= MAX_BLUR:
            raise InvalidInputError(f"blur must be a whole number from 0 to {MAX_BLUR}")
        return self._repository.set_blur(account.id, blur)

    def change_password(
        self, account: Account, old: str, new: str, *, actor: str | None = None
    ) -> None:
        """Replace one's own password, given the current one; every session ends."""
        if not self._verify(self._repository.credentials(account.id).password_hash, old):
            raise AuthenticationError("the current password is not right")
        self.reset_password(account, new, actor=actor or actor_of(account))

    def reset_password(self, account: Account, new: str, *, actor: str = SYSTEM_ACTOR) -> None:
        """Set a new password (an admin's reset); failures and lock clear, sessions end."""
        validate_password(new)
        self._repository.set_password(account.id, self._hasher.hash(new))
        self._repository.end_sessions_of(account.id)
        self._changed(actor, "password", account)

    def _keep_an_admin(self, account: Account) -> None:
        """Refuse a change that would leave no enabled admin to manage accounts."""
        if account.role is not ConsoleRole.ADMIN or account.disabled:
            return
        if not any(
            a.role is ConsoleRole.ADMIN and not a.disabled and a.id != account.id
            for a in self._repository.list()
        ):
            raise ConflictError(f"{account.username} is the last enabled admin")

    def _changed(self, actor: str, action: str, account: Account, **details: DetailValue) -> None:
        if self._on_change is not None:
            self._on_change(
                actor, action, {"account": account.id, "username": account.username, **details}
            )

    # Sign-in ----------------------------------------------------------------------------

    def authenticate(self, username: str, password: str, totp_code: str | None) -> Account:
        """The account, if the password (and the code, when TOTP is on) are right and it is
        neither disabled nor locked; AuthenticationError(SIGN_IN_REFUSED) otherwise.

        Each wrong password or code counts; the MAX_FAILED_LOGINS-th in a row locks the
        account for LOCK_OUT (tries while locked are refused without counting)."""
        now = self._clock()
        account = self._lookup(username)
        if account is None or not isinstance(password, str) or len(password) > MAX_PASSWORD:
            self._verify(self._dummy_hash, "not the password")
            raise AuthenticationError(SIGN_IN_REFUSED)
        credentials = self._repository.credentials(account.id)
        password_ok = self._verify(credentials.password_hash, password)
        if account.disabled or account.locked(now):
            raise AuthenticationError(SIGN_IN_REFUSED)
        step = self._totp_step(account.id, credentials.totp_secret, totp_code, now)
        if not password_ok or (account.totp_enabled and step is None):
            self._fail(account, now)
        if account.totp_enabled and step is not None:
            self._last_steps[account.id] = step
        self._repository.record_success(account.id)
        if self._hasher.check_needs_rehash(credentials.password_hash):
            self._repository.set_password(account.id, self._hasher.hash(password))
        return replace(account, failed_logins=0, locked_until=None)

    def needs_totp_setup(self, account: Account) -> bool:
        """Whether the account must set TOTP up before anything else (a lead or admin
        without it, where the deployment requires it)."""
        return self.require_totp_for_leads and account.is_lead and not account.totp_enabled

    def _lookup(self, username: str) -> Account | None:
        if not isinstance(username, str):
            return None
        name = username.strip().lower()
        try:
            validate_username(name)
        except InvalidInputError:
            return None
        return self._repository.get(name)

    def _fail(self, account: Account, now: datetime) -> None:
        """Count the failure, locking on every MAX_FAILED_LOGINS-th (so after a lock ends
        the next MAX_FAILED_LOGINS tries count afresh), and refuse."""
        failures = account.failed_logins + 1
        locks = failures % MAX_FAILED_LOGINS == 0
        self._repository.record_failure(account.id, now + LOCK_OUT if locks else None)
        if locks:
            self._changed(SYSTEM_ACTOR, "locked", account, failed_logins=failures)
        raise AuthenticationError(SIGN_IN_REFUSED)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    # Sessions ---------------------------------------------------------------------------

    def start_session(self, account: Account) -> tuple[str, Session]:
        """A new session: its token (for the cookie, stored only as SHA-256) and itself."""
        now = self._clock()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        session = Session(account.id, secrets.token_urlsafe(TOKEN_BYTES), now, now)
        self._repository.create_session(token_hash(token), session)
        return token, session

    def resolve_session(self, token: str | None) -> tuple[Account, Session] | None:
        """The account and session of a token, marking it active; None (and the session
        ended) if it is unknown, idle past SESSION_IDLE, older than MAX_SESSION_AGE, or its
        account is gone or disabled."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        key = token_hash(token)
        session = self._repository.session(key)
        if session is None:
            return None
        now = self._clock()
        account = self._repository.get_by_id(session.account_id)
        too_old = now - session.created_at >= MAX_SESSION_AGE
        if account is None or account.disabled or too_old or session.expired(now, SESSION_IDLE):
            self._repository.end_session(key)
            return None
        self._repository.touch_session(key, now)
        return account, replace(session, last_seen=now)

    def end_session(self, token: str | None) -> None:
        """Sign out (an unknown or ended token is fine)."""
        if token and len(token) <= MAX_TOKEN_CHARS:
            self._repository.end_session(token_hash(token))

    @staticmethod
    def check_csrf(session: Session, given: str | None) -> bool:
        """Whether a form's CSRF token is the session's (compared in constant time)."""
        if not given or not isinstance(given, str):
            return False
        return hmac.compare_digest(session.csrf_token.encode(), given.encode())

    # TOTP -------------------------------------------------------------------------------

    def begin_totp(self, account: Account) -> TotpSetup:
        """A secret to add to an authenticator app, stored but not yet required (the one
        already waiting, if set-up was begun before); ConflictError if TOTP is on."""
        current = self._repository.get_by_id(account.id) or account
        if current.totp_enabled:
            raise ConflictError("TOTP is already set up; an admin can reset it")
        secret = self._repository.credentials(account.id).totp_secret
        if not secret:
            secret = pyotp.random_base32()
            self._repository.set_totp(account.id, secret, enabled=False)
        uri = pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name=self._issuer)
        return TotpSetup(secret, uri)

    def confirm_totp(self, account: Account, code: str, *, actor: str | None = None) -> Account:
        """Turn TOTP on once a code from the app checks out; AuthenticationError if not."""
        current = self._repository.get_by_id(account.id) or account
        secret = self._repository.credentials(account.id).totp_secret
        if current.totp_enabled or not secret:
            raise ConflictError("begin TOTP set-up first")
        step = self._totp_step(account.id, secret, code, self._clock())
        if step is None:
            raise AuthenticationError("the code is not right; check the app's clock and retry")
        self._last_steps[account.id] = step
        self._repository.set_totp(account.id, secret, enabled=True)
        self._changed(actor or actor_of(account), "totp", account, totp="enabled")
        return replace(current, totp_enabled=True)

    def reset_totp(self, account: Account, *, actor: str = SYSTEM_ACTOR) -> Account:
        """Remove the second factor (a lost phone); its sessions end. It must be set up
        again at the next sign-in where the deployment requires it."""
        self._repository.set_totp(account.id, "", enabled=False)
        self._repository.end_sessions_of(account.id)
        self._last_steps.pop(account.id, None)
        self._changed(actor, "totp", account, totp="reset")
        return replace(account, totp_enabled=False)

    def _totp_step(
        self, account_id: int, secret: str, code: str | None, now: datetime
    ) -> int | None:
        """The time step `code` belongs to if it is the current step's, or the one before or
        after (clock drift), and newer than the last step this account used (a code works
        once, within this process); None otherwise. The caller records the step on success.
        """
        given = "".join((code or "").split())
        if not secret or len(given) != TOTP_DIGITS or not given.isascii() or not given.isdigit():
            return None
        totp = pyotp.TOTP(secret)
        step = totp.timecode(now)
        last = self._last_steps.get(account_id, -1)
        for candidate in (step - 1, step, step + 1):
            if candidate > last and hmac.compare_digest(totp.generate_otp(candidate), given):
                return candidate
        return None


def _role(role: ConsoleRole | str) -> ConsoleRole:
    try:
        return ConsoleRole(role)
    except ValueError:
        known = ", ".join(r.value for r in ConsoleRole)
        raise InvalidInputError(f"unknown role {role!r} (known: {known})") from None
