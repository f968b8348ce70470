"""BankService import and export over the in-memory repository."""

from __future__ import annotations

import io
import random

import pytest

from shieldwall.banks.formats import BankFileFormat
from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import EntrySource, EntryState, NewEntry, Provenance
from shieldwall.banks.service import BankService
from shieldwall.errors import InvalidInputError, NotFoundError
from shieldwall.matching.service import BankMatcher
from shieldwall.signals.models import Signal


@pytest.fixture
def service() -> BankService:
    service = BankService(InMemoryBankRepository())
    service.create_bank("source")
    service.create_bank("copy")
    return service


def hashes(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.getrandbits(256):064x}" for _ in range(count)]


def test_hashfile_import_in_batches_with_problems(service: BankService) -> None:
    values = hashes(25)
    lines = (
        [f"pdq {v}\n" for v in values[:10]] + ["pdq nothex\n"] + [f"pdq {v}\n" for v in values[10:]]
    )
    batches: list[int] = []
    summary = service.import_lines(
        "source",
        lines,
        BankFileFormat.HASHFILE,
        Provenance(EntrySource.EXCHANGE),
        10,
        on_batch=lambda s: batches.append(s.added),
    )
    assert (summary.added, summary.existing) == (25, 0)
    assert [p.line for p in summary.problems] == [11]
    assert batches == [10, 20, 25]
    again = service.import_lines("source", lines, BankFileFormat.HASHFILE, Provenance(), 7)
    assert (again.added, again.existing) == (0, 25)
    assert service.repository.count_entries("source")[EntryState.ACTIVE] == 25


def test_jsonl_round_trip_keeps_tombstones_inactive(service: BankService) -> None:
    values = hashes(3)
    entries = [
        NewEntry(
            (Signal.of("pdq", v, quality=80), Signal.of("md5", f"{i:032x}")),
            Provenance(EntrySource.CASE, "helpline", f"case-{i}", f"note {i}"),
        )
        for i, v in enumerate(values)
    ]
    added = service.add_entries("source", entries)
    service.set_entry_state(added[1].entry_id, EntryState.WITHDRAWN)
    service.set_entry_state(added[2].entry_id, EntryState.DISABLED)
    out = io.StringIO()
    assert service.export("source", BankFileFormat.JSONL, out, include_inactive=True) == 3
    summary = service.import_lines(
        "copy", io.StringIO(out.getvalue()), BankFileFormat.JSONL, Provenance()
    )
    assert summary.added == 3
    copied = list(service.iter_entries("copy"))
    assert [e.state for e in copied] == [
        EntryState.ACTIVE,
        EntryState.WITHDRAWN,
        EntryState.DISABLED,
    ]
    originals = list(service.iter_entries("source"))
    assert [(e.signals, e.provenance) for e in copied] == [
        (e.signals, e.provenance) for e in originals
    ]
    matcher = BankMatcher.load(service.repository, ["copy"])
    assert matcher.size() == {"copy": 1}


def test_export_active_only_by_default(service: BankService) -> None:
    added = service.add_entries("source", [NewEntry((Signal.of("pdq", v),)) for v in hashes(4)])
    service.set_entry_state(added[0].entry_id, EntryState.WITHDRAWN)
    out = io.StringIO()
    assert service.export("source", BankFileFormat.HASHFILE, out) == 3
    assert len(out.getvalue().splitlines()) == 3


def test_export_pages_through_everything(service: BankService) -> None:
    values = hashes(2500)
    service.import_lines(
        "source", [f"pdq {v}" for v in values], BankFileFormat.HASHFILE, Provenance()
    )
    seen = [e.signals[0].value for e in service.iter_entries("source", page=333)]
    assert seen == values


def test_import_into_missing_bank_fails_before_reading(service: BankService) -> None:
    def never() -> list[str]:
        raise AssertionError("read the file")

    with pytest.raises(NotFoundError):
        service.import_lines("missing", iter(never, None), BankFileFormat.CSV, Provenance())
    with pytest.raises(InvalidInputError):
        service.import_lines("source", [], BankFileFormat.CSV, Provenance(), batch_size=0)
