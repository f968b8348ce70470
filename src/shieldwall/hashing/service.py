"""Content signals: PDQ of the decoded image, MD5 and SHA-256 of the original bytes.

Besides the whole image's PDQ hash, content hashed for a bank also gets its region variants
(crops, zooms, bands: normalise/views.py), and content hashed for a lookup its views that
undo edits (borders, captions, screenshots, tilts) with their mirrors and rotations.
"""

from __future__ import annotations

import enum
import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any, Final

from shieldwall.config import MediaLimits
from shieldwall.media.decode import check_content_size, decode_image
from shieldwall.normalise.views import bank_regions, query_views, working_pixels
from shieldwall.signals.models import DIHEDRAL_VARIANTS, Signal
from shieldwall.signals.pairs import start_query_pairs
from shieldwall.signals.pdq_pixels import pdq_from_pixels
from shieldwall.signals.regions import RegionHasher

# Below this, starting a thread costs more than the digests it would overlap with decoding.
_THREADED_DIGESTS_MIN_BYTES: Final = 256 * 1024


class Purpose(enum.Enum):
    """What content is hashed for, which decides the PDQ variants computed besides the hash."""

    PLAIN = "plain"
    """The three signals only (and the dihedral hashes when asked for)."""
    BANK = "bank"
    """Also the region variants a bank stores (regions.BANK_REGIONS and aspect crops)."""
    LOOKUP = "lookup"
    """Also the dihedral hashes and the views that undo edits, for matching."""


@dataclass(frozen=True)
class ContentSignals:
    """The signals of one piece of content: PDQ (and its dihedral variants), MD5, SHA-256."""

    pdq: Signal
    md5: Signal
    sha256: Signal
    pdq_variants: tuple[Signal, ...] = ()
    """The eight dihedral PDQ hashes named by DIHEDRAL_VARIANTS (original first), if asked for."""
    views: tuple[Signal, ...] = ()
    """Region variants (Purpose.BANK) or edit-undoing views (Purpose.LOOKUP), named."""
    pixels: RegionHasher | None = field(default=None, compare=False, repr=False)
    """For a lookup: the picture reduced to about 768 pixels on its long side, which the
    second stage's aligned search hashes windows of (never stored, never answered)."""

    def signals(self) -> tuple[Signal, ...]:
        """The primary signals: pdq, md5, sha256."""
        return (self.pdq, self.md5, self.sha256)

    def entry_signals(self) -> tuple[Signal, ...]:
        """What a bank entry of this content stores: the primary signals and region variants."""
        return (*self.signals(), *self.views)

    def lookup_signals(self) -> tuple[Signal, ...]:
        """What a lookup of this content searches: every PDQ hash and view, and the digests."""
        return (*(self.pdq_variants or (self.pdq,)), *self.views, self.md5, self.sha256)

    def as_json(self) -> dict[str, Any]:
        """The JSON shape the CLI and API print: hex values plus PDQ quality."""
        return {
            "pdq": self.pdq.value,
            "pdq_quality": self.pdq.quality,
            "pdq_low_quality": self.pdq.low_quality,
            "md5": self.md5.value,
            "sha256": self.sha256.value,
        }


def hash_content(
    data: bytes,
    limits: MediaLimits,
    *,
    dihedral: bool = False,
    purpose: Purpose = Purpose.PLAIN,
    pair_windows: bool = True,
) -> ContentSignals:
    """PDQ of the decoded image and MD5/SHA-256 of `data`; a MediaError if it will not decode.

    The digests are of the original bytes. For large content they are computed in a thread
    while the image decodes (hashlib and Pillow both release the GIL). A lookup always gets
    the dihedral hashes, and its pair windows are begun in a thread unless `pair_windows`
    is False (no bank searched holds any: `BankMatcher.searches_pairs`); the matcher makes
    them itself if it needs them after all.
    """
    check_content_size(len(data), limits)
    dihedral = dihedral or purpose is Purpose.LOOKUP
    digests = _Digests(data)
    try:
        decoded = decode_image(data, limits, reduce_for_pdq=True)
        hashes, quality = pdq_from_pixels(decoded.pixels, decoded.size, dihedral=dihedral)
        views: list[Signal] = []
        pixels = None
        if purpose is Purpose.BANK:
            views = bank_regions(decoded.pixels, decoded.size)
        elif purpose is Purpose.LOOKUP:
            pixels = RegionHasher(working_pixels(decoded.pixels), decoded.size)
            if pair_windows:
                start_query_pairs(pixels)  # the second stage's, in a thread meanwhile
            views = query_views(decoded.pixels, decoded.size, pixels)
    except BaseException:
        digests.wait()
        raise
    md5, sha256 = digests.result()
    if dihedral:
        variants = tuple(
            Signal.of("pdq", value, variant=name, quality=quality)
            for name, value in zip(DIHEDRAL_VARIANTS, hashes, strict=True)
        )
        pdq = variants[0]
    else:
        variants = ()
        pdq = Signal.of("pdq", hashes[0], quality=quality)
    return ContentSignals(
        pdq=pdq,
        md5=Signal.of("md5", md5),
        sha256=Signal.of("sha256", sha256),
        pdq_variants=variants,
        views=tuple(views),
        pixels=pixels,
    )


class _Digests:
    """MD5 and SHA-256 of some bytes, computed in a thread when they are large."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._values: tuple[str, str] | None = None
        self._thread: threading.Thread | None = None
        if len(data) >= _THREADED_DIGESTS_MIN_BYTES:
            self._thread = threading.Thread(
                target=self._compute, name="shieldwall-digests", daemon=True
            )
            self._thread.start()

    def _compute(self) -> None:
        md5 = hashlib.md5(self._data, usedforsecurity=False).hexdigest()
        self._values = (md5, hashlib.sha256(self._data).hexdigest())

    def wait(self) -> None:
        """Wait for the thread, if there is one, to finish."""
        if self._thread is not None:
            self._thread.join()

    def result(self) -> tuple[str, str]:
        """(md5 hex, sha256 hex), waiting for the thread if there is one."""
        self.wait()
        if self._values is None:  # no thread, or it died (out of memory): compute here
            self._compute()
        assert self._values is not None
        return self._values
