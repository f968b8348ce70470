"""BankRepository.index_rows_by_id (the change-log tailer's read), on every adapter."""

from __future__ import annotations

from shieldwall.banks.models import EntryState, IndexRow
from shieldwall.banks.ports import BankRepository
from tests.support.banks import content_entry, make_bank, pdq_entry


def test_states_and_every_signal_of_the_entries_that_exist(repository: BankRepository) -> None:
    reports, other = make_bank(repository, "reports"), make_bank(repository, "other")
    entries = [content_entry(), pdq_entry()]
    first, second = repository.add_entries("reports", entries)
    [elsewhere] = repository.add_entries("other", [pdq_entry()])
    repository.set_entry_state(second.entry_id, EntryState.WITHDRAWN)

    wanted = [elsewhere.entry_id, second.entry_id, first.entry_id, 10**9, -1, 0]
    states, rows = repository.index_rows_by_id(wanted)

    assert states == {
        first.entry_id: EntryState.ACTIVE,
        second.entry_id: EntryState.WITHDRAWN,  # inactive entries come too: to be removed
        elsewhere.entry_id: EntryState.ACTIVE,
    }
    expected = {
        IndexRow(first.entry_id, reports.id, s.type, s.value, s.variant) for s in entries[0].signals
    }
    expected |= {
        IndexRow(second.entry_id, reports.id, s.type, s.value, s.variant)
        for s in entries[1].signals
    }
    stored = repository.get_entries([elsewhere.entry_id])[0].signals[0]
    expected.add(IndexRow(elsewhere.entry_id, other.id, "pdq", stored.value, "original"))
    assert set(rows) == expected
    assert len(rows) == len(expected)


def test_nothing_asked_or_nothing_found(repository: BankRepository) -> None:
    make_bank(repository)
    assert repository.index_rows_by_id([]) == ({}, [])
    assert repository.index_rows_by_id([1, 2, 3]) == ({}, [])


def test_more_ids_than_one_sql_statement_takes(repository: BankRepository) -> None:
    make_bank(repository)
    added = repository.add_entries("school-reports", [pdq_entry() for _ in range(2_000)])
    ids = [result.entry_id for result in added]
    states, rows = repository.index_rows_by_id(ids)
    assert set(states) == set(ids)
    assert sorted(row.entry_id for row in rows) == sorted(ids)
