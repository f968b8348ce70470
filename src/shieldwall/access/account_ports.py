"""What console accounts need from storage. Adapters: memory, SQL (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from shieldwall.access.accounts import Account, ConsoleRole, Credentials, Session


class AccountRepository(Protocol):
    """Persistent accounts and sessions; every method is atomic; errors are ShieldwallErrors.

    TOTP secrets are sealed at rest by the SQL adapter; callers see them in clear."""

    def create(self, username: str, role: ConsoleRole, password_hash: str, at: datetime) -> Account:
        """Store a new account; ConflictError if the username is taken."""
        ...

    def get(self, username: str) -> Account | None:
        """The account with this username, or None."""
        ...

    def get_by_id(self, account_id: int) -> Account | None:
        """The account with this id, or None."""
        ...

    def list(self) -> list[Account]:
        """Every account, by username."""
        ...

    def credentials(self, account_id: int) -> Credentials:
        """The account's password hash and TOTP secret; NotFoundError if none."""
        ...

    def set_password(self, account_id: int, password_hash: str) -> None:
        """Replace the password hash (and clear failed logins and any lock)."""
        ...

    def set_totp(self, account_id: int, secret: str, enabled: bool) -> None:
        """Store a TOTP secret ("" to remove it) and whether logins require it."""
        ...

    def set_role(self, account_id: int, role: ConsoleRole) -> Account:
        """Change the account's role."""
        ...

    def set_disabled(self, account_id: int, disabled: bool) -> Account:
        """Disable or re-enable the account (disabling ends its sessions)."""
        ...

    def set_blur(self, account_id: int, blur: int) -> Account:
        """The account's blur strength for media renditions."""
        ...

    def record_failure(self, account_id: int, locked_until: datetime | None) -> Account:
        """One more failed login in a row; lock until `locked_until` when given."""
        ...

    def record_success(self, account_id: int) -> None:
        """A successful login: failed logins back to zero, no lock."""
        ...

    def create_session(self, token_hash: str, session: Session) -> None:
        """Store a session under the SHA-256 of its token."""
        ...

    def session(self, token_hash: str) -> Session | None:
        """The session with this token hash, or None."""
        ...

    def touch_session(self, token_hash: str, at: datetime) -> None:
        """Record activity on the session."""
        ...

    def end_session(self, token_hash: str) -> None:
        """Remove the session (signing out twice is fine)."""
        ...

    def end_sessions_of(self, account_id: int) -> None:
        """Remove every session of the account."""
        ...
