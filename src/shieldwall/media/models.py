"""Media value objects. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, eq=False)
class DecodedImage:
    """Upright RGB pixels of an image, possibly reduced from its full size for hashing."""

    pixels: npt.NDArray[np.uint8]
    """HxWx3 uint8 RGB, EXIF orientation applied, alpha composited on white."""
    format: str
    """The container format as Pillow names it ("JPEG", "PNG", "WEBP", "HEIF", ...)."""
    size: tuple[int, int]
    """(width, height) of the full image after EXIF orientation."""
    decoded_size: tuple[int, int]
    """(width, height) of `pixels`: `size`, or smaller when decoded at a reduced scale."""

    @property
    def reduced(self) -> bool:
        """True when `pixels` is smaller than the full image."""
        return self.decoded_size != self.size
