"""The figures behind signals/pdq_quality.py: which PDQ hashes the acceptance rule refuses.

Command: `PYTHONPATH=src:. .venv/bin/python bench/pdq_acceptance.py [--photos N]`

For each family of images it prints how many distinct hashes there are, their bits set and
GF(2) rank ranges, and how many the rule refuses by value alone and with their quality:
photos (BSDS500 from ../shared/data when present, scikit-image samples, generated scenes;
whole image with rotations and mirrors, and the bank regions and lookup views), random hex,
flat greys and colours (pdqhash directly and our reduced-grid path) and gradients. Then the
cost of the rule when a bank loads, beside the anchor of decoding the same hex to bytes.
"""

from __future__ import annotations

import argparse
import glob
import io
import random
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image

from shieldwall.config import MediaLimits
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.matching.pdq_index import hex_to_hash_array
from shieldwall.signals.models import Signal
from shieldwall.signals.pdq import pdq_bits_to_hex
from shieldwall.signals.pdq_pixels import pdq_from_pixels
from shieldwall.signals.pdq_quality import degenerate_rows, gf2_ranks, pdq_refusals
from tests.support.images import sample_photos, scene

BSDS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "photos-bsds500"


def report(name: str, signals: list[Signal]) -> None:
    """One line per family: distinct hashes, bits set, rank, refused by value / with quality."""
    values = sorted({s.value for s in signals})
    raw = np.frombuffer(bytes.fromhex("".join(values)), np.uint8).reshape(-1, 32)
    bits = np.unpackbits(raw, axis=1).sum(axis=1)
    ranks = gf2_ranks(raw.view(">u2").astype(np.uint16))
    by_value = degenerate_rows(raw).mean()
    with_quality = np.mean([r is not None for r in pdq_refusals(signals)])
    print(
        f"{name:<28} {len(values):>7} distinct  bits {bits.min():>3}-{bits.max():<3} "
        f"rank {ranks.min():>2}-{ranks.max():<2}  refused: by value {by_value:7.2%}, "
        f"with quality {with_quality:7.2%}"
    )


def photo_signals(images: Iterable[np.ndarray]) -> tuple[list[Signal], list[Signal]]:
    """Whole-image hashes (all eight) and region/view hashes of some photos."""
    whole: list[Signal] = []
    regions: list[Signal] = []
    for pixels in images:
        data = _png(pixels)
        for purpose in (Purpose.BANK, Purpose.LOOKUP):
            hashed = hash_content(data, MediaLimits(), purpose=purpose)
            whole.extend(hashed.pdq_variants)
            regions.extend(hashed.views)
    return whole, regions


def flat_signals(colours: Iterable[tuple[int, int, int]], rng: random.Random) -> list[Signal]:
    """PDQ of flat images at random sizes: our reduced-grid path and pdqhash directly."""
    found: list[Signal] = []
    for colour in colours:
        width, height = rng.randrange(8, 1200), rng.randrange(8, 1200)
        pixels = np.tile(np.array(colour, dtype=np.uint8), (height, width, 1))
        hashes, quality = pdq_from_pixels(pixels, (width, height), dihedral=True)
        vectors, _ = pdqhash.compute_dihedral(pixels)
        direct = [pdq_bits_to_hex(vector) for vector in vectors]
        found += [Signal.of("pdq", value, quality=quality) for value in (*hashes, *direct)]
    return found


def gradients(rng: random.Random, count: int) -> Iterator[np.ndarray]:
    """Linear ramps in random directions, ranges and tints."""
    for _ in range(count):
        height, width = rng.randrange(20, 900), rng.randrange(20, 900)
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        ramp = rng.uniform(-1, 1) * x / width + rng.uniform(-1, 1) * y / height
        low, high = sorted((rng.uniform(0, 255), rng.uniform(0, 255)))
        ramp = (ramp - ramp.min()) / (np.ptp(ramp) or 1) * (high - low) + low
        tint = np.array([rng.uniform(0.3, 1) for _ in range(3)], dtype=np.float32)
        yield np.clip(ramp[..., np.newaxis] * tint, 0, 255).astype(np.uint8)


def load_cost(rng: random.Random, count: int = 1_000_000) -> None:
    """Seconds per million hashes: the rule at bank load beside decoding the hex (anchor)."""
    values = [f"{rng.getrandbits(256):064x}" for _ in range(count)]
    started = time.perf_counter()
    hashes = hex_to_hash_array(values)
    anchor = time.perf_counter() - started
    started = time.perf_counter()
    degenerate_rows(hashes)
    rule = time.perf_counter() - started
    print(
        f"bank load, per 1M hashes: rule {rule:.2f} s, hex decode (anchor) {anchor:.2f} s,", end=""
    )
    print(f" ratio {rule / anchor:.1f}")


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels), "RGB").save(buffer, "PNG")
    return buffer.getvalue()


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=500, help="BSDS500 photos to use")
    args = parser.parse_args()
    rng = random.Random(7)
    paths = sorted(glob.glob(str(BSDS / "*" / "*.jpg")))[: args.photos]
    if paths:
        whole, regions = photo_signals(np.asarray(Image.open(p).convert("RGB")) for p in paths)
        report(f"BSDS500 x{len(paths)} whole image", whole)
        report(f"BSDS500 x{len(paths)} regions+views", regions)
    else:
        print(f"(no BSDS500 photos at {BSDS}: skipped)")
    samples = [np.asarray(image) for _, image in sample_photos()]
    report("scikit-image samples", photo_signals(samples)[0])
    report("generated scenes x300", photo_signals(np.asarray(scene(s)) for s in range(300))[0])
    report(
        "random hex x100000",
        [Signal.of("pdq", f"{rng.getrandbits(256):064x}") for _ in range(100_000)],
    )
    report("flat greys x256", flat_signals(((g, g, g) for g in range(256)), rng))
    colours = [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(3000)]
    report("flat colours x3000", flat_signals(colours, rng))
    ramps = [hash_content(_png(p), MediaLimits(), dihedral=True) for p in gradients(rng, 400)]
    report("gradients x400", [s for hashed in ramps for s in hashed.pdq_variants])
    load_cost(rng)


if __name__ == "__main__":
    main()
