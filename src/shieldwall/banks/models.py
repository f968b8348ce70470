"""Bank and entry dataclasses and enums. No I/O here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

from shieldwall.errors import InvalidInputError
from shieldwall.signals.models import ORIGINAL, Signal

MAX_PDQ_THRESHOLD: Final = 63
DEFAULT_PDQ_THRESHOLD: Final = 31
MAX_BANK_NAME: Final = 255
"""As long as HMA's (ROOST Coop names its banks `COOP_<ORG>_<NAME>`)."""
# A leading letter or digit: a name like `-lead` reads as an option to the CLI and to scripts.
_BANK_NAME = re.compile(rf"^[a-z0-9][a-z0-9_-]{{0,{MAX_BANK_NAME - 1}}}$")
MAX_TEXT: Final = 2000
MAX_METADATA: Final = 16_000
"""Characters of a submitter's metadata (JSON text) kept with an entry."""


class MatchAction(StrEnum):
    """What a match against a bank asks for."""

    BLOCK = "block"
    REVIEW = "review"
    ALLOW = "allow"


class EntryState(StrEnum):
    """Life cycle of an entry; only active entries in enabled banks match."""

    ACTIVE = "active"
    DISABLED = "disabled"
    WITHDRAWN = "withdrawn"


class EntrySource(StrEnum):
    """Where an entry came from."""

    MANUAL = "manual"
    CASE = "case"
    EXCHANGE = "exchange"


def parse_entry_state(value: EntryState | str) -> EntryState:
    """An EntryState from its value, or InvalidInputError naming the known states."""
    try:
        return EntryState(value)
    except ValueError:
        known = ", ".join(state.value for state in EntryState)
        raise InvalidInputError(f"unknown entry state {value!r} (known: {known})") from None


def validate_bank_name(name: str) -> str:
    """Bank names: 1-255 lowercase letters, digits, '-' or '_', starting with a letter or digit."""
    if not isinstance(name, str) or not _BANK_NAME.fullmatch(name):
        raise InvalidInputError(
            f"invalid bank name {name!r}: use 1-{MAX_BANK_NAME} lowercase letters, digits, "
            "'-' or '_', starting with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class BankPolicy:
    """Per-bank matching policy."""

    pdq_threshold: int = DEFAULT_PDQ_THRESHOLD
    action: MatchAction = MatchAction.BLOCK
    allow_list_banks: tuple[str, ...] = ()
    matching_ratio: float = 1.0
    """HMA's `enabled_ratio`: the share of HMA lookups (`/m/lookup`) that search this bank
    while it is enabled (each lookup draws once; its `seed` makes the draw repeatable)."""
    second_stage: bool = True
    """Whether lookups may match this bank through the second stage (panels split at
    gutters, keystone undone, crops found by an aligned search); off: only exact digests,
    the whole image with its rotations and mirrors, and stage-one views and region variants."""

    def __post_init__(self) -> None:
        if not isinstance(self.second_stage, bool):
            raise InvalidInputError(
                f"second stage must be true or false, got {self.second_stage!r}"
            )
        ratio = self.matching_ratio
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 <= ratio <= 1:
            raise InvalidInputError(f"matching ratio must be 0.0-1.0, got {ratio!r}")
        object.__setattr__(self, "matching_ratio", float(ratio))
        if not isinstance(self.pdq_threshold, int) or not (
            0 <= self.pdq_threshold <= MAX_PDQ_THRESHOLD
        ):
            raise InvalidInputError(
                f"pdq threshold must be 0-{MAX_PDQ_THRESHOLD}, got {self.pdq_threshold!r}"
            )
        object.__setattr__(self, "action", MatchAction(self.action))
        for name in self.allow_list_banks:
            validate_bank_name(name)


@dataclass(frozen=True)
class Bank:
    """A named set of entries."""

    id: int
    name: str
    enabled: bool
    policy: BankPolicy
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Provenance:
    """Where an entry came from and who vouched for it."""

    source: EntrySource = EntrySource.MANUAL
    submitted_by: str = ""
    case_id: str = ""
    note: str = ""
    metadata: str = ""
    """The submitter's own metadata about the content as JSON text ("" if none), kept as
    given and never exported (HMA's `content_id`, `content_uri`, `json`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", EntrySource(self.source))
        for label in ("submitted_by", "case_id", "note"):
            value = getattr(self, label)
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise InvalidInputError(f"{label} must be text of at most {MAX_TEXT} characters")
        if not isinstance(self.metadata, str) or len(self.metadata) > MAX_METADATA:
            raise InvalidInputError(f"metadata must be text of at most {MAX_METADATA} characters")


@dataclass(frozen=True)
class NewEntry:
    """An entry to add: its signals and provenance."""

    signals: tuple[Signal, ...]
    provenance: Provenance = field(default_factory=Provenance)
    # Imports of native files may carry disabled or withdrawn entries (tombstones); they are
    # stored in that state from the start, never briefly active.
    state: EntryState = EntryState.ACTIVE
    replaces: int | None = None
    """The withdrawn entry of the same content this one follows (HMA's delete, then add
    again): the new entry gets its own identity, and the withdrawal stays final."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", EntryState(self.state))
        if not self.signals:
            raise InvalidInputError("an entry needs at least one signal")
        seen = {(s.type, s.variant) for s in self.signals}
        if len(seen) != len(self.signals):
            raise InvalidInputError("an entry holds each (signal type, variant) at most once")

    @property
    def dedupe_key(self) -> str:
        """Identity within a bank: the SHA-256 of the content if known, else the first signal.

        Adding the same content or hash to a bank twice returns the existing entry, which
        also makes interrupted imports safe to re-run.
        """
        originals = [s for s in self.signals if s.variant == ORIGINAL] or list(self.signals)
        key = next(
            (f"sha256:{s.value}" for s in originals if s.type == "sha256"),
            f"{originals[0].type}:{originals[0].value}",
        )
        return key if self.replaces is None else f"{key}#after:{self.replaces}"


