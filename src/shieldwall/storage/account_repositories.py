"""SqlAccountRepository: the AccountRepository port on SQLite and PostgreSQL.

TOTP secrets are stored sealed (storage/sealing.py) and bound to their account (the
associated data is `totp:<id>`), so a copy of the database alone does not give anyone a
second factor, and a sealed secret cannot be moved onto another account. "" (no secret)
is stored as "". Every change is one UPDATE; failed logins count up in the database
(`failed_logins + 1`), so concurrent wrong passwords are all counted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import Connection, Row

from shieldwall.access.accounts import DEFAULT_BLUR, Account, ConsoleRole, Credentials, Session
from shieldwall.errors import ConflictError, NotFoundError, StorageError
from shieldwall.storage.sealing import Sealer
from shieldwall.storage.sql_adapter import SqlAdapter
from shieldwall.storage.tables import MAX_ID, ConsoleAccountRow, ConsoleSessionRow

_ACCOUNT_COLUMNS: Final = (
    ConsoleAccountRow.id,
    ConsoleAccountRow.username,
    ConsoleAccountRow.role,
    ConsoleAccountRow.created_at,
    ConsoleAccountRow.disabled,
    ConsoleAccountRow.totp_enabled,
    ConsoleAccountRow.failed_logins,
    ConsoleAccountRow.locked_until,
    ConsoleAccountRow.blur,
)
_SESSION_COLUMNS: Final = (
    ConsoleSessionRow.account_id,
    ConsoleSessionRow.csrf_token,
    ConsoleSessionRow.created_at,
    ConsoleSessionRow.last_seen,
)


def totp_context(account_id: int) -> str:
    """The associated data that binds a sealed TOTP secret to its account."""
    return f"totp:{account_id}"


def _account(row: Row[*tuple[Any, ...]]) -> Account:
    try:
        role = ConsoleRole(row.role)
    except ValueError:
        raise StorageError(f"account {row.id} has an unknown role {row.role!r}") from None
    return Account(
        id=row.id,
        username=row.username,
        role=role,
        created_at=row.created_at,
        disabled=bool(row.disabled),
        totp_enabled=bool(row.totp_enabled),
        failed_logins=int(row.failed_logins),
        locked_until=row.locked_until,
        blur=int(row.blur),
    )


def _storable_id(account_id: int) -> bool:
    """Whether the id can be stored at all (a larger one would be a driver error)."""
    return 0 < account_id <= MAX_ID


class SqlAccountRepository(SqlAdapter):
    """AccountRepository on SQLite or PostgreSQL; each method runs in one transaction."""

    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        super().__init__(engine)
        self._sealer = sealer

    def create(self, username: str, role: ConsoleRole, password_hash: str, at: datetime) -> Account:
        """Store a new account; ConflictError if the username is taken."""
        values = {
            "username": username,
            "role": ConsoleRole(role).value,
            "password_hash": password_hash,
            "totp_secret": "",
            "totp_enabled": False,
            "disabled": False,
            "failed_logins": 0,
            "locked_until": None,
            "blur": DEFAULT_BLUR,
            "created_at": at,
        }
        try:
            with self._write() as connection:
                row = connection.execute(
                    insert(ConsoleAccountRow).returning(*_ACCOUNT_COLUMNS), values
                ).one()
        except ConflictError:  # the unique username (sql_adapter maps IntegrityError)
            raise ConflictError(f"account {username} exists") from None
        return _account(row)

    def get(self, username: str) -> Account | None:
        """The account with this username, or None."""
        with self._read() as connection:
            row = connection.execute(
                select(*_ACCOUNT_COLUMNS).where(ConsoleAccountRow.username == username)
            ).one_or_none()
        return None if row is None else _account(row)

    def get_by_id(self, account_id: int) -> Account | None:
        """The account with this id, or None."""
        if not _storable_id(account_id):
            return None
        with self._read() as connection:
            row = connection.execute(
                select(*_ACCOUNT_COLUMNS).where(ConsoleAccountRow.id == account_id)
            ).one_or_none()
        return None if row is None else _account(row)

    def list(self) -> list[Account]:
        """Every account, by username."""
        with self._read() as connection:
            rows = connection.execute(
                select(*_ACCOUNT_COLUMNS).order_by(ConsoleAccountRow.username)
            ).all()
        return [_account(row) for row in rows]

    def credentials(self, account_id: int) -> Credentials:
        """The password hash and the TOTP secret, opened; NotFoundError if none."""
        row = None
        if _storable_id(account_id):
            with self._read() as connection:
                row = connection.execute(
                    select(ConsoleAccountRow.password_hash, ConsoleAccountRow.totp_secret).where(
                        ConsoleAccountRow.id == account_id
                    )
                ).one_or_none()
        if row is None:
            raise NotFoundError(f"no account {account_id}")
        sealed: str = row.totp_secret
        secret = self._sealer.open(sealed, totp_context(account_id)) if sealed else ""
        return Credentials(row.password_hash, secret)

    def set_password(self, account_id: int, password_hash: str) -> None:
        """Replace the password hash; clear failed logins and any lock."""
        self._change(account_id, password_hash=password_hash, failed_logins=0, locked_until=None)

    def set_totp(self, account_id: int, secret: str, enabled: bool) -> None:
        """Store the TOTP secret sealed ("" stays "") and whether logins require it."""
        sealed = self._sealer.seal(secret, totp_context(account_id)) if secret else ""
        self._change(account_id, totp_secret=sealed, totp_enabled=enabled)

    def set_role(self, account_id: int, role: ConsoleRole) -> Account:
        """Change the account's role."""
        return self._change(account_id, role=ConsoleRole(role).value)

    def set_disabled(self, account_id: int, disabled: bool) -> Account:
        """Disable (ending its sessions, in the same transaction) or re-enable the account."""
        with self._write() as connection:
            account = self._update(connection, account_id, {"disabled": disabled})
            if disabled:
                connection.execute(
                    delete(ConsoleSessionRow).where(ConsoleSessionRow.account_id == account_id)
                )
        return account

    def set_blur(self, account_id: int, blur: int) -> Account:
        """The account's blur strength for media renditions."""
        return self._change(account_id, blur=blur)

    def record_failure(self, account_id: int, locked_until: datetime | None) -> Account:
        """One more failed login (counted in the database); lock when `locked_until` is given."""
        changes: dict[str, Any] = {"failed_logins": ConsoleAccountRow.failed_logins + 1}
        if locked_until is not None:
            changes["locked_until"] = locked_until
        return self._change(account_id, **changes)

    def record_success(self, account_id: int) -> None:
        """Failed logins back to zero, no lock."""
        self._change(account_id, failed_logins=0, locked_until=None)

    def _change(self, account_id: int, **changes: Any) -> Account:
        with self._write() as connection:
            return self._update(connection, account_id, changes)

    @staticmethod
    def _update(connection: Connection, account_id: int, changes: dict[str, Any]) -> Account:
        """Apply `changes` to the account's row; the account as it now is; NotFoundError."""
        row = None
        if _storable_id(account_id):
            row = connection.execute(
                update(ConsoleAccountRow)
                .where(ConsoleAccountRow.id == account_id)
                .values(changes)
                .returning(*_ACCOUNT_COLUMNS)
            ).one_or_none()
        if row is None:
            raise NotFoundError(f"no account {account_id}")
        return _account(row)

    def create_session(self, token_hash: str, session: Session) -> None:
        """Store the session under the SHA-256 of its token."""
        with self._write() as connection:
            connection.execute(
                insert(ConsoleSessionRow),
                {
                    "token_hash": token_hash,
                    "account_id": session.account_id,
                    "csrf_token": session.csrf_token,
                    "created_at": session.created_at,
                    "last_seen": session.last_seen,
                },
            )

    def session(self, token_hash: str) -> Session | None:
        """The session with this token hash, or None."""
        with self._read() as connection:
            row = connection.execute(
                select(*_SESSION_COLUMNS).where(ConsoleSessionRow.token_hash == token_hash)
            ).one_or_none()
        if row is None:
            return None
        return Session(row.account_id, row.csrf_token, row.created_at, row.last_seen)

    def touch_session(self, token_hash: str, at: datetime) -> None:
        """Record activity on the session (none: nothing to do)."""
        with self._write() as connection:
            connection.execute(
                update(ConsoleSessionRow)
                .where(ConsoleSessionRow.token_hash == token_hash)
                .values(last_seen=at)
            )

    def end_session(self, token_hash: str) -> None:
        """Remove the session (signing out twice is fine)."""
        with self._write() as connection:
            connection.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.token_hash == token_hash)
            )

    def end_sessions_of(self, account_id: int) -> None:
        """Remove every session of the account."""
        if not _storable_id(account_id):
            return
        with self._write() as connection:
            connection.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.account_id == account_id)
            )
