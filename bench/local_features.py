"""Local features (OpenCV ORB and SIFT, RANSAC) weighed against the pair windows for zooms.

Issue 12 names local features with a geometric check as a candidate for the second stage
"as a verifier where the content is at hand". This bench measures what they would give
on zoomed-in crops, the edit the pair windows were built for, beside the product's own
matcher: for each picture, a random 60-85% of each side at a random place (as it is, and
shrunk to 70%), and an unrelated picture's crop as a distractor.

Per method: the share of copies verified against their original (RANSAC similarity with at
least MIN_INLIERS inliers among ratio-tested matches), false verifications against the
other pictures, milliseconds per verification (features of both pictures and the match),
and what a bank would have to keep per picture to verify without the content (the
descriptors). The product row is the matcher over a bank of the originals (bank add's
hashes, pair windows included): found at all, and found by the pair windows.

    .venv/bin/python bench/local_features.py                    # the tuning images
    .venv/bin/python bench/local_features.py --images DIR --limit 60
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import NewEntry
from shieldwall.banks.service import BankService
from shieldwall.config import MediaLimits
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.matching.service import BankMatcher
from shieldwall.signals.pdq_quality import without_refused
from tests.support.edits import jpeg_bytes
from tests.support.images import sample_photos, scene

FEATURES = 500
"""Keypoints per picture (OpenCV's default for ORB)."""
RATIO = 0.75
"""Lowe's ratio test."""
MIN_INLIERS = 15
"""RANSAC inliers needed to call a copy verified."""
REPROJECTION = 3.0
"""RANSAC's inlier distance, pixels."""

Gray = npt.NDArray[np.uint8]


@dataclass
class Method:
    """A local-feature method: its detector, descriptor distance and bytes per keypoint."""

    name: str
    make: Callable[[], cv2.Feature2D]
    norm: int
    bytes_per_keypoint: int
    verified: dict[str, int] = field(default_factory=dict)
    false: int = 0
    seconds: list[float] = field(default_factory=list)
    keypoints: list[int] = field(default_factory=list)


def gray(image: Image.Image) -> Gray:
    """The picture as an 8-bit grey array, after a JPEG round trip (as shared copies are)."""
    decoded = Image.open(io.BytesIO(jpeg_bytes(image, 85))).convert("L")
    return np.asarray(decoded, np.uint8)


def inliers(method: Method, first: Gray, second: Gray) -> int:
    """RANSAC similarity inliers among the ratio-tested matches of the two pictures."""
    detector = method.make()
    kp1, des1 = detector.detectAndCompute(first, None)
    kp2, des2 = detector.detectAndCompute(second, None)
    method.keypoints.append(len(kp1))
    if des1 is None or des2 is None or len(kp1) < 2 or len(kp2) < 2:
        return 0
    pairs = cv2.BFMatcher(method.norm).knnMatch(des2, des1, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < 3:
        return 0
    source = np.array([kp1[m.trainIdx].pt for m in good], np.float32)
    target = np.array([kp2[m.queryIdx].pt for m in good], np.float32)
    model, mask = cv2.estimateAffinePartial2D(
        source, target, method=cv2.RANSAC, ransacReprojThreshold=REPROJECTION
    )
    return 0 if model is None or mask is None else int(mask.sum())


def zoom(image: Image.Image, rng: np.random.Generator, scale: float) -> Image.Image:
    """A random 60-85% of each side at a random place, resized by `scale`."""
    keep_w, keep_h = rng.uniform(0.60, 0.85, size=2)
    left, top = rng.uniform(0, 1 - keep_w), rng.uniform(0, 1 - keep_h)
    w, h = image.size
    box = (round(left * w), round(top * h), round((left + keep_w) * w), round((top + keep_h) * h))
    window = image.crop(box)
    if scale == 1.0:
        return window
    return window.resize(
        (round(window.width * scale), round(window.height * scale)), Image.Resampling.LANCZOS
    )


def pictures(args: argparse.Namespace) -> list[tuple[str, Image.Image]]:
    """The tuning images (scikit-image samples and generated scenes), or a folder's."""
    if args.images is None:
        found = [(name, image.convert("RGB")) for name, image in sample_photos()]
        return found + [(f"scene{seed}", scene(seed)) for seed in range(12)]
    files = sorted(p for p in args.images.rglob("*") if p.suffix.lower() in {".jpg", ".png"})
    return [(p.stem, Image.open(p).convert("RGB")) for p in files[: args.limit or None]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, default=None, help="default: tuning images")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    images = pictures(args)
    rng = np.random.default_rng(args.seed)
    edits = {"zoom-60-85%": 1.0, "zoom-60-85%-resized-70%": 0.7}
    copies = {
        edit: [zoom(image, rng, scale) for _, image in images] for edit, scale in edits.items()
    }
    methods = [
        Method("ORB", lambda: cv2.ORB.create(nfeatures=FEATURES), cv2.NORM_HAMMING, 32),
        Method("SIFT", lambda: cv2.SIFT.create(nfeatures=FEATURES), cv2.NORM_L2, 128),
    ]
    grays = [gray(image) for _, image in images]
    for method in methods:
        for edit, edited in copies.items():
            found = 0
            for original, copy in zip(grays, edited, strict=True):
                started = time.perf_counter()
                found += inliers(method, original, gray(copy)) >= MIN_INLIERS
                method.seconds.append(time.perf_counter() - started)
            method.verified[edit] = found
        for at, original in enumerate(grays):  # each original against the next one's zoom
            other = copies["zoom-60-85%"][(at + 1) % len(grays)]
            method.false += inliers(method, original, gray(other)) >= MIN_INLIERS

    repository = InMemoryBankRepository()
    banks = BankService(repository)
    banks.create_bank("known")
    limits = MediaLimits()
    ids = []
    for _, image in images:
        banked = hash_content(jpeg_bytes(image), limits, purpose=Purpose.BANK)
        signals, _ = without_refused(banked.entry_signals())  # as `bank add` keeps them
        ids.append(banks.add_entries("known", [NewEntry(signals)])[0].entry_id)
    matcher = BankMatcher.load(repository)
    product: dict[str, tuple[int, int, int]] = {}
    for edit, edited in copies.items():
        found = by_pairs = wrong = 0
        for entry_id, copy in zip(ids, edited, strict=True):
            lookup = hash_content(jpeg_bytes(copy, 85), limits, purpose=Purpose.LOOKUP)
            matches = matcher.match_signals(lookup.lookup_signals(), pixels=lookup.pixels)
            mine = [m for m in matches if m.entry_id == entry_id]
            found += bool(mine)
            by_pairs += any(m.variant.startswith("pairs/") for m in mine)
            wrong += sum(m.entry_id != entry_id for m in matches)
        product[edit] = (found, by_pairs, wrong)

    n = len(images)
    print(f"images: {'tuning images' if args.images is None else args.images}, {n}")
    print(f"features per picture {FEATURES}, ratio {RATIO}, inliers >= {MIN_INLIERS}\n")
    print(
        "| method | " + " | ".join(edits) + " | false verifications | ms per verification"
        " | keypoints (mean) | bytes per picture to keep |"
    )
    print("|---|" + "---|" * (len(edits) + 4))
    for m in methods:
        shares = " | ".join(f"{m.verified[e]}/{n} ({m.verified[e] / n:.2f})" for e in edits)
        kept = np.mean(m.keypoints) * m.bytes_per_keypoint
        print(
            f"| {m.name} + RANSAC | {shares} | {m.false}/{n} | {np.mean(m.seconds) * 1000:.1f}"
            f" | {np.mean(m.keypoints):.0f} | {kept:,.0f} |"
        )
    shares = " | ".join(
        f"{product[e][0]}/{n} ({product[e][0] / n:.2f}; pairs {product[e][1]})" for e in edits
    )
    wrong = sum(p[2] for p in product.values())
    print(f"| Shieldwall matcher (pair windows) | {shares} | {wrong} wrong matches | | | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
