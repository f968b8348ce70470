"""Hashing JPEG photos: Shieldwall's `hash_content` against ThreatExchange's PDQ + hashlib.

Anchor, in the same run: ThreatExchange's `PdqSignal.hash_from_bytes(bytes)` (Pillow
decode at full size, then pdqhash) plus hashlib MD5 and SHA-256 of the bytes, one after
the other. Product: `shieldwall.hashing.service.hash_content` (DCT-domain JPEG decode at
1/2, 1/4 or 1/8 scale, PDQ's 64x64 grid computed from it, digests in a thread).

The photos are BSDS500 images from ../shared/data/photos-bsds500, enlarged with Lanczos to
about 0.3, 2 and 12 megapixels and saved at JPEG quality 90 into a temporary folder at run
time (never copied into the repository). Each image is hashed by both, alternately, in
several rounds; its time is the median of its rounds. Distances compare Shieldwall's PDQ
with the full-resolution PDQ ThreatExchange computes for the same bytes.

The bench needs a Python with both Shieldwall and ThreatExchange; make it once with

    python -m venv bench/.venv && bench/.venv/bin/pip install -e . threatexchange faiss-cpu

then run

    bench/.venv/bin/python bench/hashing.py [--photos 60] [--rounds 5] [--data DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from machine_info import describe_machine
from PIL import Image

from shieldwall.config import MediaLimits
from shieldwall.hashing.service import hash_content
from shieldwall.signals.pdq import pdq_distance

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos-bsds500"
SIZES_MP = (0.3, 2.0, 12.0)
QUALITY = 90


@dataclass(frozen=True)
class SizeResult:
    """Per-image timings (ms) of both contenders and PDQ distances, for one photo size."""

    label: str
    anchor_ms: list[float]
    product_ms: list[float]
    distances: list[int]


def anchor_hasher() -> Callable[[bytes], object]:
    """ThreatExchange's PDQ of the bytes plus hashlib MD5 and SHA-256: the usual way."""
    from threatexchange.signal_type.pdq.signal import PdqSignal

    def anchor(data: bytes) -> object:
        return (
            PdqSignal.hash_from_bytes(data),
            hashlib.md5(data).hexdigest(),
            hashlib.sha256(data).hexdigest(),
        )

    return anchor


def full_resolution_pdq(data: bytes) -> str:
    """ThreatExchange's full-resolution PDQ hex, whatever its quality."""
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes

    value, _quality = pdq_from_bytes(data)
    return value


def make_photos(source: Path, count: int, megapixels: float, folder: Path) -> list[bytes]:
    """`count` photos enlarged to about `megapixels` and saved as JPEG quality 90."""
    folder.mkdir(parents=True, exist_ok=True)
    photos = []
    for path in sorted(source.rglob("*.jpg"))[:count]:
        with Image.open(path) as original:
            image = original.convert("RGB")
        height = round((megapixels * 1e6 * image.height / image.width) ** 0.5)
        width = round(height * image.width / image.height)
        target = folder / path.name
        image.resize((width, height), Image.Resampling.LANCZOS).save(target, quality=QUALITY)
        photos.append(target.read_bytes())
    return photos


def time_once(function: Callable[[bytes], object], data: bytes) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter()
    function(data)
    return (time.perf_counter() - started) * 1000


def measure(label: str, photos: list[bytes], rounds: int) -> SizeResult:
    """Time both contenders on every photo, alternating which goes first."""
    anchor = anchor_hasher()
    limits = MediaLimits()

    def product(data: bytes) -> object:
        return hash_content(data, limits)

    anchor(photos[0])
    product(photos[0])
    anchor_rounds: list[list[float]] = [[] for _ in photos]
    product_rounds: list[list[float]] = [[] for _ in photos]
    for round_index in range(rounds):
        for index, data in enumerate(photos):
            if (round_index + index) % 2:
                anchor_rounds[index].append(time_once(anchor, data))
                product_rounds[index].append(time_once(product, data))
            else:
                product_rounds[index].append(time_once(product, data))
                anchor_rounds[index].append(time_once(anchor, data))
    distances = [
        pdq_distance(hash_content(data, limits).pdq.value, full_resolution_pdq(data))
        for data in photos
    ]
    return SizeResult(
        label,
        [statistics.median(times) for times in anchor_rounds],
        [statistics.median(times) for times in product_rounds],
        distances,
    )


def machine() -> str:
    """CPU, cores, OS and library versions, for the record."""
    import pdqhash

    return describe_machine(
        f"numpy {np.__version__}; Pillow {Image.__version__}; pdqhash {pdqhash.__version__}"
    )


def report(result: SizeResult) -> None:
    """One block of figures per photo size."""
    anchor = statistics.fmean(result.anchor_ms)
    product = statistics.fmean(result.product_ms)
    distances = np.array(result.distances)
    print(
        f"{result.label:>6}  anchor {anchor:8.2f} ms   shieldwall {product:7.2f} ms   "
        f"speed-up {anchor / product:5.1f}x   (medians {statistics.median(result.anchor_ms):.2f}"
        f" / {statistics.median(result.product_ms):.2f} ms)"
    )
    print(
        f"        PDQ distance to full resolution: max {distances.max()}, "
        f"p99 {np.percentile(distances, 99):.1f}, mean {distances.mean():.2f}, "
        f"<= 10 bits {np.mean(distances <= 10):.1%}, identical {np.mean(distances == 0):.1%}"
    )


def main() -> int:
    """Build the photos, time both contenders at each size, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=60, help="photos per size (default 60)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="BSDS500 photo folder")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"skipped: no photos at {args.data} (the benign evaluation photos are absent)")
        return 0
    try:
        anchor_hasher()
    except ImportError:
        print("skipped: threatexchange is not installed here; see this script's header")
        return 0
    pythonpath = os.environ.get("PYTHONPATH")
    prefix = f"PYTHONPATH={shlex.quote(pythonpath)} " if pythonpath else ""
    print("command:", prefix + shlex.join([sys.executable, *sys.argv]))
    print("machine:", machine())
    print(f"photos: {args.photos} per size from {args.data}, JPEG quality {QUALITY}")
    with tempfile.TemporaryDirectory(prefix="shieldwall-bench-") as temp:
        for megapixels in SIZES_MP:
            label = f"{megapixels:g}MP"
            photos = make_photos(args.data, args.photos, megapixels, Path(temp) / label)
            report(measure(label, photos, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
