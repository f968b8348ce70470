"""Type stub for the C scale-space kernel (see _dogscan.c)."""

from collections.abc import Sequence
from typing import Any

import numpy.typing as npt

def octave_extrema(
    levels: Sequence[npt.NDArray[Any]],
    width: int,
    height: int,
    floor: float,
    contrast: float,
    edge_ratio: float,
    /,
) -> bytes:
    """Refined DoG extrema of one octave's float32 Gaussian levels: float64 rows of x, y,
    level (with its offset), response, in the octave's pixels."""
