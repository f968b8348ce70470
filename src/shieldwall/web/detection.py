"""Likeness protection on the lookup API (`detect=true`): the banks, then the cascade's
detectors; explicit content showing an enrolled person opens a likeness review item with
the content sealed in the quarantine, and the answer's verdict becomes `review` (never
`block`: a reviewer decides). Per-step times go to /metrics.

What a key sees is cut to its role: `needs_review` and whether the checks completed for
every key; scores, faces and provenance only for keys that may see details; which
enrolment, and how similar, for no key (reviewers see them in the console).
"""

from __future__ import annotations

from dataclasses import dataclass

from shieldwall.banks.models import MatchAction
from shieldwall.cascade.service import Cascade, Findings, Stop
from shieldwall.errors import InvalidInputError
from shieldwall.matching.models import Match
from shieldwall.review.intake import detector_findings
from shieldwall.review.models import ReviewItem
from shieldwall.screening.models import ScreeningResult
from shieldwall.signals.models import Signal
from shieldwall.web.runtime import Runtime
from shieldwall.web.schemas import DetectionOut
from shieldwall.web.security import Caller


@dataclass(frozen=True)
class Detected:
    """A lookup run through the cascade: the banks' result, the findings, the item."""

    result: ScreeningResult
    findings: Findings
    item: ReviewItem | None

    @property
    def verdict(self) -> MatchAction:
        """The banks' verdict, or `review` where the detectors asked for one."""
        if self.findings.needs_review and self.result.verdict is MatchAction.ALLOW:
            return MatchAction.REVIEW
        return self.result.verdict


def check_enabled(runtime: Runtime) -> None:
    """422 unless the deployment turned likeness detection on."""
    if not runtime.services.settings.likeness_detection:
        raise InvalidInputError(
            "detect is off on this server (setting likeness_detection); look up without it"
        )


def detect(
    runtime: Runtime,
    data: bytes,
    caller: Caller,
    threshold: int | None,
    banks: list[str] | None,
    content_ref: str,
) -> Detected:
    """Screen the content against the banks, then run the detectors where the banks let it
    through; open the likeness item if the detectors ask for one."""
    services = runtime.services
    screened: list[ScreeningResult] = []

    def screen(content: bytes) -> tuple[MatchAction, list[Match]]:
        result = runtime.screening.screen_content(
            content, caller.id, threshold, banks, content_ref=content_ref
        )
        screened.append(result)
        return result.verdict, result.matches

    cascade = Cascade(
        screen, services.nudity, services.faces, services.enrolments, services.settings.media
    )
    findings = cascade.run(data)
    for step, seconds in findings.seconds.items():
        runtime.metrics.detector_seconds.labels(step=step).observe(seconds)
    runtime.metrics.detections.labels(stop=findings.stop.value).inc()
    result = screened[0]
    item = None
    if findings.needs_review:
        kept = detector_findings(findings)
        item = services.reviews.queue_likeness(
            kept,
            content_signals(result),
            content_ref=content_ref,
            key_id=caller.id,
            content=data,
            minor=services.enrolments.is_minor(kept.enrolment_numbers),
        )
    return Detected(result, findings, item)


def content_signals(result: ScreeningResult) -> list[Signal]:
    """The computed content's primary signals (what a review item of it shows)."""
    computed = result.signals or {}
    return [
        Signal.of(name, computed[name]) for name in ("pdq", "md5", "sha256") if name in computed
    ]


def detection_out(findings: Findings, caller: Caller) -> DetectionOut:
    """The findings as this key may see them."""
    complete = findings.stop is not Stop.UNAVAILABLE
    if not caller.sees_details:
        return DetectionOut(needs_review=findings.needs_review, complete=complete)
    return DetectionOut(
        needs_review=findings.needs_review,
        complete=complete,
        stop=findings.stop.value,
        nudity=None if findings.nudity is None else round(findings.nudity, 4),
        faces=findings.faces,
        enrolled_face=bool(findings.likeness),
        provenance=[finding.as_json() for finding in findings.provenance],
        unavailable=findings.unavailable or None,
        ms={step: round(s * 1000, 2) for step, s in findings.seconds.items()},
    )
