"""Bank import/export formats: parsing examples, per-line problems, detection, round trips."""

from __future__ import annotations

import io
import itertools
import json
import string
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shieldwall.banks.formats import (
    BankFileFormat,
    ImportProblem,
    ImportRecord,
    detect_format,
    parse_bank_file,
    write_bank_file,
)
from shieldwall.banks.models import (
    MAX_TEXT,
    Entry,
    EntrySource,
    EntryState,
    NewEntry,
    Provenance,
)
from shieldwall.signals.models import DIHEDRAL_VARIANTS, ORIGINAL, SIGNAL_TYPES, Signal

# Benign test data: PDQ of the PDQ project's bridge sample photo, MD5/SHA-256 of b"".
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
PDQ2 = "e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
DEFAULT = Provenance(EntrySource.EXCHANGE, "importer", "case-7", "")
HASHFILE, CSV, JSONL = BankFileFormat.HASHFILE, BankFileFormat.CSV, BankFileFormat.JSONL
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def parse(text: str, fmt: BankFileFormat, default: Provenance = DEFAULT) -> list[object]:
    """Parse `text` the way a file opened with newline='' would be read."""
    return list(parse_bank_file(io.StringIO(text, newline=""), fmt, default))


def records(results: list[object]) -> list[ImportRecord]:
    assert all(isinstance(r, ImportRecord) for r in results), results
    return [r for r in results if isinstance(r, ImportRecord)]


def only_signal(record: object) -> Signal:
    assert isinstance(record, ImportRecord)
    assert len(record.entry.signals) == 1
    return record.entry.signals[0]


def problem_at(results: list[object], line: int) -> str:
    found = [r for r in results if isinstance(r, ImportProblem) and r.line == line]
    assert len(found) == 1, results
    return found[0].message


def make_entry(
    signals: tuple[Signal, ...] = (Signal.of("pdq", PDQ),),
    state: EntryState = EntryState.ACTIVE,
    note: str = "",
    entry_id: int = 1,
) -> Entry:
    provenance = Provenance(EntrySource.CASE, "helpline", "c-1", note)
    return Entry(entry_id, "ncii", signals, provenance, state, T0, T0)


def write(entries: list[Entry], fmt: BankFileFormat) -> tuple[str, int]:
    out = io.StringIO(newline="")
    count = write_bank_file(entries, fmt, out)
    return out.getvalue(), count


# Hash files


def test_hashfile_parses_threatexchange_hash_output_with_comments_and_blank_lines() -> None:
    text = f"# exported from threatexchange\n\npdq {PDQ}\nmd5 {MD5}\n   \nsha256 {SHA256}\n"
    results = records(parse(text, HASHFILE))
    assert [(r.line, only_signal(r).type) for r in results] == [
        (3, "pdq"),
        (4, "md5"),
        (6, "sha256"),
    ]
    assert all(r.entry.provenance == DEFAULT and r.state is EntryState.ACTIVE for r in results)


def test_hashfile_accepts_upper_case_hex_tabs_crlf_and_bom() -> None:
    text = f"\ufeffPDQ\t{PDQ.upper()}\r\nmd5  {MD5}\r\n"
    results = records(parse(text, HASHFILE))
    assert [only_signal(r) for r in results] == [Signal.of("pdq", PDQ), Signal.of("md5", MD5)]


def test_hashfile_trailing_text_becomes_the_note() -> None:
    # `threatexchange dataset -P` prints the collaboration metadata after the hash.
    text = f"pdq {PDQ} INVESTIGATION_SEED tag_a,tag_b\nmd5 {MD5}   # from the helpline, 2024\n"
    first, second = records(parse(text, HASHFILE))
    assert first.entry.provenance.note == "INVESTIGATION_SEED tag_a,tag_b"
    assert second.entry.provenance.note == "from the helpline, 2024"
    assert first.entry.provenance.case_id == "case-7"


