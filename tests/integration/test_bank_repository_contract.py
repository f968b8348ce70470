"""The BankRepository contract, run against every adapter: memory, SQLite, PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC

import pytest
from sqlalchemy import Engine, event

from shieldwall.banks.models import (
    BankPolicy,
    EntrySource,
    EntryState,
    MatchAction,
)
from shieldwall.banks.ports import BankRepository
from shieldwall.errors import ConflictError, InvalidInputError, NotFoundError, StorageError
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.index_columns import columns_query, pdq_columns
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.repositories import SqlBankRepository
from tests.support.banks import OnStatement, content_entry, make_bank, pdq_entry, stored_rows

# Banks


def test_create_get_and_list_banks(repository: BankRepository) -> None:
    created = make_bank(repository, "zeta", pdq_threshold=20, action=MatchAction.REVIEW)
    make_bank(repository, "alpha")
    assert created.name == "zeta"
    assert created.enabled
    assert created.policy == BankPolicy(20, MatchAction.REVIEW, ())
    assert created.created_at.tzinfo is not None
    assert created.created_at.utcoffset() == UTC.utcoffset(None)
    assert repository.get_bank("zeta") == created
    assert [bank.name for bank in repository.list_banks()] == ["alpha", "zeta"]


def test_duplicate_bank_name_is_a_conflict(repository: BankRepository) -> None:
    make_bank(repository, "ncii")
    with pytest.raises(ConflictError):
        make_bank(repository, "ncii")
    assert len(repository.list_banks()) == 1


@pytest.mark.parametrize("name", ["", "Upper", "with space", "dot.name", "x" * 256, "ü"])
def test_invalid_bank_names_are_rejected(repository: BankRepository, name: str) -> None:
    with pytest.raises(InvalidInputError):
        make_bank(repository, name)
    make_bank(repository, "valid")
    with pytest.raises(InvalidInputError):
        repository.rename_bank("valid", name)
    assert [bank.name for bank in repository.list_banks()] == ["valid"]


def test_bank_names_may_be_255_characters_long(repository: BankRepository) -> None:
    """As long as HMA's, which clients such as ROOST Coop fill (`coop_<org>_<name>`)."""
    longest = "a" + "b" * 254
    make_bank(repository, longest)
    renamed = "c" * 255
    repository.rename_bank(longest, renamed)
    assert [bank.name for bank in repository.list_banks()] == [renamed]
    assert repository.get_bank(renamed).name == renamed


def test_missing_bank_is_not_found_everywhere(repository: BankRepository) -> None:
    calls: list[Callable[[], object]] = [
        lambda: repository.get_bank("nope"),
        lambda: repository.rename_bank("nope", "other"),
        lambda: repository.set_bank_enabled("nope", False),
        lambda: repository.set_policy("nope", BankPolicy()),
        lambda: repository.delete_bank("nope"),
        lambda: repository.add_entries("nope", [pdq_entry()]),
        lambda: repository.add_entries("nope", []),
        lambda: repository.list_entries("nope"),
        lambda: repository.count_entries("nope"),
    ]
    for call in calls:
        with pytest.raises(NotFoundError):
            call()


def test_rename_bank_carries_entries_and_allow_lists(repository: BankRepository) -> None:
    make_bank(repository, "old")
    make_bank(repository, "taken")
    make_bank(repository, "watcher", allow_list_banks=("old",))
    [added] = repository.add_entries("old", [pdq_entry()])
    renamed = repository.rename_bank("old", "new")
    assert renamed.name == "new"
    assert renamed.updated_at >= renamed.created_at
    assert repository.get_entry(added.entry_id).bank == "new"
    assert repository.get_bank("watcher").policy.allow_list_banks == ("new",)
    with pytest.raises(NotFoundError):
        repository.get_bank("old")
    with pytest.raises(ConflictError):
        repository.rename_bank("new", "taken")
    assert repository.rename_bank("new", "new").name == "new"


