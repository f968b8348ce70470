"""Bank import/export file formats: HMA/ThreatExchange hash files, CSV and native JSONL.

Pure and streaming: parsers take lines (as file iteration yields them) and yield one result
per data line; writers take an open text stream. No database, no filesystem access here.
"""

from __future__ import annotations

import csv
import json
import string
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import PurePath
from typing import Any, Final, TextIO, TypeVar

from shieldwall.banks.models import Entry, EntrySource, EntryState, NewEntry, Provenance
from shieldwall.errors import InvalidFormatError, InvalidInputError, InvalidSignalError
from shieldwall.signals.models import ORIGINAL, SIGNAL_TYPES, Signal


class BankFileFormat(StrEnum):
    """Formats a bank can be imported from and exported to."""

    HASHFILE = "hashfile"
    CSV = "csv"
    JSONL = "jsonl"


@dataclass(frozen=True)
class ImportRecord:
    """One parsed entry, its state and the line (1-based, where its record starts) it is from."""

    line: int
    entry: NewEntry
    state: EntryState = EntryState.ACTIVE


@dataclass(frozen=True)
class ImportProblem:
    """One malformed line: where it is and what is wrong with it."""

    line: int
    message: str


ImportResult = ImportRecord | ImportProblem
"""What parse_bank_file yields for each data line."""
_E = TypeVar("_E", EntryState, EntrySource)

_BY_EXTENSION: Final = {
    ".txt": BankFileFormat.HASHFILE,
    ".hashes": BankFileFormat.HASHFILE,
    ".csv": BankFileFormat.CSV,
    ".jsonl": BankFileFormat.JSONL,
    ".ndjson": BankFileFormat.JSONL,
}
# `threatexchange hash --photo-preprocess=rotations` prefixes each line with the name of the
# transform (content_type.RotationType). FLIPX is PIL's FLIP_TOP_BOTTOM and FLIPY its
# FLIP_LEFT_RIGHT (the mirror image), as threatexchange's PhotoContent.flip_x/flip_y do.
_TE_ROTATIONS: Final = {
    "ORIGINAL": ORIGINAL,
    "ROTATE90": "rotate90",
    "ROTATE180": "rotate180",
    "ROTATE270": "rotate270",
    "FLIPX": "flip",
    "FLIPY": "mirror",
    "FLIPPLUS1": "transpose",
    "FLIPMINUS1": "transverse",
}
_CSV_HEADER: Final = ("signal_type", "signal", "note")
_CSV_TYPE_COLUMNS: Final = ("signal_type", "type")
_CSV_VALUE_COLUMNS: Final = ("signal", "signal_str", "value", "hash")
_CSV_NOTE_COLUMNS: Final = ("note", "notes")
_HEX: Final = frozenset(string.hexdigits)
_TEXT_FIELDS: Final = ("submitted_by", "case_id", "note")
_SHOWN: Final = 40  # how much of an unrecognised token a message repeats


def detect_format(first_lines: Sequence[str], filename: str | None = None) -> BankFileFormat:
    """The format of a bank file: by extension if it has a known one, else by its content."""
    if filename:
        by_extension = _BY_EXTENSION.get(PurePath(filename).suffix.lower())
        if by_extension is not None:
            return by_extension
    for line in _without_bom(first_lines):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith("{"):
            return BankFileFormat.JSONL
        tokens = text.split()
        if len(tokens) >= 2 and "," not in tokens[0] and any(map(_is_hex, tokens[1:3])):
            return BankFileFormat.HASHFILE
        return BankFileFormat.CSV if "," in text else BankFileFormat.HASHFILE
    return BankFileFormat.HASHFILE


def parse_bank_file(
    lines: Iterable[str], fmt: BankFileFormat | str, default_provenance: Provenance
) -> Iterator[ImportResult]:
    """Parse a bank file lazily: an ImportRecord or an ImportProblem per data line.

    Blank lines are skipped everywhere, '#' comment lines in hash files. A UTF-8 BOM and
    CRLF line endings are accepted. For CSV pass lines with their endings (open the file
    with newline='') so that quoted notes keep their line breaks.
    """
    fmt = BankFileFormat(fmt)
    if fmt is BankFileFormat.CSV:
        yield from _parse_csv(lines, default_provenance)
        return
    parse_line = _hashfile_record if fmt is BankFileFormat.HASHFILE else _jsonl_record
    for number, line in enumerate(_without_bom(lines), start=1):
        text = line.strip()
        if not text or (fmt is BankFileFormat.HASHFILE and text.startswith("#")):
            continue
        try:
            yield parse_line(number, text, default_provenance)
        except InvalidInputError as exc:
            yield ImportProblem(number, str(exc))