def test_hashfile_reads_rotation_prefixed_lines_as_variants() -> None:
    # `threatexchange hash --photo-preprocess=rotations photo x.jpg` output.
    names = ["ORIGINAL", "ROTATE90", "FLIPX", "FLIPY", "FLIPPLUS1", "FLIPMINUS1"]
    text = "".join(f"{name} pdq {PDQ}\n" for name in names)
    variants = [only_signal(r).variant for r in records(parse(text, HASHFILE))]
    assert variants == [ORIGINAL, "rotate90", "flip", "mirror", "transpose", "transverse"]
    assert set(variants) <= set(DIHEDRAL_VARIANTS)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"video_md5 {MD5}", "unsupported signal type 'video_md5'"),
        (f"url_md5 {MD5}", "unsupported signal type 'url_md5'"),
        (PDQ, "missing signal type"),
        ("pdq", "missing hash after signal type 'pdq'"),
        (f"pdq {PDQ[:-1]}", "pdq hash must be 64 hex digits, got 63 characters"),
        (f"md5 {MD5}0", "md5 hash must be 32 hex digits, got 33 characters"),
        (f"pdq {PDQ[:-1]}g", "pdq hash contains characters that are not hex digits"),
        (f"pdq {PDQ} {'x' * (MAX_TEXT + 1)}", "note must be text of at most 2000 characters"),
    ],
)
def test_hashfile_bad_line_gives_one_problem_and_parsing_continues(
    line: str, expected: str
) -> None:
    results = parse(f"md5 {MD5}\n\n{line}\n# comment\npdq {PDQ2}\n", HASHFILE)
    assert len(results) == 3
    assert expected in problem_at(results, 3)
    assert PDQ not in problem_at(results, 3)  # never echo (near-)hashes into messages
    assert only_signal(results[0]).value == MD5
    assert isinstance(results[2], ImportRecord)
    assert results[2].line == 5


def test_unsupported_signal_type_problem_lists_the_supported_ones() -> None:
    (result,) = parse(f"video_md5 {MD5}\n", HASHFILE)
    assert isinstance(result, ImportProblem)
    assert result.message == (
        f"unsupported signal type 'video_md5' (supported: {', '.join(SIGNAL_TYPES)})"
    )


# CSV


def test_csv_parses_rows_with_header_and_tricky_quoting() -> None:
    text = (
        "\ufeffsignal_type,signal,note\r\n"
        f'pdq,{PDQ},"reported by school, year 9"\r\n'
        f'md5,{MD5},"two\r\nlines and ""quotes"""\r\n'
        f"sha256,{SHA256},Zoë ß 学校 🛡️\r\n"
        f"pdq,{PDQ2}\r\n"
        f"pdq,{PDQ},\r\n"
    )
    results = records(parse(text, CSV))
    assert [r.line for r in results] == [2, 3, 5, 6, 7]
    assert [r.entry.provenance.note for r in results] == [
        "reported by school, year 9",
        'two\r\nlines and "quotes"',
        "Zoë ß 学校 🛡️",
        "",
        "",
    ]
    assert only_signal(results[2]) == Signal.of("sha256", SHA256)
    assert results[0].entry.provenance.submitted_by == "importer"


def test_csv_without_header_and_lines_without_endings() -> None:
    lines = [f"pdq,{PDQ.upper()},a", '"md5",' + MD5 + ',"multi', 'line"', "", f"pdq,{PDQ2}"]
    results = records(list(parse_bank_file(lines, CSV, DEFAULT)))
    assert [(r.line, r.entry.provenance.note) for r in results] == [
        (1, "a"),
        (2, "multi\nline"),
        (5, ""),
    ]


def test_csv_header_columns_in_any_order_and_threatexchange_dataset_csv() -> None:
    # `threatexchange dataset -P --csv` writes collab,signal_type,signal_str,category,tags.
    text = (
        "collab,signal_type,signal_str,category,tags\n"
        f"Sample Signals,pdq,{PDQ},INVESTIGATION_SEED,a b\n"
        "\n,,\n"
        f"Other,md5,{MD5},POSITIVE_CLASS,\n"
    )
    results = records(parse(text, CSV))
    assert [(r.line, only_signal(r).type) for r in results] == [(2, "pdq"), (5, "md5")]
    reordered = records(parse(f"Note,Hash,Type\nhi,{MD5},md5\n", CSV))
    assert only_signal(reordered[0]).value == MD5
    assert reordered[0].entry.provenance.note == "hi"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("pdq", "expected signal_type,signal[,note], got 1 field"),
        (f"pdq,{PDQ},a,b", "expected at most 3 fields"),
        (f"pdq,{PDQ[:10]},x", "pdq hash must be 64 hex digits, got 10 characters"),
        (f"md5,{'z' * 32},x", "md5 hash contains characters that are not hex digits"),
        (f"video_md5,{MD5},x", "unsupported signal type 'video_md5'"),
        (f'pdq,{PDQ},"{"n" * (MAX_TEXT + 1)}"', "note must be text of at most 2000 characters"),
    ],
)
def test_csv_bad_row_gives_one_problem_and_parsing_continues(row: str, expected: str) -> None:
    text = f'signal_type,signal,note\nmd5,{MD5},"a\nb"\n{row}\npdq,{PDQ2},ok\n'
    results = parse(text, CSV)
    assert len(results) == 3
    assert expected in problem_at(results, 4)
    assert isinstance(results[2], ImportRecord)
    assert results[2].line == 5


