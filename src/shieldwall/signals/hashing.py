"""Content signals: PDQ of the decoded image, MD5 and SHA-256 of the original bytes."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any, Final

from shieldwall.config import MediaLimits
from shieldwall.media.decode import check_content_size, decode_image
from shieldwall.signals.models import DIHEDRAL_VARIANTS, Signal
from shieldwall.signals.pdq_pixels import pdq_from_pixels

# Below this, starting a thread costs more than the digests it would overlap with decoding.
_THREADED_DIGESTS_MIN_BYTES: Final = 256 * 1024


@dataclass(frozen=True)
class ContentSignals:
    """The signals of one piece of content: PDQ (and its dihedral variants), MD5, SHA-256."""

    pdq: Signal
    md5: Signal
    sha256: Signal
    pdq_variants: tuple[Signal, ...] = ()
    """The eight dihedral PDQ hashes named by DIHEDRAL_VARIANTS (original first), if asked for."""

    def signals(self) -> tuple[Signal, ...]:
        """The primary signals: pdq, md5, sha256."""
        return (self.pdq, self.md5, self.sha256)

    def as_json(self) -> dict[str, Any]:
        """The JSON shape the CLI and API print: hex values plus PDQ quality."""
        return {
            "pdq": self.pdq.value,
            "pdq_quality": self.pdq.quality,
            "pdq_low_quality": self.pdq.low_quality,
            "md5": self.md5.value,
            "sha256": self.sha256.value,
        }


def hash_content(data: bytes, limits: MediaLimits, *, dihedral: bool = False) -> ContentSignals:
    """PDQ of the decoded image and MD5/SHA-256 of `data`; a MediaError if it will not decode.

    The digests are of the original bytes. For large content they are computed in a thread
    while the image decodes (hashlib and Pillow both release the GIL).
    """
    check_content_size(len(data), limits)
    digests = _Digests(data)
    try:
        decoded = decode_image(data, limits, reduce_for_pdq=True)
        hashes, quality = pdq_from_pixels(decoded.pixels, decoded.size, dihedral=dihedral)
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