def write_bank_file(entries: Iterable[Entry], fmt: BankFileFormat | str, out: TextIO) -> int:
    """Write entries to `out` in `fmt`, streaming; returns the number of records written.

    JSONL writes every entry with all its signals, provenance, state and timestamps, so
    withdrawn and disabled entries travel as tombstones. Hash files (`<type> <hex>` lines,
    readable by threatexchange's file exchange) and CSV (header, then
    `signal_type,signal,note` rows; open `out` with newline='') skip entries that are not
    active and write one record per original-variant signal; hash files carry no notes.
    """
    fmt = BankFileFormat(fmt)
    if fmt is BankFileFormat.JSONL:
        count = 0
        for entry in entries:
            out.write(json.dumps(_entry_json(entry), separators=(",", ":")) + "\n")
            count += 1
        return count
    writer = csv.writer(out, lineterminator="\r\n") if fmt is BankFileFormat.CSV else None
    if writer is not None:
        writer.writerow(_CSV_HEADER)
    count = 0
    for entry in entries:
        if entry.state is not EntryState.ACTIVE:
            continue
        for signal in entry.signals:
            if signal.variant != ORIGINAL:
                continue
            if writer is not None:
                writer.writerow((signal.type, signal.value, entry.provenance.note))
            else:
                out.write(f"{signal.type} {signal.value}\n")
            count += 1
    return count


# Shared


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    iterator = iter(lines)
    first = next(iterator, None)
    if first is None:
        return
    yield first.removeprefix("\ufeff")
    yield from iterator


def _is_hex(token: str) -> bool:
    return bool(token) and _HEX.issuperset(token)


def _make_signal(
    type_name: str, value: str, variant: str = ORIGINAL, quality: int | None = None
) -> Signal:
    """A validated signal; messages name the problem without repeating the hash."""
    kind = SIGNAL_TYPES.get(type_name.strip().lower())
    if kind is None:
        supported = ", ".join(SIGNAL_TYPES)
        raise InvalidSignalError(
            f"unsupported signal type {type_name[:_SHOWN]!r} (supported: {supported})"
        )
    digits = value.strip()
    if len(digits) != kind.hex_length:
        raise InvalidSignalError(
            f"{kind.name} hash must be {kind.hex_length} hex digits, got {len(digits)} characters"
        )
    if not _is_hex(digits):
        raise InvalidSignalError(f"{kind.name} hash contains characters that are not hex digits")
    return Signal.of(kind.name, digits, variant, quality)


def _with_note(default: Provenance, note: str) -> Provenance:
    return replace(default, note=note) if note else default


# Hash files


def _split_first(text: str) -> tuple[str, str]:
    parts = text.split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) == 2 else ""


def _hashfile_record(number: int, text: str, default: Provenance) -> ImportRecord:
    """`[ROTATION] <signal_type> <hex> [trailing text]`; trailing text becomes the note."""
    first, rest = _split_first(text)
    variant = ORIGINAL
    if first.upper() in _TE_ROTATIONS and rest:
        variant = _TE_ROTATIONS[first.upper()]
        first, rest = _split_first(rest)
    value, note = _split_first(rest)
    if not value and _is_hex(first):
        raise InvalidFormatError(
            "missing signal type: write '<signal_type> <hash>', e.g. 'pdq <hash>'"
        )
    if first.lower() in SIGNAL_TYPES and not value:
        raise InvalidFormatError(f"missing hash after signal type {first!r}")
    signal = _make_signal(first, value, variant)
    if note.startswith("#"):
        note = note.lstrip("#").strip()
    return ImportRecord(number, NewEntry((signal,), _with_note(default, note)))


# CSV


def _csv_lines(lines: Iterable[str]) -> Iterator[str]:
    """Lines for csv.reader: without a BOM and each ending in a line break."""
    for line in _without_bom(lines):
        yield line if line.endswith(("\n", "\r")) else line + "\n"


@dataclass(frozen=True)
class _Columns:
    """Where a CSV file keeps the signal type, the signal and the note, and how wide rows are."""

    type_at: int = 0
    value_at: int = 1
    note_at: int | None = 2
    width: int = len(_CSV_HEADER)


def _csv_header(row: list[str]) -> _Columns | None:
    """The columns a header row names, or None if `row` is not a header."""
    names = [cell.strip().lower() for cell in row]

    def position(candidates: tuple[str, ...]) -> int | None:
        return next((i for i, name in enumerate(names) if name in candidates), None)

    type_at, value_at = position(_CSV_TYPE_COLUMNS), position(_CSV_VALUE_COLUMNS)
    if type_at is None or value_at is None:
        return None
    return _Columns(type_at, value_at, position(_CSV_NOTE_COLUMNS), len(row))


