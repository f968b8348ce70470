"""The batched 64x64 PDQ equals pdqhash bit for bit, quality included."""

from __future__ import annotations

import numpy as np
import pdqhash

from shieldwall.signals.pdq import pdq_bits_to_hex
from shieldwall.signals.pdq_grid import LUMA_WEIGHTS, pdq_of_grids


def test_batched_grid_hashes_equal_pdqhash() -> None:
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(20)]
    walk = np.cumsum(rng.integers(-3, 4, (20, 64, 64, 3)), axis=1) + 128
    images += list(np.clip(walk, 0, 255).astype(np.uint8))
    grids = np.stack(images).astype(np.float32) @ LUMA_WEIGHTS
    for image, (value, quality) in zip(images, pdq_of_grids(grids), strict=True):
        bits, expected_quality = pdqhash.compute(image)
        assert value == pdq_bits_to_hex(bits)
        assert quality == expected_quality


def test_a_flat_grid_has_no_quality() -> None:
    [(_, quality)] = pdq_of_grids(np.full((1, 64, 64), 128, dtype=np.float32))
    assert quality == 0
