"""PDQ of many 64x64 luminance grids at once, bit-exact with pdqhash for such grids.

For a 64x64 image PDQ's blur and sampling do nothing, so the hash is: a 16x16 DCT of the
grid (rows 1-16 of the 64-point DCT-II, skipping the constant term), a bit per coefficient
set when it is above the median, and a quality from the summed neighbour differences. In
numpy this is one matrix product for a whole batch (tests/unit/test_pdq_grid.py checks it
against pdqhash bit for bit).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from shieldwall.signals.pdq import pdq_bits_to_hex

LUMA_WEIGHTS: Final = np.array([0.299, 0.587, 0.114], dtype=np.float32)
"""PDQ's luminance from RGB."""

_DCT: Final = np.array(
    [
        [np.sqrt(2 / 64) * np.cos((np.pi / 2 / 64) * (i + 1) * (2 * j + 1)) for j in range(64)]
        for i in range(16)
    ],
    dtype=np.float32,
)


def pdq_of_grids(grids: npt.NDArray[np.float32]) -> list[tuple[str, int]]:
    """(hex, quality) of PDQ for each 64x64 luminance grid in an (n, 64, 64) float32 array."""
    coefficients = (_DCT @ grids @ _DCT.T).reshape(len(grids), 256)
    median = np.partition(coefficients, 127, axis=1)[:, 127:128]
    # pdqhash lists the bits from the last coefficient to the first.
    bits = (coefficients > median)[:, ::-1]
    down = np.trunc((grids[:, :-1, :] - grids[:, 1:, :]) * 100 / 255)
    across = np.trunc((grids[:, :, :-1] - grids[:, :, 1:]) * 100 / 255)
    gradient = np.abs(down).sum(axis=(1, 2)) + np.abs(across).sum(axis=(1, 2))
    quality = np.minimum(100, gradient.astype(np.int64) // 90)
    return [(pdq_bits_to_hex(row), int(q)) for row, q in zip(bits, quality, strict=True)]
