"""Request and response bodies of the native API (pydantic; the OpenAPI contract)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Hex = str


class SignalSet(BaseModel):
    """Signals to look up; give at least one."""

    model_config = ConfigDict(extra="forbid")

    pdq: Hex | None = Field(default=None, description="64 hex digits", max_length=64)
    md5: Hex | None = Field(default=None, description="32 hex digits", max_length=32)
    sha256: Hex | None = Field(default=None, description="64 hex digits", max_length=64)

    def values(self) -> dict[str, object]:
        """The signals that were given."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class BatchLookup(BaseModel):
    """Up to 1,000 signal sets matched in one request."""

    model_config = ConfigDict(extra="forbid")

    items: list[SignalSet] = Field(max_length=1000)


class MatchOut(BaseModel):
    """One match; distance and entry id only for keys allowed to see details."""

    bank: str
    signal_type: str
    entry_id: int | None = None
    distance: int | None = None
    variant: str | None = None


class LookupOut(BaseModel):
    """A lookup's answer, sorted by verdict then distance."""

    verdict: Literal["block", "review", "allow"]
    matches: list[MatchOut]
    signals: dict[str, Any] | None = None
    errors: list[str] = Field(default_factory=list)


class BatchLookupOut(BaseModel):
    """One answer per signal set, in order."""

    results: list[LookupOut]
