"""The one rule for which PDQ hashes may be stored or searched: enough detail, not degenerate.

A PDQ hash of an image with little detail is noise: a flat image's DCT coefficients are
floating-point rounding error, so its bits say nothing about the image, and an all-zero
hash (what every all-black image gives) matches every all-black image. Anyone who could
bank such a hash, or file it in a report, could make every blank upload answer `review`.
So every intake (reports, bank adds, imports) refuses a PDQ hash that fails this rule, and
lookups neither search with one nor match a stored one (entries banked before the rule).

The rule, with the figures bench/pdq_acceptance.py measures:
- Quality, when known, at least 50 for the whole image and its rotations and mirrors
  (HMA's floor), at least 40 for region variants and edit-undoing views (their floor,
  measured in signals/regions.py).
- Between 64 and 192 of the 256 bits set. PDQ sets the bits above the median of its 256
  coefficients, so all 6,500 distinct hashes of 500 BSDS500 photos, the scikit-image
  samples and 300 generated scenes (with rotations and mirrors) have exactly 128 (fewer
  only when coefficients tie); random hex has 94-164 in 100,000. So every accepted hash is
  more than the largest bank threshold (63 bits) from the all-zero and all-one hashes.
- Rank at least 11 over GF(2) of the 16x16 bit matrix (one 16-bit word per DCT row). A
  flat image's coefficients are rounding noise of a rank-one product, so its bits form a
  low-rank pattern: 33,000 distinct hashes of flat greys and colours (8-1200 px a side,
  pdqhash and our reduced-grid path, all rotations) have rank 0-10 (99.95-100% below 11
  in each run; the rest have quality 0) and 0-128 bits set, so the bit count alone misses
  them. The photos' whole-image hashes have rank 13-16 and random hex 12-16; of 31,000
  region and view hashes of the photos, 0.03% (thin bands) fall below 11 and are dropped
  with the flat ones. A pure periodic pattern (a checkerboard) is refused too. Gradients
  have full-rank hashes but quality at most 44: refused by quality.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np
import numpy.typing as npt

from shieldwall.errors import InvalidSignalError
from shieldwall.signals.models import DIHEDRAL_VARIANTS, ORIGINAL, PDQ_LOW_QUALITY, Signal

MIN_QUALITY: Final = PDQ_LOW_QUALITY
"""PDQ quality floor for a whole image (and its rotations and mirrors)."""

REGION_MIN_QUALITY: Final = 40
"""Region hashes below this PDQ quality are neither stored nor searched: a flat region (sky,
a wall) hashes to noise-driven bits that could land near anything. (HMA's floor for whole
images is 50; regions that were turned back from a tilt or cut from a screenshot lose some
detail to resampling, and measured distances to unrelated images stay above 70 bits at 40:
bench/RESULTS.md, section 6.)"""

MIN_BITS_SET: Final = 64
MAX_BITS_SET: Final = 192
"""Bits set allowed in a PDQ hash: real hashes have 128, random hex 94-164."""

MIN_RANK: Final = 11
"""GF(2) rank floor of a PDQ hash's 16x16 bit matrix: flat images give 0-10, photos 13-16."""

_SIDE: Final = 16
_SMALL: Final = 8  # up to this many hashes, plain Python beats numpy's per-call overhead
_RANK_CHUNK: Final = 4096  # rows per elimination pass: small enough to stay in cache
# Bits set per byte value (np.bitwise_count needs numpy 2; the project allows 1.26).
_BITS_IN_BYTE: Final = np.array([bin(value).count("1") for value in range(256)], dtype=np.uint8)
_WHOLE_IMAGE: Final = frozenset(DIHEDRAL_VARIANTS)


class PdqProblem(StrEnum):
    """Why a PDQ hash is refused: stable codes that clients and the pages translate."""

    LOW_QUALITY = "pdq_low_quality"
    QUALITY_MISSING = "pdq_quality_missing"
    TOO_PLAIN = "pdq_too_plain"


