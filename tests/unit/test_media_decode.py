"""Safe decoding: formats, EXIF orientation, colour modes, limits and damaged content."""

from __future__ import annotations

import io
import resource
import struct
import time
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from shieldwall.config import MediaLimits
from shieldwall.errors import (
    CorruptMediaError,
    DecompressionBombError,
    MediaError,
    MediaTooLargeError,
    UnsupportedMediaError,
)
from shieldwall.hashing.service import hash_content
from shieldwall.media.decode import claimed_format, decode_image
from shieldwall.signals.pdq import pdq_distance
from tests.support.images import scene

LIMITS = MediaLimits()
RANDOM_BYTES = np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    """The bytes of `image` saved as `fmt`."""
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk with its length and CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG that declares `width` x `height` RGB pixels but holds almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00"))
        + png_chunk(b"IEND", b"")
    )


def gif_header(width: int, height: int) -> bytes:
    """A tiny GIF whose screen and first frame declare `width` x `height` pixels."""
    screen = struct.pack("<HHBBB", width, height, 0, 0, 0)
    frame = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return b"GIF89a" + screen + frame + b"\x02\x02\x44\x01\x00;"


def one_line(error: BaseException) -> bool:
    """True for a message a person can read on one line."""
    text = str(error)
    return bool(text) and "\n" not in text and len(text) < 300


@pytest.fixture(scope="module")
def upright() -> Image.Image:
    """A benign photo-like scene."""
    return scene(7, 480, 320)


@pytest.fixture(scope="module")
def reference_pdq(upright: Image.Image) -> str:
    """PDQ of the scene saved losslessly."""
    return hash_content(encode(upright, "PNG"), LIMITS).pdq.value


@pytest.mark.parametrize(
    ("fmt", "mode", "options", "name", "max_distance"),
    [
        ("JPEG", "RGB", {"quality": 90}, "JPEG", 6),
        ("JPEG", "L", {"quality": 90}, "JPEG", 6),
        ("JPEG", "CMYK", {"quality": 90}, "JPEG", 6),
        ("PNG", "RGB", {}, "PNG", 0),
        ("WEBP", "RGB", {"quality": 90}, "WEBP", 6),
        ("WEBP", "RGB", {"lossless": True}, "WEBP", 0),
        ("GIF", "RGB", {}, "GIF", 12),
        ("BMP", "RGB", {}, "BMP", 0),
        ("TIFF", "RGB", {}, "TIFF", 0),
        ("TIFF", "CMYK", {"compression": "tiff_lzw"}, "TIFF", 2),
        ("HEIF", "RGB", {"quality": 90}, "HEIF", 6),
        ("PPM", "RGB", {}, "PPM", 0),
        ("PPM", "L", {}, "PPM", 4),
    ],
)
def test_every_format_decodes_to_the_same_hash(
    upright: Image.Image,
    reference_pdq: str,
    fmt: str,
    mode: str,
    options: dict[str, object],
    name: str,
    max_distance: int,
) -> None:
    data = encode(upright.convert(mode), fmt, **options)
    decoded = decode_image(data, LIMITS)
    assert decoded.format == name
    assert decoded.size == decoded.decoded_size == upright.size
    assert decoded.pixels.shape == (upright.height, upright.width, 3)
    assert decoded.pixels.dtype == np.uint8
    assert pdq_distance(hash_content(data, LIMITS).pdq.value, reference_pdq) <= max_distance


