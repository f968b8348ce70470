"""The API's shapes of known copies (sweeps): what a platform sees of a copy its lookup
screened, and the outcome it reports."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shieldwall.review.sweeps import SweepHit

Reported = Literal["removed", "not_found", "kept"]


class CopyOut(BaseModel):
    """A copy of confirmed content that one of your lookups screened."""

    id: int
    content_ref: str
    """Your own id or URL of the upload, as your lookup gave it ("" if it gave none)."""
    screened_at: datetime
    matched_by: Literal["pdq", "md5", "sha256"]
    distance: int | None
    """PDQ bits apart (an edited copy); null for a byte-identical one."""
    outcome: Literal["pending", "removed", "not_found", "kept", "withdrawn"]
    """`withdrawn`: the confirmation was reversed after a complaint; nothing to remove."""
    outcome_at: datetime | None

    @classmethod
    def of(cls, hit: SweepHit) -> CopyOut:
        """The copy as its platform sees it."""
        return cls.model_validate(
            {
                "id": hit.id,
                "content_ref": hit.hit.content_ref,
                "screened_at": hit.hit.screened_at,
                "matched_by": hit.hit.matched_by,
                "distance": hit.hit.distance,
                "outcome": hit.outcome.value,
                "outcome_at": hit.outcome_at,
            }
        )


class CopiesOut(BaseModel):
    """Copies of confirmed content your lookups screened, oldest first."""

    copies: list[CopyOut]


class OutcomeIn(BaseModel):
    """What you did with the copy."""

    model_config = ConfigDict(extra="forbid")

    outcome: Reported