def test_enable_and_disable_bank(repository: BankRepository) -> None:
    make_bank(repository)
    assert not repository.set_bank_enabled("school-reports", False).enabled
    assert not repository.get_bank("school-reports").enabled
    assert repository.set_bank_enabled("school-reports", True).enabled


def test_policy_round_trip_with_allow_lists(repository: BankRepository) -> None:
    make_bank(repository, "ncii")
    make_bank(repository, "memes")
    make_bank(repository, "stock-photos")
    policy = BankPolicy(12, MatchAction.REVIEW, ("memes", "stock-photos"))
    assert repository.set_policy("ncii", policy).policy == policy
    assert repository.get_bank("ncii").policy == policy
    # Allow-lists come back sorted by name, each bank once.
    unsorted = BankPolicy(5, MatchAction.BLOCK, ("stock-photos", "memes", "memes"))
    assert repository.set_policy("ncii", unsorted).policy.allow_list_banks == (
        "memes",
        "stock-photos",
    )
    assert repository.set_policy("ncii", BankPolicy()).policy == BankPolicy()


def test_second_stage_is_stored_with_the_policy(repository: BankRepository) -> None:
    assert make_bank(repository, "default").policy.second_stage is True
    off = make_bank(repository, "panels-off", second_stage=False)
    assert off.policy.second_stage is False
    assert repository.get_bank("panels-off").policy.second_stage is False
    on = repository.set_policy("panels-off", replace(off.policy, second_stage=True))
    assert on.policy.second_stage is True
    assert repository.get_bank("panels-off").policy.second_stage is True
    # Every other part of the policy travels beside it, and one bank's switch is its own.
    policy = BankPolicy(12, MatchAction.REVIEW, ("default",), 0.5, second_stage=False)
    assert repository.set_policy("panels-off", policy).policy == policy
    listed = {bank.name: bank.policy for bank in repository.list_banks()}
    assert listed == {"default": BankPolicy(), "panels-off": policy}


def test_policy_allow_list_must_name_other_existing_banks(repository: BankRepository) -> None:
    make_bank(repository, "ncii", pdq_threshold=10)
    make_bank(repository, "memes")
    with pytest.raises(NotFoundError):
        repository.set_policy("ncii", BankPolicy(allow_list_banks=("memes", "missing")))
    with pytest.raises(InvalidInputError):
        repository.set_policy("ncii", BankPolicy(allow_list_banks=("ncii",)))
    with pytest.raises(InvalidInputError):
        make_bank(repository, "selfish", allow_list_banks=("selfish",))
    with pytest.raises(NotFoundError):
        make_bank(repository, "hopeful", allow_list_banks=("missing",))
    assert repository.get_bank("ncii").policy == BankPolicy(pdq_threshold=10)
    assert [bank.name for bank in repository.list_banks()] == ["memes", "ncii"]


def test_delete_bank_cascades(repository: BankRepository) -> None:
    make_bank(repository, "keeper")
    kept = repository.add_entries("keeper", [pdq_entry()])
    doomed = make_bank(repository, "doomed")
    repository.set_policy("keeper", BankPolicy(allow_list_banks=("doomed",)))
    added = repository.add_entries("doomed", [pdq_entry(), content_entry()])
    repository.delete_bank("doomed")
    with pytest.raises(NotFoundError):
        repository.get_bank("doomed")
    for result in added:
        with pytest.raises(NotFoundError):
            repository.get_entry(result.entry_id)
    assert repository.get_bank("keeper").policy.allow_list_banks == ()
    assert repository.get_entry(kept[0].entry_id).bank == "keeper"
    # The name is free again, and ids are never reused (matchers may still hold old ones).
    reborn = make_bank(repository, "doomed")
    assert reborn.id > doomed.id
    [fresh] = repository.add_entries("doomed", [pdq_entry()])
    assert fresh.entry_id > max(result.entry_id for result in added)


# Entries


