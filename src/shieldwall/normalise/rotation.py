"""Small rotations that left fill-coloured corners: measure the angle and turn the image back.

Rotating a picture by a few degrees inside its canvas leaves a triangle of fill colour
(usually black or white) in each corner, whose long side is the picture's tilted edge. The
triangles' sides give the angle; turning the image back by it and keeping a centred window
that the fill never reached gives a region the bank also hashes (signals/regions.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from shieldwall.normalise.borders import corner_colour
from shieldwall.signals.regions import CENTRED_SPANS, Box

FILL_TOLERANCE: Final = 40
"""Per-channel difference from the fill colour that still counts as fill (JPEG smears edges)."""

MIN_ANGLE, MAX_ANGLE = 0.5, 20.0
"""Rotations measured, in degrees; below 0.5 PDQ does not notice."""

AGREEMENT: Final = 1.0
"""Corners must agree on the angle to within this many degrees."""

MIN_CORNERS: Final = 2
"""Corners that must agree on the angle."""

MIN_LEG: Final = 3
"""Shortest triangle side, in pixels, that gives an angle."""


@dataclass(frozen=True)
class Rotation:
    """A measured rotation: degrees counter-clockwise as shown, and the fill colour."""

    degrees: float
    fill: tuple[int, int, int]


def _fill_colour(pixels: npt.NDArray[np.uint8]) -> tuple[int, int, int] | None:
    """The colour of all four corners, if they share one."""
    colour = corner_colour(pixels, FILL_TOLERANCE / 2)
    if colour is None:
        return None
    red, green, blue = (int(v) for v in colour)
    return red, green, blue


def _leading(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.intp]:
    """For each row of a mask, how many of its first pixels are set."""
    unset = ~mask
    first: npt.NDArray[np.intp] = unset.argmax(axis=1)
    first[~unset.any(axis=1)] = mask.shape[1]
    return first


def _corner_angle(mask: npt.NDArray[np.bool_]) -> float | None:
    """Rotation in degrees (counter-clockwise) from the fill triangle at the top-left corner.

    The triangle's hypotenuse runs from (a, 0) to (0, b). With a > b it is the picture's top
    edge rising to the right (counter-clockwise); with b > a its left edge leaning right
    (clockwise). A least-squares line through the run lengths along the longer side gives
    the ratio more exactly than the two legs alone.
    """
    height, width = mask.shape
    across = _leading(mask[: height // 2, : width // 2])
    down = _leading(mask[: height // 2, : width // 2].T)
    a, b = int(across[0]), int(down[0])
    if min(a, b) < MIN_LEG or a >= width // 2 or b >= height // 2:
        return None
    runs, length = (down[:a], b) if a >= b else (across[:b], a)
    positions = np.arange(len(runs), dtype=np.float64)
    inside = runs > 0
    if inside.sum() < MIN_LEG:
        return None
    slope = np.polyfit(positions[inside], runs[inside].astype(np.float64), 1)[0]
    ratio = -slope if slope < 0 else length / max(len(runs), 1)
    degrees = math.degrees(math.atan(ratio))
    return degrees if a >= b else -degrees


def _triangles_possible(rows: npt.NDArray[np.bool_], columns: npt.NDArray[np.bool_]) -> bool:
    """Whether at least MIN_CORNERS corners could hold a fill triangle, judged from the fill
    along the outermost rows (2 x W) and columns (H x 2): both legs at least MIN_LEG and
    under half their side."""
    width, height = rows.shape[1], columns.shape[0]

    def leg(line: npt.NDArray[np.bool_]) -> int:
        unset = np.flatnonzero(~line)
        return int(unset[0]) if unset.size else len(line)

    legs = [
        (leg(rows[r][::step]), leg(columns[:, c][::down]))
        for r, c, step, down in ((0, 0, 1, 1), (0, 1, -1, 1), (1, 0, 1, -1), (1, 1, -1, -1))
    ]
    possible = [MIN_LEG <= a < width // 2 and MIN_LEG <= b < height // 2 for a, b in legs]
    return bool(sum(possible) >= MIN_CORNERS)


def measure_rotation(pixels: npt.NDArray[np.uint8]) -> Rotation | None:
    """The rotation that left fill-coloured triangles in the corners, or None."""
    if min(pixels.shape[:2]) < 4 * MIN_LEG:
        return None
    fill = _fill_colour(pixels)
    if fill is None:
        return None
    lower = np.clip(np.array(fill) - FILL_TOLERANCE, 0, 255).astype(np.float64)
    upper = np.clip(np.array(fill) + FILL_TOLERANCE, 0, 255).astype(np.float64)

    def is_fill(part: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
        import cv2  # here, not at the top: OpenCV (16 MiB) loads on first use

        inside: npt.NDArray[np.bool_] = cv2.inRange(np.ascontiguousarray(part), lower, upper) > 0
        return inside

    if not _triangles_possible(is_fill(pixels[[0, -1]]), is_fill(pixels[:, [0, -1]])):
        return None  # a border or a dark picture, not a tilt: skip the full masks
    mask = is_fill(pixels)
    # Mirroring a corner onto the top-left reverses the sense of rotation; turning it by
    # 180 degrees (both flips) keeps it.
    views = ((mask, 1), (mask[:, ::-1], -1), (mask[::-1], -1), (mask[::-1, ::-1], 1))
    angles = [a * sense for view, sense in views if (a := _corner_angle(view)) is not None]
    # Dark (or light) picture corners can merge with the fill and spoil a corner or two;
    # two corners that agree are already unlikely by chance.
    agreeing = max(
        ([b for b in angles if abs(b - a) <= AGREEMENT] for a in angles), key=len, default=[]
    )
    if len(agreeing) < MIN_CORNERS:
        return None
    degrees = float(np.mean(agreeing))
    if not MIN_ANGLE <= abs(degrees) <= MAX_ANGLE:
        return None
    return Rotation(degrees, fill)


def rotate_back(pixels: npt.NDArray[np.uint8], rotation: Rotation) -> npt.NDArray[np.uint8]:
    """The image turned back by the measured angle about its centre, on the same canvas."""
    import cv2  # here, not at the top: OpenCV (16 MiB) loads on first use

    height, width = pixels.shape[:2]
    centre = ((width - 1) / 2, (height - 1) / 2)
    # OpenCV's positive angles turn counter-clockwise as shown, like the measured ones.
    matrix = cv2.getRotationMatrix2D(centre, -rotation.degrees, 1.0)
    turned = cv2.warpAffine(
        pixels,
        matrix,
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=tuple(float(c) for c in rotation.fill),
    )
    return np.asarray(turned, dtype=np.uint8)


def clear_centre(width: int, height: int, degrees: float) -> Box | None:
    """The largest centred bank window the fill cannot reach after turning back, if any.

    Turning back a rotation inside the same canvas leaves the picture only where the canvas,
    turned by the angle, still covers it: a centred window of span s fits when its corners,
    turned, stay inside the canvas.
    """
    theta = math.radians(abs(degrees))
    cos, sin = math.cos(theta), math.sin(theta)
    fits = min(width / (width * cos + height * sin), height / (width * sin + height * cos))
    for span in CENTRED_SPANS:
        if span <= fits - 0.01:
            margin = (1 - span) / 2
            return Box(margin, margin, 1 - margin, 1 - margin)
    return None