# For each EXIF orientation, how to store an upright picture so that viewers show it upright.
STORED_AS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def with_orientation(image: Image.Image, orientation: int, fmt: str = "JPEG") -> bytes:
    """`image` stored turned, with the EXIF orientation tag that turns it back."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = image.transpose(STORED_AS[orientation])
    options: dict[str, object] = {"quality": 95} if fmt == "JPEG" else {}
    return encode(stored, fmt, exif=exif.tobytes(), **options)


@pytest.mark.parametrize("orientation", sorted(STORED_AS))
def test_exif_orientation_is_applied(
    upright: Image.Image, reference_pdq: str, orientation: int
) -> None:
    data = with_orientation(upright, orientation)
    decoded = decode_image(data, LIMITS)
    assert decoded.size == upright.size
    assert pdq_distance(hash_content(data, LIMITS).pdq.value, reference_pdq) <= 6
    # Without the tag applied, the stored picture hashes far from the upright one.
    plain = encode(upright.transpose(STORED_AS[orientation]), "JPEG", quality=95)
    assert pdq_distance(hash_content(plain, LIMITS).pdq.value, reference_pdq) > 40


def test_exif_orientation_in_png_is_applied(upright: Image.Image, reference_pdq: str) -> None:
    data = with_orientation(upright, 6, fmt="PNG")
    assert decode_image(data, LIMITS).size == upright.size
    assert pdq_distance(hash_content(data, LIMITS).pdq.value, reference_pdq) <= 2


def test_orientation_after_reduced_decode_reports_upright_sizes() -> None:
    big = scene(3, 1600, 1200)
    decoded = decode_image(with_orientation(big, 6), LIMITS)
    assert decoded.size == (1600, 1200)
    assert decoded.decoded_size == (800, 600)
    assert decoded.pixels.shape == (600, 800, 3)
    assert decoded.reduced


def test_damaged_exif_is_ignored(upright: Image.Image) -> None:
    data = encode(upright, "JPEG", quality=90, exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff")
    assert decode_image(data, LIMITS).size == upright.size


def test_greyscale_with_alpha_is_composited_on_white() -> None:
    grey = Image.new("LA", (40, 30), (0, 0))
    grey.paste((0, 255), (0, 0, 20, 30))
    pixels = decode_image(encode(grey, "PNG"), LIMITS).pixels
    assert pixels[:, :20].max() == 0
    assert pixels[:, 20:].min() == 255


def test_rgba_is_composited_on_white() -> None:
    rgba = Image.new("RGBA", (40, 30), (200, 0, 0, 0))
    rgba.paste((200, 0, 0, 255), (0, 0, 20, 30))
    rgba.paste((0, 0, 0, 128), (20, 0, 40, 30))
    pixels = decode_image(encode(rgba, "PNG"), LIMITS).pixels
    assert tuple(pixels[0, 0]) == (200, 0, 0)
    assert all(abs(int(v) - 127) <= 1 for v in pixels[0, 30])


def test_palette_with_transparency_is_composited_on_white() -> None:
    image = Image.new("P", (30, 30), 1)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(0, (0, 0, 10, 30))
    pixels = decode_image(encode(image, "GIF", transparency=1), LIMITS).pixels
    assert tuple(pixels[0, 0]) == (255, 0, 0)
    assert tuple(pixels[0, 20]) == (255, 255, 255)


def test_sixteen_bit_greyscale_is_scaled_not_clipped() -> None:
    values = np.array([[0, 32768, 65535, 1000]], dtype=np.uint16).repeat(4, axis=0)
    data = encode(Image.fromarray(values), "PNG")
    pixels = decode_image(data, LIMITS).pixels
    assert pixels[0, :, 0].tolist() == [0, 128, 255, 3]


def test_float_and_bilevel_images_decode() -> None:
    floats = Image.fromarray(np.linspace(0, 1, 64 * 32, dtype=np.float32).reshape(32, 64))
    assert decode_image(encode(floats, "TIFF"), LIMITS).pixels[-1, -1, 0] == 255
    bilevel = Image.new("1", (32, 32), 1)
    assert decode_image(encode(bilevel, "PNG"), LIMITS).pixels.min() == 255


def test_only_the_first_frame_of_an_animation_is_decoded() -> None:
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "blue", "green")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    assert tuple(decode_image(data, LIMITS).pixels[5, 5]) == (255, 0, 0)


def test_only_the_first_page_of_a_tiff_is_decoded() -> None:
    pages = [Image.new("RGB", (32, 32), colour) for colour in ("blue", "red")]
    data = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    assert tuple(decode_image(data, LIMITS).pixels[5, 5]) == (0, 0, 255)


def test_full_size_decode_when_not_reducing() -> None:
    data = encode(scene(1, 1600, 1200), "JPEG", quality=90)
    assert decode_image(data, LIMITS, reduce_for_pdq=False).decoded_size == (1600, 1200)
    assert decode_image(data, LIMITS).decoded_size == (800, 600)


def test_non_jpeg_reduction_keeps_the_short_side() -> None:
    data = encode(scene(1, 1700, 1100), "PNG")
    decoded = decode_image(data, LIMITS)
    assert decoded.decoded_size == (850, 550)
    assert min(decoded.decoded_size) >= LIMITS.min_short_side


def test_content_over_the_byte_limit_is_refused() -> None:
    data = encode(scene(1), "PNG")
    with pytest.raises(MediaTooLargeError, match="over the limit of 1000 bytes") as caught:
        decode_image(data, MediaLimits(max_bytes=1000))
    assert one_line(caught.value)


@pytest.mark.parametrize(
    "data",
    [png_header(100_000, 100_000), png_header(12_000, 9_000), gif_header(65_535, 65_535)],
    ids=["png-10-gigapixels", "png-108-megapixels", "gif-4-gigapixels"],
)
def test_decompression_bombs_are_refused_from_the_header(data: bytes) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DecompressionBombError) as caught:
            decode_image(data, LIMITS)
    assert time.perf_counter() - started < 1.0
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 100_000
    assert one_line(caught.value)


def test_pixel_limit_is_the_configured_one() -> None:
    data = encode(scene(1, 200, 100), "PNG")
    with pytest.raises(DecompressionBombError, match="200x100 = 20000 pixels"):
        decode_image(data, MediaLimits(max_pixels=10_000))
    assert decode_image(data, MediaLimits(max_pixels=20_000)).size == (200, 100)


def test_truncated_jpeg_is_corrupt() -> None:
    data = encode(scene(2), "JPEG", quality=90)
    with pytest.raises(CorruptMediaError, match="corrupt JPEG image") as caught:
        decode_image(data[: len(data) // 2], LIMITS)
    assert one_line(caught.value)


def test_truncated_png_is_corrupt() -> None:
    data = encode(scene(2), "PNG")
    with pytest.raises(CorruptMediaError, match="corrupt PNG image"):
        decode_image(data[: len(data) // 2], LIMITS)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (RANDOM_BYTES, UnsupportedMediaError),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", UnsupportedMediaError),
        (b"just some text, not a picture\n", UnsupportedMediaError),
        (b"\xff\xd8\xff" + bytes(500), CorruptMediaError),
        (png_header(0, 10), CorruptMediaError),
        (gif_header(0, 0), CorruptMediaError),
    ],
    ids=["random", "pdf", "text", "jpeg-magic-then-zeros", "png-zero-width", "gif-zero-size"],
)
def test_bad_content_is_a_clear_error(data: bytes, error: type[MediaError]) -> None:
    with pytest.raises(error) as caught:
        decode_image(data, LIMITS)
    assert one_line(caught.value)


def test_formats_pillow_knows_but_shieldwall_does_not_are_unsupported() -> None:
    with pytest.raises(UnsupportedMediaError):
        decode_image(encode(scene(1, 64, 64), "PCX"), LIMITS)


def test_empty_content_is_an_error() -> None:
    with pytest.raises(MediaError, match="empty"):
        decode_image(b"", LIMITS)


def test_claimed_format_reads_magic_numbers() -> None:
    assert claimed_format(b"\xff\xd8\xff\xe0") == "JPEG"
    assert claimed_format(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "WEBP"
    assert claimed_format(b"\x00\x00\x00\x18ftypheic") == "HEIF"
    assert claimed_format(b"P5\n64 64\n255\n") == "PPM"
    assert claimed_format(b"PKzip") is None
    assert claimed_format(b"") is None


def test_multi_picture_jpeg_decodes_its_first_picture_at_reduced_scale() -> None:
    first, second = scene(1, 1600, 1200), scene(2, 1600, 1200)
    data = encode(first, "MPO", save_all=True, append_images=[second])
    decoded = decode_image(data, LIMITS)
    assert (decoded.format, decoded.decoded_size) == ("JPEG", (800, 600))
    expected = np.asarray(first.reduce(2), dtype=np.int16)
    assert np.abs(decoded.pixels.astype(np.int16) - expected).mean() < 4


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("JPEG", {"quality": 80}), ("PNG", {}), ("WEBP", {"quality": 80}), ("GIF", {}), ("TIFF", {})],
)
def test_damaged_content_never_raises_anything_but_media_errors(
    fmt: str, options: dict[str, object]
) -> None:
    data = encode(scene(1, 160, 120), fmt, **options)
    rng = np.random.default_rng(len(data))
    errors: list[MediaError] = []
    for _ in range(60):
        damaged = bytearray(data)
        if rng.random() < 0.5:
            for position in rng.integers(0, len(data), int(rng.integers(1, 9))):
                damaged[position] = int(rng.integers(0, 256))
        else:
            del damaged[int(rng.integers(1, len(data))) :]
        try:
            hash_content(bytes(damaged), LIMITS)
        except MediaError as error:  # anything else fails the test
            errors.append(error)
    assert all(one_line(error) for error in errors)
