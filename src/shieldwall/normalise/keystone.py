"""A picture photographed a little off-axis (keystone): find its four edges and undo it.

Photographing a picture (a print, a screen) from slightly to one side turns its rectangle
into a quadrilateral; where it sits on a plain background, or a warp left a plain rim, the
picture's four edges are straight lines between the rim and the picture. Fitting a line to
each edge, intersecting them and mapping the quadrilateral back onto a rectangle gives the
picture as it was, to within the resampling.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from shieldwall.normalise.borders import corner_colour

Pixels = npt.NDArray[np.uint8]
Quad = npt.NDArray[np.float64]
"""Corners (x, y) in pixels: top-left, top-right, bottom-right, bottom-left; each is the
centre of the picture's outermost pixel there (so the right and bottom ones are last-pixel
indices, not the picture's far edge)."""

RIM_TOLERANCE: Final = 12
"""Largest per-channel difference from the rim's colour that still counts as rim: a plain
rim varies by a few levels after JPEG, while a picture's edge often comes within 20-30 of
a mid-grey rim (grass, gravel), which a looser tolerance would count as rim."""

CORNER_TOLERANCE: Final = 18
"""Largest per-channel difference of a corner's mean colour from the corners' median."""

MAX_DEPTH: Final = 0.15
"""The picture's edge lies within this share of the image from each side."""

MIN_DEPTH: Final = 0.01
"""At least one corner lies this far inside (a share of the width across, of the height
down): less is no keystone."""

MAX_UPRIGHT_SLOPE: Final = 0.003
"""Edges leaning by at most this (pixels across per pixel along) on every side are upright."""

SCANLINES: Final = 48
"""Lines across each edge where the edge is measured."""

INLIER_PIXELS: Final = 1.5
"""A measured point within this many pixels of an edge's line supports it."""

MIN_SUPPORT: Final = 0.5
"""An edge's line is kept when at least this share of its measured points supports it."""


def _edge_points(picture: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64] | None:
    """(row, depth) of the first picture pixel from the left along some rows, or None."""
    height, width = picture.shape
    limit = max(2, int(width * MAX_DEPTH))
    rows = np.linspace(0.1 * height, 0.9 * height, SCANLINES).round().astype(int)
    band = picture[rows, :limit]
    found = band.any(axis=1)
    if found.mean() < MIN_SUPPORT:
        return None
    depth = band.argmax(axis=1)
    return np.column_stack([rows[found], depth[found]]).astype(np.float64)


def _fit_line(points: npt.NDArray[np.float64]) -> tuple[float, float] | None:
    """(slope, intercept) of depth = slope * row + intercept, by consensus of point pairs.

    Every pair of measured points proposes a line; the one most points lie near wins and
    is refined by least squares over them. Rows where the picture's own edge happens to be
    the rim's colour measure too deep and are outvoted."""
    count = len(points)
    first, second = np.triu_indices(count, k=1)
    rows, depths = points[:, 0], points[:, 1]
    run = rows[second] - rows[first]
    slopes = (depths[second] - depths[first]) / run
    intercepts = depths[first] - slopes * rows[first]
    residuals = np.abs(depths[None, :] - (slopes[:, None] * rows[None, :] + intercepts[:, None]))
    support = (residuals <= INLIER_PIXELS).sum(axis=1)
    best = int(support.argmax())
    if support[best] < MIN_SUPPORT * count:
        return None
    inliers = residuals[best] <= INLIER_PIXELS
    slope, intercept = np.polyfit(rows[inliers], depths[inliers], 1)
    return float(slope), float(intercept)


def _sides(picture: npt.NDArray[np.bool_]) -> list[npt.NDArray[np.bool_]]:
    """The mask seen from each side as from the left: left, top, right, bottom."""
    return [picture, picture.T, picture[:, ::-1], picture.T[:, ::-1]]


def find_quad(pixels: Pixels) -> Quad | None:
    """The corners of a keystoned picture on a plain rim, or None when there is none."""
    # The rim's colour: a corner that barely moved shows the picture, so three will do.
    colour = corner_colour(pixels, CORNER_TOLERANCE, one_may_differ=True)
    if colour is None:
        return None
    height, width = pixels.shape[:2]
    picture = (np.abs(pixels.astype(np.int16) - colour).max(axis=2) > RIM_TOLERANCE).astype(bool)
    lines = []
    for side in _sides(picture):
        points = _edge_points(side)
        line = None if points is None else _fit_line(points)
        if line is None:
            return None
        lines.append(line)
    if max(abs(slope) for slope, _ in lines) <= MAX_UPRIGHT_SLOPE:
        return None  # upright edges: a plain border, which trimming cuts off (views.py)
    quad = _corners(lines, width, height)
    if quad is None:
        return None
    outer = np.array([(0, 0), (width - 1, 0), (width - 1, height - 1), (0, height - 1)], float)
    inset = np.abs(quad - outer) / np.array([width, height], float)
    if inset.max() < MIN_DEPTH:
        return None  # the picture fills the image: nothing to undo
    return quad


def _corners(lines: list[tuple[float, float]], width: int, height: int) -> Quad | None:
    """Corners where the left, top, right and bottom lines meet, in image pixels."""
    (
        (left_slope, left_at),
        (top_slope, top_at),
        (right_slope, right_at),
        (bottom_slope, bottom_at),
    ) = lines
    # Each line as a x + b y = c in image coordinates.
    left = (1.0, -left_slope, left_at)  # x = slope * y + at
    top = (-top_slope, 1.0, top_at)  # y = slope * x + at
    right = (1.0, right_slope, width - 1 - right_at)  # x = width - 1 - (slope * y + at)
    bottom = (bottom_slope, 1.0, height - 1 - bottom_at)  # y = height - 1 - (slope * x + at)
    corners = []
    for first, second in ((left, top), (top, right), (right, bottom), (bottom, left)):
        matrix = np.array([first[:2], second[:2]])
        if abs(np.linalg.det(matrix)) < 1e-6:
            return None
        corners.append(np.linalg.solve(matrix, [first[2], second[2]]))
    quad = np.array(corners, dtype=np.float64)
    limit = MAX_DEPTH * np.array([width, height]) + 2
    outer = np.array([(0, 0), (width - 1, 0), (width - 1, height - 1), (0, height - 1)], float)
    if (np.abs(quad - outer) > limit).any():
        return None
    return quad


def rectify(pixels: Pixels, quad: Quad) -> Pixels:
    """The picture inside `quad` mapped back onto a rectangle of the quad's mean size."""
    import cv2  # here, not at the top: OpenCV (16 MiB) loads on first use

    top = np.linalg.norm(quad[1] - quad[0])
    bottom = np.linalg.norm(quad[2] - quad[3])
    left = np.linalg.norm(quad[3] - quad[0])
    right = np.linalg.norm(quad[2] - quad[1])
    # Corner to corner runs between pixel centres: the picture is a pixel wider and taller.
    width = max(2, round((top + bottom) / 2) + 1)
    height = max(2, round((left + right) / 2) + 1)
    target = np.array([(0, 0), (width, 0), (width, height), (0, height)], dtype=np.float32)
    # Pixel centres: the edge line runs through the first picture pixels' centres.
    source = (quad + np.array([(0, 0), (1, 0), (1, 1), (0, 1)])).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(source, target)
    flat = cv2.warpPerspective(pixels, matrix, (width, height), flags=cv2.INTER_LINEAR)
    return np.asarray(flat, np.uint8)
