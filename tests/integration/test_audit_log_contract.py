"""Every AuditLog adapter (memory, SQLite, PostgreSQL) keeps the same chain; SQL tampering
done with raw statements on the tables is named by the verifier; concurrent appenders
(threads, and two processes) still make one unbroken chain."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier

import pytest
from sqlalchemy import Engine, text

from shieldwall.audit.memory import InMemoryAuditLog
from shieldwall.audit.models import (
    EMPTY_HEAD,
    GENESIS_HASH,
    Actor,
    ActorKind,
    AuditAction,
    AuditEvent,
    ChainHead,
    Subject,
)
from shieldwall.audit.ports import AuditLog
from shieldwall.audit.verify import Fault
from shieldwall.errors import StorageError
from shieldwall.storage.audit_log import PAGE_SIZE, SqlAuditLog
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from tests.integration.conftest import SQL_BACKENDS

AT = datetime(2026, 12, 4, 1, 0, 0, 123456, tzinfo=UTC)


def event(n: int, actor: str = "7") -> AuditEvent:
    return AuditEvent(
        AT + timedelta(seconds=n),
        Actor(ActorKind.REVIEWER, actor),
        AuditAction.DECISION,
        Subject("quarantine_item", str(n)),
        {"n": n, "outcome": "confirmed", "second_look": False, "note_id": None},
    )


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def audit_log(request: pytest.FixtureRequest) -> Iterator[AuditLog]:
    """Each AuditLog adapter, empty."""
    if request.param == "memory":
        yield InMemoryAuditLog()
        return
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade_database(url)
    engine = create_database_engine(url)
    yield SqlAuditLog(engine)
    engine.dispose()


@pytest.fixture
def sql_audit(sql_engine: Engine) -> SqlAuditLog:
    """The SQL adapter on SQLite and PostgreSQL (for tamper tests on its tables)."""
    return SqlAuditLog(sql_engine)


def fill(log: AuditLog, count: int) -> None:
    for n in range(count):
        log.append(event(n))


# The contract -------------------------------------------------------------------------


def test_an_empty_log_has_the_genesis_head_and_holds(audit_log: AuditLog) -> None:
    assert audit_log.head() == EMPTY_HEAD
    assert list(audit_log.records()) == []
    result = audit_log.verify()
    assert result.ok
    assert result.records == 0


def test_appends_chain_in_order_and_read_back_as_written(audit_log: AuditLog) -> None:
    written = [audit_log.append(event(n)) for n in range(3)]
    assert [r.sequence for r in written] == [1, 2, 3]
    assert written[0].previous_hash == GENESIS_HASH
    assert written[1].previous_hash == written[0].hash
    assert list(audit_log.records()) == written
    assert audit_log.head() == ChainHead(3, written[-1].hash)
    assert written[2].event == event(2)
    assert audit_log.verify().ok


def test_records_after_a_sequence(audit_log: AuditLog) -> None:
    fill(audit_log, 4)
    assert [r.sequence for r in audit_log.records(after=2)] == [3, 4]
    assert list(audit_log.records(after=4)) == []


def test_times_keep_their_microseconds_and_zone(audit_log: AuditLog) -> None:
    audit_log.append(event(0))
    (record,) = audit_log.records()
    assert record.at == AT
    assert record.at.tzinfo is not None


def test_the_same_events_make_the_same_chain_on_every_adapter(audit_log: AuditLog) -> None:
    reference = InMemoryAuditLog()
    fill(reference, 3)
    fill(audit_log, 3)
    assert [r.hash for r in audit_log.records()] == [r.hash for r in reference.stored]


def test_reading_pages_through_long_logs(audit_log: AuditLog) -> None:
    fill(audit_log, PAGE_SIZE + 3)
    sequences = [r.sequence for r in audit_log.records()]
    assert sequences == list(range(1, PAGE_SIZE + 4))
    assert audit_log.verify().records == PAGE_SIZE + 3


def test_concurrent_threads_make_one_chain(audit_log: AuditLog) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda n: audit_log.append(event(n, actor=f"t{n % 4}")), range(40)))
    result = audit_log.verify()
    assert result.ok, result.problem
    assert result.records == 40
    assert sorted(r.subject.id for r in audit_log.records()) == sorted(str(n) for n in range(40))


# Tampering with raw SQL ----------------------------------------------------------------


def tamper(engine: Engine, statement: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(statement))


def test_sql_an_updated_record_is_named(sql_audit: SqlAuditLog, sql_engine: Engine) -> None:
    fill(sql_audit, 5)
    tamper(sql_engine, "UPDATE audit_records SET actor_id = 'someone-else' WHERE sequence = 3")
    problem = sql_audit.verify().problem
    assert problem is not None
    assert (problem.sequence, problem.fault) == (3, Fault.ALTERED)


def test_sql_updated_details_are_named(sql_audit: SqlAuditLog, sql_engine: Engine) -> None:
    fill(sql_audit, 3)
    tamper(
        sql_engine,
        "UPDATE audit_records SET details = replace(details, 'confirmed', 'rejected') "
        "WHERE sequence = 2",
    )
    problem = sql_audit.verify().problem
    assert problem is not None
    assert (problem.sequence, problem.fault) == (2, Fault.ALTERED)


def test_sql_a_deleted_record_is_named(sql_audit: SqlAuditLog, sql_engine: Engine) -> None:
    fill(sql_audit, 5)
    tamper(sql_engine, "DELETE FROM audit_records WHERE sequence = 2")
    result = sql_audit.verify()
    assert result.problem is not None
    assert (result.problem.sequence, result.problem.fault) == (2, Fault.DELETED)
    assert result.records == 1


def test_sql_the_deleted_last_record_is_named(sql_audit: SqlAuditLog, sql_engine: Engine) -> None:
    fill(sql_audit, 5)
    tamper(sql_engine, "DELETE FROM audit_records WHERE sequence = 5")
    problem = sql_audit.verify().problem
    assert problem is not None
    assert (problem.sequence, problem.fault) == (5, Fault.DELETED)


def test_sql_an_inserted_record_is_named(sql_audit: SqlAuditLog, sql_engine: Engine) -> None:
    fill(sql_audit, 3)
    head_hash = sql_audit.head().hash
    tamper(
        sql_engine,
        "INSERT INTO audit_records (sequence, at, actor_kind, actor_id, action, subject_kind, "
        "subject_id, details, previous_hash, hash) VALUES (4, '2026-12-04 02:00:00', "
        f"'reviewer', '7', 'decision', 'quarantine_item', '9', '{{}}', '{head_hash}', "
        f"'{'a' * 64}')",
    )
    problem = sql_audit.verify().problem
    assert problem is not None
    assert (problem.sequence, problem.fault) == (4, Fault.INSERTED)


def test_sql_a_record_inserted_in_the_middle_is_named(
    sql_audit: SqlAuditLog, sql_engine: Engine
) -> None:
    fill(sql_audit, 4)
    # Make room at 3 (records 3 and 4 move to 4 and 5, the head with them), then insert.
    tamper(sql_engine, "UPDATE audit_records SET sequence = sequence + 10 WHERE sequence >= 3")
    tamper(sql_engine, "UPDATE audit_records SET sequence = sequence - 9 WHERE sequence >= 13")
    tamper(sql_engine, "UPDATE audit_head SET sequence = 5")
    record_2 = next(r for r in sql_audit.records() if r.sequence == 2)
    tamper(
        sql_engine,
        "INSERT INTO audit_records (sequence, at, actor_kind, actor_id, action, subject_kind, "
        "subject_id, details, previous_hash, hash) VALUES (3, '2026-12-04 02:00:00', "
        f"'reviewer', '7', 'decision', 'quarantine_item', '9', '{{}}', '{record_2.hash}', "
        f"'{'b' * 64}')",
    )
    problem = sql_audit.verify().problem
    assert problem is not None
    assert (problem.sequence, problem.fault) == (3, Fault.ALTERED)


def test_sql_a_rewritten_head_is_named(sql_audit: SqlAuditLog, sql_engine: Engine) -> None:
    fill(sql_audit, 3)
    tamper(sql_engine, f"UPDATE audit_head SET hash = '{'c' * 64}'")
    problem = sql_audit.verify().problem
    assert problem is not None
    assert (problem.sequence, problem.fault) == (3, Fault.HEAD_MISMATCH)


def test_sql_appends_after_tampering_keep_the_fault_visible(
    sql_audit: SqlAuditLog, sql_engine: Engine
) -> None:
    fill(sql_audit, 3)
    tamper(sql_engine, "UPDATE audit_records SET subject_id = '99' WHERE sequence = 1")
    sql_audit.append(event(3))
    problem = sql_audit.verify().problem
    assert problem is not None
    assert (problem.sequence, problem.fault) == (1, Fault.ALTERED)


# Two processes -------------------------------------------------------------------------

APPENDS_PER_PROCESS = 40


def append_from_another_process(url: str, actor: str, start: Barrier) -> None:
    """Run in a child process: its own engine, its own appends, begun with the other's."""
    engine = create_database_engine(url)
    try:
        log = SqlAuditLog(engine)
        start.wait(timeout=60)
        for n in range(APPENDS_PER_PROCESS):
            log.append(event(n, actor=actor))
    finally:
        engine.dispose()


