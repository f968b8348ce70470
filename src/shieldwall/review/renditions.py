"""Renditions of content under review, made on the server: blurred greyscale by default, and
the re-encoded original for an explicit reveal. No I/O beyond decoding and encoding.

Content goes through the project's safe decoder (media/decode.py: byte, pixel and memory
limits, corrupt files refused with a MediaError) and is rebuilt from its pixels alone, so no
rendition carries the original's metadata (EXIF, GPS, XMP, ICC, comments) or its bytes.
"""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Final

from PIL import Image, ImageFilter

from shieldwall.errors import InvalidInputError
from shieldwall.media.decode import decode_image
from shieldwall.media.limits import MediaLimits

MAX_BLUR: Final = 100
"""The strongest blur radius accepted, in pixels of the rendition."""
MAX_RENDITION_SIDE: Final = 4096
BLURRED_QUALITY: Final = 80
ORIGINAL_QUALITY: Final = 90
# Formats whose content is usually drawn or screenshot: kept lossless on reveal.
_LOSSLESS_SOURCES: Final = frozenset({"PNG", "GIF", "BMP", "TIFF", "PPM"})


def blurred_rendition(data: bytes, limits: MediaLimits, blur: int, *, max_side: int = 640) -> bytes:
    """A greyscale JPEG of the content, at most `max_side` on its long side, blurred.

    `blur` is the Gaussian radius in pixels of the rendition (0: greyscale only). Every
    decoding failure is a MediaError; a bad `blur` or `max_side` an InvalidInputError.
    """
    if isinstance(blur, bool) or not isinstance(blur, int) or not 0 <= blur <= MAX_BLUR:
        raise InvalidInputError(f"blur is a radius of 0-{MAX_BLUR} pixels")
    image, _ = _upright(data, limits, max_side)
    grey = image.convert("L")
    if blur:
        grey = grey.filter(ImageFilter.GaussianBlur(radius=blur))
    return _encode(grey, "JPEG", quality=BLURRED_QUALITY)


def original_rendition(data: bytes, limits: MediaLimits, max_side: int = 1600) -> tuple[bytes, str]:
    """The content's pixels re-encoded, upright, at most `max_side`, and their media type.

    No metadata survives (EXIF and its GPS position, XMP, ICC, comments). Lossless sources
    (PNG, GIF, BMP, TIFF, PPM) come back as PNG, photos (JPEG, WebP, HEIF) as JPEG.
    """
    image, source_format = _upright(data, limits, max_side)
    if source_format in _LOSSLESS_SOURCES:
        return _encode(image, "PNG"), "image/png"
    return _encode(image, "JPEG", quality=ORIGINAL_QUALITY), "image/jpeg"


def _upright(data: bytes, limits: MediaLimits, max_side: int) -> tuple[Image.Image, str]:
    """The decoded RGB pixels, EXIF orientation applied, shrunk to at most `max_side`, and
    the source's format."""
    if not 16 <= max_side <= MAX_RENDITION_SIDE:
        raise InvalidInputError(f"a rendition's side is 16-{MAX_RENDITION_SIDE} pixels")
    # Big JPEGs decode at a reduced DCT scale and other formats by block averaging, but
    # never below `max_side` on the short side: no detail the rendition keeps is lost.
    decoded = decode_image(data, replace(limits, min_short_side=max_side), reduce_for_pdq=True)
    image = Image.fromarray(decoded.pixels, "RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image, decoded.format


def _encode(image: Image.Image, fmt: str, **options: int) -> bytes:
    """The image encoded with nothing but its pixels: no EXIF, ICC, XMP or comment."""
    buffer = io.BytesIO()
    # Pixels from an array carry no info; cleared anyway, as Pillow writes some of its keys
    # (icc_profile, exif, dpi) into the file when they are present.
    image.info = {}
    image.save(buffer, fmt, **options)
    return buffer.getvalue()
