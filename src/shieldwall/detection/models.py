"""What detectors report: faces with their templates, and whether a detector works."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from shieldwall.errors import UnavailableError

Template = npt.NDArray[np.float32]
"""A face template: 128 numbers of unit length (SFace), compared by cosine similarity."""


class DetectorUnavailableError(UnavailableError):
    """A detector whose package or model is not installed, or does not load."""

    code = "detector-unavailable"


@dataclass(frozen=True)
class Face:
    """A face found in a picture: its box (left, top, width, height) and five landmarks
    (eyes, nose tip, mouth corners) in the picture's pixels, the detector's confidence, and
    its template."""

    box: tuple[float, float, float, float]
    landmarks: tuple[tuple[float, float], ...]
    confidence: float
    template: Template


@dataclass(frozen=True)
class DetectorCheck:
    """One detector as `shieldwall doctor` reports it."""

    name: str
    working: bool
    detail: str
    """The package and model when it works; what is wrong when not."""