@dataclass(frozen=True)
class Entry:
    """A stored entry."""

    id: int
    bank: str
    signals: tuple[Signal, ...]
    provenance: Provenance
    state: EntryState
    created_at: datetime
    updated_at: datetime

    def signal(self, type_name: str, variant: str = ORIGINAL) -> Signal | None:
        """This entry's signal of a type and variant, if it has one."""
        for signal in self.signals:
            if signal.type == type_name and signal.variant == variant:
                return signal
        return None


@dataclass(frozen=True)
class AddedEntry:
    """Result of adding one entry: its id and whether it was new or already in the bank."""

    entry_id: int
    created: bool
    state: EntryState


class IndexRow(NamedTuple):
    """One matchable signal, as the matcher loads it from storage.

    A named tuple: a million of them pass through an index load, batch by batch, and a
    tuple is made from a database row several times faster than a frozen dataclass.
    """

    entry_id: int
    bank_id: int
    signal_type: str
    value: str
    variant: str


class ChangeKind(StrEnum):
    """What a change-log row records (matcher processes tail the log to stay current)."""

    ENTRY_ADDED = "entry_added"
    ENTRY_STATE = "entry_state"
    BANK_CREATED = "bank_created"
    BANK_CHANGED = "bank_changed"
    BANK_DELETED = "bank_deleted"


@dataclass(frozen=True)
class EntryChange:
    """One row of the change log: a change to an entry or a bank, in commit-ish order.

    `seq` grows with every change; on PostgreSQL a lower seq may become visible after a
    higher one (its transaction committed later), so readers must look back for gaps.
    """

    seq: int
    kind: ChangeKind
    bank_id: int
    entry_id: int | None
    at: datetime


@dataclass(frozen=True)
class PdqColumns:
    """The PDQ signals of some entries as columns, in one order (an index load's batch).

    `hashes` is (n, 32) bytes; `variants` names each row's variant by its position in
    `variant_names`. Loading a million hashes this way makes no Python object per hash.
    """

    entry_ids: npt.NDArray[np.int64]
    bank_ids: npt.NDArray[np.int64]
    hashes: npt.NDArray[np.uint8]
    variant_names: tuple[str, ...]
    variants: npt.NDArray[np.intp]

    def __len__(self) -> int:
        return len(self.entry_ids)


@dataclass(frozen=True)
class IndexBatch:
    """What an index load reads at a time: PDQ signals as columns, the others as rows."""

    pdq: PdqColumns
    others: list[IndexRow]


def pdq_columns_of(rows: Sequence[IndexRow]) -> PdqColumns:
    """The PDQ rows among `rows` as columns (adapters without a columnar read, tests)."""
    pdq = [row for row in rows if row.signal_type == "pdq"]
    names = tuple(sorted({row.variant for row in pdq}))
    position = {name: at for at, name in enumerate(names)}
    joined = bytes.fromhex("".join(row.value for row in pdq))
    return PdqColumns(
        np.array([row.entry_id for row in pdq], dtype=np.int64),
        np.array([row.bank_id for row in pdq], dtype=np.int64),
        np.frombuffer(joined, dtype=np.uint8).reshape(-1, 32).copy(),
        names,
        np.array([position[row.variant] for row in pdq], dtype=np.intp),
    )
