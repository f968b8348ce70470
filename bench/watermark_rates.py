"""Stable Diffusion watermarks (detection/watermarks.py): how often a photo without a mark
is said to carry one, and how often a marked picture is recognised, as saved (PNG) and
after JPEG re-encoding.

Every BSDS500 photo (benign, no generator) is read as it is: any mark found is a false
finding. Then the first `--marked` photos are marked with each generator's message by the
`invisible-watermark` package's own encoder (dwtDct, the generators' settings), in the
order the generator uses (BGR: CompVis and Stability scripts; RGB: diffusers), and read
back as PNG and after JPEG at quality 95 and 90. Also prints the mean reading time.

    .venv/bin/python bench/watermark_rates.py [--marked 100]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shieldwall.detection.watermarks import MARKS, _max_dct, generator_watermarks

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos-bsds500"


def marked(rgb: np.ndarray, bits: tuple[int, ...], order: str) -> np.ndarray:
    """The photo with the message embedded as the generator does."""
    encoder = _max_dct()(watermarks=list(bits), wmLen=len(bits))
    if order == "BGR":
        return np.ascontiguousarray(
            encoder.encode(np.ascontiguousarray(rgb[:, :, ::-1]))[:, :, ::-1]
        )
    return np.asarray(encoder.encode(rgb.copy()))


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=quality)
    return np.asarray(Image.open(out).convert("RGB"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--marked", type=int, default=100)
    args = parser.parse_args()
    paths = sorted(args.photos.rglob("*.jpg"))
    if not paths:
        print(f"no photos under {args.photos}: this bench needs ../shared/data")
        return 2
    photos = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
    seconds, false = [], 0
    for rgb in photos:
        started = time.perf_counter()
        false += bool(generator_watermarks(rgb))
        seconds.append(time.perf_counter() - started)
    print(f"BSDS500 photos without a mark: {len(photos)}; said to carry one: {false}")
    print(f"reading time: mean {np.mean(seconds) * 1000:.1f} ms (481x321, both orders)\n")
    print("| mark | order | PNG | JPEG q95 | JPEG q90 |")
    print("|---|---|---|---|---|")
    for generator, bits in MARKS.items():
        for order in ("BGR", "RGB"):
            counts = {"png": 0, "q95": 0, "q90": 0}
            for rgb in photos[: args.marked]:
                picture = marked(rgb, bits, order)
                for name, version in (
                    ("png", picture),
                    ("q95", jpeg(picture, 95)),
                    ("q90", jpeg(picture, 90)),
                ):
                    found = generator_watermarks(version)
                    counts[name] += any(f.generator == generator for f in found)
            n = min(args.marked, len(photos))
            print(
                f"| {generator} | {order} | {counts['png']}/{n} | {counts['q95']}/{n} |"
                f" {counts['q90']}/{n} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
