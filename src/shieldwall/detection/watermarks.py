"""Stable Diffusion's invisible watermarks, read with the `invisible-watermark` package.

Stability AI's reference scripts and Hugging Face diffusers mark every picture they make
with the package's `dwtDct` method: a short message repeated over the 4x4 blocks of the
Haar wavelet of the picture's U (chroma) channel. The messages:
- SD 1.x: the bytes `StableDiffusionV1` (136 bits); the 1.5 inpainting model
  `StableDiffusionV1-Inpainting`;
- SD 2.x: the bytes `SDV2` (32 bits);
- SDXL: 48 fixed bits (generative-models' and diffusers' WATERMARK_MESSAGE).
CompVis and Stability's scripts mark the picture in BGR order; diffusers hands the package
RGB as if it were BGR, so both orders are read.

Each 4x4 block gives one vote for the message bit at its position (block number modulo
the message length); a bit is the votes' majority. Reading the blocks once serves every
message length. A mark counts as found when so many bits agree that chance agreement is
below 1e-6 (CHANCE; none of 500 BSDS500 photos, bench/watermark_rates.py). Like generator
metadata, a missing mark says nothing (JPEG re-encoding, resizing and cropping erase it); a
found one is a strong sign of generation, shown to the reviewer beside the other findings.

The package's `__init__` imports torch for a method Shieldwall does not use, so only its
`maxDct` module (the dwtDct method) is loaded, from the installed package's files.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from shieldwall.detection.models import DetectorUnavailableError

PACKAGE: Final = "imwatermark"
DISTRIBUTION: Final = "invisible-watermark"

SDXL_BITS: Final = tuple(
    int(bit) for bit in bin(0b101100111110110010010000011110111011000110011110)[2:]
)


def _bits_of(text: str) -> tuple[int, ...]:
    return tuple(int(b) for b in np.unpackbits(np.frombuffer(text.encode(), np.uint8)))


MARKS: Final = {
    "Stable Diffusion 1.x": _bits_of("StableDiffusionV1"),
    "Stable Diffusion 1.x inpainting": _bits_of("StableDiffusionV1-Inpainting"),
    "Stable Diffusion 2.x": _bits_of("SDV2"),
    "Stable Diffusion XL": SDXL_BITS,
}
"""Each generator's message, as bits."""

CHANCE: Final = 1e-6
"""A mark is found when so many of its bits agree that a picture without it would agree as
well with a probability under this (each bit a coin toss): 30 of 32 bits, 41 of 48, 96 of
136, 148 of 224. The generators' own embedding leaves some bits wrong, more on some pictures
than others."""


@functools.cache
def least_agreeing(bits: int) -> int:
    """The fewest agreeing bits, of `bits`, that count as the mark (see CHANCE)."""
    tail = 0
    for agreeing in range(bits, -1, -1):
        tail += math.comb(bits, agreeing)
        if tail / 2**bits > CHANCE:
            return agreeing + 1
    return 0


MIN_SIDE: Final = 256
"""Pictures smaller than this on a side are not read: the generators make none that small,
and too few blocks would carry each bit."""

SCALE: Final = 36
"""The package's default strength for the chroma channel, which the generators use."""

BLOCK: Final = 4

Pixels = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class WatermarkFinding:
    """A generator's mark: which one, the channel order it was read in, bits agreeing."""

    generator: str
    order: str
    agreeing: int
    bits: int


@functools.cache
def _max_dct() -> Any:
    """The package's dwtDct reader, loaded from its file (see the module's note)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DetectorUnavailableError(
            "watermark checks need the package invisible-watermark (make install)"
        )
    location = next(iter(spec.submodule_search_locations))
    module_spec = importlib.util.spec_from_file_location(
        f"{PACKAGE}_maxdct", f"{location}/maxDct.py"
    )
    if module_spec is None or module_spec.loader is None:
        raise DetectorUnavailableError("invisible-watermark is installed without maxDct.py")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except ImportError as exc:  # PyWavelets or OpenCV missing
        raise DetectorUnavailableError(f"invisible-watermark does not load: {exc}") from exc
    return module.EmbedMaxDct


def _votes(bgr: Pixels) -> npt.NDArray[np.int8]:
    """Each block's vote (0 or 1), in the package's block order."""
    import cv2  # here, not at the top: OpenCV (16 MiB) loads on first use
    import pywt

    reader = _max_dct()(watermarks=[], wmLen=1, scales=[0, SCALE, 0], block=BLOCK)
    rows, cols = bgr.shape[0] // 4 * 4, bgr.shape[1] // 4 * 4
    chroma = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)[:rows, :cols, 1]
    approximation, _ = pywt.dwt2(chroma, "haar")
    votes = reader.decode_frame(approximation, SCALE, [[]])
    return np.asarray(votes[0], np.int8)


def _read(votes: npt.NDArray[np.int8], length: int) -> npt.NDArray[np.int8]:
    """The message of `length` bits the votes say (majority per position)."""
    padded = np.full(-(-len(votes) // length) * length, -1, np.int16)
    padded[: len(votes)] = votes
    grid = padded.reshape(-1, length)
    ones = (grid == 1).sum(axis=0)
    counted = (grid >= 0).sum(axis=0)
    return np.asarray(ones * 2 > counted, np.int8)


def generator_watermarks(rgb: Pixels) -> list[WatermarkFinding]:
    """The generators' marks found in an RGB picture ([] for none, or too small)."""
    if rgb.ndim != 3 or rgb.shape[2] < 3 or min(rgb.shape[:2]) < MIN_SIDE:
        return []
    rgb = rgb[:, :, :3]
    found = []
    for order, picture in (("BGR", rgb[:, :, ::-1]), ("RGB", rgb)):
        votes = _votes(np.ascontiguousarray(picture))
        for generator, message in MARKS.items():
            read = _read(votes, len(message))
            agreeing = int(np.sum(read == np.asarray(message, np.int8)))
            if agreeing >= least_agreeing(len(message)):
                found.append(WatermarkFinding(generator, order, agreeing, len(message)))
        if found:  # the best only: SD 1.x's message begins the inpainting model's
            return [max(found, key=lambda mark: mark.agreeing / mark.bits)]
    return []