def _parse_csv(lines: Iterable[str], default: Provenance) -> Iterator[ImportResult]:
    reader = csv.reader(_csv_lines(lines))
    columns: _Columns | None = None
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield ImportProblem(start, f"invalid CSV: {exc}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if columns is None:
            columns = _csv_header(row)
            if columns is not None:
                continue
            columns = _Columns()
        try:
            yield _csv_record(start, row, columns, default)
        except InvalidInputError as exc:
            yield ImportProblem(start, str(exc))


def _csv_record(
    number: int, row: list[str], columns: _Columns, default: Provenance
) -> ImportRecord:
    needed = max(columns.type_at, columns.value_at) + 1
    if len(row) < needed:
        raise InvalidFormatError(f"expected signal_type,signal[,note], got {len(row)} field(s)")
    if len(row) > columns.width:
        raise InvalidFormatError(
            f"expected at most {columns.width} fields, got {len(row)}: "
            "quote notes that contain commas"
        )
    note_at = columns.note_at
    note = row[note_at] if note_at is not None and note_at < len(row) else ""
    signal = _make_signal(row[columns.type_at], row[columns.value_at])
    return ImportRecord(number, NewEntry((signal,), _with_note(default, note)))


# JSONL


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _jsonl_record(number: int, text: str, default: Provenance) -> ImportRecord:
    try:
        data = json.loads(text)
    except RecursionError:
        raise InvalidFormatError("invalid JSON: nested too deeply") from None
    except ValueError as exc:
        raise InvalidFormatError(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidFormatError(f"expected a JSON object, got {_json_type(data)}")
    state = _enum_field(data, "state", EntryState, EntryState.ACTIVE)
    source = _enum_field(data, "source", EntrySource, default.source)
    texts = {label: _text_field(data, label, getattr(default, label)) for label in _TEXT_FIELDS}
    provenance = Provenance(source, texts["submitted_by"], texts["case_id"], texts["note"])
    entry = NewEntry(_jsonl_signals(data.get("signals")), provenance, state=state)
    return ImportRecord(number, entry, state)


def _enum_field(data: dict[str, Any], key: str, kind: type[_E], default: _E) -> _E:
    value = data.get(key)
    if value is None:
        return default
    allowed = [member.value for member in kind]
    if not isinstance(value, str) or value not in allowed:
        shown = repr(value[:_SHOWN]) if isinstance(value, str) else _json_type(value)
        raise InvalidFormatError(f"field {key!r} must be one of {', '.join(allowed)}, got {shown}")
    return kind(value)


def _text_field(data: dict[str, Any], key: str, default: str) -> str:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidFormatError(f"field {key!r} must be a string, got {_json_type(value)}")
    return value


def _jsonl_signals(raw: object) -> tuple[Signal, ...]:
    if raw is None:
        raise InvalidFormatError("missing field 'signals'")
    if not isinstance(raw, list):
        raise InvalidFormatError(f"field 'signals' must be an array, got {_json_type(raw)}")
    return tuple(_jsonl_signal(f"signals[{i}]", item) for i, item in enumerate(raw))


def _jsonl_signal(where: str, item: object) -> Signal:
    if not isinstance(item, dict):
        raise InvalidFormatError(f"{where} must be an object, got {_json_type(item)}")
    for key in ("type", "value"):
        if item.get(key) is None:
            raise InvalidFormatError(f"{where} is missing field {key!r}")
    variant = ORIGINAL if item.get("variant") is None else item["variant"]
    quality = item.get("quality")
    for key, value in (("type", item["type"]), ("value", item["value"]), ("variant", variant)):
        if not isinstance(value, str):
            raise InvalidFormatError(f"{where}.{key} must be a string, got {_json_type(value)}")
    if quality is not None and (isinstance(quality, bool) or not isinstance(quality, int)):
        raise InvalidFormatError(f"{where}.quality must be an integer, got {_json_type(quality)}")
    try:
        return _make_signal(item["type"], item["value"], variant, quality)
    except InvalidInputError as exc:
        raise InvalidFormatError(f"{where}: {exc}") from None


def _iso_utc(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _entry_json(entry: Entry) -> dict[str, Any]:
    provenance = entry.provenance
    return {
        "id": entry.id,
        "bank": entry.bank,
        "state": entry.state.value,
        "source": provenance.source.value,
        "submitted_by": provenance.submitted_by,
        "case_id": provenance.case_id,
        "note": provenance.note,
        "created_at": _iso_utc(entry.created_at),
        "updated_at": _iso_utc(entry.updated_at),
        "signals": [
            {"type": s.type, "value": s.value, "variant": s.variant, "quality": s.quality}
            for s in entry.signals
        ],
    }
