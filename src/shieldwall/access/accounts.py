"""Console accounts (reviewers, leads, admins), their sessions and lock-out. No I/O here.

People use the reviewer console with accounts, not API keys: a username, an argon2
password hash, an optional TOTP second factor (required for leads and admins when the
deployment turns it on), and server-side sessions that end after a spell of inactivity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from shieldwall.errors import InvalidInputError

MAX_FAILED_LOGINS: Final = 5
"""Wrong passwords (or codes) in a row before an account locks."""
LOCK_OUT: Final = timedelta(minutes=15)
"""How long a locked account stays locked."""
SESSION_IDLE: Final = timedelta(minutes=30)
"""A session ends after this long without a request."""
MIN_PASSWORD: Final = 12
MAX_PASSWORD: Final = 256
DEFAULT_BLUR: Final = 24
"""Blur radius (pixels on a 640-pixel rendition) of a new account's media."""
MAX_BLUR: Final = 64
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


class ConsoleRole(StrEnum):
    """What a console account may do: reviewers decide, leads also handle escalations and
    see everyone's queue, admins also manage accounts and grounds."""

    REVIEWER = "reviewer"
    LEAD = "lead"
    ADMIN = "admin"


LEAD_ROLES: Final = frozenset({ConsoleRole.LEAD, ConsoleRole.ADMIN})
"""Roles that see escalations and everyone's queue."""


def validate_username(name: str) -> str:
    """2-64 lowercase letters, digits, `.`, `_` or `-`, starting with a letter or digit."""
    if not isinstance(name, str) or not _USERNAME.fullmatch(name):
        raise InvalidInputError(
            "a username is 2-64 lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def validate_password(password: str) -> str:
    """At least 12 characters (a passphrase), at most 256."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInputError(
            f"a password is {MIN_PASSWORD}-{MAX_PASSWORD} characters (a passphrase is best)"
        )
    return password


@dataclass(frozen=True)
class Account:
    """A stored console account (its password hash and TOTP secret stay in storage)."""

    id: int
    username: str
    role: ConsoleRole
    created_at: datetime
    disabled: bool = False
    totp_enabled: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = None
    blur: int = DEFAULT_BLUR

    def locked(self, now: datetime) -> bool:
        """Whether the account is locked out at `now`."""
        return self.locked_until is not None and now < self.locked_until

    @property
    def is_lead(self) -> bool:
        """Whether it sees escalations and everyone's queue."""
        return self.role in LEAD_ROLES


@dataclass(frozen=True)
class Credentials:
    """What storage keeps to check a login: the argon2 hash and the TOTP secret ("" none)."""

    password_hash: str
    totp_secret: str


@dataclass(frozen=True)
class Session:
    """A signed-in console session, stored by the SHA-256 of its token."""

    account_id: int
    csrf_token: str
    created_at: datetime
    last_seen: datetime

    def expired(self, now: datetime, idle: timedelta = SESSION_IDLE) -> bool:
        """Whether it ended for inactivity by `now`."""
        return now - self.last_seen >= idle
