"""Face templates: the ROC over every genuine and impostor pair of ORL and Yale.

Each photo of `../shared/data/faces` (ORL: 40 people x 10, Yale: 15 people x 11; a folder
per person) goes through Shieldwall's own face path (`FaceAnalyser`: YuNet finds the face,
SFace makes its template). The photos are tight crops, so each is first set on a mid-grey
margin (half its size on every side) and enlarged to at least 200 pixels, giving the
detector the context a face in an ordinary photo has. Every pair of photos is then scored by
cosine similarity: pairs of one person are genuine, the rest impostors. A photo in which no
face is found fails to enrol; its pairs count as rejected (genuine) and never as a false
match (impostor).

Prints the false-match rate (FMR) and true-accept rate (TAR) over thresholds (the ROC), TAR
at FMR 1e-3 and 1e-4, the threshold at which FMR <= 1e-4, and the one in force
(`FACE_MATCH_THRESHOLD`).

    .venv/bin/python bench/face_roc.py [--faces ../shared/data/faces]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shieldwall.detection.faces import FACE_MATCH_THRESHOLD, FaceAnalyser

DEFAULT_FACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"
SUFFIXES = {".pgm", ".bmp", ".jpg", ".png"}


def prepared(path: Path) -> np.ndarray:
    """The photo on a grey margin, enlarged to at least 200 pixels on its short side."""
    image = Image.open(path).convert("RGB")
    margin = max(image.size) // 2
    image = ImageOps.expand(image, border=margin, fill=(128, 128, 128))
    if min(image.size) < 200:
        factor = 200 / min(image.size)
        size = (round(image.width * factor), round(image.height * factor))
        image = image.resize(size, Image.Resampling.BICUBIC)
    return np.asarray(image)


def rates(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> tuple[float, float]:
    """(FMR, TAR) at a threshold; NaN genuine scores (a failure to enrol) never accept."""
    tar = float(np.mean(np.nan_to_num(genuine, nan=-2.0) >= threshold))
    fmr = float(np.mean(np.nan_to_num(impostor, nan=-2.0) >= threshold))
    return fmr, tar


def at_fmr(genuine: np.ndarray, impostor: np.ndarray, target: float) -> tuple[float, float]:
    """The lowest threshold whose FMR <= target (to 0.001), and the TAR there."""
    scores = np.sort(np.nan_to_num(impostor, nan=-2.0))[::-1]
    allowed = int(np.floor(target * len(scores)))  # impostor pairs allowed at or over it
    threshold = float(scores[allowed]) + 1e-6 if allowed < len(scores) else -1.0
    threshold = float(np.ceil(threshold * 1000) / 1000)
    return threshold, rates(genuine, impostor, threshold)[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    args = parser.parse_args()
    if not args.faces.is_dir():
        print(f"no faces at {args.faces}: this bench needs ../shared/data")
        return 2
    photos = sorted(p for p in args.faces.rglob("*") if p.suffix.lower() in SUFFIXES)
    people = [f"{p.parent.parent.name}/{p.parent.name}" for p in photos]
    analyser = FaceAnalyser()
    templates: list[np.ndarray | None] = []
    seconds = []
    for path in photos:
        pixels = prepared(path)
        started = time.perf_counter()
        found = analyser.faces(pixels)
        seconds.append(time.perf_counter() - started)
        templates.append(found[0].template if found else None)
    failed = sum(t is None for t in templates)
    matrix = np.stack([t if t is not None else np.full(128, np.nan, np.float32) for t in templates])
    scores = matrix @ matrix.T
    upper = np.triu_indices(len(photos), k=1)
    pair_scores = scores[upper]
    same = (np.array(people)[:, None] == np.array(people)[None, :])[upper]
    genuine, impostor = pair_scores[same], pair_scores[~same]
    ms = np.array(seconds) * 1000
    print(f"photos: {len(photos)} ({len(set(people))} people) under {args.faces}")
    print(f"no face found (failures to enrol): {failed}")
    print(
        f"faces and templates per photo: mean {ms.mean():.1f} ms,"
        f" p99 {np.percentile(ms, 99):.1f} ms"
    )
    print(f"pairs: {len(genuine):,} genuine, {len(impostor):,} impostor\n")
    print("| threshold | FMR | TAR |")
    print("|---|---|---|")
    for threshold in sorted(
        {0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, FACE_MATCH_THRESHOLD}
    ):
        fmr, tar = rates(genuine, impostor, threshold)
        mark = " (in force)" if threshold == FACE_MATCH_THRESHOLD else ""
        print(f"| {threshold}{mark} | {fmr:.2e} | {tar:.4f} |")
    for target in (1e-3, 1e-4):
        threshold, tar = at_fmr(genuine, impostor, target)
        print(f"\nFMR <= {target:g}: threshold {threshold:.3f}, TAR {tar:.4f}")
    fmr, tar = rates(genuine, impostor, FACE_MATCH_THRESHOLD)
    print(
        f"RESULT photos={len(photos)} fte={failed} threshold={FACE_MATCH_THRESHOLD}"
        f" fmr={fmr:.2e} tar={tar:.4f}"
    )
    return 0 if fmr <= 1e-4 else 1


if __name__ == "__main__":
    raise SystemExit(main())
