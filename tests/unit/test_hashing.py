"""Content hashing: PDQ (fast path, dihedral variants, quality), MD5 and SHA-256."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable

import numpy as np
import pdqhash
import pytest
from PIL import Image, ImageChops

from shieldwall.config import MediaLimits
from shieldwall.errors import CorruptMediaError, MediaTooLargeError
from shieldwall.hashing.service import ContentSignals, hash_content
from shieldwall.media.decode import decode_image
from shieldwall.signals.models import DIHEDRAL_VARIANTS
from shieldwall.signals.pdq import pdq_bits_to_hex, pdq_distance
from tests.support.images import scene

LIMITS = MediaLimits()


def encode(image: Image.Image | np.ndarray, fmt: str = "PNG", **options: object) -> bytes:
    """The bytes of an image (or an RGB array) saved as `fmt`."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(np.ascontiguousarray(image), "RGB")
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo_like(seed: int, width: int, height: int) -> Image.Image:
    """A photo-like scene at any size, cheaply: a smooth scene enlarged, plus fine noise."""
    base = scene(seed, 640, 480).resize((width, height), Image.Resampling.BICUBIC)
    tile = np.random.default_rng(seed).integers(118, 139, (509, 503, 3), dtype=np.uint8)
    reps = (-(-height // tile.shape[0]), -(-width // tile.shape[1]), 1)
    noise = Image.fromarray(np.tile(tile, reps)[:height, :width], "RGB")
    return ImageChops.add(base, noise, scale=1.0, offset=-128)


def full_resolution_pdq(data: bytes) -> str:
    """The reference: pdqhash on the full-size decode, without any fast path."""
    pixels = decode_image(data, LIMITS, reduce_for_pdq=False).pixels
    return pdq_bits_to_hex(pdqhash.compute(np.ascontiguousarray(pixels))[0])


@pytest.fixture(scope="module")
def photos() -> dict[str, Image.Image]:
    """Photo-like scenes of about 0.3, 2 and 12 megapixels."""
    return {
        "0.3MP": photo_like(11, 640, 480),
        "2MP": photo_like(12, 1632, 1224),
        "12MP": photo_like(13, 4000, 3000),
    }


@pytest.mark.parametrize("quality", [80, 90, 95])
@pytest.mark.parametrize("size", ["0.3MP", "2MP", "12MP"])
def test_fast_path_stays_within_ten_bits_of_full_resolution(
    photos: dict[str, Image.Image], size: str, quality: int
) -> None:
    data = encode(photos[size], "JPEG", quality=quality)
    decoded = decode_image(data, LIMITS)
    if size != "0.3MP":
        assert decoded.reduced, "the DCT-domain fast path was not taken"
        assert min(decoded.decoded_size) >= LIMITS.min_short_side
    signals = hash_content(data, LIMITS)
    assert pdq_distance(signals.pdq.value, full_resolution_pdq(data)) <= 10


def test_digests_are_of_the_original_bytes() -> None:
    small = encode(scene(1, 64, 48))
    large = encode(photo_like(2, 1200, 900), "PNG")  # big enough to hash in a thread
    for data in (small, large):
        signals = hash_content(data, LIMITS)
        assert signals.md5.value == hashlib.md5(data).hexdigest()
        assert signals.sha256.value == hashlib.sha256(data).hexdigest()


def test_signals_and_json_shape() -> None:
    data = encode(scene(3))
    signals = hash_content(data, LIMITS)
    assert isinstance(signals, ContentSignals)
    assert [s.type for s in signals.signals()] == ["pdq", "md5", "sha256"]
    assert signals.pdq.variant == "original"
    assert signals.pdq_variants == ()
    as_json = signals.as_json()
    assert as_json == {
        "pdq": signals.pdq.value,
        "pdq_quality": signals.pdq.quality,
        "pdq_low_quality": False,
        "md5": hashlib.md5(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    assert len(as_json["pdq"]) == 64
    assert isinstance(as_json["pdq_quality"], int)
    assert as_json["pdq_quality"] >= 50


def test_flat_image_is_flagged_low_quality() -> None:
    signals = hash_content(encode(Image.new("RGB", (300, 200), (120, 130, 140))), LIMITS)
    assert signals.pdq.quality is not None
    assert signals.pdq.quality < 50
    assert signals.pdq.low_quality
    assert signals.as_json()["pdq_low_quality"] is True


def test_small_image_hash_is_exactly_pdqhash_in_meta_hex() -> None:
    image = scene(4, 240, 160)
    bits, quality = pdqhash.compute(np.asarray(image))
    text = "".join(str(int(bit)) for bit in bits)
    expected = f"{int(text, 2):064x}"
    signals = hash_content(encode(image), LIMITS)
    assert signals.pdq.value == expected
    assert signals.pdq.quality == quality


TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "original": lambda a: a,
    "rotate90": lambda a: np.rot90(a, 1),  # counter-clockwise, as Image.Transpose.ROTATE_90
    "rotate180": lambda a: np.rot90(a, 2),
    "rotate270": lambda a: np.rot90(a, 3),
    "mirror": np.fliplr,  # left-right, as ImageOps.mirror
    "flip": np.flipud,  # top-bottom, as ImageOps.flip
    "transpose": lambda a: a.transpose(1, 0, 2),
    "transverse": lambda a: np.rot90(a, 2).transpose(1, 0, 2),
}


def test_transforms_named_as_pillow_names_them() -> None:
    pixels = np.asarray(scene(5, 96, 64))
    image = Image.fromarray(pixels)
    pillow = {
        "rotate90": Image.Transpose.ROTATE_90,
        "rotate180": Image.Transpose.ROTATE_180,
        "rotate270": Image.Transpose.ROTATE_270,
        "mirror": Image.Transpose.FLIP_LEFT_RIGHT,
        "flip": Image.Transpose.FLIP_TOP_BOTTOM,
        "transpose": Image.Transpose.TRANSPOSE,
        "transverse": Image.Transpose.TRANSVERSE,
    }
    for name, method in pillow.items():
        assert np.array_equal(np.asarray(image.transpose(method)), TRANSFORMS[name](pixels))


# 576 = 64 * 9 and 320 = 64 * 5: PDQ's box windows are odd and its sample points symmetric,
# so a transformed image hashes exactly as the matching dihedral variant says.
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dihedral_variants_are_named_for_their_transform(seed: int) -> None:
    pixels = np.asarray(scene(seed, 576, 320))
    signals = hash_content(encode(pixels), LIMITS, dihedral=True)
    variants = {s.variant: s for s in signals.pdq_variants}
    assert tuple(variants) == DIHEDRAL_VARIANTS
    assert signals.pdq == signals.pdq_variants[0]
    assert all(s.quality == signals.pdq.quality for s in signals.pdq_variants)
    for name, transform in TRANSFORMS.items():
        hashed = hash_content(encode(transform(pixels)), LIMITS).pdq.value
        assert pdq_distance(hashed, variants[name].value) <= 2, name
        others = [pdq_distance(hashed, s.value) for n, s in variants.items() if n != name]
        assert min(others) > 64, name


@pytest.mark.parametrize("size", [(256, 192), (481, 321), (1201, 901)])
def test_each_transform_is_nearest_its_own_variant_at_any_size(size: tuple[int, int]) -> None:
    pixels = np.asarray(scene(4, *size))
    data = encode(pixels, "JPEG", quality=95)
    variants = {s.variant: s.value for s in hash_content(data, LIMITS, dihedral=True).pdq_variants}
    for name, transform in TRANSFORMS.items():
        hashed = hash_content(encode(transform(pixels), "JPEG", quality=95), LIMITS).pdq.value
        distances = {n: pdq_distance(hashed, value) for n, value in variants.items()}
        assert min(distances, key=lambda n: distances[n]) == name


def test_hash_errors_are_media_errors() -> None:
    data = encode(scene(6), "JPEG", quality=90)
    with pytest.raises(CorruptMediaError):
        hash_content(data[: len(data) // 2], LIMITS)
    with pytest.raises(MediaTooLargeError):
        hash_content(data, MediaLimits(max_bytes=100))


def test_large_corrupt_content_is_an_error_too() -> None:
    data = encode(photo_like(7, 1600, 1200), "PNG")
    assert len(data) > 256 * 1024
    with pytest.raises(CorruptMediaError):
        hash_content(data[:-2000], LIMITS)
