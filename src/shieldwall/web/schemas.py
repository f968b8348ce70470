"""Request and response bodies of the native API (pydantic; the OpenAPI contract)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from shieldwall.banks.models import MatchAction
from shieldwall.review.models import MAX_CONTENT_REF
from shieldwall.web.domain_types import SignalTypeName, signal_values_model
from shieldwall.web.review_schemas import ItemRef

if TYPE_CHECKING:
    _SignalValues = BaseModel
else:  # one optional hex field per registered signal type (pdq, md5, sha256, ...)
    _SignalValues = signal_values_model("_SignalValues")


class SignalSet(_SignalValues):
    """Signals to look up, by signal type; give at least one."""

    model_config = ConfigDict(extra="forbid")

    def values(self) -> dict[str, object]:
        """The signals that were given."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class SignalLookup(SignalSet):
    """Signals to look up; `queue: true` asks for a review item when the verdict is
    `review` (`content_ref` is your own id or URL of the upload)."""

    queue: bool = False
    content_ref: str | None = Field(default=None, max_length=MAX_CONTENT_REF)

    def values(self) -> dict[str, object]:
        """The signals that were given (not the queueing fields)."""
        given = self.model_dump(exclude={"queue", "content_ref"})
        return {k: v for k, v in given.items() if v is not None}


class BatchLookup(BaseModel):
    """Up to 1,000 signal sets matched in one request."""

    model_config = ConfigDict(extra="forbid")

    items: list[SignalSet] = Field(max_length=1000)


class MatchOut(BaseModel):
    """One match; distance and entry id only for keys allowed to see details."""

    bank: str
    signal_type: SignalTypeName
    entry_id: int | None = None
    distance: int | None = None
    variant: str | None = None


class DetectionOut(BaseModel):
    """What likeness protection's detectors made of the content (`detect=true`). Every key
    sees `needs_review` and `complete`; keys that may see details also see the scores, how
    many faces, whether one is an enrolled person's, the signs of generation and the steps'
    times. No key ever sees which enrolment, or any similarity."""

    needs_review: bool = Field(
        description="Explicit and seems to show an enrolled person: a review item is open"
        " (`review_item`) and the verdict is `review`; never a block by itself"
    )
    complete: bool = Field(
        description="false when a detector this server lacks stopped the checks early"
    )
    stop: str | None = None
    nudity: float | None = None
    faces: int | None = None
    enrolled_face: bool | None = None
    provenance: list[dict[str, str]] | None = None
    unavailable: str | None = None
    ms: dict[str, float] | None = None


class LookupOut(BaseModel):
    """A lookup's answer, sorted by verdict then distance."""

    verdict: MatchAction
    matches: list[MatchOut]
    signals: dict[str, Any] | None = None
    errors: list[str] = Field(default_factory=list)
    review_item: ItemRef | None = None
    """The review item opened (or found waiting) when the lookup asked to be queued, or
    when the detectors asked for a review."""
    detection: DetectionOut | None = None
    """The detectors' findings, when the lookup asked for them (`detect=true`)."""


class BatchLookupOut(BaseModel):
    """One answer per signal set, in order."""

    results: list[LookupOut]
