"""In-memory console accounts and sessions, for tests and the contract suite."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from shieldwall.access.accounts import Account, ConsoleRole, Credentials, Session
from shieldwall.errors import ConflictError, NotFoundError


class InMemoryAccountRepository:
    """Accounts, credentials and sessions in dicts, behind a lock."""

    def __init__(self) -> None:
        self._accounts: dict[int, Account] = {}
        self._credentials: dict[int, Credentials] = {}
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, username: str, role: ConsoleRole, password_hash: str, at: datetime) -> Account:
        with self._lock:
            if any(a.username == username for a in self._accounts.values()):
                raise ConflictError(f"account {username} exists")
            account = Account(len(self._accounts) + 1, username, role, at)
            self._accounts[account.id] = account
            self._credentials[account.id] = Credentials(password_hash, "")
            return account

    def get(self, username: str) -> Account | None:
        with self._lock:
            return next((a for a in self._accounts.values() if a.username == username), None)

    def get_by_id(self, account_id: int) -> Account | None:
        with self._lock:
            return self._accounts.get(account_id)

    def list(self) -> list[Account]:
        with self._lock:
            return sorted(self._accounts.values(), key=lambda a: a.username)

    def _account(self, account_id: int) -> Account:
        try:
            return self._accounts[account_id]
        except KeyError:
            raise NotFoundError(f"no account {account_id}") from None

    def credentials(self, account_id: int) -> Credentials:
        with self._lock:
            self._account(account_id)
            return self._credentials[account_id]

    def set_password(self, account_id: int, password_hash: str) -> None:
        with self._lock:
            account = self._account(account_id)
            self._accounts[account_id] = replace(account, failed_logins=0, locked_until=None)
            secret = self._credentials[account_id].totp_secret
            self._credentials[account_id] = Credentials(password_hash, secret)

    def set_totp(self, account_id: int, secret: str, enabled: bool) -> None:
        with self._lock:
            account = self._account(account_id)
            self._accounts[account_id] = replace(account, totp_enabled=enabled)
            password = self._credentials[account_id].password_hash
            self._credentials[account_id] = Credentials(password, secret)

    def _update(self, account_id: int, **changes: object) -> Account:
        with self._lock:
            account = replace(self._account(account_id), **changes)  # type: ignore[arg-type]
            self._accounts[account_id] = account
            return account

    def set_role(self, account_id: int, role: ConsoleRole) -> Account:
        return self._update(account_id, role=role)

    def set_disabled(self, account_id: int, disabled: bool) -> Account:
        account = self._update(account_id, disabled=disabled)
        if disabled:
            self.end_sessions_of(account_id)
        return account

    def set_blur(self, account_id: int, blur: int) -> Account:
        return self._update(account_id, blur=blur)

    def record_failure(self, account_id: int, locked_until: datetime | None) -> Account:
        with self._lock:
            account = self._account(account_id)
            account = replace(
                account,
                failed_logins=account.failed_logins + 1,
                locked_until=locked_until or account.locked_until,
            )
            self._accounts[account_id] = account
            return account

    def record_success(self, account_id: int) -> None:
        self._update(account_id, failed_logins=0, locked_until=None)

    def create_session(self, token_hash: str, session: Session) -> None:
        with self._lock:
            self._sessions[token_hash] = session

    def session(self, token_hash: str) -> Session | None:
        with self._lock:
            return self._sessions.get(token_hash)

    def touch_session(self, token_hash: str, at: datetime) -> None:
        with self._lock:
            session = self._sessions.get(token_hash)
            if session is not None:
                self._sessions[token_hash] = replace(session, last_seen=at)

    def end_session(self, token_hash: str) -> None:
        with self._lock:
            self._sessions.pop(token_hash, None)

    def end_sessions_of(self, account_id: int) -> None:
        with self._lock:
            for token in [t for t, s in self._sessions.items() if s.account_id == account_id]:
                del self._sessions[token]
