"""Seeds for the fuzzer: tiny benign images in every format and mode, hashes, a report."""

from __future__ import annotations

import functools
import io
from typing import Any, Final

import numpy as np
from PIL import Image

from tests.support.images import scene

PDQ: Final = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5: Final = "d41d8cd98f00b204e9800998ecf8427e"
SHA256: Final = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
IMAGE_TOKENS: Final = (
    b"IHDR",
    b"IDAT",
    b"IEND",
    b"PLTE",
    b"tRNS",
    b"eXIf",
    b"acTL",
    b"fcTL",
    b"\xff\xd8\xff\xe0",
    b"\xff\xc0",
    b"\xff\xc2",
    b"\xff\xc4",
    b"\xff\xda",
    b"\xff\xd9",
    b"\xff\xe1Exif\x00\x00",
    b"MM\x00*",
    b"II*\x00",
    b"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06",  # EXIF orientation 6, big-endian
    b"RIFF",
    b"WEBPVP8 ",
    b"VP8L",
    b"VP8X",
    b"ANIM",
    b"ANMF",
    b"ALPH",
    b"GIF89a",
    b"NETSCAPE2.0",
    b"!\xf9\x04",
    b"BM",
    b"P5\n",
    b"65535\n",
    b"ftypheic",
    b"\xff" * 8,
    b"\x00" * 64,
)


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@functools.cache
def image_seeds() -> tuple[bytes, ...]:
    """About twenty small images: every format, colour mode and option decode_image handles."""
    rgb = scene(11, 64, 48)
    rgba = rgb.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(rgb.size))
    grey16 = Image.fromarray(np.asarray(rgb.convert("L")).astype(np.uint16) * 257)
    floats = Image.fromarray(np.asarray(rgb.convert("L")).astype(np.float32) / 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    frames = [scene(12, 48, 42), scene(13, 48, 42)]
    seeds = [
        _save(rgb, "PNG"),
        _save(rgba, "PNG"),
        _save(rgb.convert("P"), "PNG", transparency=0),
        _save(rgba.convert("LA"), "PNG"),
        _save(grey16, "PNG"),
        _save(rgb.convert("1"), "PNG"),
        _save(rgb, "PNG", exif=exif.tobytes()),
        _save(rgb, "JPEG", quality=80, exif=exif.tobytes()),
        _save(rgb, "JPEG", quality=70, progressive=True),
        _save(rgb.convert("CMYK"), "JPEG"),
        _save(rgb.convert("L"), "JPEG"),
        _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=40, loop=0),
        _save(rgb, "TIFF", compression="tiff_lzw"),
        _save(floats, "TIFF"),
        _save(rgb, "TIFF", save_all=True, append_images=[rgb.convert("L")]),
        _save(rgb, "WEBP", quality=60),
        _save(rgba, "WEBP", lossless=True),
        _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=40),
        _save(rgb, "BMP"),
        _save(rgb, "PPM"),
        _save(grey16, "PPM"),
    ]
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        seeds.append(_save(rgb, "HEIF", quality=50))
    except ImportError:  # HEIF is optional; its seed is too
        pass
    return tuple(seeds)


def report_dict() -> dict[str, Any]:
    """A valid report as the victims' page posts it."""
    return {
        "reporter": "guardian",
        "name": "A. Parent",
        "email": "parent@example.org",
        "signature": "A. Parent",
        "signature_confirmed": True,
        "good_faith": True,
        "accurate": "on",
        "country": "ES",
        "depicted_minor": True,
        "language": "es",
        "locators": [
            {"kind": "url", "value": "https://chat.example/c/123/m/9"},
            {"kind": "text", "value": "school group 3B"},
        ],
        "hashes": [
            {"pdq": PDQ, "pdq_quality": 90, "md5": MD5, "sha256": SHA256},
            {"sha256": SHA256.upper()},
        ],
    }
