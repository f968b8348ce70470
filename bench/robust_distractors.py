"""Edit-robust matching against a bank padded with random PDQ distractors: false matches, speed.

Builds a database (SQLite in a temp dir by default) with two banks, through the product CLI:
`distractors`, N uniform random 256-bit PDQ hashes (`shieldwall bank import` of a generated
hash file; writing the file is not timed), and `known`, the first half of the sorted photos
(`shieldwall bank add --json`, which stores each image's PDQ plus its region variants). The
second half are distractor photos, never banked. Queries are JPEGs: each original under 11
edits (this script's own renderings with tests/support/edits.py and PIL; the last three are
the second stage's: each side cut by its own 0-10%, photographed off-axis on a plain rim,
beside a generated scene), each distractor photo as it is, captioned, in a chat screenshot
and under the second stage's three edits. `shieldwall match --json` over both banks
then gives recall per edit and every false match: a match to a random hash, to the wrong
original, or for a distractor photo (target: none). Bank size: PDQ hashes stored per image
(from the entries), bytes of a `PdqIndex` holding just them and SQLite file growth.
In-process latency, one matcher over both banks: plain (PDQ hash, one search) against
robust (lookup views and dihedral hashes, all searched, and the second stage's aligned
search from the lookup's pixels), with and without the hashing.

    .venv/bin/python bench/robust_distractors.py [--random 1000000] [--images DIR] [--limit N]
        [--latency-sample 300] [--database-url URL] [--workdir DIR] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shlex
import subprocess
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.support

from shieldwall.app import build_services  # noqa: E402
from shieldwall.banks.models import Entry, IndexBatch, PdqColumns  # noqa: E402
from shieldwall.config import MediaLimits, Settings  # noqa: E402
from shieldwall.hashing.service import Purpose, hash_content  # noqa: E402
from shieldwall.matching.pdq_index import PdqIndex, hex_to_hash_array  # noqa: E402
from shieldwall.matching.service import BankMatcher  # noqa: E402
from shieldwall.signals.models import Signal  # noqa: E402
from shieldwall.signals.pairs import MAX_PAIRS, is_pair_name  # noqa: E402
from tests.support import edits  # noqa: E402
from tests.support.images import scene  # noqa: E402

DEFAULT_IMAGES = ROOT.parent / "shared" / "data" / "photos-bsds500"
BYTES_PER_HASH = 90  # PdqIndex at 1M-10M hashes (bench/RESULTS.md, section 2)
PADDING_FIRST_ID = 1 << 40  # in-process pair-window padding entries (never in the database)
BLACK = (0, 0, 0)
Edit = Callable[[Image.Image], Image.Image]


def _crop(image: Image.Image, keep: float) -> Image.Image:
    dx, dy = round(image.width * (1 - keep) / 2), round(image.height * (1 - keep) / 2)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


def _border(image: Image.Image) -> Image.Image:
    side = round(max(image.size) * 0.06)
    return edits.bordered(image, side, side, side, side, BLACK)


def _rng(image: Image.Image) -> np.random.Generator:
    """A generator of its own for each picture, so that every run draws the same edits."""
    return np.random.default_rng(zlib.crc32(image.tobytes()[:65536]))


def _cut_sides(image: Image.Image) -> Image.Image:
    """Each side cut by its own random 0-10%."""
    return edits.cut_sides(image, *_rng(image).uniform(0.0, 0.10, size=4))


def _off_axis(image: Image.Image) -> Image.Image:
    """Corners moved inwards by 0-6% each, on a random plain rim (dark, grey or light)."""
    rng = _rng(image)
    rim = tuple(int(c) for c in rng.integers(0, 256) * np.ones(3))
    return edits.off_axis(image, rng.uniform(0.0, 0.06, size=(4, 2)), (rim[0], rim[1], rim[2]))


def _zoom(image: Image.Image, scale: float = 1.0) -> Image.Image:
    """A random 60-85% of the width and, independently, of the height, at a random place;
    then resized by `scale` (both ways alike)."""
    rng = _rng(image)
    keep_w, keep_h = rng.uniform(0.60, 0.85, size=2)
    left, top = rng.uniform(0, 1 - keep_w), rng.uniform(0, 1 - keep_h)
    w, h = image.size
    window = image.crop(
        (round(left * w), round(top * h), round((left + keep_w) * w), round((top + keep_h) * h))
    )
    if scale == 1.0:
        return window
    size = (round(window.width * scale), round(window.height * scale))
    return window.resize(size, Image.Resampling.LANCZOS)


def _beside(image: Image.Image) -> Image.Image:
    """Beside or above/below a generated scene, with a gutter of 0-2% (none: a seam)."""
    rng = _rng(image)
    other = scene(int(rng.integers(0, 10_000)))
    across = bool(rng.random() < 0.5)
    gutter = round(float(rng.uniform(0.0, 0.02)) * (image.width if across else image.height))
    shade = int(rng.integers(200, 256))
    return edits.beside(
        image,
        other,
        across=across,
        first=bool(rng.random() < 0.5),
        gutter=gutter,
        colour=(shade, shade, shade),
    )


def _framed(image: Image.Image) -> Image.Image:
    """At its own size, at a random place inside a generated scene 1.2-1.6 times as wide
    and, independently, as high: a picture inside a larger one (a poster, a template)."""
    rng = _rng(image)
    wide, high = rng.uniform(1.2, 1.6, size=2)
    size = (round(image.width * wide), round(image.height * high))
    frame = scene(int(rng.integers(0, 10_000)), *size)
    spot = (
        int(rng.integers(0, size[0] - image.width + 1)),
        int(rng.integers(0, size[1] - image.height + 1)),
    )
    frame.paste(image, spot)
    return frame


EDITS: dict[str, Edit] = {
    "border-6%-black": _border,
    "caption-12%": lambda im: edits.captioned(im, round(im.height * 0.12)),
    "chat-screenshot": lambda im: edits.chat_screenshot(im)[0],
    "rotate-4-black": lambda im: edits.rotated(im, 4, BLACK),
    "overlaid-text": edits.overlaid,
    "mirror": ImageOps.mirror,
    "crop-90%-centre": lambda im: _crop(im, 0.9),
    "resize-50%": lambda im: im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS),
    # The second stage's edits (issue 12):
    "sides-cut-0-10%": _cut_sides,
    "off-axis-0-6%": _off_axis,
    "beside-a-scene": _beside,
    "zoom-60-85%": _zoom,
    "zoom-60-85%-resized-70%": lambda im: _zoom(im, 0.7),
    "inside-a-larger-frame": _framed,
}
DISTRACTOR_EDITS: dict[str, Edit] = {
    "photo-as-is": lambda im: im,
    "photo-captioned": EDITS["caption-12%"],
    "photo-chat-screenshot": EDITS["chat-screenshot"],
    "photo-sides-cut": _cut_sides,
    "photo-off-axis": _off_axis,
    "photo-beside-a-scene": _beside,
    "photo-zoomed": _zoom,
    "photo-inside-a-frame": _framed,
}


@dataclass(frozen=True)
class Query:
    """One query file: the edit, and the original it shows (None for a distractor photo)."""

    edit: str
    original: str | None


def shieldwall(env: dict[str, str], *args: str) -> tuple[str, float]:
    """Run the product CLI; its stdout and wall seconds."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "shieldwall", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"shieldwall {shlex.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout, time.perf_counter() - started


def photos(args: argparse.Namespace, work: Path) -> tuple[list[Path], str]:
    """The images to split into originals and distractors, and where they came from."""
    if args.images.is_dir():
        found = sorted(p for p in args.images.rglob("*") if p.suffix.lower() in {".jpg", ".png"})
        source = f"{len(found)} photos under {args.images}"
    else:
        (work / "scenes").mkdir()
        found = [work / "scenes" / f"scene-{seed:03d}.jpg" for seed in range(200)]
        for seed, path in enumerate(found):
            scene(seed).save(path, "JPEG", quality=92)
        source = f"{args.images} absent: 200 generated scenes instead"
    return found[: args.limit] if args.limit else found, source


def write_queries(originals: list[Path], others: list[Path], folder: Path) -> dict[str, Query]:
    """Edited copies of originals and distractor photos as JPEGs; the truth per path."""
    folder.mkdir()
    truth: dict[str, Query] = {}
    for group, table in ((originals, EDITS), (others, DISTRACTOR_EDITS)):
        for path in group:
            image = Image.open(path).convert("RGB")
            for name, edit in table.items():
                target = folder / f"{path.stem}-{name}.jpg"
                if name == "photo-as-is":
                    target.write_bytes(path.read_bytes())
                else:
                    target.write_bytes(edits.jpeg_bytes(edit(image)))
                truth[str(target)] = Query(name, str(path) if group is originals else None)
    return truth


def percentiles(values: list[float]) -> tuple[float, float, float, float]:
    """Mean, p50, p95 and p99 of seconds, in milliseconds."""
    ms = np.array(values) * 1000
    p50, p95, p99 = (float(np.percentile(ms, q)) for q in (50, 95, 99))
    return float(ms.mean()), p50, p95, p99


def pad_pair_windows(matcher: BankMatcher, bank_id: int, entries: int, seed: int) -> float:
    """Give the matcher's `distractors` bank `entries` more entries (in-process only, ids
    from PADDING_FIRST_ID) of MAX_PAIRS random pair windows each: random hashes, random
    landmarks, streamed in batches of 10,000 entries as an index load reads a bank (so the
    pair store is built in one piece, as a server loading such a bank builds it). Seconds
    taken."""
    started = time.perf_counter()
    matcher.add_batches(_padding_batches(bank_id, entries, np.random.default_rng(seed)))
    return time.perf_counter() - started


def _padding_batches(bank_id: int, entries: int, rng: np.random.Generator) -> Iterator[IndexBatch]:
    for start in range(0, entries, 10_000):
        ids = np.arange(start, min(entries, start + 10_000), dtype=np.int64) + PADDING_FIRST_ID
        rows = len(ids) * MAX_PAIRS
        ends = rng.integers(0, 1000, (rows, 4)).tolist()
        names = tuple("pair:{}-{}-{}-{}".format(*end) for end in ends)
        yield IndexBatch(
            PdqColumns(
                np.repeat(ids, MAX_PAIRS),
                np.full(rows, bank_id, np.int64),
                rng.integers(0, 256, (rows, 32), dtype=np.uint8),
                names,
                np.arange(rows, dtype=np.intp),
            ),
            [],
        )


def latency(
    matcher: BankMatcher, files: list[Path], padded: list[str] | None = None
) -> dict[str, list[float]]:
    """Seconds per query: hashing and matching, plain PDQ and robust lookup, alternating.
    Matches to padding entries (pad_pair_windows) are listed in `padded`."""
    limits = MediaLimits()
    times: dict[str, list[float]] = defaultdict(list)
    for data in [f.read_bytes() for f in files]:
        for mode in ("plain", "robust"):
            started = time.perf_counter()
            signals: tuple[Signal, ...]
            pixels = None
            if mode == "plain":
                signals = (hash_content(data, limits).pdq,)
            else:
                lookup = hash_content(data, limits, purpose=Purpose.LOOKUP)
                signals, pixels = lookup.lookup_signals(), lookup.pixels
            hashed = time.perf_counter()
            found = matcher.match_signals(signals, pixels=pixels)
            ended = time.perf_counter()
            if padded is not None:
                padded += [m.variant for m in found if m.entry_id >= PADDING_FIRST_ID]
            times[f"{mode} total"].append(ended - started)
            times[f"{mode} match"].append(ended - hashed)
    return times


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--random", type=int, default=1_000_000, help="random PDQ distractors")
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    parser.add_argument("--limit", type=int, default=0, help="use the first N images (0: all)")
    parser.add_argument("--latency-sample", type=int, default=300, help="query files timed")
    parser.add_argument("--database-url", default="", help="default: SQLite in the work dir")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temp dir")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--pair-padding",
        type=int,
        default=1_000_000,
        help="in-process entries of random pair windows for the latency run (0: none)",
    )
    parser.add_argument("--quick", action="store_true", help="40 images, 100,000 random hashes")
    args = parser.parse_args()
    if args.quick:
        args.limit, args.random, args.pair_padding = 40, 100_000, 10_000
    return args