def test_add_entries_keeps_signals_and_provenance(repository: BankRepository) -> None:
    make_bank(repository)
    photo, hash_only = content_entry(), pdq_entry(quality=30, source="exchange")
    added = repository.add_entries("school-reports", [photo, hash_only])
    assert [(a.created, a.state) for a in added] == [(True, EntryState.ACTIVE)] * 2
    assert added[0].entry_id < added[1].entry_id
    stored = repository.get_entry(added[0].entry_id)
    assert stored.id == added[0].entry_id
    assert stored.bank == "school-reports"
    assert stored.signals == photo.signals
    assert stored.signal("pdq", "mirror") == photo.signals[3]
    assert stored.provenance == photo.provenance
    assert stored.state == EntryState.ACTIVE
    assert stored.created_at.utcoffset() == UTC.utcoffset(None)
    other = repository.get_entry(added[1].entry_id)
    assert other.signals == hash_only.signals
    assert other.provenance.source == EntrySource.EXCHANGE
    assert repository.list_entries("school-reports") == [stored, other]
    with pytest.raises(NotFoundError):
        repository.get_entry(added[1].entry_id + 1000)


def test_dedupe_returns_the_existing_entry(repository: BankRepository) -> None:
    make_bank(repository)
    make_bank(repository, "other")
    first, second = content_entry(), pdq_entry()
    [original] = repository.add_entries("school-reports", [first])
    again = repository.add_entries("school-reports", [second, first, second])
    assert again[1] == type(original)(original.entry_id, False, EntryState.ACTIVE)
    assert again[0].created
    assert not again[2].created
    assert again[2].entry_id == again[0].entry_id
    # Same content in another bank is another entry.
    [elsewhere] = repository.add_entries("other", [first])
    assert elsewhere.created
    assert elsewhere.entry_id != original.entry_id
    repository.set_entry_state(original.entry_id, EntryState.WITHDRAWN)
    [withdrawn] = repository.add_entries("school-reports", [first])
    assert (withdrawn.entry_id, withdrawn.created) == (original.entry_id, False)
    assert withdrawn.state == EntryState.WITHDRAWN
    assert repository.count_entries("school-reports")[EntryState.WITHDRAWN] == 1
    assert sum(repository.count_entries("school-reports").values()) == 2
    assert repository.add_entries("school-reports", []) == []


def test_entries_can_arrive_disabled_or_withdrawn(repository: BankRepository) -> None:
    bank = make_bank(repository)
    tombstone = replace(pdq_entry(), state=EntryState.WITHDRAWN)
    paused = replace(content_entry(), state=EntryState.DISABLED)
    added = repository.add_entries(bank.name, [tombstone, paused, tombstone])
    assert [(a.created, a.state) for a in added] == [
        (True, EntryState.WITHDRAWN),
        (True, EntryState.DISABLED),
        (False, EntryState.WITHDRAWN),
    ]
    assert repository.get_entry(added[0].entry_id).state == EntryState.WITHDRAWN
    assert repository.count_entries(bank.name) == {
        EntryState.ACTIVE: 0,
        EntryState.DISABLED: 1,
        EntryState.WITHDRAWN: 1,
    }
    assert list(repository.iter_index_rows([bank.id])) == []
    with pytest.raises(ConflictError):
        repository.set_entry_state(added[0].entry_id, EntryState.ACTIVE)


