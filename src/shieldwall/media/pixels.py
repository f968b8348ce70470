"""8-bit RGB from any Pillow mode, reduced by block averaging, one band of rows at a time.

Decoded 16-bit, float, alpha, palette and CMYK images are converted band by band, each
band reduced before the next is converted, so no full-size copy is ever made beyond the
decoded image itself, and wide samples are only widened a band at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

import numpy as np
from PIL import Image

from shieldwall.errors import UnsupportedMediaError

SIXTEEN_BIT_MODES: Final = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
ALPHA_MODES: Final = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
# About a megapixel a band: a band's few converted copies stay a few MiB, and the Python
# loop runs at most ~100 times on the largest image allowed.
_BAND_PIXELS: Final = 1 << 20

Band = Callable[[Image.Image], Image.Image]


def to_rgb(image: Image.Image, factor: int = 1) -> Image.Image:
    """8-bit RGB of any mode, block-averaged by `factor`, alpha composited on white."""
    if image.mode == "RGB" and "transparency" not in image.info:
        return image.reduce(factor) if factor > 1 else image
    if image.mode in ALPHA_MODES or "transparency" in image.info:
        # Averaging premultiplied colour then compositing equals compositing then averaging.
        return _banded(image, factor, _premultiplied, _on_white)
    converted = _banded(image, factor, _band_converter(image))
    return converted if converted.mode == "RGB" else converted.convert("RGB")


def reduced_size(size: tuple[int, int], factor: int) -> tuple[int, int]:
    """The size Image.reduce(factor) gives: each side divided by `factor`, rounded up."""
    return -(-size[0] // factor), -(-size[1] // factor)


def _banded(
    image: Image.Image, factor: int, convert: Band, finish: Band | None = None
) -> Image.Image:
    """Convert, reduce and finish each band of rows, pasting them into one reduced image."""
    out: Image.Image | None = None
    for top, band in _bands(image, factor):
        part = convert(band)
        if factor > 1:
            part = part.reduce(factor)
        if finish is not None:
            part = finish(part)
        if out is None:
            out = Image.new(part.mode, reduced_size(image.size, factor))
        out.paste(part, (0, top // factor))
    if out is None:  # no rows: Pillow never opens such an image, but stay total
        return Image.new("RGB", reduced_size(image.size, factor))
    return out


def _bands(image: Image.Image, factor: int) -> Iterator[tuple[int, Image.Image]]:
    """(top row, band) for bands a whole number of `factor` rows high, so that reducing band
    by band averages exactly the blocks reducing the whole image would."""
    width, height = image.size
    rows = max(1, _BAND_PIXELS // (max(width, 1) * factor)) * factor
    for top in range(0, height, rows):
        yield top, image.crop((0, top, width, min(top + rows, height)))


def _band_converter(image: Image.Image) -> Band:
    """How to turn one band of `image` into 8 bits, decided once for the whole image."""
    mode = image.mode
    if mode in SIXTEEN_BIT_MODES:
        return _sixteen_bit
    if mode == "I":
        high = image.getextrema()[1]
        return _wide_int if isinstance(high, int | float) and high > 255 else _narrow_int
    if mode == "F":
        scale = 255.0 if _float_max(image) <= 1.0 else 1.0
        return lambda band: _float(band, scale)
    return _plain


def _plain(band: Image.Image) -> Image.Image:
    try:
        return band.convert("RGB")
    except ValueError as exc:
        raise UnsupportedMediaError(f"unsupported colour mode {band.mode}") from exc


def _sixteen_bit(band: Image.Image) -> Image.Image:
    """The high byte of each 16-bit sample: scaled, not clipped."""
    return Image.fromarray((np.asarray(band) >> 8).astype(np.uint8), "L")


def _wide_int(band: Image.Image) -> Image.Image:
    """32-bit samples of an image whose values pass 255: clipped to 16 bits, then scaled."""
    values = np.clip(np.asarray(band), 0, 65535) >> 8
    return Image.fromarray(values.astype(np.uint8), "L")


def _narrow_int(band: Image.Image) -> Image.Image:
    values = np.clip(np.asarray(band), 0, 255)
    return Image.fromarray(values.astype(np.uint8), "L")


def _float_max(image: Image.Image) -> float:
    """The largest sample, NaN ignored (Pillow's getextrema is NaN if a NaN comes first)."""
    high = 0.0
    for _, band in _bands(image, 1):
        high = max(high, float(np.fmax.reduce(np.asarray(band), axis=None, initial=0.0)))
    return high


def _float(band: Image.Image, scale: float) -> Image.Image:
    """Float samples in 0-1 (scale 255) or 0-255 (scale 1) as bytes; NaN as 0."""
    # Damaged files carry NaN and infinities: they become 0 and 255, without warnings.
    with np.errstate(invalid="ignore", over="ignore"):
        floats = np.asarray(band, dtype=np.float64)  # a band-sized copy, worked on in place
        np.multiply(floats, scale, out=floats)
        np.clip(floats, 0, 255, out=floats)
        floats[np.isnan(floats)] = 0
        return Image.fromarray(floats.astype(np.uint8), "L")


def _premultiplied(band: Image.Image) -> Image.Image:
    if band.mode == "La":  # already premultiplied, but Pillow converts it only to LA
        band = band.convert("LA")
    return band.convert("RGBA").convert("RGBa")


def _on_white(premultiplied: Image.Image) -> Image.Image:
    """Composite premultiplied RGBa on white: colour + (255 - alpha), per channel."""
    values = np.asarray(premultiplied)
    colour = values[..., :3].astype(np.uint16) + (255 - values[..., 3:4])
    return Image.fromarray(np.minimum(colour, 255).astype(np.uint8), "RGB")
