"""Memory budget and concurrency bound for decoding: refuse before decoding, queue beyond N.

A decode's cost is estimated from its header alone, as pixels x bytes per pixel (as Pillow
stores the mode) x the full-size copies its decoder makes, plus the output. Only
`max_concurrent_decodes` decodes per process hold their buffers at once; others wait.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from shieldwall.errors import DecompressionBombError
from shieldwall.media.limits import MediaLimits

MIB: Final = 1024 * 1024
# Pillow keeps 1-bit, grey and palette images in one byte a pixel, 16-bit grey in two, and
# every other mode (RGB included: it is padded) in four.
_ONE_BYTE: Final = frozenset({"1", "L", "P"})
_TWO_BYTES: Final = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
# Full-size copies a format's decoder holds at its peak, measured with ru_maxrss: libwebp's
# animation decoder keeps two canvases, hands Pillow a bytes copy that Pillow decodes into
# the image (four); pillow-heif decodes into its own buffer first (two); the others decode
# straight into the image.
_COPIES: Final = {"WEBP": 4, "HEIF": 2}
# The output: Pillow's RGB image (4 bytes a pixel) and the numpy array made from it (3).
_OUTPUT_BYTES: Final = 4 + 3


def bytes_per_pixel(mode: str) -> int:
    """How many bytes Pillow uses for one pixel of an image in `mode`."""
    if mode in _ONE_BYTE:
        return 1
    return 2 if mode in _TWO_BYTES else 4


def decode_cost(fmt: str, mode: str, size: tuple[int, int], out_size: tuple[int, int]) -> int:
    """Estimated peak bytes to decode a `size` image in `mode` into `out_size` RGB pixels."""
    width, height = size
    out_width, out_height = out_size
    source = width * height * bytes_per_pixel(mode) * _COPIES.get(fmt, 1)
    return source + out_width * out_height * _OUTPUT_BYTES


def check_budget(
    fmt: str, mode: str, size: tuple[int, int], out_size: tuple[int, int], limits: MediaLimits
) -> None:
    """Refuse, before any pixel is decoded, a decode estimated over `limits.max_decode_bytes`."""
    cost = decode_cost(fmt, mode, size, out_size)
    if cost > limits.max_decode_bytes:
        width, height = size
        raise DecompressionBombError(
            f"{fmt} image of {width}x{height} pixels in mode {mode} needs about "
            f"{_mib(cost)} MiB to decode, over the limit of {_mib(limits.max_decode_bytes)} MiB"
        )


@contextmanager
def decode_slot(limits: MediaLimits) -> Iterator[None]:
    """Hold one of the process's `limits.max_concurrent_decodes` slots while decoding."""
    slots = decode_slots(limits.max_concurrent_decodes)
    with slots:
        yield


@functools.cache
def decode_slots(count: int) -> threading.BoundedSemaphore:
    """The process-wide semaphore for `count` concurrent decodes (one per distinct count)."""
    return threading.BoundedSemaphore(count)


def _mib(size: int) -> str:
    return f"{size / MIB:,.0f}" if size >= MIB else f"{size / MIB:.2f}"