@dataclass
class Scores:
    """Per edit: queries, queries that found their original, and false matches (listed)."""

    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    found: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    false: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    listed: list[str] = field(default_factory=list)


def build_banks(
    args: argparse.Namespace, env: dict[str, str], work: Path, originals: list[Path]
) -> tuple[dict[str, int], dict[str, float]]:
    """Both banks through the CLI: entry id per original path, and the figures measured."""
    hashfile = work / "distractors.hashes"
    rng = random.Random(args.seed)
    with hashfile.open("w") as out:
        for start in range(0, args.random, 100_000):
            count = min(100_000, args.random - start)
            out.write("".join(f"pdq {rng.getrandbits(256):064x}\n" for _ in range(count)))
    shieldwall(env, "db", "upgrade")
    shieldwall(env, "bank", "create", "distractors")
    shieldwall(env, "bank", "create", "known")
    _, import_s = shieldwall(env, "bank", "import", "distractors", str(hashfile), "--json")
    hashfile.unlink()
    db_file = work / "bench.db"  # absent with --database-url
    db_before = db_file.stat().st_size if db_file.exists() else 0
    added, add_s = shieldwall(env, "bank", "add", "known", *map(str, originals), "--json")
    db_growth = db_file.stat().st_size - db_before if db_file.exists() else -1
    entry_of = {r["path"]: r["entry_id"] for r in map(json.loads, added.splitlines())}
    return entry_of, {"import_s": import_s, "add_s": add_s, "db_growth": db_growth}


