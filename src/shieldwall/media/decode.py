"""Safe decoding of image content: byte and pixel limits, EXIF orientation, fast JPEG scaling.

Every failure is a MediaError with a one-line message; nothing here crashes on bad input.
The pixel limit and the memory budget are checked from the header, before any pixel is
decoded; at most `max_concurrent_decodes` decodes run at once in a process; only the first
frame of animated or multi-page files is ever decoded; and 16-bit, float and alpha images
are reduced band by band (media/pixels.py), never widened at full size.
"""

from __future__ import annotations

import functools
import io
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from shieldwall.errors import (
    CorruptMediaError,
    DecompressionBombError,
    MediaError,
    MediaTooLargeError,
    ShieldwallError,
    UnsupportedMediaError,
)
from shieldwall.media.budget import check_budget, decode_slot
from shieldwall.media.limits import MediaLimits
from shieldwall.media.models import DecodedImage
from shieldwall.media.pixels import reduced_size, to_rgb

SUPPORTED: Final = "JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC/HEIF, PGM/PPM"
"""The formats decode_image accepts, as shown to people."""

# Pillow's names for them. Pillow's JPEG opener also returns MPO, the multi-picture JPEG
# many phone cameras write; HEIF joins the list once pillow-heif is registered.
_PILLOW_FORMATS: Final = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "PPM")
_JPEG_FORMATS: Final = frozenset({"JPEG", "MPO"})
_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_DRAFT_SCALES: Final = (8, 4, 2)  # the DCT-domain scales libjpeg can decode at
_ORIENTATION_TAG: Final = 0x0112
_TRANSPOSES: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_MAX_REASON: Final = 160
# Pillow warns of big images on open and again on load (TIFF) though our own pixel limit and
# budget are checked first: only noise on stderr. One filter set at import is thread-safe,
# where catch_warnings around each load, in the server's decoding threads, is not.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def check_content_size(size: int, limits: MediaLimits) -> None:
    """Refuse content of `size` bytes when it is over `limits.max_bytes`."""
    if size > limits.max_bytes:
        raise MediaTooLargeError(
            f"content is {size} bytes, over the limit of {limits.max_bytes} bytes"
        )


def read_content(path: Path, limits: MediaLimits) -> bytes:
    """The bytes of a file, refusing files over `limits.max_bytes` before and while reading."""
    try:
        with open(path, "rb") as handle:
            check_content_size(os.fstat(handle.fileno()).st_size, limits)
            # One byte more than allowed tells a file that grew, or a pipe, from one at the limit.
            data = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise MediaError(f"cannot read {path}: {_os_reason(exc)}") from exc
    if len(data) > limits.max_bytes:
        raise MediaTooLargeError(f"content is over the limit of {limits.max_bytes} bytes")
    return data


def decode_image(data: bytes, limits: MediaLimits, *, reduce_for_pdq: bool = True) -> DecodedImage:
    """Decode content into upright RGB pixels within `limits`; every failure is a MediaError.

    With `reduce_for_pdq`, JPEGs are decoded at the smallest DCT scale (1/2, 1/4 or 1/8) and
    other formats reduced by whole-pixel block averaging, keeping the short side at least
    `limits.min_short_side`: PDQ (see signals.pdq_pixels) hashes such views to within a few
    bits of the full-size hash, many times faster.
    """
    check_content_size(len(data), limits)
    if not data:
        raise MediaError("content is empty (0 bytes)")
    claimed = claimed_format(data[:16])
    image = _open(data, claimed)
    name = "JPEG" if image.format in _JPEG_FORMATS else str(image.format)
    width, height = image.size
    _check_pixels(name, width, height, limits)
    with _decoding(name):
        if reduce_for_pdq and name == "JPEG":
            _draft(image, limits.min_short_side)
    # Sizes after the draft: a JPEG decoded at 1/8 scale holds 1/64 of the pixels.
    factor = _reduction(image.size, limits.min_short_side) if reduce_for_pdq else 1
    check_budget(name, image.mode, image.size, reduced_size(image.size, factor), limits)
    with decode_slot(limits), _decoding(name):
        image.load()
        orientation = _orientation(image)
        rgb = to_rgb(image, factor)
        if rgb is not image:
            image.close()  # the full-size pixels go now, before the array is made
        if orientation in _TRANSPOSES:
            rgb = rgb.transpose(_TRANSPOSES[orientation])
        pixels = np.asarray(rgb)
    if orientation >= 5:
        width, height = height, width
    return DecodedImage(
        pixels=pixels,
        format=name,
        size=(width, height),
        decoded_size=(pixels.shape[1], pixels.shape[0]),
    )


