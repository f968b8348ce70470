"""The ChangeLog contract (what each BankRepository write logs, read through the ChangeLog of
the same storage), run against memory, SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC

import pytest
from sqlalchemy import Engine, event, text

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import BankPolicy, ChangeKind, EntryState
from shieldwall.banks.ports import BankRepository, ChangeLog
from shieldwall.errors import ConflictError, InvalidInputError, StorageError
from shieldwall.storage.change_log import SqlChangeLog
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.repositories import SqlBankRepository
from tests.integration.conftest import SQL_BACKENDS
from tests.support.banks import OnStatement, content_entry, make_bank, pdq_entry

Storage = tuple[BankRepository, ChangeLog]


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    """Each BankRepository adapter with the ChangeLog adapter of the same storage."""
    if request.param == "memory":
        repository = InMemoryBankRepository()
        yield repository, repository.change_log
        return
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade_database(url)
    engine = create_database_engine(url)
    yield SqlBankRepository(engine), SqlChangeLog(engine)
    engine.dispose()


def test_empty_log(storage: Storage) -> None:
    repository, log = storage
    assert log.latest_change_seq() == 0
    assert log.changes_since(0) == []
    assert log.changes_in([(1, 100)]) == []
    assert repository.get_entries([1, 2]) == []


def test_every_change_is_logged_once(storage: Storage) -> None:
    repository, log = storage
    bank = make_bank(repository, "ncii")
    other = make_bank(repository, "memes")
    added = repository.add_entries("ncii", [pdq_entry(), content_entry()])
    repository.add_entries(
        "ncii", [pdq_entry(), replace(content_entry(), state=EntryState.DISABLED)]
    )
    ids = [result.entry_id for result in added]
    repository.set_entry_state(ids[0], EntryState.DISABLED)
    repository.set_entry_state(ids[0], EntryState.ACTIVE)
    repository.set_bank_enabled("ncii", False)
    repository.set_policy("ncii", BankPolicy(12, allow_list_banks=("memes",)))
    repository.rename_bank("memes", "benign")
    repository.delete_bank("benign")
    changes = log.changes_since(0)
    later = [c.entry_id for c in changes[4:6]]
    assert [(c.kind, c.bank_id, c.entry_id) for c in changes] == [
        (ChangeKind.BANK_CREATED, bank.id, None),
        (ChangeKind.BANK_CREATED, other.id, None),
        (ChangeKind.ENTRY_ADDED, bank.id, ids[0]),
        (ChangeKind.ENTRY_ADDED, bank.id, ids[1]),
        (ChangeKind.ENTRY_ADDED, bank.id, later[0]),  # disabled on arrival: logged all the same
        (ChangeKind.ENTRY_ADDED, bank.id, later[1]),
        (ChangeKind.ENTRY_STATE, bank.id, ids[0]),
        (ChangeKind.ENTRY_STATE, bank.id, ids[0]),
        (ChangeKind.BANK_CHANGED, bank.id, None),
        (ChangeKind.BANK_CHANGED, bank.id, None),
        (ChangeKind.BANK_CHANGED, other.id, None),
        (ChangeKind.BANK_DELETED, other.id, None),
    ]
    assert all(a.seq < b.seq for a, b in itertools.pairwise(changes))
    assert all(c.at.utcoffset() == UTC.utcoffset(None) for c in changes)
    assert log.latest_change_seq() == changes[-1].seq


def test_nothing_logged_when_nothing_changed(storage: Storage) -> None:
    repository, log = storage
    make_bank(repository, "ncii", pdq_threshold=12)
    make_bank(repository, "memes")
    [added] = repository.add_entries("ncii", [pdq_entry()])
    repository.set_entry_state(added.entry_id, EntryState.WITHDRAWN)
    position = log.latest_change_seq()
    repository.add_entries("ncii", [])
    repository.set_entry_state(added.entry_id, EntryState.WITHDRAWN)
    repository.set_bank_enabled("ncii", True)
    repository.set_policy("ncii", BankPolicy(12))
    repository.rename_bank("ncii", "ncii")
    with pytest.raises(ConflictError):
        repository.rename_bank("ncii", "memes")
    with pytest.raises(ConflictError):
        repository.set_entry_state(added.entry_id, EntryState.ACTIVE)
    assert log.changes_since(position) == []


def test_dedupe_logs_only_new_entries(storage: Storage) -> None:
    repository, log = storage
    make_bank(repository, "ncii")
    make_bank(repository, "other")
    known, fresh = content_entry(), pdq_entry()
    [first] = repository.add_entries("ncii", [known])
    position = log.latest_change_seq()
    results = repository.add_entries("ncii", [known, fresh, fresh])
    repository.add_entries("other", [known])
    changes = log.changes_since(position)
    assert [(c.kind, c.entry_id) for c in changes[:1]] == [
        (ChangeKind.ENTRY_ADDED, results[1].entry_id)
    ]
    assert len(changes) == 2
    assert results[0].entry_id == first.entry_id


def test_bulk_adds_log_each_entry_in_id_order(storage: Storage) -> None:
    repository, log = storage
    ncii = make_bank(repository, "ncii")
    other = make_bank(repository, "other")
    position = log.latest_change_seq()
    added = repository.add_entries("ncii", [pdq_entry() for _ in range(2500)])
    between = repository.add_entries("other", [pdq_entry() for _ in range(3)])
    again = repository.add_entries("ncii", [pdq_entry() for _ in range(1200)])
    changes = log.changes_since(position)
    expected = [(ncii.id, a.entry_id) for a in added]
    expected += [(other.id, a.entry_id) for a in between]
    expected += [(ncii.id, a.entry_id) for a in again]
    assert [(c.bank_id, c.entry_id) for c in changes] == expected
    assert {c.kind for c in changes} == {ChangeKind.ENTRY_ADDED}


def test_changes_since_pages_and_changes_in_finds_ranges(storage: Storage) -> None:
    repository, log = storage
    make_bank(repository)
    repository.add_entries("school-reports", [pdq_entry() for _ in range(9)])
    every = log.changes_since(0)
    seqs = [change.seq for change in every]
    assert len(every) == 10
    pages, cursor = [], 0
    while page := log.changes_since(cursor, limit=4):
        pages.append(page)
        cursor = page[-1].seq
    assert [len(page) for page in pages] == [4, 4, 2]
    assert [c for page in pages for c in page] == every
    assert log.changes_since(seqs[-1]) == []
    assert log.changes_since(-5) == every
    assert log.changes_since(2**64) == []
    found = log.changes_in([(seqs[7], seqs[8]), (seqs[1], seqs[2]), (seqs[2], seqs[3])])
    assert found == [every[1], every[2], every[3], every[7], every[8]]
    assert log.changes_in([(seqs[1], seqs[9])], limit=2) == every[1:3]
    assert log.changes_in([(seqs[5], seqs[4]), (-9, 0), (2**64, 2**65)]) == []
    assert log.changes_in([]) == []
    refused: list[Callable[[], object]] = [
        lambda: log.changes_since(0, limit=0),
        lambda: log.changes_in([(1, 2)], limit=0),
    ]
    for call in refused:
        with pytest.raises(InvalidInputError):
            call()


def test_get_entries_returns_those_that_exist_in_id_order(repository: BankRepository) -> None:
    make_bank(repository)
    make_bank(repository, "other")
    added = repository.add_entries("school-reports", [content_entry() for _ in range(1000)])
    [elsewhere] = repository.add_entries("other", [pdq_entry()])
    ids = [result.entry_id for result in added]
    wanted = [*reversed(ids[::3]), elsewhere.entry_id, ids[0], 0, -1, 2**64, ids[-1] + 999]
    found = repository.get_entries(wanted)
    assert [entry.id for entry in found] == sorted({*ids[::3], elsewhere.entry_id})
    assert found[0] == repository.get_entry(ids[0])
    assert found[-1].bank == "other"
    assert repository.get_entries([]) == []


def test_a_change_whose_log_row_fails_is_rolled_back(sql_engine: Engine) -> None:
    repository, log = SqlBankRepository(sql_engine), SqlChangeLog(sql_engine)
    make_bank(repository)
    [added] = repository.add_entries("school-reports", [pdq_entry()])
    position = log.latest_change_seq()
    writes: list[Callable[[], object]] = [
        lambda: repository.add_entries("school-reports", [pdq_entry() for _ in range(20)]),
        lambda: repository.set_entry_state(added.entry_id, EntryState.DISABLED),
        lambda: repository.set_bank_enabled("school-reports", False),
        lambda: repository.delete_bank("school-reports"),
        lambda: make_bank(repository, "other"),
    ]
    for write in writes:
        failure = OnStatement(sql_engine, "INSERT INTO entry_changes")
        event.listen(sql_engine, "before_cursor_execute", failure)
        try:
            with pytest.raises(StorageError):
                write()
        finally:
            event.remove(sql_engine, "before_cursor_execute", failure)
        assert failure.fired
    assert log.changes_since(position) == []
    assert repository.get_entry(added.entry_id).state is EntryState.ACTIVE
    assert [(b.name, b.enabled) for b in repository.list_banks()] == [("school-reports", True)]
    with sql_engine.connect() as connection:
        entries = connection.execute(text("SELECT COUNT(*) FROM entries")).scalar_one()
    assert entries == 1


def test_a_change_kind_from_a_newer_version_is_an_error_not_a_guess(sql_engine: Engine) -> None:
    repository, log = SqlBankRepository(sql_engine), SqlChangeLog(sql_engine)
    make_bank(repository)
    with sql_engine.begin() as connection:
        connection.execute(
            text("INSERT INTO entry_changes (kind, bank_id, at) VALUES ('bank_merged', 1, :at)"),
            {"at": "2030-01-01 00:00:00"},
        )
    with pytest.raises(StorageError, match="unknown change kind 'bank_merged'"):
        log.changes_since(0)
