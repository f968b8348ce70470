"""PDQ hash values: hex <-> bytes <-> bits, and the Hamming distance between two hashes."""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from shieldwall.errors import InvalidSignalError
from shieldwall.signals.models import signal_kind

PDQ_BITS: Final = 256
"""Bits in a PDQ hash."""

PDQ_HEX_LENGTH: Final = PDQ_BITS // 4
"""Hex digits in a PDQ hash."""

PDQ_BYTES: Final = PDQ_BITS // 8
"""Bytes in a PDQ hash."""


def pdq_hex_to_bytes(value: str) -> bytes:
    """The 32 bytes of a PDQ hash given as 64 hex digits (any case, surrounding spaces allowed)."""
    return bytes.fromhex(signal_kind("pdq").normalise(value))


def pdq_bytes_to_hex(raw: bytes) -> str:
    """The 64 lowercase hex digits of a 32-byte PDQ hash."""
    if len(raw) != PDQ_BYTES:
        raise InvalidSignalError(f"pdq must be {PDQ_BYTES} bytes, got {len(raw)}")
    return raw.hex()


def pdq_bits_to_hex(bits: npt.ArrayLike) -> str:
    """Hex of a 256-bit vector as pdqhash returns it, the way Meta's reference writes it.

    The first bit is the most significant bit of the first hex digit: the same text that
    ThreatExchange's `PdqSignal.hash_from_bytes` gives for the same image.
    """
    vector = np.asarray(bits)
    if vector.shape != (PDQ_BITS,):
        raise InvalidSignalError(f"pdq must be {PDQ_BITS} bits, got shape {vector.shape}")
    return np.packbits(vector.astype(np.uint8) & 1).tobytes().hex()


def pdq_hex_to_bits(value: str) -> npt.NDArray[np.uint8]:
    """The 256 bits (0 or 1, most significant first) of a PDQ hash given as hex."""
    return np.unpackbits(np.frombuffer(pdq_hex_to_bytes(value), dtype=np.uint8))


def pdq_distance(a_hex: str, b_hex: str) -> int:
    """Hamming distance (0-256) between two PDQ hashes given as hex."""
    a = int.from_bytes(pdq_hex_to_bytes(a_hex), "big")
    b = int.from_bytes(pdq_hex_to_bytes(b_hex), "big")
    return (a ^ b).bit_count()