@dataclass(frozen=True)
class PdqRefusal:
    """A refused PDQ hash: the stable problem code and a sentence saying why."""

    code: PdqProblem
    reason: str


class RefusedPdqError(InvalidSignalError):
    """A PDQ hash that the acceptance rule refuses (too little detail, or degenerate)."""

    code = "pdq-refused"

    def __init__(self, refusal: PdqRefusal, where: str = "") -> None:
        self.refusal = refusal
        super().__init__(where + refusal.reason)


def min_quality(variant: str) -> int:
    """The quality floor of a PDQ variant: 50 for the whole image, 40 for regions and views."""
    return MIN_QUALITY if variant in _WHOLE_IMAGE else REGION_MIN_QUALITY


def pdq_refusals(
    signals: Sequence[Signal], *, quality_required: bool = False
) -> list[PdqRefusal | None]:
    """Why each signal may not be stored or searched (None: it may; digests always may).

    Vectorised, so an import batch or a lookup's few dozen query views cost one pass.
    """
    found: list[PdqRefusal | None] = [None] * len(signals)
    at = [i for i, signal in enumerate(signals) if signal.type == "pdq"]
    if not at:
        return found
    if len(at) <= _SMALL:
        values = [bytes.fromhex(signals[i].value) for i in at]
        bits = [int.from_bytes(raw, "big").bit_count() for raw in values]
        ranks = [_word_rank(raw) for raw in values]
    else:
        raw = np.frombuffer(b"".join(bytes.fromhex(signals[i].value) for i in at), np.uint8)
        counts, array_ranks = _bits_and_ranks(raw)
        bits, ranks = counts.tolist(), array_ranks.tolist()
    for i, count, rank in zip(at, bits, ranks, strict=True):
        signal = signals[i]
        found[i] = _quality_refusal(signal, quality_required) or _value_refusal(count, rank)
    return found


def signal_refusal(signal: Signal, *, quality_required: bool = False) -> PdqRefusal | None:
    """Why this signal may not be stored or searched (only PDQ hashes are ever refused)."""
    return pdq_refusals([signal], quality_required=quality_required)[0]


def entry_refusals(entries: Sequence[Sequence[Signal]]) -> list[PdqRefusal | None]:
    """For each entry (its signals), the first refused PDQ hash's refusal, or None."""
    flat = [signal for signals in entries for signal in signals]
    refusals = iter(pdq_refusals(flat))
    found: list[PdqRefusal | None] = []
    for signals in entries:
        mine = [next(refusals) for _ in signals]
        found.append(next((r for r in mine if r is not None), None))
    return found


def matchable(signals: Sequence[Signal]) -> list[Signal]:
    """The signals a lookup may search with: digests, and PDQ hashes the rule accepts."""
    return [s for s, refusal in zip(signals, pdq_refusals(signals), strict=True) if not refusal]


def without_refused(signals: Sequence[Signal]) -> tuple[tuple[Signal, ...], PdqRefusal | None]:
    """A content's signals less the PDQ hashes the rule refuses, and why the whole image's
    PDQ hash was refused (None if it was kept). Digests are always kept: exact copies still
    match even when the image has too little detail for a perceptual hash."""
    kept: list[Signal] = []
    refused: PdqRefusal | None = None
    for signal, refusal in zip(signals, pdq_refusals(signals), strict=True):
        if refusal is None:
            kept.append(signal)
        elif signal.variant == ORIGINAL:
            refused = refusal
    return tuple(kept), refused


