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
from shieldwall.signals.pdq_quality import RefusedPdqError


@pytest.fixture
def repository() -> InMemoryBankRepository:
    return InMemoryBankRepository()


@pytest.fixture
def service(repository: InMemoryBankRepository) -> BankService:
    service = BankService(repository)
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
    assert service.count_entries("source")[EntryState.ACTIVE] == 25


def test_jsonl_round_trip_keeps_tombstones_inactive(
    service: BankService, repository: InMemoryBankRepository
) -> None:
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
    matcher = BankMatcher.load(repository, ["copy"])
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
    def never() -> str | None:
        raise AssertionError("read the file")

    with pytest.raises(NotFoundError):
        service.import_lines("missing", iter(never, None), BankFileFormat.CSV, Provenance())
    with pytest.raises(InvalidInputError):
        service.import_lines("source", [], BankFileFormat.CSV, Provenance(), batch_size=0)


FLAT_GREY = "000000002c4b11342c4b2c4b0000554b00002c4b113411342c4b585e2c4b017e"
"""A 640x480 image of grey 128 hashes to this: 80 bits set, but in a low-rank pattern."""


def test_degenerate_and_low_quality_hashes_are_refused_lines_in_every_format(
    service: BankService,
) -> None:
    """Issue 9 item 6: imports count degenerate PDQ hashes as refused lines, with why."""
    good = hashes(3, seed=4)
    ones = f"{(1 << 200) - 1:064x}"  # 200 bits set, a full-rank pattern of ones
    hashfile = [
        f"pdq {good[0]}\n",
        f"pdq {'0' * 64}\n",
        "# a comment\n",
        f"ROTATE90 pdq {FLAT_GREY}\n",
        "pdq nothex\n",
        f"pdq {ones}\n",
    ]
    summary = service.import_lines("source", hashfile, BankFileFormat.HASHFILE, Provenance(), 2)
    assert (summary.added, summary.lines) == (1, 5)
    assert [p.line for p in summary.problems] == [2, 4, 5, 6]  # in line order
    reasons = [p.message for p in summary.problems]
    assert "0 of 256 bits set" in reasons[0]
    assert "flat image" in reasons[1]
    assert "200 of 256 bits set" in reasons[3]
    csv_lines = ["signal_type,signal,note\n", f"pdq,{good[1]},ok\n", f"pdq,{'f' * 64},blank\n"]
    from_csv = service.import_lines("source", csv_lines, BankFileFormat.CSV, Provenance())
    assert (from_csv.added, [p.line for p in from_csv.problems]) == (1, [3])
    signal = '{{"type": "pdq", "value": "{}", "quality": {}}}'
    jsonl = [
        f'{{"signals": [{signal.format(good[2], 90)}]}}\n',
        f'{{"signals": [{signal.format(hashes(1, seed=9)[0], 10)}], "note": "a blank photo"}}\n',
    ]
    from_jsonl = service.import_lines("copy", jsonl, BankFileFormat.JSONL, Provenance())
    assert from_jsonl.added == 1
    [problem] = from_jsonl.problems
    assert (problem.line, "quality 10 is below 50" in problem.message) == (2, True)
    assert service.count_entries("source")[EntryState.ACTIVE] == 2


def test_adding_a_degenerate_hash_adds_nothing_and_says_why(service: BankService) -> None:
    entries = [NewEntry((Signal.of("pdq", v),)) for v in [*hashes(2), "0" * 64]]
    with pytest.raises(RefusedPdqError, match="entry 3: pdq hash has 0 of 256 bits set"):
        service.add_entries("source", entries)
    low = NewEntry((Signal.of("pdq", hashes(1)[0], quality=20), Signal.of("md5", "ab" * 16)))
    with pytest.raises(RefusedPdqError, match="quality 20 is below 50"):
        service.add_entries("source", [low])
    assert service.count_entries("source").get(EntryState.ACTIVE, 0) == 0


@pytest.mark.parametrize("name", ["-lead", "_lead", "-", "lead\n", "Lead", ""])
def test_bank_names_start_with_a_letter_or_digit(
    service: BankService, repository: InMemoryBankRepository, name: str
) -> None:
    """Issue 9 item 16: `-lead` was accepted (and reads as an option on a command line)."""
    with pytest.raises(InvalidInputError, match="starting with a letter or digit"):
        service.create_bank(name)
    with pytest.raises(InvalidInputError):
        service.rename_bank("copy", name)
    assert service.create_bank("lead-1").name == "lead-1"
    assert service.create_bank("9_lives").name == "9_lives"
    with pytest.raises(InvalidInputError):
        repository.create_bank(name, service.get_bank("copy").policy)