def test_entry_state_transitions_and_withdrawal_is_final(repository: BankRepository) -> None:
    make_bank(repository)
    [added] = repository.add_entries("school-reports", [pdq_entry()])
    disabled = repository.set_entry_state(added.entry_id, EntryState.DISABLED)
    assert disabled.state == EntryState.DISABLED
    assert disabled.updated_at >= disabled.created_at
    assert repository.set_entry_state(added.entry_id, EntryState.ACTIVE).state == EntryState.ACTIVE
    withdrawn = repository.set_entry_state(added.entry_id, EntryState.WITHDRAWN)
    assert withdrawn.state == EntryState.WITHDRAWN
    for state in (EntryState.ACTIVE, EntryState.DISABLED):
        with pytest.raises(ConflictError):
            repository.set_entry_state(added.entry_id, state)
    assert repository.set_entry_state(added.entry_id, EntryState.WITHDRAWN) == withdrawn
    assert repository.get_entry(added.entry_id) == withdrawn
    with pytest.raises(NotFoundError):
        repository.set_entry_state(added.entry_id + 1, EntryState.DISABLED)
    with pytest.raises(InvalidInputError):
        repository.set_entry_state(added.entry_id, "deleted")  # type: ignore[arg-type]
    for impossible in (0, -1, 2**64):
        with pytest.raises(NotFoundError):
            repository.get_entry(impossible)


def test_cursor_pagination_walks_every_entry_once(repository: BankRepository) -> None:
    make_bank(repository, "pages")
    make_bank(repository, "noise")
    expected: list[int] = []
    for size in (90, 1, 70, 89):
        added = repository.add_entries("pages", [pdq_entry() for _ in range(size)])
        expected += [result.entry_id for result in added]
        repository.add_entries("noise", [pdq_entry() for _ in range(7)])
    seen: list[int] = []
    cursor, pages = 0, 0
    while page := repository.list_entries("pages", after_id=cursor, limit=40):
        assert len(page) <= 40
        assert all(entry.bank == "pages" for entry in page)
        seen += [entry.id for entry in page]
        cursor, pages = page[-1].id, pages + 1
    assert seen == expected
    assert all(a < b for a, b in itertools.pairwise(seen))
    assert pages == 7
    disabled = expected[5::11]
    for entry_id in disabled:
        repository.set_entry_state(entry_id, EntryState.DISABLED)
    first = repository.list_entries("pages", limit=3, state=EntryState.DISABLED)
    rest = repository.list_entries("pages", after_id=first[-1].id, state=EntryState.DISABLED)
    assert [entry.id for entry in first + rest] == disabled
    assert repository.count_entries("pages") == {
        EntryState.ACTIVE: len(expected) - len(disabled),
        EntryState.DISABLED: len(disabled),
        EntryState.WITHDRAWN: 0,
    }
    with pytest.raises(InvalidInputError):
        repository.list_entries("pages", limit=0)


def test_iter_index_rows_yields_active_entries_of_requested_banks(
    repository: BankRepository,
) -> None:
    wanted = [make_bank(repository, "a"), make_bank(repository, "b")]
    make_bank(repository, "c")
    expected = []
    for bank in (*wanted, repository.get_bank("c")):
        entries = [content_entry(), pdq_entry(), pdq_entry()]
        added = repository.add_entries(bank.name, entries)
        repository.set_entry_state(added[1].entry_id, EntryState.DISABLED)
        repository.set_entry_state(added[2].entry_id, EntryState.WITHDRAWN)
        if bank in wanted:
            expected += [
                (added[0].entry_id, bank.id, s.type, s.value, s.variant) for s in entries[0].signals
            ]
    repository.add_entries("a", [pdq_entry()])
    [late] = repository.list_entries("a", after_id=max(e[0] for e in expected))
    expected.append((late.id, wanted[0].id, "pdq", late.signals[0].value, "original"))
    batches = list(repository.iter_index_rows([bank.id for bank in wanted], batch_size=3))
    assert [len(batch) for batch in batches] == [3, 3, 3]
    rows = [(r.entry_id, r.bank_id, r.signal_type, r.value, r.variant) for b in batches for r in b]
    assert rows == expected
    assert list(repository.iter_index_rows([])) == []
    assert list(repository.iter_index_rows([wanted[0].id + 999])) == []
    with pytest.raises(InvalidInputError):
        list(repository.iter_index_rows([wanted[0].id], batch_size=0))