def test_csv_field_over_the_csv_limit_is_a_problem_not_a_crash() -> None:
    huge = "x" * 200_000
    results = parse(f'md5,{MD5},"{huge}"\npdq,{PDQ},fine\n', CSV)
    assert "invalid CSV" in problem_at(results, 1)
    assert isinstance(results[-1], ImportRecord)
    assert results[-1].line == 2


# JSONL


def jsonl_line(**fields: object) -> str:
    base: dict[str, object] = {
        "id": 9,
        "bank": "ncii",
        "state": "withdrawn",
        "source": "case",
        "submitted_by": "helpline",
        "case_id": "c-9",
        "note": 'née, "quoted"\nline',
        "created_at": "2024-05-01T12:00:00Z",
        "updated_at": "2024-05-02T12:00:00Z",
        "signals": [
            {"type": "pdq", "value": PDQ, "variant": "original", "quality": 87},
            {"type": "pdq", "value": PDQ2, "variant": "rotate90", "quality": 87},
            {"type": "md5", "value": MD5.upper(), "variant": "original", "quality": None},
        ],
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


def test_jsonl_restores_provenance_state_and_all_signals() -> None:
    (record,) = records(parse(jsonl_line() + "\r\n", JSONL))
    assert record.state is EntryState.WITHDRAWN
    assert record.entry.state is EntryState.WITHDRAWN
    assert record.entry.provenance == Provenance(
        EntrySource.CASE, "helpline", "c-9", 'née, "quoted"\nline'
    )
    assert record.entry.signals == (
        Signal.of("pdq", PDQ, quality=87),
        Signal.of("pdq", PDQ2, "rotate90", 87),
        Signal.of("md5", MD5),
    )


def test_jsonl_missing_optional_fields_fall_back_to_defaults() -> None:
    line = json.dumps({"signals": [{"type": "sha256", "value": SHA256}]})
    (record,) = records(parse("\ufeff" + line + "\n\n", JSONL))
    assert record.state is EntryState.ACTIVE
    assert record.entry.provenance == DEFAULT
    assert only_signal(record) == Signal.of("sha256", SHA256)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"signals": [', "invalid JSON"),
        ("[1, 2]", "expected a JSON object, got array"),
        ('"pdq"', "expected a JSON object, got string"),
        ("[" * 100_000, "invalid JSON"),
        (jsonl_line(signals=...), "missing field 'signals'"),
        (jsonl_line(signals={"pdq": PDQ}), "field 'signals' must be an array, got object"),
        (jsonl_line(signals=[]), "an entry needs at least one signal"),
        (jsonl_line(signals=["pdq"]), "signals[0] must be an object, got string"),
        (jsonl_line(signals=[{"type": "pdq"}]), "signals[0] is missing field 'value'"),
        (jsonl_line(signals=[{"value": PDQ}]), "signals[0] is missing field 'type'"),
        (jsonl_line(signals=[{"type": "pdq", "value": 5}]), "signals[0].value must be a string"),
        (
            jsonl_line(signals=[{"type": "pdq", "value": PDQ, "quality": "high"}]),
            "signals[0].quality must be an integer, got string",
        ),
        (
            jsonl_line(signals=[{"type": "pdq", "value": PDQ, "quality": True}]),
            "signals[0].quality must be an integer, got boolean",
        ),
        (
            jsonl_line(signals=[{"type": "md5", "value": MD5, "quality": 80}]),
            "signals[0]: md5 has no quality",
        ),
        (
            jsonl_line(signals=[{"type": "pdq", "value": PDQ, "variant": "Bad Name"}]),
            "signals[0]: invalid variant name",
        ),
        (
            jsonl_line(signals=[{"type": "video_md5", "value": MD5}]),
            "signals[0]: unsupported signal type 'video_md5'",
        ),
        (
            jsonl_line(signals=[{"type": "pdq", "value": PDQ}, {"type": "pdq", "value": PDQ2}]),
            "each (signal type, variant) at most once",
        ),
        (jsonl_line(state="deleted"), "field 'state' must be one of active, disabled, withdrawn"),
        (jsonl_line(source=3), "field 'source' must be one of manual, case, exchange, got number"),
        (jsonl_line(note=["x"]), "field 'note' must be a string, got array"),
        (jsonl_line(case_id="c" * (MAX_TEXT + 1)), "case_id must be text of at most 2000"),
    ],
)
def test_jsonl_bad_line_gives_one_problem_and_parsing_continues(line: str, expected: str) -> None:
    results = parse(f"{jsonl_line()}\n{line}\n\n{jsonl_line(state='active')}\n", JSONL)
    assert len(results) == 3
    assert expected in problem_at(results, 2)
    assert isinstance(results[2], ImportRecord)
    assert results[2].line == 4


