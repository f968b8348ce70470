"""PDQ of decoded pixels, exact to within a bit or two even when the decode was reduced.

pdqhash blurs an image's luminance with two passes of a box filter whose window grows with
the image size (a Jarosz filter), samples a 64x64 grid from the result, and hashes that
grid. Handing it a decode reduced by 2, 4 or 8 changes the window and the sample points
enough to flip up to 16 of the 256 bits. So instead we compute the 64x64 grid that the
full-size image would give: each grid value is a fixed weighted sum of full-size pixels,
and a reduced pixel is the mean of a block of full-size pixels, so its weight is the sum
of the weights over its block. pdqhash then hashes that grid as it is (at 64x64 its filter
window is one pixel and its sampling is the identity), so the DCT, the bits and the quality
are Meta's, from a grid handed over to within 0.1 of a grey level. On BSDS500 photos at 2
and 12 megapixels (bench/hashing.py) this stays within 2 bits of the full-size hash.
"""

from __future__ import annotations

import functools
from typing import Final

import numpy as np
import numpy.typing as npt
import pdqhash

from shieldwall.signals.models import DIHEDRAL_VARIANTS
from shieldwall.signals.pdq import pdq_bits_to_hex

GRID: Final = 64
"""Side of the luminance grid PDQ hashes."""

PDQHASH_DIHEDRAL_ORDER: Final = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flip",
    "mirror",
    "transpose",
    "transverse",
)
"""What pdqhash.compute_dihedral returns, in its order, named as DIHEDRAL_VARIANTS names them.

Verified by hashing np.rot90, np.flipud, np.fliplr and transposed arrays with compute: its
fifth hash belongs to the top-bottom flip and its sixth to the left-right mirror.
"""
_TO_VARIANT_ORDER: Final = tuple(PDQHASH_DIHEDRAL_ORDER.index(name) for name in DIHEDRAL_VARIANTS)

# Small full-size images go straight to pdqhash: bit-exact, and cheap at this size.
_DIRECT_MAX_PIXELS: Final = 256 * 256

_LUMA: Final = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# Adding 0 or 1 to each of R, G and B moves pdqhash's luminance by one of these steps, so a
# grid value can be handed over about five times finer than whole grey levels.
_STEPS: Final = np.array(
    [[0, 0, 0], [0, 0, 1], [1, 0, 0], [1, 0, 1], [0, 1, 0], [0, 1, 1], [1, 1, 0], [1, 1, 1]],
    dtype=np.uint8,
)
_STEP_LUMA: Final = _STEPS.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def pdq_from_pixels(
    pixels: npt.NDArray[np.uint8], full_size: tuple[int, int], *, dihedral: bool = False
) -> tuple[tuple[str, ...], int]:
    """PDQ hex hash(es) and quality of RGB pixels that may be a reduced view of `full_size`.

    `full_size` is (width, height) of the full image; `pixels` is HxWx3 uint8, either that
    size or reduced from it by block averaging (DCT-domain JPEG scaling, Image.reduce).
    With `dihedral`, returns the eight hashes in DIHEDRAL_VARIANTS order, else one.
    """
    height, width = pixels.shape[:2]
    if (width, height) == full_size and width * height <= _DIRECT_MAX_PIXELS:
        image = np.ascontiguousarray(pixels)
    else:
        image = _grid_as_rgb(luma_grid(pixels, full_size))
    if dihedral:
        vectors, quality = pdqhash.compute_dihedral(image)
        return tuple(pdq_bits_to_hex(vectors[i]) for i in _TO_VARIANT_ORDER), int(quality)
    vector, quality = pdqhash.compute(image)
    return (pdq_bits_to_hex(vector),), int(quality)


def luma_grid(pixels: npt.NDArray[np.uint8], full_size: tuple[int, int]) -> npt.NDArray[np.float32]:
    """The 64x64 luminance grid PDQ would sample from the full-size image, from `pixels`."""
    height, width = pixels.shape[:2]
    row_index, row_weight = _axis_taps(full_size[1], height)
    col_index, col_weight = _axis_taps(full_size[0], width)
    # Each grid value reads only a few dozen pixels along each axis, so gather those and
    # weigh them (einsum's own loops: a BLAS thread pool only adds latency at this size).
    rows = np.einsum("ik,ikwc->iwc", row_weight, pixels[row_index], dtype=np.float32)
    luma = rows @ _LUMA
    grid: npt.NDArray[np.float32] = np.einsum("jk,ijk->ij", col_weight, luma[:, col_index])
    return grid