def test_iter_index_batches_holds_the_same_signals_with_pdq_as_columns(
    repository: BankRepository,
) -> None:
    wanted = [make_bank(repository, "a"), make_bank(repository, "b")]
    make_bank(repository, "c")
    for bank in (*wanted, repository.get_bank("c")):
        added = repository.add_entries(bank.name, [content_entry(), pdq_entry(), pdq_entry()])
        repository.set_entry_state(added[2].entry_id, EntryState.WITHDRAWN)
    bank_ids = [bank.id for bank in wanted]
    expected = {tuple(row) for batch in repository.iter_index_rows(bank_ids) for row in batch}
    found: set[tuple[object, ...]] = set()
    for batch in repository.iter_index_batches(bank_ids):
        pdq = batch.pdq
        assert pdq.hashes.shape == (len(pdq), 32)
        for at in range(len(pdq)):
            variant = pdq.variant_names[int(pdq.variants[at])]
            value = pdq.hashes[at].tobytes().hex()
            found.add((int(pdq.entry_ids[at]), int(pdq.bank_ids[at]), "pdq", value, variant))
        assert all(row.signal_type != "pdq" for row in batch.others)
        found |= {tuple(row) for row in batch.others}
    assert found == expected
    assert any(row[2] == "pdq" and row[4] != "original" for row in expected)  # region variants
    assert list(repository.iter_index_batches([])) == []


# Atomicity under failures only a real database has


@pytest.mark.parametrize("failing", ["INSERT INTO entries", "INSERT INTO entry_signals"])
def test_failed_batch_leaves_nothing_behind(sql_engine: Engine, failing: str) -> None:
    repository = SqlBankRepository(sql_engine)
    make_bank(repository)
    before = repository.add_entries("school-reports", [content_entry() for _ in range(3)])
    batch = [pdq_entry() for _ in range(50)] + [content_entry()]
    failure = OnStatement(sql_engine, failing)
    event.listen(sql_engine, "before_cursor_execute", failure)
    try:
        with pytest.raises(StorageError):
            repository.add_entries("school-reports", batch)
    finally:
        event.remove(sql_engine, "before_cursor_execute", failure)
    assert failure.fired
    assert stored_rows(sql_engine) == (3, 3 * 4)
    listed = [entry.id for entry in repository.list_entries("school-reports")]
    assert listed == [result.entry_id for result in before]
    retried = repository.add_entries("school-reports", batch)
    assert all(result.created for result in retried)
    assert stored_rows(sql_engine) == (3 + 51, 3 * 4 + 50 + 4)


def test_active_ids_reads_only_states(repository: BankRepository) -> None:
    make_bank(repository)
    added = repository.add_entries("school-reports", [pdq_entry() for _ in range(3)])
    ids = [a.entry_id for a in added]
    repository.set_entry_state(ids[1], EntryState.WITHDRAWN)
    repository.set_entry_state(ids[2], EntryState.DISABLED)
    assert repository.active_ids([*ids, 10**9, -1]) == {ids[0]}
    assert repository.active_ids([]) == set()


def test_an_index_load_window_reads_sqlite_by_the_entries_id_range(sqlite_url: str) -> None:
    """Without statistics, SQLite planned `signal_type = 'pdq'` through the (signal_type,
    value) index, which holds every PDQ signal: each window of an index load read them all
    (two minutes at 1M hashes). The plan must follow the window's entry ids instead."""
    upgrade_database(sqlite_url)
    engine = create_database_engine(sqlite_url)
    try:
        repository = SqlBankRepository(engine)
        bank = make_bank(repository)
        repository.add_entries(bank.name, [pdq_entry() for _ in range(20)])
        query = columns_query([bank.id], 0, 10, postgres=False)
        with engine.connect() as connection:
            compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
            plan = [
                str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
            ]
            assert len(pdq_columns(connection, [bank.id], 0, 10)) == 10
    finally:
        engine.dispose()
    assert not any("ix_entry_signals_signal_type_value" in step for step in plan), plan
    assert any("SEARCH s" in step or "entry_signals" in step for step in plan), plan
