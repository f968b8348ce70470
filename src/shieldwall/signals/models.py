"""Signal value objects and the registry of signal types. No I/O here."""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Final

from shieldwall.errors import InvalidSignalError

ORIGINAL: Final = "original"
"""Variant name of a signal computed from the content as it is."""

# PDQ's dihedral hashes. The names say which transform of the image each hash belongs to:
# rotate90 turns it 90 degrees counter-clockwise (np.rot90, Image.Transpose.ROTATE_90),
# mirror is left-right, flip is top-bottom. pdqhash.compute_dihedral returns flip before
# mirror; signals.pdq_pixels puts its hashes in this order.
DIHEDRAL_VARIANTS: Final = (
    ORIGINAL,
    "rotate90",
    "rotate180",
    "rotate270",
    "mirror",
    "flip",
    "transpose",
    "transverse",
)

PDQ_LOW_QUALITY: Final = 50
"""PDQ quality below this is low quality: never stored or searched (signals/pdq_quality.py)."""

_HEX = frozenset(string.hexdigits)
_VARIANT_CHARS = frozenset(string.ascii_lowercase + string.digits + "_-.:")


@dataclass(frozen=True)
class SignalKind:
    """One signal type: its stable name, the hex length of its values and how they compare."""

    name: str
    hex_length: int
    distance_based: bool
    description: str

    def normalise(self, value: str) -> str:
        """The one normalisation rule: strip, lowercase hex of exactly `hex_length` digits."""
        text = value.strip().lower() if isinstance(value, str) else ""
        if len(text) != self.hex_length or not _HEX.issuperset(text):
            shown = value if isinstance(value, str) else type(value).__name__
            raise InvalidSignalError(
                f"{self.name} must be {self.hex_length} hex digits, got {shown[:80]!r}"
            )
        return text


SIGNAL_TYPES: Final[dict[str, SignalKind]] = {
    kind.name: kind
    for kind in (
        SignalKind("pdq", 64, True, "PDQ 256-bit perceptual hash; Hamming distance"),
        SignalKind("md5", 32, False, "MD5 of the original bytes; exact"),
        SignalKind("sha256", 64, False, "SHA-256 of the original bytes; exact"),
    )
}


def signal_kind(name: str) -> SignalKind:
    """The registered signal type called `name`, or a clear error."""
    try:
        return SIGNAL_TYPES[name.strip().lower()]
    except (KeyError, AttributeError):
        known = ", ".join(SIGNAL_TYPES)
        raise InvalidSignalError(f"unknown signal type {name!r} (known: {known})") from None


@dataclass(frozen=True)
class Signal:
    """A normalised signal value; build with `Signal.of` so every value is validated."""

    type: str
    value: str
    variant: str = ORIGINAL
    quality: int | None = None

    @classmethod
    def of(
        cls, type_name: str, value: str, variant: str = ORIGINAL, quality: int | None = None
    ) -> Signal:
        """Validate and normalise a signal."""
        kind = signal_kind(type_name)
        if not variant or not _VARIANT_CHARS.issuperset(variant) or len(variant) > 64:
            raise InvalidSignalError(f"invalid variant name {variant!r}")
        if quality is not None and not (0 <= quality <= 100):
            raise InvalidSignalError(f"{kind.name} quality must be 0-100, got {quality}")
        if quality is not None and kind.name != "pdq":
            raise InvalidSignalError(f"{kind.name} has no quality")
        return cls(kind.name, kind.normalise(value), variant, quality)

    @property
    def low_quality(self) -> bool:
        """True for a PDQ hash whose quality is below 50: too little detail to store or search."""
        return self.quality is not None and self.quality < PDQ_LOW_QUALITY

    @property
    def short(self) -> str:
        """A prefix safe for logs: never log a victim's full hash."""
        return f"{self.type}:{self.value[:8]}"