# Detection


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("bank.txt", HASHFILE),
        ("/exports/bank.hashes", HASHFILE),
        ("BANK.CSV", CSV),
        ("C:\\exports\\bank.jsonl", JSONL),
        ("bank.ndjson", JSONL),
    ],
)
def test_detect_format_by_extension_wins(filename: str, expected: BankFileFormat) -> None:
    assert detect_format(["{not what the name says"], filename) is expected


@pytest.mark.parametrize(
    ("first_lines", "expected"),
    [
        ([f"pdq {PDQ}"], HASHFILE),
        (["\ufeff# comment", "", f"ORIGINAL pdq {PDQ}"], HASHFILE),
        ([f"pdq {PDQ} note, with a comma"], HASHFILE),
        (["signal_type,signal,note", f"pdq,{PDQ},"], CSV),
        ([f"pdq, {PDQ}"], CSV),
        ([jsonl_line()], JSONL),
        (["\ufeff" + jsonl_line()], JSONL),
        ([], HASHFILE),
    ],
)
def test_detect_format_sniffs_content(first_lines: list[str], expected: BankFileFormat) -> None:
    assert detect_format(first_lines, "upload.dat") is expected
    assert detect_format(first_lines, None) is expected


# Writing


def test_writers_skip_inactive_entries_except_jsonl_tombstones() -> None:
    variants = (Signal.of("pdq", PDQ, quality=90), Signal.of("pdq", PDQ2, "mirror", 90))
    entries = [
        make_entry((*variants, Signal.of("md5", MD5)), note="a, b"),
        make_entry((Signal.of("sha256", SHA256),), EntryState.WITHDRAWN, entry_id=2),
        make_entry((Signal.of("md5", MD5),), EntryState.DISABLED, entry_id=3),
    ]
    assert write(entries, HASHFILE) == (f"pdq {PDQ}\nmd5 {MD5}\n", 2)
    assert write(entries, CSV) == (
        f'signal_type,signal,note\r\npdq,{PDQ},"a, b"\r\nmd5,{MD5},"a, b"\r\n',
        2,
    )
    text, count = write(entries, JSONL)
    assert count == 3
    states = [json.loads(line)["state"] for line in text.splitlines()]
    assert states == ["active", "withdrawn", "disabled"]


def test_jsonl_writes_utc_timestamps_and_full_provenance() -> None:
    naive = datetime(2024, 1, 2, 3, 4, 5)
    plus_two = datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    entry = Entry(5, "ncii", (Signal.of("md5", MD5),), DEFAULT, EntryState.ACTIVE, naive, plus_two)
    (line,) = write([entry], JSONL)[0].splitlines()
    assert json.loads(line) == {
        "id": 5,
        "bank": "ncii",
        "state": "active",
        "source": "exchange",
        "submitted_by": "importer",
        "case_id": "case-7",
        "note": "",
        "created_at": "2024-01-02T03:04:05Z",
        "updated_at": "2024-01-02T03:04:05Z",
        "signals": [{"type": "md5", "value": MD5, "variant": "original", "quality": None}],
    }


