"""The C kernel for scale-space extrema (signals/_dogscan.c) against a plain numpy reading
of the same rule: at least as large (small) as all 26 neighbours, beyond the floor, not on
an edge, one quadratic refinement step, response at least the contrast."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import pytest

from shieldwall.signals import _dogscan

FLOOR, CONTRAST, EDGE = 0.016, 0.02, 10.0


def levels(seed: int, width: int = 41, height: int = 29) -> list[npt.NDArray[np.float32]]:
    """Six smooth random float32 planes, each a little blurrier than the last."""
    import cv2

    rng = np.random.default_rng(seed)
    base = rng.random((height, width)).astype(np.float32)
    planes = []
    for sigma in (1.0, 1.3, 1.6, 2.0, 2.5, 3.2):
        planes.append(np.asarray(cv2.GaussianBlur(base, (0, 0), sigma), np.float32))
    return planes


def reference(planes: list[npt.NDArray[np.float32]]) -> list[tuple[float, float, float, float]]:
    dog = [after - before for before, after in itertools.pairwise(planes)]
    height, width = dog[0].shape
    rows = []
    for d in range(1, len(dog) - 1):
        for y in range(1, height - 1):
            for x in range(1, width - 1):
                value = float(dog[d][y, x])
                cube = np.stack([p[y - 1 : y + 2, x - 1 : x + 2] for p in dog[d - 1 : d + 2]])
                others = np.delete(cube.ravel(), 13)
                if not (
                    (value > FLOOR and value >= others.max())
                    or (value < -FLOOR and value <= others.min())
                ):
                    continue
                here, below, above = dog[d].astype(np.float64), dog[d - 1], dog[d + 1]
                dx = (here[y, x + 1] - here[y, x - 1]) / 2
                dy = (here[y + 1, x] - here[y - 1, x]) / 2
                ds = (float(above[y, x]) - float(below[y, x])) / 2
                dxx = here[y, x + 1] + here[y, x - 1] - 2 * value
                dyy = here[y + 1, x] + here[y - 1, x] - 2 * value
                dss = float(above[y, x]) + float(below[y, x]) - 2 * value
                dxy = (
                    here[y + 1, x + 1]
                    - here[y + 1, x - 1]
                    - here[y - 1, x + 1]
                    + here[y - 1, x - 1]
                ) / 4
                trace, det = dxx + dyy, dxx * dyy - dxy * dxy
                if not (det > 0 and trace * trace * EDGE < (EDGE + 1) ** 2 * det):
                    continue
                ox = float(np.clip(-dx / dxx if dxx else 0.0, -0.5, 0.5))
                oy = float(np.clip(-dy / dyy if dyy else 0.0, -0.5, 0.5))
                os_ = float(np.clip(-ds / dss if dss else 0.0, -0.5, 0.5))
                response = abs(value + 0.5 * (dx * ox + dy * oy + ds * os_))
                if response >= CONTRAST:
                    rows.append((x + ox, y + oy, d + os_, response))
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_kernel_finds_what_the_rule_says(seed: int) -> None:
    planes = [plane * 4 for plane in levels(seed)]  # enough contrast for a few extrema
    height, width = planes[0].shape
    found = np.frombuffer(
        _dogscan.octave_extrema(planes, width, height, FLOOR, CONTRAST, EDGE), np.float64
    ).reshape(-1, 4)
    expected = np.array(reference(planes)).reshape(-1, 4)
    assert len(expected) >= 1
    assert found.shape == expected.shape
    order = np.lexsort((found[:, 1], found[:, 0], found[:, 2]))
    expected_order = np.lexsort((expected[:, 1], expected[:, 0], expected[:, 2]))
    assert found[order] == pytest.approx(expected[expected_order], abs=1e-5)


def test_a_flat_octave_has_no_extrema_and_bad_input_is_refused() -> None:
    flat = [np.full((20, 30), 0.5, np.float32) for _ in range(6)]
    assert _dogscan.octave_extrema(flat, 30, 20, FLOOR, CONTRAST, EDGE) == b""
    with pytest.raises(ValueError, match="width x height"):
        _dogscan.octave_extrema(flat, 31, 20, FLOOR, CONTRAST, EDGE)
    with pytest.raises(ValueError, match="levels"):
        _dogscan.octave_extrema(flat[:2], 30, 20, FLOOR, CONTRAST, EDGE)
    with pytest.raises(TypeError, match="contiguous"):
        _dogscan.octave_extrema([*flat[:5], flat[5][:, ::2]], 30, 20, FLOOR, CONTRAST, EDGE)