def test_two_processes_appending_make_one_chain(database_url: str) -> None:
    upgrade_database(database_url)
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(2)
    workers = [
        spawn.Process(target=append_from_another_process, args=(database_url, name, start))
        for name in ("first", "second")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    engine = create_database_engine(database_url)
    try:
        log = SqlAuditLog(engine)
        result = log.verify()
        assert result.ok, result.problem
        assert result.records == 2 * APPENDS_PER_PROCESS
        actors = [record.actor.id for record in log.records()]
        assert actors.count("first") == actors.count("second") == APPENDS_PER_PROCESS
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "'made_up'"),
        ("actor_kind", "'robot'"),
        ("details", "'{not json'"),
        ("details", "'[1, 2]'"),
    ],
)
def test_sql_an_unreadable_record_is_named_as_altered(
    sql_audit: SqlAuditLog, sql_engine: Engine, column: str, value: str
) -> None:
    fill(sql_audit, 3)
    tamper(sql_engine, f"UPDATE audit_records SET {column} = {value} WHERE sequence = 2")
    problem = sql_audit.verify().problem
    assert problem is not None
    assert (problem.sequence, problem.fault) == (2, Fault.ALTERED)
    assert "cannot be read" in problem.message
    with pytest.raises(StorageError, match="audit record 2 cannot be read"):
        list(sql_audit.records())


def test_sqlite_a_time_overwritten_with_text_is_named_as_altered(sqlite_url: str) -> None:
    upgrade_database(sqlite_url)
    engine = create_database_engine(sqlite_url)
    try:
        log = SqlAuditLog(engine)
        fill(log, 2)
        tamper(engine, "UPDATE audit_records SET at = 'yesterday' WHERE sequence = 1")
        problem = log.verify().problem
        assert problem is not None
        assert (problem.sequence, problem.fault) == (1, Fault.ALTERED)
    finally:
        engine.dispose()


def test_verifying_while_others_append_finds_no_fault(audit_log: AuditLog) -> None:
    fill(audit_log, 5)
    stop = threading.Event()

    def keep_appending() -> int:
        appended = 0
        while not stop.is_set() and appended < 200:
            audit_log.append(event(appended, actor="busy"))
            appended += 1
        return appended

    with ThreadPoolExecutor(max_workers=1) as pool:
        appender = pool.submit(keep_appending)
        try:
            results = [audit_log.verify() for _ in range(20)]
        finally:
            stop.set()
        appended = appender.result()
    assert all(result.ok for result in results), [r.problem for r in results if not r.ok]
    assert audit_log.verify().records == 5 + appended
