"""The screening cascade: content -> bank matches (cheap) -> nudity score -> only over the
threshold: faces -> enrolled templates -> for a likeness finding, signs of a generator in
the file's metadata (provenance) -> findings.

Each step runs only if the one before let the content through, so most content stops at
the cheap gates, and the likeness question is never asked of a picture that is not
explicit: the cascade is not a face search. A likeness finding only ever asks for human
review; it never blocks or removes anything by itself. Detectors are optional: one that is
not installed is named in the findings, and the steps after it do not run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from shieldwall.banks.models import MatchAction
from shieldwall.config import MediaLimits
from shieldwall.detection.models import DetectorUnavailableError, Face, Template
from shieldwall.detection.nudity import NUDITY_THRESHOLD
from shieldwall.detection.provenance import ProvenanceFinding, provenance_of
from shieldwall.likeness.index import LikenessMatch
from shieldwall.matching.models import Match
from shieldwall.media.decode import decode_image

Pixels = npt.NDArray[np.uint8]

STEPS: Final = ("banks", "decode", "nudity", "faces", "likeness", "provenance")
"""The cascade's steps, in order (per-step timings are keyed by these)."""


class NudityScore(Protocol):
    """A nudity score 0-1 of RGB pixels (detection.nudity.NudityScorer)."""

    def score(self, pixels: Pixels) -> float: ...


class FaceFinder(Protocol):
    """Faces with templates (detection.faces.FaceAnalyser)."""

    def faces(self, pixels: Pixels) -> list[Face]: ...


class LikenessQuestion(Protocol):
    """Does a face belong to an enrolled person? (likeness.service.EnrolmentService)."""

    def likeness(self, template: Template) -> list[LikenessMatch]: ...


class Stop(StrEnum):
    """Where the cascade stopped, and why."""

    BLOCKED = "blocked"  # a bank match blocks it: nothing more to learn
    NOT_EXPLICIT = "not_explicit"  # the nudity score is under the threshold
    NO_FACE = "no_face"  # explicit, but no face to compare
    NO_LIKENESS = "no_likeness"  # faces, none of an enrolled person
    LIKENESS = "likeness"  # explicit and showing an enrolled person: ask for review
    UNAVAILABLE = "unavailable"  # a detector needed next is not installed


@dataclass(frozen=True)
class Findings:
    """What the cascade found for one content."""

    verdict: MatchAction
    """The bank matches' verdict (a likeness finding never changes it)."""
    matches: list[Match]
    stop: Stop
    nudity: float | None = None
    faces: int | None = None
    likeness: list[LikenessMatch] = field(default_factory=list)
    provenance: list[ProvenanceFinding] = field(default_factory=list)
    """Signs of a generator in the file (looked for when the content needs review)."""
    unavailable: str = ""
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def needs_review(self) -> bool:
        """Explicit content showing an enrolled person: a review item, never a block."""
        return self.stop is Stop.LIKENESS

    def as_json(self) -> dict[str, Any]:
        """For `shieldwall scan` and the API's findings."""
        return {
            "verdict": self.verdict.value,
            "stop": self.stop.value,
            "needs_review": self.needs_review,
            "nudity": None if self.nudity is None else round(self.nudity, 4),
            "faces": self.faces,
            "likeness": [
                {"enrolment": m.number, "similarity": round(m.similarity, 4)} for m in self.likeness
            ],
            "provenance": [finding.as_json() for finding in self.provenance],
            "unavailable": self.unavailable,
            "ms": {step: round(s * 1000, 2) for step, s in self.seconds.items()},
        }


Screen = Callable[[bytes], tuple[MatchAction, list[Match]]]
"""The bank step: a content's verdict and matches (through the screening service)."""


class Cascade:
    """Runs the steps for content, each only where the one before lets it through."""

    def __init__(
        self,
        screen: Screen,
        nudity: NudityScore,
        faces: FaceFinder,
        enrolled: LikenessQuestion,
        limits: MediaLimits,
        *,
        nudity_threshold: float = NUDITY_THRESHOLD,
        provenance: Callable[[bytes, Pixels], list[ProvenanceFinding]] = provenance_of,
    ) -> None:
        self._screen = screen
        self._nudity = nudity
        self._faces = faces
        self._enrolled = enrolled
        self._limits = limits
        self._nudity_threshold = nudity_threshold
        self._provenance = provenance

    def run(self, data: bytes) -> Findings:
        """The findings for one content (a MediaError if it is not an image)."""
        timer = _Timer()
        with timer("banks"):
            verdict, matches = self._screen(data)
        if verdict is MatchAction.BLOCK:
            return Findings(verdict, matches, Stop.BLOCKED, seconds=timer.seconds)
        with timer("decode"):
            pixels = decode_image(data, self._limits).pixels
        found = Findings(verdict, matches, Stop.UNAVAILABLE, seconds=timer.seconds)
        try:
            with timer("nudity"):
                score = self._nudity.score(pixels)
        except DetectorUnavailableError as exc:
            return replace(found, unavailable=f"nudity: {exc}")
        found = replace(found, nudity=score)
        if score < self._nudity_threshold:
            return replace(found, stop=Stop.NOT_EXPLICIT)
        try:
            with timer("faces"):
                faces = self._faces.faces(pixels)
        except DetectorUnavailableError as exc:
            return replace(found, unavailable=f"faces: {exc}")
        found = replace(found, faces=len(faces))
        if not faces:
            return replace(found, stop=Stop.NO_FACE)
        with timer("likeness"):
            likeness = _best_per_enrolment([self._enrolled.likeness(f.template) for f in faces])
        if not likeness:
            return replace(found, stop=Stop.NO_LIKENESS)
        with timer("provenance"):
            signs = self._provenance(data, pixels)
        return replace(found, stop=Stop.LIKENESS, likeness=likeness, provenance=signs)


def _best_per_enrolment(per_face: Sequence[list[LikenessMatch]]) -> list[LikenessMatch]:
    best: dict[str, float] = {}
    for matches in per_face:
        for match in matches:
            best[match.number] = max(match.similarity, best.get(match.number, -2.0))
    return [LikenessMatch(n, s) for n, s in sorted(best.items(), key=lambda item: -item[1])]


class _Timer:
    """Seconds per step."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._step = ""
        self._started = 0.0

    def __call__(self, step: str) -> _Timer:
        self._step = step
        return self

    def __enter__(self) -> None:
        self._started = time.perf_counter()

    def __exit__(self, *_exc: object) -> None:
        self.seconds[self._step] = time.perf_counter() - self._started