def score(output: str, truth: dict[str, Query], entry_of: dict[str, int]) -> Scores:
    """Recall and false matches from `shieldwall match --json` lines."""
    scores = Scores()
    for record in map(json.loads, output.splitlines()):
        query = truth[record["path"]]
        scores.total[query.edit] += 1
        expected = entry_of.get(query.original or "", -1)
        right = [m for m in record["matches"] if (m["bank"], m["entry_id"]) == ("known", expected)]
        scores.found[query.edit] += bool(right)
        for m in record["matches"]:
            if m not in right:
                scores.false[query.edit] += 1
                scores.listed.append(
                    f"{Path(record['path']).name} -> {m['bank']}#{m['entry_id']} "
                    f"{m['signal_type']} d={m['distance']} variant={m['variant']}"
                )
    return scores


def bank_size(entries: list[Entry], growth: float) -> dict[str, float]:
    """PDQ hashes stored per image, bytes of a PdqIndex of just them, database growth."""
    pdq = [[s for s in e.signals if s.type == "pdq"] for e in entries]
    pairs = [sum(is_pair_name(s.variant) for s in p) for p in pdq]
    index = PdqIndex()
    index.add(
        hex_to_hash_array(s.value for p in pdq for s in p),
        np.array([e.id for e, p in zip(entries, pdq, strict=True) for _ in p], dtype=np.int64),
    )
    counts = [len(p) for p in pdq]
    return {
        "mean": float(np.mean(counts)),
        "max": max(counts),
        "regions_max": max(c - n for c, n in zip(counts, pairs, strict=True)),
        "pairs_mean": float(np.mean(pairs)),
        "pairs_max": max(pairs),
        "index": index.memory_bytes() / len(entries),
        "db": growth / len(entries) if growth >= 0 else -1,
    }


