"""Renditions for reviewers: blurred greyscale by default, a clean re-encoded original on
reveal; both made through the safe decoder from benign generated images."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from shieldwall.errors import (
    CorruptMediaError,
    DecompressionBombError,
    InvalidInputError,
    MediaError,
    UnsupportedMediaError,
)
from shieldwall.hashing.service import hash_content
from shieldwall.media.limits import MediaLimits
from shieldwall.review.renditions import blurred_rendition, original_rendition
from shieldwall.signals.pdq import pdq_distance
from tests.support.edits import jpeg_bytes
from tests.support.images import sample_photos, scene

LIMITS = MediaLimits()
ORIENTATION = 0x0112
GPS_IFD = 0x8825
SECRET = b"Secret Street 12"


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def high_frequency_energy(pixels: npt.NDArray[np.float64]) -> float:
    """The variance of the discrete Laplacian: edges and fine detail."""
    laplacian = (
        4 * pixels[1:-1, 1:-1]
        - pixels[:-2, 1:-1]
        - pixels[2:, 1:-1]
        - pixels[1:-1, :-2]
        - pixels[1:-1, 2:]
    )
    return float(laplacian.var())


def grey_pixels(data: bytes) -> npt.NDArray[np.float64]:
    return np.asarray(opened(data).convert("L"), dtype=np.float64)


def pdq(data: bytes) -> str:
    return hash_content(data, LIMITS).pdq.value


def photo_jpegs() -> list[tuple[str, bytes]]:
    photos = [(name, jpeg_bytes(image)) for name, image in sample_photos()[:5]]
    return [("scene", jpeg_bytes(scene(3, 1200, 800))), *photos]


def with_metadata(image: Image.Image) -> bytes:
    """A JPEG with EXIF (orientation 6: turn 90 degrees clockwise, a GPS position, a camera
    owner) and a comment."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0xA430] = SECRET.decode()  # CameraOwnerName
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 1.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, exif=exif.tobytes(), comment=SECRET)
    return buffer.getvalue()


def test_the_blurred_rendition_is_a_small_greyscale_jpeg() -> None:
    data = jpeg_bytes(scene(1, 1200, 800))
    rendition = opened(blurred_rendition(data, LIMITS, 8))
    assert rendition.format == "JPEG"
    assert rendition.mode == "L"
    assert rendition.size == (640, 427)


@pytest.mark.parametrize("max_side", [200, 640])
def test_the_long_side_is_at_most_max_side_and_small_images_are_not_enlarged(
    max_side: int,
) -> None:
    tall = opened(blurred_rendition(jpeg_bytes(scene(2, 300, 900)), LIMITS, 4, max_side=max_side))
    small = opened(blurred_rendition(jpeg_bytes(scene(2, 160, 120)), LIMITS, 4, max_side=max_side))
    assert max(tall.size) == max_side
    assert tall.size[0] == round(300 * max_side / 900)
    assert small.size == (160, 120)


def test_blur_removes_fine_detail() -> None:
    for name, data in photo_jpegs():
        sharp = high_frequency_energy(grey_pixels(blurred_rendition(data, LIMITS, 0)))
        blurred = high_frequency_energy(grey_pixels(blurred_rendition(data, LIMITS, 8)))
        assert blurred < sharp / 10, name


def test_strong_blur_is_far_from_the_original_in_pdq_and_no_blur_is_close() -> None:
    # PDQ reads a 64x64 view and is built to survive blur: only a radius of about 5% of
    # the rendition's side moves it far. Greyscale alone leaves it where it was.
    for name, data in photo_jpegs():
        original = pdq(data)
        assert pdq_distance(original, pdq(blurred_rendition(data, LIMITS, 0))) <= 12, name
        assert pdq_distance(original, pdq(blurred_rendition(data, LIMITS, 32))) >= 50, name


def test_renditions_carry_no_metadata_and_are_upright() -> None:
    data = with_metadata(scene(4, 300, 200))
    assert SECRET in data
    assert opened(data).getexif()[ORIENTATION] == 6
    blurred = blurred_rendition(data, LIMITS, 4)
    original, media_type = original_rendition(data, LIMITS)
    assert media_type == "image/jpeg"
    for rendition in (blurred, original):
        image = opened(rendition)
        assert SECRET not in rendition
        assert b"Exif" not in rendition
        assert not image.getexif()
        assert "comment" not in image.info
        assert "icc_profile" not in image.info
        assert image.size == (200, 300)  # the orientation was applied, then dropped


def test_the_original_rendition_keeps_the_pixels() -> None:
    source = scene(5, 480, 320)
    rendition, media_type = original_rendition(jpeg_bytes(source), LIMITS)
    image = opened(rendition)
    assert (media_type, image.format, image.mode, image.size) == (
        "image/jpeg",
        "JPEG",
        "RGB",
        source.size,
    )
    difference = np.abs(np.asarray(image, dtype=np.int16) - np.asarray(source, dtype=np.int16))
    assert difference.mean() < 4


def test_a_png_comes_back_as_a_png_without_its_text_chunks() -> None:
    source = scene(6, 2000, 500)
    info = PngInfo()
    info.add_text("Author", SECRET.decode())
    buffer = io.BytesIO()
    source.save(buffer, "PNG", pnginfo=info)
    rendition, media_type = original_rendition(buffer.getvalue(), LIMITS)
    image = opened(rendition)
    assert (media_type, image.format, image.size) == ("image/png", "PNG", (1600, 400))
    assert SECRET not in rendition
    assert not image.text  # type: ignore[attr-defined]


def test_the_original_is_shrunk_to_max_side() -> None:
    rendition, _ = original_rendition(jpeg_bytes(scene(7, 1200, 900)), LIMITS, max_side=400)
    assert opened(rendition).size == (400, 300)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, CorruptMediaError),
        (jpeg_bytes(scene(8))[:600], CorruptMediaError),
        (b"%PDF-1.7 not an image", UnsupportedMediaError),
        (b"", MediaError),
    ],
)
def test_corrupt_content_raises_the_media_error(data: bytes, error: type[MediaError]) -> None:
    with pytest.raises(error):
        blurred_rendition(data, LIMITS, 4)
    with pytest.raises(error):
        original_rendition(data, LIMITS)


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    tight = MediaLimits(max_pixels=100 * 100)
    with pytest.raises(DecompressionBombError):
        blurred_rendition(jpeg_bytes(scene(9, 480, 320)), tight, 4)


@pytest.mark.parametrize(("blur", "max_side"), [(-1, 640), (101, 640), (4, 0), (4, 10_000)])
def test_bad_settings_are_refused(blur: int, max_side: int) -> None:
    with pytest.raises(InvalidInputError, match=r"blur|side"):
        blurred_rendition(jpeg_bytes(scene(10)), LIMITS, blur, max_side=max_side)