def degenerate_rows(hashes: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """Which of these PDQ hashes (N x 32 bytes) have a degenerate value (quality unknown)."""
    bits, ranks = _bits_and_ranks(hashes)
    bad: npt.NDArray[np.bool_] = (bits < MIN_BITS_SET) | (bits > MAX_BITS_SET)
    return bad | (ranks < MIN_RANK)


def _quality_refusal(signal: Signal, quality_required: bool) -> PdqRefusal | None:
    if signal.quality is None:
        if quality_required:
            return PdqRefusal(PdqProblem.QUALITY_MISSING, "pdq hash given without its quality")
        return None
    floor = min_quality(signal.variant)
    if signal.quality < floor:
        return PdqRefusal(
            PdqProblem.LOW_QUALITY,
            f"pdq quality {signal.quality} is below {floor}: the image has too little detail",
        )
    return None


def _value_refusal(bits: int, rank: int) -> PdqRefusal | None:
    if not MIN_BITS_SET <= bits <= MAX_BITS_SET:
        return PdqRefusal(
            PdqProblem.TOO_PLAIN,
            f"pdq hash has {bits} of 256 bits set (a real one has about 128): "
            "near-constant, like the hash of a blank image",
        )
    if rank < MIN_RANK:
        return PdqRefusal(
            PdqProblem.TOO_PLAIN, "pdq hash has the repeating bit pattern of a flat image"
        )
    return None


def _word_rank(raw: bytes, cap: int = MIN_RANK) -> int:
    """gf2_ranks for one hash in plain Python, up to `cap` (all the rule needs to know, as
    the vectorised path): a XOR basis keyed by each word's top bit. Most hashes reach the
    cap within a dozen of their 16 words, so a lookup's check stops early."""
    basis: dict[int, int] = {}
    for at in range(0, len(raw), 2):
        word = int.from_bytes(raw[at : at + 2], "big")
        while word and word.bit_length() in basis:
            word ^= basis[word.bit_length()]
        if word:
            basis[word.bit_length()] = word
            if len(basis) >= cap:
                return cap
    return len(basis)


def _bits_and_ranks(
    hashes: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int8]]:
    """Bits set in each hash, and its rank up to MIN_RANK (all the rule needs to know)."""
    array = np.ascontiguousarray(hashes, dtype=np.uint8).reshape(-1, 2 * _SIDE)
    bits = _BITS_IN_BYTE[array].sum(axis=1, dtype=np.int32)
    return bits, gf2_ranks(array.view(">u2").astype(np.uint16), MIN_RANK)


def gf2_ranks(rows: npt.NDArray[np.uint16], cap: int = _SIDE) -> npt.NDArray[np.int8]:
    """Rank over GF(2) of each 16x16 bit matrix given as N x 16 words, up to `cap`.

    Gaussian elimination one bit column at a time for many matrices at once: a row with
    the bit is the pivot, and XOR-ing it into every row with the bit (itself included,
    which retires it) clears the column. A matrix whose rank reaches `cap` stops there
    (loading a bank only needs to know rank >= MIN_RANK), and small chunks stay in cache:
    0.5-1 s per million hashes (bench/pdq_acceptance.py).
    """
    ranks = np.empty(len(rows), dtype=np.int8)
    for start in range(0, len(rows), _RANK_CHUNK):
        ranks[start : start + _RANK_CHUNK] = _chunk_ranks(rows[start : start + _RANK_CHUNK], cap)
    return ranks


def _chunk_ranks(rows: npt.NDArray[np.uint16], cap: int) -> npt.NDArray[np.int8]:
    work = np.array(rows, dtype=np.uint16, copy=True)
    ranks = np.zeros(len(work), dtype=np.int8)
    going = np.arange(len(work))  # matrices still below the cap
    for bit in range(_SIDE):
        if bit >= cap:  # fewer than `cap` columns are done only once `cap` columns are seen
            keep = ranks[going] < cap
            going, work = going[keep], work[keep]
        if not len(going):
            break
        has = (work >> np.uint16(bit)) & np.uint16(1)
        pivot_at = has.argmax(axis=1)
        at = np.arange(len(going))
        found = has[at, pivot_at]
        # (0 - has) is all ones where a row has the bit: those rows take the pivot.
        work ^= (work[at, pivot_at] * found)[:, np.newaxis] & (np.uint16(0) - has)
        ranks[going] += found.astype(np.int8)
    return np.minimum(ranks, cap).astype(np.int8)