def test_parse_and_write_stream_without_loading_everything() -> None:
    def endless_lines() -> Iterator[str]:
        for i in itertools.count():
            yield f"md5 {i:032x}\n"

    first = list(itertools.islice(parse_bank_file(endless_lines(), HASHFILE, DEFAULT), 3))
    assert [only_signal(r).value for r in first] == [f"{i:032x}" for i in range(3)]

    out = io.StringIO()

    def entries_checking_output() -> Iterator[Entry]:
        for i in range(50):
            assert out.getvalue().count("\n") == i  # each entry is written before the next
            yield make_entry((Signal.of("md5", f"{i:032x}"),), entry_id=i)

    assert write_bank_file(entries_checking_output(), JSONL, out) == 50


# Round trips (hypothesis)

HEX_BY_TYPE = {
    name: st.text(alphabet="0123456789abcdefABCDEF", min_size=k.hex_length, max_size=k.hex_length)
    for name, k in SIGNAL_TYPES.items()
}
VARIANTS = st.one_of(
    st.sampled_from(DIHEDRAL_VARIANTS),
    st.text(alphabet=string.ascii_lowercase + string.digits + "_-.:", min_size=1, max_size=64),
)
TEXT = st.text(max_size=60)
# Notes: any unicode (commas, quotes, CR/LF, NUL, emoji), plus notes at the length limit.
NOTES = st.text(max_size=200) | st.builds(lambda c: c * MAX_TEXT, st.characters())


@st.composite
def signals(draw: st.DrawFn) -> Signal:
    type_name = draw(st.sampled_from(sorted(SIGNAL_TYPES)))
    quality = draw(st.none() | st.integers(0, 100)) if type_name == "pdq" else None
    variant = draw(st.just(ORIGINAL) | VARIANTS)
    return Signal.of(type_name, draw(HEX_BY_TYPE[type_name]), variant, quality)


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    unique = st.lists(signals(), min_size=1, max_size=6, unique_by=lambda s: (s.type, s.variant))
    provenance = Provenance(draw(st.sampled_from(EntrySource)), draw(TEXT), draw(TEXT), draw(NOTES))
    moments = st.datetimes(timezones=st.just(UTC))
    return Entry(
        draw(st.integers(1, 2**53)),
        draw(st.from_regex(r"[a-z0-9_-]{1,64}", fullmatch=True)),
        tuple(draw(unique)),
        provenance,
        draw(st.sampled_from(EntryState)),
        draw(moments),
        draw(moments),
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(entries(), max_size=5))
def test_jsonl_round_trip_is_lossless(items: list[Entry]) -> None:
    text, count = write(items, JSONL)
    results = records(parse(text, JSONL, Provenance()))
    assert count == len(items) == len(results)
    for item, result in zip(items, results, strict=True):
        assert result.entry == NewEntry(item.signals, item.provenance, state=item.state)
        assert result.state is item.state


def carried(items: list[Entry]) -> list[tuple[Signal, str]]:
    """What hash files and CSV carry: active entries' original signals and their notes."""
    return [
        (signal, item.provenance.note)
        for item in items
        if item.state is EntryState.ACTIVE
        for signal in item.signals
        if signal.variant == ORIGINAL
    ]


@settings(max_examples=100, deadline=None)
@given(st.lists(entries(), max_size=5))
def test_csv_round_trip_keeps_signals_and_notes(items: list[Entry]) -> None:
    text, count = write(items, CSV)
    results = records(parse(text, CSV, Provenance()))
    parsed = [(r.entry.signals[0], r.entry.provenance.note) for r in results]
    expected = [(Signal(s.type, s.value), note) for s, note in carried(items)]
    assert count == len(parsed)
    assert parsed == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(entries(), max_size=5))
def test_hashfile_round_trip_keeps_signals(items: list[Entry]) -> None:
    text, count = write(items, HASHFILE)
    results = records(parse(text, HASHFILE, DEFAULT))
    expected = [Signal(s.type, s.value) for s, _ in carried(items)]
    assert count == len(results)
    assert [r.entry.signals[0] for r in results] == expected
    assert all(r.entry.provenance == DEFAULT for r in results)
    assert detect_format(text.splitlines()[:5], None) is HASHFILE