def _grid_as_rgb(grid: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """RGB whose pdqhash luminance is the grid to within +-0.1 (grey levels alone: +-0.5)."""
    clipped = np.clip(grid.astype(np.float64), 0.0, 255.0)
    base = np.minimum(np.floor(clipped), 254.0)
    step = np.abs((clipped - base)[..., np.newaxis] - _STEP_LUMA).argmin(axis=-1)
    rgb: npt.NDArray[np.uint8] = base.astype(np.uint8)[..., np.newaxis] + _STEPS[step]
    return rgb


@functools.lru_cache(maxsize=1024)  # regions of images come in many sizes
def _axis_taps(full: int, reduced: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Which reduced pixels each of the 64 grid points reads along one axis, and their weights.

    Both arrays are 64 x k; unused taps point at a real pixel with weight 0.
    """
    edges = _block_edges(full, reduced)
    starts, spans = _full_taps(full)
    firsts: list[int] = []
    weights: list[npt.NDArray[np.float64]] = []
    for start, span in zip(starts, spans, strict=True):
        stop = start + len(span)
        first = int(np.searchsorted(edges, start, side="right")) - 1
        last = min(int(np.searchsorted(edges, stop - 1, side="right")) - 1, reduced - 1)
        # Weight up to x is piecewise linear in x, so blocks with fractional edges work too.
        cumulative = np.concatenate(([0.0], np.cumsum(span)))
        bounds = np.clip(edges[first : last + 2], start, stop) - start
        firsts.append(first)
        weights.append(np.diff(np.interp(bounds, np.arange(len(cumulative)), cumulative)))
    taps = max(len(w) for w in weights)
    index = np.zeros((GRID, taps), dtype=np.intp)
    weight = np.zeros((GRID, taps), dtype=np.float32)
    for row, (first, values) in enumerate(zip(firsts, weights, strict=True)):
        index[row] = np.minimum(first + np.arange(taps), reduced - 1)
        weight[row, : len(values)] = values
    index.flags.writeable = False  # shared by every caller through the cache
    weight.flags.writeable = False
    return index, weight


def _block_edges(full: int, reduced: int) -> npt.NDArray[np.float64]:
    """Where each reduced pixel's block starts and ends, in full-size pixels."""
    scale = -(-full // reduced)
    if -(-full // scale) == reduced:
        # Integer reduction rounding the size up: the last block is cut short by the edge.
        return np.minimum(np.arange(reduced + 1) * scale, full).astype(np.float64)
    return np.arange(reduced + 1, dtype=np.float64) * (full / reduced)


def _full_taps(full: int) -> tuple[list[int], list[npt.NDArray[np.float64]]]:
    """Weights of full-size pixels in each of the 64 grid points along one axis, as PDQ does it.

    Meta's C++ blurs with two passes of a box filter of window (full + 127) // 128 (near the
    edges it averages only the pixels inside; even windows reach one pixel further right than
    left), then samples int((i + 0.5) * full / 64) for i in 0..63. Returns, per grid point,
    the first full-size pixel it reads and the weights from there on.
    """
    window = (full + 2 * GRID - 1) // (2 * GRID)
    half = (window + 2) // 2
    index = np.arange(full)
    low = np.maximum(index - (window - half), 0)
    high = np.minimum(index + half - 1, full - 1)
    count = (high - low + 1).astype(np.float64)
    starts: list[int] = []
    spans: list[npt.NDArray[np.float64]] = []
    for centre in ((np.arange(GRID) + 0.5) * full / GRID).astype(np.int64):
        first_pass = np.arange(low[centre], high[centre] + 1)
        start = int(low[first_pass[0]])
        steps = np.zeros(int(high[first_pass[-1]]) - start + 2)
        share = 1.0 / (count[centre] * count[first_pass])
        np.add.at(steps, low[first_pass] - start, share)
        np.add.at(steps, high[first_pass] + 1 - start, -share)
        starts.append(start)
        spans.append(np.cumsum(steps)[:-1])
    return starts, spans