def report_tables(scores: Scores, times: dict[str, list[float]], size: dict[str, float]) -> None:
    """The Markdown tables: recall and false matches, latency, bank size."""
    print("| query edit | queries | found | recall | false matches |")
    print("|---|---|---|---|---|")
    for edit in [*EDITS, *DISTRACTOR_EDITS]:
        total, found = scores.total[edit], scores.found[edit]
        share = f"{found / total:.1%}" if edit in EDITS and total else "-"
        print(f"| {edit} | {total} | {found if edit in EDITS else '-'} | {share} ", end="")
        print(f"| {scores.false[edit]} |")
    banked, hits = sum(scores.total[e] for e in EDITS), sum(scores.found.values())
    print(
        f"| **all** | {sum(scores.total.values())} | {hits} | {hits / max(banked, 1):.1%} ", end=""
    )
    print(f"| **{sum(scores.false.values())}** |\n")

    print("| lookup (in-process, both banks) | mean ms | p50 ms | p95 ms | p99 ms | ", end="")
    print("match-only mean / p50 / p95 / p99 ms |")
    print("|---|---|---|---|---|---|")
    stats = {key: percentiles(values) for key, values in times.items()}
    for mode in ("plain", "robust"):
        full, part = stats[f"{mode} total"], stats[f"{mode} match"]
        print(f"| {mode} | " + " | ".join(f"{v:.2f}" for v in full) + " | ", end="")
        print(" / ".join(f"{v:.3f}" for v in part) + " |")
    whole = [r / p for r, p in zip(stats["robust total"], stats["plain total"], strict=True)]
    alone = [r / p for r, p in zip(stats["robust match"], stats["plain match"], strict=True)]
    print("| robust / plain | " + " | ".join(f"{v:.2f}x" for v in whole) + " | ", end="")
    print(" / ".join(f"{v:.1f}x" for v in alone) + " |\n")

    print("| bank size per image | value |")
    print("|---|---|")
    print(f"| PDQ hashes stored (mean / max) | {size['mean']:.1f} / {size['max']:.0f} |")
    print(
        f"| of which pair windows (mean / max) | {size['pairs_mean']:.1f} / "
        f"{size['pairs_max']:.0f} |"
    )
    print(f"| PdqIndex bytes of these hashes alone (`memory_bytes`) | {size['index']:,.0f} |")
    print(f"| index estimate at scale ({BYTES_PER_HASH} B/hash x mean) | ", end="")
    print(f"{size['mean'] * BYTES_PER_HASH:,.0f} |")
    if size["db"] >= 0:
        print(f"| SQLite file growth on `bank add` | {size['db']:,.0f} |")
    print()


