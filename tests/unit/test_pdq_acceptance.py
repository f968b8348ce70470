"""The PDQ acceptance rule (issue 9, item 6): what reports, banks and lookups refuse."""

from __future__ import annotations

import io
import random

import numpy as np
import pdqhash
import pytest
from PIL import Image

from shieldwall.cli.case_cmd import _report_fields
from shieldwall.config import MediaLimits
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.signals.models import DIHEDRAL_VARIANTS, Signal
from shieldwall.signals.pdq import pdq_bits_to_hex
from shieldwall.signals.pdq_pixels import pdq_from_pixels
from shieldwall.signals.pdq_quality import (
    MIN_RANK,
    PdqProblem,
    degenerate_rows,
    gf2_ranks,
    matchable,
    pdq_refusals,
    signal_refusal,
    without_refused,
)
from shieldwall.web.pages import LANGUAGES, problem_message
from tests.support.images import sample_photos, scene

LIMITS = MediaLimits()
GOOD = "3e2bf2a5f781f425f0b5a3b02e7a0adf8f87b78bc8d77fee94dfccf3243591c6"


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels), "RGB").save(buffer, "PNG")
    return buffer.getvalue()


def flat(colour: tuple[int, int, int], width: int, height: int) -> np.ndarray:
    return np.tile(np.array(colour, dtype=np.uint8), (height, width, 1))


def hash_of_rows(rows: list[int]) -> str:
    """A PDQ hex value from its 16 words of 16 bits."""
    return "".join(f"{row:04x}" for row in rows)


