"""What HMA clients store through every BankRepository adapter (memory, SQLite, PostgreSQL):
a bank's matching ratio, an entry's metadata and changed note, and content added again
after its deletion."""

from __future__ import annotations

import dataclasses

import pytest

from shieldwall.banks.models import BankPolicy, EntryState, NewEntry
from shieldwall.banks.ports import BankRepository
from shieldwall.errors import InvalidInputError, NotFoundError
from tests.support.banks import make_bank, pdq_entry

METADATA = '{"content_id":"ext-1","json":{"nested":["ü",1]}}'


def test_matching_ratio_is_stored_with_the_policy(repository: BankRepository) -> None:
    bank = make_bank(repository, "sampled", matching_ratio=0.25)
    assert bank.policy.matching_ratio == 0.25
    changed = repository.set_policy("sampled", dataclasses.replace(bank.policy, matching_ratio=1))
    assert repository.get_bank("sampled").policy.matching_ratio == changed.policy.matching_ratio
    assert changed.policy.matching_ratio == 1.0
    assert make_bank(repository, "default").policy.matching_ratio == 1.0


@pytest.mark.parametrize("ratio", [-0.1, 1.01, float("nan"), True, "0.5"])
def test_matching_ratio_outside_0_to_1_is_refused(ratio: object) -> None:
    with pytest.raises(InvalidInputError):
        BankPolicy(matching_ratio=ratio)  # type: ignore[arg-type]


def test_metadata_is_stored_with_new_entries_only(repository: BankRepository) -> None:
    make_bank(repository, "reports")
    with_metadata = pdq_entry(metadata=METADATA)
    plain = pdq_entry()
    [first, second] = repository.add_entries("reports", [with_metadata, plain])
    assert repository.get_entry(first.entry_id).provenance.metadata == METADATA
    assert repository.get_entry(second.entry_id).provenance.metadata == ""
    # Adding the same content again with other metadata keeps the entry as it was.
    again = dataclasses.replace(
        with_metadata, provenance=dataclasses.replace(with_metadata.provenance, metadata="{}")
    )
    [same] = repository.add_entries("reports", [again])
    assert (same.entry_id, same.created) == (first.entry_id, False)
    assert repository.get_entry(first.entry_id).provenance.metadata == METADATA


def test_a_note_can_be_changed_and_removed(repository: BankRepository) -> None:
    make_bank(repository, "reports")
    [added] = repository.add_entries("reports", [pdq_entry(note="first")])
    changed = repository.set_entry_note(added.entry_id, "second")
    assert changed.provenance.note == "second"
    assert repository.get_entry(added.entry_id).provenance.note == "second"
    assert repository.set_entry_note(added.entry_id, "").provenance.note == ""
    with pytest.raises(InvalidInputError):
        repository.set_entry_note(added.entry_id, "x" * 2001)
    with pytest.raises(NotFoundError):
        repository.set_entry_note(added.entry_id + 1000, "note")


def test_content_deleted_then_added_again_gets_a_new_entry(repository: BankRepository) -> None:
    make_bank(repository, "reports")
    entry = pdq_entry()
    [first] = repository.add_entries("reports", [entry])
    repository.set_entry_state(first.entry_id, EntryState.WITHDRAWN)
    # Added as before, the content finds its tombstone (withdrawal is final)...
    [tombstone] = repository.add_entries("reports", [entry])
    assert (tombstone.entry_id, tombstone.state) == (first.entry_id, EntryState.WITHDRAWN)
    # ...and following it, a new entry of its own, found again on the next add.
    after = NewEntry(entry.signals, entry.provenance, replaces=first.entry_id)
    [second] = repository.add_entries("reports", [after])
    assert second.created
    assert second.entry_id != first.entry_id
    assert second.state is EntryState.ACTIVE
    [found] = repository.add_entries("reports", [after])
    assert (found.entry_id, found.created) == (second.entry_id, False)
    assert repository.get_entry(first.entry_id).state is EntryState.WITHDRAWN
