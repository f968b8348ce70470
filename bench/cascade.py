"""The likeness cascade's cost per image, in-process, on benign photos.

A bank of the first 100 BSDS500 photos (`bank add`'s hashes, the product's lookup path),
an enrolment of the astronaut's face; then every BSDS500 photo through the cascade (most
stop at the nudity gate), and the full path (forced past the nudity gate by a threshold of
0: the only way to time it without explicit imagery) on the scikit-image astronaut, whose
face is compared with the enrolled templates. Prints mean and p99 per step and in all.

    .venv/bin/python bench/cascade.py [--images ../shared/data/photos-bsds500]
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import MatchAction, NewEntry
from shieldwall.banks.service import BankService
from shieldwall.cascade.service import STEPS, Cascade, Findings
from shieldwall.config import MediaLimits
from shieldwall.detection.faces import FaceAnalyser
from shieldwall.detection.nudity import NudityScorer
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.likeness.memory import InMemoryEnrolmentRepository
from shieldwall.likeness.models import Statement, consent_from_mapping
from shieldwall.likeness.service import EnrolmentService
from shieldwall.matching.models import Match
from shieldwall.matching.service import BankMatcher
from shieldwall.screening.service import ScreeningService
from shieldwall.signals.pdq_quality import without_refused
from shieldwall.storage.sealing import Sealer
from tests.support.edits import jpeg_bytes

DEFAULT_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos-bsds500"


def build(banked: list[Path]) -> tuple[Cascade, Cascade]:
    """The cascade over a bank of these photos and one enrolment (the astronaut's face),
    and the same forced past the nudity gate."""
    limits = MediaLimits()
    banks = BankService(repository := InMemoryBankRepository())
    banks.create_bank("known")
    for path in banked:
        hashed = hash_content(path.read_bytes(), limits, purpose=Purpose.BANK)
        banks.add_entries("known", [NewEntry(without_refused(hashed.entry_signals())[0])])
    matcher = BankMatcher.load(repository)
    screening = ScreeningService(lambda: matcher, limits, lambda event: None)

    def screen(data: bytes) -> tuple[MatchAction, list[Match]]:
        result = screening.screen_content(data, None)
        return result.verdict, list(result.matches)

    faces = FaceAnalyser()
    enrolments = EnrolmentService(InMemoryEnrolmentRepository(), Sealer(secrets.token_bytes(32)))
    consent = consent_from_mapping(
        {"enrollee": "self", "statements": [s.value for s in Statement]}, datetime.now(UTC)
    )
    enrolments.enrol(consent, [faces.faces(skimage.data.astronaut())[0].template])
    nudity = NudityScorer()
    cascade = Cascade(screen, nudity, faces, enrolments, limits)
    forced = Cascade(screen, nudity, faces, enrolments, limits, nudity_threshold=0.0)
    return cascade, forced


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    args = parser.parse_args()
    if not args.images.is_dir():
        print(f"no photos at {args.images}: this bench needs ../shared/data")
        return 2
    files = sorted(args.images.rglob("*.jpg"))
    cascade, forced = build(files[:100])
    cascade.run(files[0].read_bytes())  # models load outside the timing
    totals: list[float] = []
    per_step: dict[str, list[float]] = defaultdict(list)
    stops: Counter[str] = Counter()
    for path in files:
        data = path.read_bytes()
        started = time.perf_counter()
        found: Findings = cascade.run(data)
        totals.append(time.perf_counter() - started)
        stops[found.stop.value] += 1
        for step, seconds in found.seconds.items():
            per_step[step].append(seconds)
    full = []
    data = jpeg_bytes(Image.fromarray(skimage.data.astronaut()))
    for _ in range(20):
        started = time.perf_counter()
        last = forced.run(data)
        full.append(time.perf_counter() - started)
    ms = np.array(totals) * 1000
    print(f"photos: {len(files)}; bank: {len(files[:100])} of them; 1 enrolment")
    print(f"stopped: {dict(stops)}\n")
    print("| step | runs | mean ms | p99 ms |")
    print("|---|---|---|---|")
    for step in STEPS:
        if per_step[step]:
            values = np.array(per_step[step]) * 1000
            p99 = np.percentile(values, 99)
            print(f"| {step} | {len(values)} | {values.mean():.2f} | {p99:.2f} |")
    print(
        f"| **whole cascade** | {len(ms)} | **{ms.mean():.2f}** | **{np.percentile(ms, 99):.2f}** |"
    )
    full_ms = np.array(full) * 1000
    print(
        f"\nfull path (astronaut, forced past the nudity gate): mean {full_ms.mean():.2f} ms,"
        f" p99 {np.percentile(full_ms, 99):.2f} ms; {last.faces} face,"
        f" likeness {[(m.number[:3], round(m.similarity, 3)) for m in last.likeness]};"
        " steps " + ", ".join(f"{k} {v * 1000:.1f}" for k, v in last.seconds.items())
    )
    print(
        f"RESULT photos={len(ms)} mean_ms={ms.mean():.2f}"
        f" p99_ms={np.percentile(ms, 99):.2f} full_ms={full_ms.mean():.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
