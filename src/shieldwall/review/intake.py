"""What opens review items: a platform's lookup that answered `review` and asked to queue
it, and a filed case. No I/O here: the service stores what these build."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shieldwall.banks.models import MatchAction
from shieldwall.cascade.service import Findings
from shieldwall.cases.models import Case
from shieldwall.matching.models import Match
from shieldwall.review.models import (
    DetectorFindings,
    EnrolledLikeness,
    ItemMatch,
    ItemSource,
    NewItem,
    ReviewPolicy,
)
from shieldwall.screening.models import ScreeningResult
from shieldwall.signals.models import ORIGINAL, Signal


def review_matches(result: ScreeningResult) -> list[Match]:
    """The matches that asked for a review (entries of `review` banks)."""
    return [m for m in result.matches if m.action is MatchAction.REVIEW]


def content_identity(signals: Sequence[Signal]) -> str:
    """What identifies a content among lookups: its SHA-256, else MD5, else its PDQ hash."""
    originals = [s for s in signals if s.variant == ORIGINAL]
    for kind in ("sha256", "md5", "pdq"):
        found = next((s for s in originals if s.type == kind), None)
        if found is not None:
            return f"{kind}:{found.value}"
    return f"{signals[0].type}:{signals[0].value}" if signals else ""


def platform_item(
    found: Sequence[Match],
    signals: Sequence[Signal],
    *,
    content_ref: str,
    key_id: int | None,
    content_address: str,
    case: Case | None,
    now: datetime,
    policy: ReviewPolicy,
) -> NewItem:
    """The item a platform's queued lookup opens for its `review` matches, linked to the
    first case whose hashes it matched (its minor flag and its 48-hour clock come with it)."""
    identity = content_identity(signals)
    return NewItem(
        source=ItemSource.PLATFORM,
        opened_at=now,
        deadline=case.deadline if case is not None else now + policy.deadline,
        minor=case.report.depicted_minor if case is not None else False,
        trusted_flagger=bool(case.report.flagger) if case is not None else False,
        case_number=case.number if case is not None else "",
        content_ref=content_ref,
        opened_by_key=key_id,
        content_address=content_address,
        signals=tuple(s for s in signals if s.variant == ORIGINAL),
        matches=tuple(
            ItemMatch(m.bank, m.entry_id, m.signal_type, m.distance, m.variant) for m in found
        ),
        # One waiting item per content and caller: the same upload queued twice (a retry,
        # a re-upload) is one review.
        dedupe_key=f"platform:{key_id}:{identity}" if identity else "",
    )


def case_item(case: Case) -> NewItem:
    """The item a filed case opens: the report is reviewed, never the victim's images."""
    return NewItem(
        source=ItemSource.CASE,
        opened_at=case.received_at,
        deadline=case.deadline,
        minor=case.report.depicted_minor,
        trusted_flagger=bool(case.report.flagger),
        case_number=case.number,
        signals=tuple(signal for item in case.report.hashes for signal in item),
        dedupe_key=f"case:{case.number}",
    )


def likeness_item(
    findings: DetectorFindings,
    signals: Sequence[Signal],
    *,
    content_ref: str,
    key_id: int | None,
    content_address: str,
    minor: bool,
    now: datetime,
    policy: ReviewPolicy,
) -> NewItem:
    """The item explicit content showing an enrolled person opens ("possible new explicit
    image of an enrolled person"): the detectors' findings and the enrolment numbers, never
    a name; a guardian's enrolment (a child) puts it first in the queue."""
    identity = content_identity(signals)
    return NewItem(
        source=ItemSource.LIKENESS,
        opened_at=now,
        deadline=now + policy.deadline,
        minor=minor,
        content_ref=content_ref,
        opened_by_key=key_id,
        content_address=content_address,
        signals=tuple(s for s in signals if s.variant == ORIGINAL),
        dedupe_key=f"likeness:{key_id}:{identity}" if identity else "",
        findings=findings,
    )


def detector_findings(findings: Findings) -> DetectorFindings:
    """The cascade's findings as a likeness item keeps them."""
    return DetectorFindings(
        nudity=findings.nudity or 0.0,
        faces=findings.faces or 0,
        likeness=tuple(EnrolledLikeness(m.number, m.similarity) for m in findings.likeness),
        provenance=tuple((p.generator, p.where, p.excerpt) for p in findings.provenance),
    )