def rank_reference(value: str) -> int:
    """GF(2) rank of a hash's 16x16 bit matrix, the slow textbook way."""
    rows = [[int(bit) for bit in f"{int(value[i : i + 4], 16):016b}"] for i in range(0, 64, 4)]
    rank = 0
    for column in range(16):
        pivot = next((r for r in range(rank, 16) if rows[r][column]), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(16):
            if r != rank and rows[r][column]:
                rows[r] = [a ^ b for a, b in zip(rows[r], rows[rank], strict=True)]
        rank += 1
    return rank


def refusal(value: str, quality: int | None = None, variant: str = "original") -> str | None:
    found = signal_refusal(Signal.of("pdq", value, variant, quality))
    return None if found is None else found.code.value


def test_every_hash_of_real_and_generated_photos_is_accepted() -> None:
    photos = [np.asarray(image) for _, image in sample_photos()]
    photos += [np.asarray(scene(seed)) for seed in range(12)]
    for pixels in photos:
        hashes, quality = pdq_from_pixels(pixels, (pixels.shape[1], pixels.shape[0]), dihedral=True)
        assert len(hashes) == len(DIHEDRAL_VARIANTS)
        for value in hashes:
            # Value checks pass for every photo; quality decides for the few plain ones.
            assert refusal(value) is None
            assert refusal(value, quality) in (None, PdqProblem.LOW_QUALITY.value)


def test_random_hex_fixtures_pass() -> None:
    rng = random.Random(3)
    values = [f"{rng.getrandbits(256):064x}" for _ in range(3000)]
    assert not degenerate_rows(np.frombuffer(bytes.fromhex("".join(values)), np.uint8)).any()


@pytest.mark.parametrize("size", [(64, 64), (640, 480)])  # pdqhash direct, our reduced grid
def test_flat_grey_images_are_refused_by_their_value_alone(size: tuple[int, int]) -> None:
    for grey in range(0, 256, 3):
        hashes, quality = pdq_from_pixels(flat((grey,) * 3, *size), size, dihedral=True)
        assert quality == 0
        assert all(refusal(value) == PdqProblem.TOO_PLAIN.value for value in hashes), grey


def test_flat_colours_are_refused_by_quality_and_nearly_all_by_value() -> None:
    rng = np.random.default_rng(5)
    values = []
    for colour in rng.integers(0, 256, (150, 3)):
        width, height = (int(n) for n in rng.integers(8, 900, 2))
        red, green, blue = (int(c) for c in colour)
        pixels = flat((red, green, blue), width, height)
        hashes, quality = pdq_from_pixels(pixels, (width, height))
        vector, _ = pdqhash.compute(pixels)
        for value in (hashes[0], pdq_bits_to_hex(vector)):
            assert refusal(value, quality) is not None
            values.append(value)
    plain = degenerate_rows(np.frombuffer(bytes.fromhex("".join(values)), np.uint8))
    assert plain.mean() >= 0.99


def test_gradients_are_refused_by_quality() -> None:
    y, x = np.mgrid[0:320, 0:480].astype(np.float32)
    for ramp in (x / 480, y / 320, (x + y) / 800):
        pixels = np.stack([ramp * 255] * 3, axis=-1).astype(np.uint8)
        signals = hash_content(png(pixels), LIMITS)
        assert refusal(signals.pdq.value, signals.pdq.quality) == PdqProblem.LOW_QUALITY.value


@pytest.mark.parametrize(
    ("value", "bits"),
    [
        ("0" * 64, 0),
        ("f" * 64, 256),
        ("f" * 15 + "e" + "0" * 48, 63),
        ("f" * 48 + "8" + "0" * 15, 193),
    ],
)
def test_all_zero_and_near_constant_hashes_are_refused(value: str, bits: int) -> None:
    found = signal_refusal(Signal.of("pdq", value, quality=100))
    assert found is not None
    assert found.code is PdqProblem.TOO_PLAIN
    assert f"{bits} of 256 bits set" in found.reason


def test_the_bit_count_band_is_inclusive() -> None:
    rng = random.Random(11)
    for target in (64, 192):
        while True:  # a full-rank hash with exactly `target` bits set
            value = sum(1 << bit for bit in rng.sample(range(256), target))
            if rank_reference(f"{value:064x}") == 16:
                break
        assert refusal(f"{value:064x}", 100) is None


def test_a_low_rank_bit_pattern_is_refused_at_rank_ten_and_accepted_at_eleven() -> None:
    rng = random.Random(5)
    for rank, expected in ((MIN_RANK - 1, PdqProblem.TOO_PLAIN.value), (MIN_RANK, None)):
        while True:  # 16 rows spanning exactly `rank` dimensions, about half the bits set
            basis = [rng.getrandbits(16) for _ in range(rank)]
            rows = basis + [_combination(basis, rng) for _ in range(16 - rank)]
            value = hash_of_rows(rows)
            if rank_reference(value) == rank and 100 <= int(value, 16).bit_count() <= 156:
                break
        assert refusal(value, 100) == expected


def _combination(basis: list[int], rng: random.Random) -> int:
    word = 0
    for row in basis:
        if rng.random() < 0.5:
            word ^= row
    return word


def test_quality_floors_are_50_for_the_whole_image_and_40_for_regions() -> None:
    assert refusal(GOOD, 49) == PdqProblem.LOW_QUALITY.value
    assert refusal(GOOD, 50) is None
    assert refusal(GOOD, 49, "rotate90") == PdqProblem.LOW_QUALITY.value
    assert refusal(GOOD, 40, "crop80:x00:y00") is None
    assert refusal(GOOD, 39, "crop80:x00:y00") == PdqProblem.LOW_QUALITY.value
    missing = signal_refusal(Signal.of("pdq", GOOD), quality_required=True)
    assert missing is not None
    assert missing.code is PdqProblem.QUALITY_MISSING
    assert signal_refusal(Signal.of("md5", "0" * 32)) is None  # digests are never refused


def test_the_fast_paths_agree_with_the_textbook_rank() -> None:
    rng = random.Random(9)
    values = [f"{rng.getrandbits(256):064x}" for _ in range(40)]
    for rank in range(17):
        basis = [rng.getrandbits(16) for _ in range(rank)]
        values.append(hash_of_rows([_combination(basis, rng) for _ in range(16)]))
    raw = np.frombuffer(bytes.fromhex("".join(values)), np.uint8)
    exact = gf2_ranks(raw.reshape(-1, 32).view(">u2").astype(np.uint16))
    assert exact.tolist() == [rank_reference(v) for v in values]
    signals = [Signal.of("pdq", v) for v in values]
    many = [r is not None for r in pdq_refusals(signals)]  # numpy path
    one_by_one = [signal_refusal(s) is not None for s in signals]  # plain Python path
    assert many == one_by_one == degenerate_rows(raw).tolist()


def test_content_of_a_blank_image_keeps_its_digests_only() -> None:
    signals = hash_content(png(flat((0, 0, 0), 300, 200)), LIMITS, purpose=Purpose.BANK)
    kept, refused = without_refused(signals.entry_signals())
    assert [s.type for s in kept] == ["md5", "sha256"]
    assert refused is not None
    assert refused.code is PdqProblem.LOW_QUALITY
    looked_up = hash_content(png(flat((0, 0, 0), 400, 300)), LIMITS, purpose=Purpose.LOOKUP)
    assert {s.type for s in matchable(looked_up.lookup_signals())} == {"md5", "sha256"}


def test_case_submit_leaves_out_a_pdq_hash_the_server_would_refuse() -> None:
    good = {"pdq": GOOD, "pdq_quality": 90, "md5": "cd" * 16, "sha256": "ab" * 32}
    plain = {"kind": "photo", "pdq": "0" * 64, "pdq_quality": 100, "sha256": "ef" * 32}
    old = {"pdq": GOOD, "sha256": "12" * 32}  # written before the quality was required
    report = _report_fields({"hashes": [good, plain, old]}, {})
    assert report["hashes"] == [good, {"sha256": "ef" * 32}, {"sha256": "12" * 32}]


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
@pytest.mark.parametrize("code", [problem.value for problem in PdqProblem])
def test_every_refusal_code_has_a_message_for_the_pages(code: str, lang: str) -> None:
    assert problem_message("hashes", code, lang) != f"hashes: {code}"