def run(args: argparse.Namespace, work: Path) -> int:
    """The whole bench in `work`; 1 if a false match or over 64 PDQ hashes per image (pair
    windows aside)."""
    url = args.database_url or f"sqlite:///{(work / 'bench.db').resolve()}"
    env = {**os.environ, "SHIELDWALL_HOME": str(work), "SHIELDWALL_DATABASE_URL": url}
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}, Python {sys.version[:6]}")
    print(f"database: {url.split('://')[0]}; load average {os.getloadavg()[0]:.2f} at start")
    images, source = photos(args, work)
    originals, others = images[: len(images) // 2], images[len(images) // 2 :]
    print(f"images: {source}; {len(originals)} banked, {len(others)} distractor photos")
    entry_of, built = build_banks(args, env, work, originals)

    truth = write_queries(originals, others, work / "queries")
    banks = ("--bank", "known", "--bank", "distractors")
    output, match_s = shieldwall(env, "match", str(work / "queries"), *banks, "--json")
    scores = score(output, truth, entry_of)

    services = build_services(Settings(home=work, database_url=url))
    size = bank_size(services.repository.get_entries(list(entry_of.values())), built["db_growth"])
    started = time.perf_counter()
    matcher = services.matcher(["known", "distractors"])
    build_s = time.perf_counter() - started
    files = sorted(truth)
    random.Random(args.seed).shuffle(files)
    sample = [Path(f) for f in files[: args.latency_sample]]
    distractor_bank = services.repository.get_bank("distractors").id
    pad_s = pad_pair_windows(matcher, distractor_bank, args.pair_padding, args.seed)
    latency(matcher, sample[:20])  # warm-up: caches, lazy imports, allocator
    padded: list[str] = []
    times = latency(matcher, sample, padded)
    services.close()
    print(f"load average at the end: {os.getloadavg()[0]:.2f}\n")

    queries, fails = sum(scores.total.values()), sum(scores.false.values()) + len(padded)
    import_s, add_s = built["import_s"], built["add_s"]
    print(f"bank import (CLI), {args.random:,} random PDQ hashes: {import_s:.1f} s, ", end="")
    print(f"{args.random / import_s:,.0f} entries/s")
    print(f"bank add (CLI), {len(originals)} originals: {add_s:.1f} s, ", end="")
    print(f"{len(originals) / add_s:.1f} images/s")
    print(f"match (CLI), {queries} queries, both banks: {match_s:.1f} s, ", end="")
    print(f"{queries / match_s:.1f} queries/s (index load included)")
    print(f"matcher build (in-process, PDQ rows {matcher.size()}): {build_s:.1f} s")
    print(
        f"pair-window padding (in-process, for the latency run): {args.pair_padding:,} entries"
        f" x {MAX_PAIRS} random windows in `distractors` ({pad_s:.0f} s);"
        f" matches to them: {len(padded)}"
    )
    print(f"latency: {len(sample)} query files, after a 20-file warm-up\n")
    report_tables(scores, times, size)

    ratio = float(np.mean(times["robust total"]) / np.mean(times["plain total"]))
    match_ratio = float(np.mean(times["robust match"]) / np.mean(times["plain match"]))
    banked = sum(scores.total[e] for e in EDITS)
    robust = percentiles(times["robust total"])
    targets = {
        "false matches = 0": fails == 0,
        "PDQ hashes per image <= 64 besides pair windows": size["regions_max"] <= 64,
        f"pair windows per image <= {MAX_PAIRS}": size["pairs_max"] <= MAX_PAIRS,
        "robust lookup mean <= 25 ms": robust[0] <= 25,
        "robust lookup p99 <= 60 ms": robust[3] <= 60,
        "index bytes per image at scale <= 8 KB": size["mean"] * BYTES_PER_HASH <= 8192,
    }
    for target, ok in targets.items():
        print(f"target {target}: {'PASS' if ok else 'FAIL'}")
    for line in scores.listed[:50]:
        print(f"false match: {line}")
    print(
        f"RESULT random={args.random} originals={len(originals)} distractor_photos={len(others)}"
        f" queries={queries} recall={sum(scores.found.values()) / max(banked, 1):.4f}"
        f" false_matches={fails} import_per_s={args.random / import_s:.0f}"
        f" pdq_per_image_mean={size['mean']:.1f} pdq_per_image_max={size['max']:.0f}"
        f" plain_ms={np.mean(times['plain total']) * 1000:.2f}"
        f" robust_ms={robust[0]:.2f} robust_p99_ms={robust[3]:.2f} ratio={ratio:.2f}"
        f" match_ratio={match_ratio:.1f} matcher_build_s={build_s:.1f}"
    )
    return 0 if fails == 0 and size["regions_max"] <= 64 else 1


def main() -> int:
    """Run in --workdir, or in a temp dir removed afterwards."""
    args = parse_args()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return run(args, args.workdir)
    with tempfile.TemporaryDirectory(prefix="shieldwall-robust-") as directory:
        return run(args, Path(directory))


if __name__ == "__main__":
    sys.exit(main())
