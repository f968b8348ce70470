"""The limits applied before and while decoding content (part of the settings)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

MIB: Final = 1024 * 1024


@dataclass(frozen=True)
class MediaLimits:
    """Limits applied before and while decoding content."""

    max_bytes: int = 50 * MIB
    max_pixels: int = 100_000_000
    # PDQ only looks at a 64x64 luminance view; decoding big JPEGs at a reduced DCT scale
    # down to this short side keeps the hash within a few bits of the full-size one.
    min_short_side: int = 512
    # Estimated peak memory of one decode (media/budget.py), checked from the header. The
    # costliest 8-bit image within max_pixels on the hashing path is a 100-megapixel WebP:
    # libwebp and Pillow hold four 4-byte copies of it, 1.6 GB; 2 GiB lets it and every
    # other 8-bit image up to max_pixels decode. 16-bit and float images cost no more.
    max_decode_bytes: int = 2048 * MIB
    # Decodes one process runs at once (others wait): the HTTP server decodes in a pool of
    # up to 40 threads, and each decode may hold max_decode_bytes.
    max_concurrent_decodes: int = 2