def claimed_format(head: bytes) -> str | None:
    """The format the first bytes of content announce, or None; says nothing of the rest."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:2] == b"BM":
        return "BMP"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "HEIF"
    if len(head) >= 3 and head[:1] == b"P" and head[1:2] in (b"1", b"2", b"3", b"4", b"5", b"6"):
        return "PPM" if head[2:3].isspace() else None
    return None


def _open(data: bytes, claimed: str | None) -> ImageFile.ImageFile:
    """Read the header only; Pillow decodes pixels later, on load."""
    formats: tuple[str, ...] = _PILLOW_FORMATS
    if claimed == "HEIF":
        _register_heif()
        formats = (*formats, "HEIF")
    try:
        with warnings.catch_warnings():
            # Pillow warns about damaged metadata, and about big images though our own pixel
            # limit is checked right after: for us these warnings are only noise on stderr.
            warnings.simplefilter("ignore")
            return Image.open(io.BytesIO(data), formats=formats)
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(f"image declares too many pixels: {_reason(exc)}") from exc
    except UnidentifiedImageError as exc:
        if claimed:
            raise CorruptMediaError(f"corrupt {claimed} image: cannot read its header") from exc
        raise UnsupportedMediaError(f"not an image in a supported format ({SUPPORTED})") from exc
    except Exception as exc:  # decoders raise many types on damaged headers
        raise CorruptMediaError(f"corrupt {claimed or 'image'}: {_reason(exc)}") from exc


@functools.cache
def _register_heif() -> None:
    """Teach Pillow HEIC/HEIF, once per process, and only when such content turns up."""
    try:
        import pillow_heif
    except ImportError as exc:
        raise UnsupportedMediaError("HEIC/HEIF needs the pillow-heif package") from exc
    pillow_heif.register_heif_opener()


def _check_pixels(name: str, width: int, height: int, limits: MediaLimits) -> None:
    if width <= 0 or height <= 0:
        raise CorruptMediaError(f"corrupt {name} image: it is {width}x{height} pixels")
    if width * height > limits.max_pixels:
        raise DecompressionBombError(
            f"{name} image is {width}x{height} = {width * height} pixels, "
            f"over the limit of {limits.max_pixels} pixels"
        )


def _scale_for(short_side: int, min_short_side: int, scales: tuple[int, ...]) -> int:
    """The largest scale that keeps the reduced short side at least `min_short_side`."""
    for scale in scales:
        if -(-short_side // scale) >= min_short_side:
            return scale
    return 1


def _draft(image: ImageFile.ImageFile, min_short_side: int) -> None:
    """Ask libjpeg to decode at 1/2, 1/4 or 1/8 scale straight from the DCT coefficients."""
    width, height = image.size
    scale = _scale_for(min(width, height), min_short_side, _DRAFT_SCALES)
    if scale > 1:
        # Pillow picks the largest scale whose result is at least the size asked for; asking
        # for the floor of size/scale makes that exactly `scale`.
        image.draft("RGB", (width // scale, height // scale))


def _reduction(size: tuple[int, int], min_short_side: int) -> int:
    """The block-averaging factor (Image.reduce) that keeps the short side at its floor."""
    return max(1, min(size) // min_short_side)


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1-8); damaged or missing EXIF counts as upright."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about damaged EXIF; we ignore it
            value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # broken EXIF is common and never a reason to refuse the pixels
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


@contextmanager
def _decoding(name: str) -> Iterator[None]:
    """Turn whatever a decoder raises on damaged data into one clear MediaError."""
    try:
        yield
    except ShieldwallError:
        raise
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(f"image declares too many pixels: {_reason(exc)}") from exc
    except MemoryError as exc:
        raise MediaTooLargeError(f"{name} image needs more memory than is available") from exc
    except Exception as exc:  # libjpeg, zlib, libwebp, libtiff, libheif: many error types
        raise CorruptMediaError(f"corrupt {name} image: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."


def _os_reason(exc: OSError) -> str:
    return (exc.strerror or _reason(exc)).lower()
