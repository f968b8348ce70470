"""Bodies of the bank, entry and key endpoints (pydantic; the OpenAPI contract)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shieldwall.access.models import ApiKey, Role
from shieldwall.banks.models import Bank, Entry, EntrySource, EntryState, MatchAction
from shieldwall.web.domain_types import SignalTypeName

SECOND_STAGE = (
    "whether lookups may match this bank through the second stage (panels split at gutters, "
    "keystone undone, crops found by an aligned search); false: only exact digests, the whole "
    "image with its rotations and mirrors, and stage-one views and region variants"
)
BankName = Field(pattern=r"^[a-z0-9_-]{1,255}$", description="lowercase letters, digits, - and _")


class BankCreate(BaseModel):
    """A new bank and its policy."""

    model_config = ConfigDict(extra="forbid")

    name: str = BankName
    pdq_threshold: int = Field(default=31, ge=0, le=63)
    action: MatchAction = MatchAction.BLOCK
    allow_list_banks: list[str] = Field(default_factory=list, max_length=100)
    second_stage: bool = Field(default=True, strict=True, description=SECOND_STAGE)


class BankUpdate(BaseModel):
    """Changes to a bank; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,255}$")
    enabled: bool | None = None
    pdq_threshold: int | None = Field(default=None, ge=0, le=63)
    action: MatchAction | None = None
    allow_list_banks: list[str] | None = Field(default=None, max_length=100)
    second_stage: bool | None = Field(default=None, strict=True, description=SECOND_STAGE)


class BankOut(BaseModel):
    """A bank with its policy and entry counts."""

    name: str
    enabled: bool
    pdq_threshold: int
    action: MatchAction
    allow_list_banks: list[str]
    second_stage: bool = Field(description=SECOND_STAGE)
    created_at: datetime
    updated_at: datetime
    entries: dict[str, int] = Field(default_factory=dict)

    @classmethod
    def of(cls, bank: Bank, counts: dict[EntryState, int] | None = None) -> BankOut:
        """From the domain object."""
        return cls(
            name=bank.name,
            enabled=bank.enabled,
            pdq_threshold=bank.policy.pdq_threshold,
            action=bank.policy.action,
            allow_list_banks=list(bank.policy.allow_list_banks),
            second_stage=bank.policy.second_stage,
            created_at=bank.created_at,
            updated_at=bank.updated_at,
            entries={s.value: (counts or {}).get(s, 0) for s in EntryState} if counts else {},
        )


class SignalIn(BaseModel):
    """One signal of an entry to add."""

    model_config = ConfigDict(extra="forbid")

    type: SignalTypeName
    value: str = Field(max_length=64)
    variant: str = Field(default="original", max_length=64)
    quality: int | None = Field(default=None, ge=0, le=100)


class EntryIn(BaseModel):
    """An entry to add: signals and provenance."""

    model_config = ConfigDict(extra="forbid")

    signals: list[SignalIn] = Field(min_length=1, max_length=64)
    source: EntrySource = EntrySource.MANUAL
    submitted_by: str = Field(default="", max_length=2000)
    case_id: str = Field(default="", max_length=2000)
    note: str = Field(default="", max_length=2000)


class EntriesIn(BaseModel):
    """Up to 10,000 entries added in one transaction."""

    model_config = ConfigDict(extra="forbid")

    entries: list[EntryIn] = Field(min_length=1, max_length=10_000)


class AddedOut(BaseModel):
    """Result of adding one entry (created=false: it was already in the bank)."""

    entry_id: int
    created: bool
    state: str
    filename: str | None = None
    signals: dict[str, object] | None = None
    error: str | None = None


class AddedListOut(BaseModel):
    """Results in input order."""

    results: list[AddedOut]


class SignalOut(BaseModel):
    """A stored signal."""

    type: SignalTypeName
    value: str
    variant: str
    quality: int | None


class EntryOut(BaseModel):
    """A stored entry."""

    id: int
    bank: str
    state: EntryState
    signals: list[SignalOut]
    source: EntrySource
    submitted_by: str
    case_id: str
    note: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, entry: Entry) -> EntryOut:
        """From the domain object."""
        return cls(
            id=entry.id,
            bank=entry.bank,
            state=entry.state,
            signals=[
                SignalOut(type=s.type, value=s.value, variant=s.variant, quality=s.quality)
                for s in entry.signals
            ],
            source=entry.provenance.source,
            submitted_by=entry.provenance.submitted_by,
            case_id=entry.provenance.case_id,
            note=entry.provenance.note,
            created_at=entry.created_at,
            updated_at=entry.updated_at,
        )


class EntryPage(BaseModel):
    """One page of entries; pass `next_cursor` as `after` for the next page."""

    entries: list[EntryOut]
    next_cursor: int | None


class ImportOut(BaseModel):
    """What an import did."""

    format: str
    added: int
    existing: int
    problems: list[dict[str, object]]


class KeyCreate(BaseModel):
    """A new API key."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    role: Role
    see_details: bool = False


class KeyOut(BaseModel):
    """An API key's record (never its secret)."""

    id: int
    name: str
    role: Role
    see_details: bool
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyOut:
        """From the domain object."""
        return cls(
            id=key.id,
            name=key.name,
            role=key.role,
            see_details=key.see_details,
            prefix=key.prefix,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


class KeyCreated(KeyOut):
    """A new key with its token: shown once, never again."""

    token: str
