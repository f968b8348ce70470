"""The nudity score's false-positive rate on benign photos, and its cost.

Scores every BSDS500 photo (natural scenes, people, animals: none explicit) and the
scikit-image samples through Shieldwall's own scoring interface (`NudityScorer`), prints the
score distribution, the share of photos at or over each candidate threshold (the
false-positive rate: every photo here is benign), and the threshold in force
(`NUDITY_THRESHOLD`, target <= 1%). Recall on explicit imagery is not and cannot be measured
here: no such imagery exists in this project.

    .venv/bin/python bench/nudity_fpr.py [--images ../shared/data/photos-bsds500]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shieldwall.detection.nudity import NUDITY_THRESHOLD, NudityScorer
from tests.support.images import sample_photos

DEFAULT_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos-bsds500"
CANDIDATES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    args = parser.parse_args()
    if not args.images.is_dir():
        print(f"no photos at {args.images}: this bench needs ../shared/data")
        return 2
    files = sorted(args.images.rglob("*.jpg"))
    scorer = NudityScorer()
    scorer.score(np.zeros((64, 64, 3), np.uint8))  # load the model outside the timing
    scores, seconds = [], []
    for path in files:
        pixels = np.asarray(Image.open(path).convert("RGB"))
        started = time.perf_counter()
        scores.append(scorer.score(pixels))
        seconds.append(time.perf_counter() - started)
    samples = {name: scorer.score(np.asarray(p.convert("RGB"))) for name, p in sample_photos()}
    values = np.array(scores)
    print(f"photos: {len(files)} under {args.images}")
    print(
        f"score: median {np.median(values):.4f}, p95 {np.percentile(values, 95):.4f},"
        f" p99 {np.percentile(values, 99):.4f}, max {values.max():.4f}"
        f" ({files[int(values.argmax())].name})"
    )
    ms = np.array(seconds) * 1000
    print(f"cost per photo: mean {ms.mean():.1f} ms, p99 {np.percentile(ms, 99):.1f} ms\n")
    print("| threshold | photos at or over it | false-positive rate |")
    print("|---|---|---|")
    for threshold in sorted({*CANDIDATES, NUDITY_THRESHOLD}):
        over = int((values >= threshold).sum())
        mark = " (in force)" if threshold == NUDITY_THRESHOLD else ""
        print(f"| {threshold}{mark} | {over} / {len(values)} | {over / len(values):.2%} |")
    lowest = next((t for t in CANDIDATES if (values >= t).mean() <= 0.01), None)
    print(f"\nlowest candidate threshold with a false-positive rate <= 1%: {lowest}")
    print("scikit-image samples: " + ", ".join(f"{n} {s:.3f}" for n, s in samples.items()))
    rate = float((values >= NUDITY_THRESHOLD).mean())
    print(f"RESULT photos={len(values)} threshold={NUDITY_THRESHOLD} fpr={rate:.4f}")
    return 0 if rate <= 0.01 else 1


if __name__ == "__main__":
    raise SystemExit(main())
