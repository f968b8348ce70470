"""Every AccountRepository adapter (memory, SQLite, PostgreSQL) behaves the same: accounts,
credentials, lock-out counters, roles, blur, disabling and sessions. The SQL adapter keeps
TOTP secrets sealed at rest, bound to their account."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from shieldwall.access.account_ports import AccountRepository
from shieldwall.access.accounts import (
    DEFAULT_BLUR,
    LOCK_OUT,
    Account,
    ConsoleRole,
    Credentials,
    Session,
)
from shieldwall.access.memory_accounts import InMemoryAccountRepository
from shieldwall.errors import ConflictError, NotFoundError, StorageError
from shieldwall.storage.account_repositories import SqlAccountRepository
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.sealing import Sealer
from tests.integration.conftest import SQL_BACKENDS

NOW = datetime(2026, 12, 4, 11, 0, 0, 500000, tzinfo=UTC)
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def accounts(request: pytest.FixtureRequest) -> Iterator[AccountRepository]:
    """Each AccountRepository adapter, with no accounts."""
    if request.param == "memory":
        yield InMemoryAccountRepository()
        return
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade_database(url)
    engine = create_database_engine(url)
    yield SqlAccountRepository(engine, Sealer(secrets.token_bytes(32)))
    engine.dispose()


def session(account_id: int, csrf: str = "csrf-1", at: datetime = NOW) -> Session:
    return Session(account_id, csrf, at, at)


def test_an_account_round_trips(accounts: AccountRepository) -> None:
    created = accounts.create("ana", ConsoleRole.LEAD, HASH, NOW)
    assert created == Account(created.id, "ana", ConsoleRole.LEAD, NOW)
    assert (created.disabled, created.totp_enabled, created.failed_logins) == (False, False, 0)
    assert (created.locked_until, created.blur) == (None, DEFAULT_BLUR)
    assert accounts.get("ana") == created
    assert accounts.get_by_id(created.id) == created
    assert accounts.get("bob") is None
    for missing in (created.id + 1, 0, 2**63):
        assert accounts.get_by_id(missing) is None


def test_a_taken_username_conflicts(accounts: AccountRepository) -> None:
    first = accounts.create("ana", ConsoleRole.ADMIN, HASH, NOW)
    with pytest.raises(ConflictError):
        accounts.create("ana", ConsoleRole.REVIEWER, "other", NOW + timedelta(hours=1))
    assert accounts.list() == [first]
    assert accounts.credentials(first.id) == Credentials(HASH, "")


def test_accounts_are_listed_by_username(accounts: AccountRepository) -> None:
    for name in ("zed", "amy", "mo.k", "bo-b"):
        accounts.create(name, ConsoleRole.REVIEWER, HASH, NOW)
    assert [a.username for a in accounts.list()] == ["amy", "bo-b", "mo.k", "zed"]


def test_credentials_round_trip_with_the_totp_secret(accounts: AccountRepository) -> None:
    account = accounts.create("ana", ConsoleRole.ADMIN, HASH, NOW)
    assert accounts.credentials(account.id) == Credentials(HASH, "")
    accounts.set_totp(account.id, TOTP_SECRET, True)
    assert accounts.credentials(account.id) == Credentials(HASH, TOTP_SECRET)
    assert accounts.get_by_id(account.id) == Account(
        account.id, "ana", ConsoleRole.ADMIN, NOW, totp_enabled=True
    )
    accounts.set_totp(account.id, TOTP_SECRET, False)  # stored, not yet required
    assert accounts.credentials(account.id).totp_secret == TOTP_SECRET
    assert accounts.get("ana") == account
    accounts.set_totp(account.id, "", False)
    assert accounts.credentials(account.id) == Credentials(HASH, "")


def test_unknown_accounts_are_not_found(accounts: AccountRepository) -> None:
    known = accounts.create("ana", ConsoleRole.REVIEWER, HASH, NOW)
    missing = known.id + 1
    with pytest.raises(NotFoundError):
        accounts.credentials(missing)
    with pytest.raises(NotFoundError):
        accounts.set_password(missing, HASH)
    with pytest.raises(NotFoundError):
        accounts.set_totp(missing, TOTP_SECRET, True)
    with pytest.raises(NotFoundError):
        accounts.set_role(missing, ConsoleRole.ADMIN)
    with pytest.raises(NotFoundError):
        accounts.set_blur(missing, 10)
    with pytest.raises(NotFoundError):
        accounts.record_failure(missing, None)
    assert accounts.list() == [known]


def test_failures_count_and_lock_and_a_success_resets(accounts: AccountRepository) -> None:
    account = accounts.create("ana", ConsoleRole.REVIEWER, HASH, NOW)
    assert accounts.record_failure(account.id, None).failed_logins == 1
    second = accounts.record_failure(account.id, None)
    assert (second.failed_logins, second.locked_until) == (2, None)
    locked = accounts.record_failure(account.id, NOW + LOCK_OUT)
    assert (locked.failed_logins, locked.locked_until) == (3, NOW + LOCK_OUT)
    assert locked.locked(NOW)
    # A failure without a new lock keeps the one there is.
    kept = accounts.record_failure(account.id, None)
    assert (kept.failed_logins, kept.locked_until) == (4, NOW + LOCK_OUT)
    assert accounts.get_by_id(account.id) == kept
    accounts.record_success(account.id)
    assert accounts.get_by_id(account.id) == account


def test_a_new_password_clears_failures_and_the_lock(accounts: AccountRepository) -> None:
    account = accounts.create("ana", ConsoleRole.REVIEWER, HASH, NOW)
    accounts.set_totp(account.id, TOTP_SECRET, True)
    accounts.record_failure(account.id, NOW + LOCK_OUT)
    accounts.set_password(account.id, "new-hash")
    assert accounts.credentials(account.id) == Credentials("new-hash", TOTP_SECRET)
    after = accounts.get_by_id(account.id)
    assert after is not None
    assert (after.failed_logins, after.locked_until, after.totp_enabled) == (0, None, True)


def test_concurrent_failures_are_all_counted(accounts: AccountRepository) -> None:
    account = accounts.create("ana", ConsoleRole.REVIEWER, HASH, NOW)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: accounts.record_failure(account.id, None), range(20)))
    stored = accounts.get_by_id(account.id)
    assert stored is not None
    assert stored.failed_logins == 20


def test_role_and_blur_change(accounts: AccountRepository) -> None:
    account = accounts.create("ana", ConsoleRole.REVIEWER, HASH, NOW)
    promoted = accounts.set_role(account.id, ConsoleRole.ADMIN)
    assert (promoted.role, promoted.is_lead) == (ConsoleRole.ADMIN, True)
    blurred = accounts.set_blur(account.id, 40)
    assert (blurred.role, blurred.blur) == (ConsoleRole.ADMIN, 40)
    assert accounts.get("ana") == blurred


def test_sessions_are_created_touched_and_ended(accounts: AccountRepository) -> None:
    ana = accounts.create("ana", ConsoleRole.REVIEWER, HASH, NOW)
    accounts.create_session("a" * 64, session(ana.id))
    assert accounts.session("a" * 64) == session(ana.id)
    assert accounts.session("b" * 64) is None
    later = NOW + timedelta(minutes=7, microseconds=3)
    accounts.touch_session("a" * 64, later)
    assert accounts.session("a" * 64) == Session(ana.id, "csrf-1", NOW, later)
    accounts.touch_session("b" * 64, later)  # no such session: nothing happens
    assert accounts.session("b" * 64) is None
    accounts.end_session("a" * 64)
    accounts.end_session("a" * 64)  # twice is fine
    assert accounts.session("a" * 64) is None


def test_ending_an_accounts_sessions_keeps_the_others(accounts: AccountRepository) -> None:
    ana = accounts.create("ana", ConsoleRole.REVIEWER, HASH, NOW)
    bob = accounts.create("bob", ConsoleRole.REVIEWER, HASH, NOW)
    for token, owner in (("1" * 64, ana), ("2" * 64, ana), ("3" * 64, bob)):
        accounts.create_session(token, session(owner.id))
    accounts.end_sessions_of(ana.id)
    assert [accounts.session(t) for t in ("1" * 64, "2" * 64)] == [None, None]
    assert accounts.session("3" * 64) == session(bob.id)


def test_disabling_ends_the_accounts_sessions(accounts: AccountRepository) -> None:
    ana = accounts.create("ana", ConsoleRole.REVIEWER, HASH, NOW)
    bob = accounts.create("bob", ConsoleRole.REVIEWER, HASH, NOW)
    accounts.create_session("1" * 64, session(ana.id))
    accounts.create_session("2" * 64, session(bob.id))
    disabled = accounts.set_disabled(ana.id, True)
    assert disabled.disabled
    assert accounts.session("1" * 64) is None
    assert accounts.session("2" * 64) == session(bob.id)
    enabled = accounts.set_disabled(ana.id, False)
    assert enabled == ana
    assert accounts.session("1" * 64) is None  # re-enabling brings no session back
    accounts.create_session("4" * 64, session(ana.id))
    accounts.set_disabled(ana.id, False)  # enabling an enabled account ends nothing
    assert accounts.session("4" * 64) == session(ana.id)


# The SQL adapter's sealing --------------------------------------------------------------


def _stored_secret(engine: Engine, account_id: int) -> str:
    with engine.connect() as connection:
        return str(
            connection.execute(
                text("SELECT totp_secret FROM console_accounts WHERE id = :i"), {"i": account_id}
            ).scalar_one()
        )


def test_sql_the_totp_secret_is_sealed_and_bound_to_its_account(sql_engine: Engine) -> None:
    sql = SqlAccountRepository(sql_engine, Sealer(secrets.token_bytes(32)))
    ana = sql.create("ana", ConsoleRole.ADMIN, HASH, NOW)
    bob = sql.create("bob", ConsoleRole.ADMIN, HASH, NOW)
    assert _stored_secret(sql_engine, ana.id) == ""
    sql.set_totp(ana.id, TOTP_SECRET, True)
    stored = _stored_secret(sql_engine, ana.id)
    assert stored.startswith("v1:")
    assert TOTP_SECRET not in stored
    assert TOTP_SECRET.lower() not in stored.lower()
    # Copying ana's sealed secret onto bob's row does not give bob her second factor.
    with sql_engine.begin() as connection:
        connection.execute(
            text("UPDATE console_accounts SET totp_secret = :s WHERE id = :i"),
            {"s": stored, "i": bob.id},
        )
    with pytest.raises(StorageError):
        sql.credentials(bob.id)
    # Another data key cannot open it either.
    with pytest.raises(StorageError):
        SqlAccountRepository(sql_engine, Sealer(secrets.token_bytes(32))).credentials(ana.id)
    assert sql.credentials(ana.id) == Credentials(HASH, TOTP_SECRET)
