"""Contract of ApiKeyRepository and LookupLog: every adapter (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text

from shieldwall.access.models import ApiKey, LookupEvent, LookupKind, LookupVerdict, Role
from shieldwall.access.ports import ApiKeyRepository, LookupLog
from shieldwall.access.service import REVOKED_KEY, AccessService
from shieldwall.errors import AuthenticationError, ConflictError, InvalidInputError, NotFoundError
from shieldwall.storage.access_repositories import SqlApiKeyRepository, SqlLookupLog
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.tables import ApiKeyRow
from tests.support.polling import eventually
from tests.support.services import make_services

Storage = tuple[ApiKeyRepository, LookupLog]
HASH = hashlib.sha256(b"a token").hexdigest()
T0 = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


@pytest.fixture
def keys(access_storage: Storage) -> ApiKeyRepository:
    return access_storage[0]


@pytest.fixture
def log(access_storage: Storage) -> LookupLog:
    return access_storage[1]


def _create(keys: ApiKeyRepository, prefix: str, role: Role = Role.SCREENER) -> ApiKey:
    return keys.create(f"key {prefix}", role, False, prefix, HASH)


def test_create_and_find_by_prefix(keys: ApiKeyRepository) -> None:
    before = datetime.now(UTC)
    key = keys.create("Helpline Zürich 🛡", Role.REPORTER, True, "0123456789ab", HASH)
    assert key.id > 0
    assert (key.name, key.role, key.see_details, key.prefix) == (
        "Helpline Zürich 🛡",
        Role.REPORTER,
        True,
        "0123456789ab",
    )
    assert key.revoked_at is None
    assert key.created_at.tzinfo is not None
    assert before - timedelta(seconds=5) <= key.created_at <= datetime.now(UTC)
    assert keys.find_by_prefix("0123456789ab") == (key, HASH)


@pytest.mark.parametrize(
    "prefix", ["ffffffffffff", "", "0123456789AB", "x" * 10_000, "é\x00", "\ud800" * 12]
)
def test_unknown_prefix_is_none(keys: ApiKeyRepository, prefix: str) -> None:
    _create(keys, "0123456789ab")
    assert keys.find_by_prefix(prefix) is None


def test_duplicate_prefix_is_a_conflict(keys: ApiKeyRepository) -> None:
    first = _create(keys, "0123456789ab")
    with pytest.raises(ConflictError):
        keys.create("other", Role.ADMIN, False, "0123456789ab", "0" * 64)
    assert keys.list_keys() == [first]
    assert keys.find_by_prefix("0123456789ab") == (first, HASH)


def test_every_role_round_trips(keys: ApiKeyRepository) -> None:
    for index, role in enumerate(Role):
        created = _create(keys, f"{index:012x}", role)
        found = keys.find_by_prefix(created.prefix)
        assert found is not None
        assert found[0].role is role


def test_list_keys_by_id_with_revoked(keys: ApiKeyRepository) -> None:
    created = [_create(keys, f"{i:012x}") for i in range(5)]
    revoked = keys.revoke(created[2].id)
    listed = keys.list_keys()
    assert [k.id for k in listed] == sorted(k.id for k in created)
    assert listed[2] == revoked
    assert [k.revoked_at is None for k in listed] == [True, True, False, True, True]


def test_revoke_is_idempotent_and_keeps_the_first_time(keys: ApiKeyRepository) -> None:
    key = _create(keys, "0123456789ab")
    first = keys.revoke(key.id)
    assert first.revoked_at is not None
    assert first.revoked_at >= first.created_at
    again = keys.revoke(key.id)
    assert again == first
    found = keys.find_by_prefix(key.prefix)
    assert found is not None
    assert found[0] == first


@pytest.mark.parametrize("key_id", [0, -1, 12345, 2**63 - 1, 2**63, 2**90])
def test_revoking_unknown_keys_is_not_found(keys: ApiKeyRepository, key_id: int) -> None:
    _create(keys, "0123456789ab")
    with pytest.raises(NotFoundError):
        keys.revoke(key_id)


def test_count_active(keys: ApiKeyRepository) -> None:
    assert keys.count_active() == 0
    created = [_create(keys, f"{i:012x}") for i in range(3)]
    assert keys.count_active() == 3
    keys.revoke(created[0].id)
    keys.revoke(created[0].id)
    assert keys.count_active() == 2


def test_lookup_log_newest_first_by_key_and_limit(log: LookupLog) -> None:
    events = [
        LookupEvent(
            1 + i % 2, T0 + timedelta(seconds=i), LookupKind.FILE, 1, i, LookupVerdict.ALLOW
        )
        for i in range(6)
    ]
    anonymous = LookupEvent(None, T0, LookupKind.HMA, 3, 0, LookupVerdict.REVIEW)
    for item in [*events, anonymous]:
        log.record(item)
    assert log.recent() == [anonymous, *reversed(events)]
    assert log.recent(key_id=2) == [events[5], events[3], events[1]]
    assert log.recent(key_id=1, limit=2) == [events[4], events[2]]
    assert log.recent(limit=1) == [anonymous]
    assert log.recent(key_id=99) == []
    assert log.recent(key_id=0) == []
    assert log.recent(key_id=2**70) == []


def test_lookup_times_come_back_as_the_same_instant_in_utc(log: LookupLog) -> None:
    local = T0.astimezone(timezone(timedelta(hours=-7)))
    log.record(LookupEvent(1, local, LookupKind.SIGNALS, 2, 1, LookupVerdict.BLOCK))
    [stored] = log.recent()
    assert stored.at == T0
    assert stored.at.utcoffset() == timedelta(0)


def test_lookup_log_refuses_a_bad_limit_and_naive_times(log: LookupLog) -> None:
    with pytest.raises(InvalidInputError):
        log.recent(limit=0)
    with pytest.raises(InvalidInputError):
        log.record(
            LookupEvent(1, T0.replace(tzinfo=None), LookupKind.FILE, 1, 0, LookupVerdict.ALLOW)
        )
    assert log.recent() == []


def test_access_service_round_trip_on_each_adapter(keys: ApiKeyRepository, log: LookupLog) -> None:
    access = AccessService(keys, log)
    admin = access.bootstrap_admin()
    assert admin is not None
    assert access.bootstrap_admin() is None
    screener = access.issue_key("uploads", Role.SCREENER)
    assert access.authenticate(screener.token) == screener.key
    access.record_lookup(access.lookup_event(screener.key, "file", 1, 0, "allow"))
    access.revoke(screener.key.id)
    with pytest.raises(AuthenticationError):
        access.authenticate(screener.token)
    assert access.authenticate(admin.token) == admin.key
    assert [e.key_id for e in access.recent_lookups()] == [screener.key.id]


def test_record_many_appends_in_order(log: LookupLog) -> None:
    log.record(LookupEvent(None, T0, LookupKind.FILE, 1, 0, LookupVerdict.ALLOW))
    log.record_many(
        [
            LookupEvent(n, T0 + timedelta(seconds=n), LookupKind.HMA, n, 0, LookupVerdict.ALLOW)
            for n in (1, 2, 3)
        ]
    )
    log.record_many([])
    assert [e.key_id for e in log.recent()] == [3, 2, 1, None]
    assert [e.queries for e in log.recent(key_id=2)] == [2]


def test_record_many_is_all_or_none(log: LookupLog) -> None:
    naive = LookupEvent(2, T0.replace(tzinfo=None), LookupKind.FILE, 1, 0, LookupVerdict.ALLOW)
    with pytest.raises(InvalidInputError):
        log.record_many([LookupEvent(1, T0, LookupKind.FILE, 1, 0, LookupVerdict.ALLOW), naive])
    assert log.recent() == []


def test_list_with_hashes_holds_every_key_and_its_hash(keys: ApiKeyRepository) -> None:
    assert keys.list_with_hashes() == []
    first = _create(keys, "aaaaaaaaaaaa")
    second = keys.create("b", Role.ADMIN, True, "bbbbbbbbbbbb", "f" * 64)
    revoked = keys.revoke(first.id)
    assert keys.list_with_hashes() == [(revoked, HASH), (second, "f" * 64)]


# SQL only


def test_only_the_hash_reaches_the_database(sql_engine: Engine) -> None:
    access = AccessService(SqlApiKeyRepository(sql_engine), SqlLookupLog(sql_engine))
    issued = access.issue_key("k", Role.SCREENER)
    # sw_<prefix>_<secret>: the secret is URL-safe base64 and may hold "_" itself, so cut
    # at the first two (cutting at the last left a few characters that a hash or a time
    # stored in the row could hold by chance: a flaky failure).
    secret = issued.token.split("_", 2)[2][-20:]
    assert len(secret) == 20
    with sql_engine.connect() as connection:
        rows = [tuple(map(str, row)) for row in connection.execute(select(ApiKeyRow.__table__))]
    assert rows
    assert all(secret not in value for row in rows for value in row)
    assert hashlib.sha256(issued.token.encode()).hexdigest() in rows[0]


def _refusal(access: AccessService, token: str) -> str | None:
    """Why `token` is refused, or None if it is accepted."""
    try:
        access.authenticate(token)
    except AuthenticationError as refused:
        return str(refused)
    return None


def test_revocation_is_seen_by_other_processes_within_a_second(database_url: str) -> None:
    from shieldwall.storage.migrate import upgrade_database

    upgrade_database(database_url)
    engines = [create_database_engine(database_url) for _ in range(2)]
    services = [AccessService(SqlApiKeyRepository(e), SqlLookupLog(e)) for e in engines]
    try:
        one, two = services
        issued = one.issue_key("k", Role.SCREENER)
        assert two.authenticate(issued.token) == issued.key  # two's table holds it now
        two.revoke(issued.key.id)
        with pytest.raises(AuthenticationError, match="revoked"):
            two.authenticate(issued.token)  # the revoking process: at once
        eventually(
            lambda: _refusal(one, issued.token) == REVOKED_KEY,
            timeout=1.0,
            message="the other process still accepts the key",
        )
    finally:
        for service in services:
            service.close()
        for engine in engines:
            engine.dispose()


def test_a_key_created_elsewhere_is_accepted_at_once(database_url: str) -> None:
    from shieldwall.storage.migrate import upgrade_database

    upgrade_database(database_url)
    engines = [create_database_engine(database_url) for _ in range(2)]
    services = [AccessService(SqlApiKeyRepository(e), SqlLookupLog(e)) for e in engines]
    try:
        one, two = services
        first = one.issue_key("first", Role.ADMIN)
        assert two.authenticate(first.token) == first.key  # loads two's table
        later = one.issue_key("later", Role.SCREENER)
        assert two.authenticate(later.token) == later.key  # the fallback read finds it
    finally:
        for service in services:
            service.close()
        for engine in engines:
            engine.dispose()


def test_buffered_lookups_reach_the_database_within_the_flush_window(sql_engine: Engine) -> None:
    access = AccessService(SqlApiKeyRepository(sql_engine), SqlLookupLog(sql_engine))
    reader = SqlLookupLog(sql_engine)
    try:
        for n in range(5):
            access.record_lookup(access.lookup_event(None, "hma", n + 1, 0, "allow"))
        eventually(  # the flusher writes within 250 ms; 5 s for slow CI
            lambda: len(reader.recent()) >= 5,
            timeout=5.0,
            message="buffered lookups never reached the database",
        )
        assert [e.queries for e in reader.recent()] == [5, 4, 3, 2, 1]
    finally:
        access.close()


def test_close_writes_what_is_buffered(sql_engine: Engine) -> None:
    access = AccessService(SqlApiKeyRepository(sql_engine), SqlLookupLog(sql_engine))
    for _ in range(3):
        access.record_lookup(access.lookup_event(None, "file", 1, 0, "allow"))
    access.close()
    assert access.audit_stats().depth == 0
    assert len(SqlLookupLog(sql_engine).recent()) == 3


def test_recording_a_lookup_is_one_insert(sql_engine: Engine) -> None:
    log = SqlLookupLog(sql_engine)
    statements: list[str] = []

    def capture(*args: Any) -> None:
        statements.append(str(args[2]).strip().split()[0].upper())

    event.listen(sql_engine, "before_cursor_execute", capture)
    try:
        log.record(LookupEvent(1, T0, LookupKind.FILE, 1, 0, LookupVerdict.ALLOW))
    finally:
        event.remove(sql_engine, "before_cursor_execute", capture)
    assert [s for s in statements if s not in {"BEGIN"}] == ["INSERT"]
    with sql_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM lookup_events")).scalar_one() == 1


def test_closing_the_services_writes_the_buffered_lookups(tmp_path: Path) -> None:
    services = make_services(tmp_path / "home")
    access = services.access
    for _ in range(3):
        access.record_lookup(access.lookup_event(None, "hma", 1, 0, "allow"))
    engine = create_database_engine(services.settings.effective_database_url)
    services.close()  # at once: long before the 250 ms flush interval
    try:
        assert len(SqlLookupLog(engine).recent()) == 3
    finally:
        engine.dispose()
