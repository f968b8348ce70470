"""PDQ values: hex, bytes and bits conversions, Hamming distance, and hashing reduced pixels."""

from __future__ import annotations

import numpy as np
import pdqhash
import pytest
from PIL import Image

from shieldwall.errors import InvalidSignalError
from shieldwall.signals.pdq import (
    pdq_bits_to_hex,
    pdq_bytes_to_hex,
    pdq_distance,
    pdq_hex_to_bits,
    pdq_hex_to_bytes,
)
from shieldwall.signals.pdq_pixels import luma_grid, pdq_from_pixels
from tests.support.images import scene

ZEROS = "0" * 64
ONES = "f" * 64


def meta_reference_hex(bits: np.ndarray) -> str:
    """Hex as ThreatExchange's pdq_hasher writes it: the bit string read as one big number."""
    text = "".join(str(int(bit)) for bit in bits)
    # ThreatExchange: "%0*X" % ((len(bin_str) + 3) // 4, int(bin_str, 2)), then lower().
    return f"{int(text, 2):0{(len(text) + 3) // 4}X}".lower()


def test_bits_to_hex_matches_meta_reference() -> None:
    bits, _ = pdqhash.compute(np.asarray(scene(4, 200, 150)))
    assert pdq_bits_to_hex(bits) == meta_reference_hex(bits)
    first_bit_only = np.zeros(256, dtype=np.int64)
    first_bit_only[0] = 1
    assert pdq_bits_to_hex(first_bit_only) == "8" + "0" * 63


def test_hex_bytes_and_bits_round_trip() -> None:
    value = "0123456789abcdef" * 4
    assert pdq_bytes_to_hex(pdq_hex_to_bytes(value.upper())) == value
    assert pdq_bits_to_hex(pdq_hex_to_bits(value)) == value
    assert pdq_hex_to_bits(value)[:8].tolist() == [0, 0, 0, 0, 0, 0, 0, 1]


def test_distance_counts_differing_bits() -> None:
    assert pdq_distance(ZEROS, ZEROS) == 0
    assert pdq_distance(ZEROS, ONES) == 256
    assert pdq_distance(ZEROS, "8" + "0" * 62 + "3") == 3
    assert pdq_distance(" " + ONES.upper() + "\n", ONES) == 0


@pytest.mark.parametrize("bad", ["", "abc", "g" * 64, "0" * 63, "0" * 65, "0x" + "0" * 62])
def test_malformed_hashes_are_invalid_signals(bad: str) -> None:
    with pytest.raises(InvalidSignalError):
        pdq_distance(bad, ZEROS)
    with pytest.raises(InvalidSignalError):
        pdq_hex_to_bytes(bad)


def test_wrong_lengths_of_bytes_and_bits_are_invalid() -> None:
    with pytest.raises(InvalidSignalError):
        pdq_bytes_to_hex(b"\x00" * 31)
    with pytest.raises(InvalidSignalError):
        pdq_bits_to_hex(np.zeros(255))


def direct_hex(image: Image.Image) -> tuple[str, int]:
    """pdqhash on the full-size pixels: the reference."""
    bits, quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    return pdq_bits_to_hex(bits), int(quality)


def test_small_full_size_pixels_hash_exactly_as_pdqhash() -> None:
    image = scene(5, 250, 180)
    assert pdq_from_pixels(np.asarray(image), image.size) == (
        (direct_hex(image)[0],),
        direct_hex(image)[1],
    )


@pytest.mark.parametrize("size", [(640, 480), (1000, 333), (333, 1000), (1280, 720)])
def test_large_full_size_pixels_hash_within_a_bit_or_two(size: tuple[int, int]) -> None:
    image = scene(6, *size)
    (value,), quality = pdq_from_pixels(np.asarray(image), image.size)
    expected, expected_quality = direct_hex(image)
    assert pdq_distance(value, expected) <= 2
    assert abs(quality - expected_quality) <= 2


@pytest.mark.parametrize("factor", [2, 3, 4, 5, 8])
def test_block_reduced_pixels_hash_like_the_full_image(factor: int) -> None:
    image = scene(8, 1603, 1201)
    reduced = image.reduce(factor)
    (value,), _ = pdq_from_pixels(np.asarray(reduced), image.size)
    assert pdq_distance(value, direct_hex(image)[0]) <= 6


def test_fractionally_reduced_pixels_hash_like_the_full_image() -> None:
    image = scene(9, 1600, 1200)
    reduced = image.resize((640, 480), Image.Resampling.BOX)
    (value,), _ = pdq_from_pixels(np.asarray(reduced), image.size)
    assert pdq_distance(value, direct_hex(image)[0]) <= 6


def test_grid_of_a_flat_image_is_flat() -> None:
    pixels = np.full((300, 500, 3), 77, dtype=np.uint8)
    grid = luma_grid(pixels, (1000, 600))
    assert grid.shape == (64, 64)
    assert np.allclose(grid, 77.0, atol=1e-3)
