"""Edit-robust matching on images and edits that are not the evaluation harness's.

The variants and thresholds of docs/matching.md were chosen on these images (scikit-image's
bundled sample photos and generated scenes), never on ../shared/data. This bench shows:

1. how far PDQ moves when a picture is cropped by a little (why the bank keeps windows on
   a 5% grid and a 2.5% zoom ladder);
2. recall per edit family with parameters unlike the harness's (other border widths and
   colours, captions on top, other tilts, other screenshot layouts, meme text, off-grid
   crops), through the product's own bank and lookup hashing;
3. the false-match margin: the smallest distance from any view of an edited copy to any
   stored hash of a *different* image;
4. the second stage through the product's matcher (panels, keystone undone, aligned search
   for crops): recall per edit family with amounts drawn at random, false matches among the
   images, and what the second stage costs per lookup.

    .venv/bin/python bench/robust_edits.py
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image, ImageDraw, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import EntrySource, NewEntry, Provenance
from shieldwall.banks.service import BankService
from shieldwall.config import MediaLimits
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.matching.models import Stage
from shieldwall.matching.service import BankMatcher
from shieldwall.signals.pdq import pdq_distance
from shieldwall.signals.pdq_quality import RefusedPdqError, without_refused
from tests.support.edits import (
    beside,
    bordered,
    captioned,
    chat_screenshot,
    cut_sides,
    font,
    off_axis,
    overlaid,
    rotated,
)
from tests.support.images import sample_photos, scene

Edit = Callable[[Image.Image, np.random.Generator], Image.Image]
THRESHOLD = 31


def tuning_images() -> list[tuple[str, Image.Image]]:
    """skimage's sample photos (greys as RGB), two crops of its large ones, 12 scenes."""
    images = sample_photos()
    images.append(("hubble", Image.fromarray(skimage.data.hubble_deep_field()[:480, :640])))
    images.append(("retina", Image.fromarray(skimage.data.retina()[300:1100, 200:1400])))
    images += [(f"scene{seed}", scene(1000 + seed)) for seed in range(12)]
    return images


def _crop(image: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    width, height = image.size
    box = (round(width * left), round(height * top))
    return image.crop((*box, width - round(width * right), height - round(height * bottom)))


def _feed_screenshot(image: Image.Image, dark: bool) -> Image.Image:
    """A feed app: status bar, title, avatar row, the photo full width, likes, tab bar."""
    width, height = 828, 1792
    background = (18, 18, 18) if dark else (250, 250, 250)
    ink = (230, 230, 230) if dark else (30, 30, 30)
    canvas = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, width, 60), fill=(0, 0, 0))
    draw.text((30, 90), "friends_feed", font=font(40), fill=ink)
    draw.ellipse((30, 190, 100, 260), fill=(200, 100, 150))
    draw.text((120, 205), "someone_posted", font=font(30), fill=ink)
    photo = image.resize((width, round(image.height * width / image.width)))
    canvas.paste(photo, (0, 280))
    draw.text((30, 300 + photo.height), "liked by 23 people", font=font(28), fill=ink)
    for i in range(5):
        draw.rectangle((60 + i * 160, height - 90, 110 + i * 160, height - 40), outline=ink)
    return canvas


def _meme(image: Image.Image) -> Image.Image:
    copy = image.copy()
    draw = ImageDraw.Draw(copy)
    for y, text in ((0.02, "WHEN YOU SEE IT"), (0.86, "CAN'T UNSEE")):
        draw.text(
            (copy.width * 0.08, copy.height * y),
            text,
            font=font(copy.height * 0.1),
            fill=(255, 255, 255),
            stroke_width=2,
            stroke_fill=(0, 0, 0),
        )
    return copy


def _pad(image: Image.Image, share: float, colour: tuple[int, int, int]) -> Image.Image:
    x, y = round(image.width * share / 2), round(image.height * share / 2)
    return bordered(image, x, y, x, y, colour)


EDITS: dict[str, Edit] = {
    "border_grey_8": lambda im, rng: _pad(im, 0.08, (128, 128, 128)),
    "border_black_14": lambda im, rng: _pad(im, 0.14, (0, 0, 0)),
    "pillarbox_white_30": lambda im, rng: bordered(
        im, im.width * 3 // 20, 0, im.width * 3 // 20, 0, (255, 255, 255)
    ),
    "caption_top_12": lambda im, rng: captioned(im, im.height * 12 // 100, top=True),
    "caption_dark_20": lambda im, rng: captioned(
        im, im.height // 5, bar=(20, 20, 20), ink=(255, 255, 255)
    ),
    "mirror_border_10": lambda im, rng: _pad(ImageOps.mirror(im), 0.1, (0, 0, 0)),
    "crop_centre_8": lambda im, rng: _crop(im, 0.04, 0.04, 0.04, 0.04),
    "crop_centre_18": lambda im, rng: _crop(im, 0.09, 0.09, 0.09, 0.09),
    "crop_grid_10_5": lambda im, rng: _crop(im, 0.1, 0.05, 0.0, 0.05),
    "crop_random_0_12": lambda im, rng: _crop(im, *rng.uniform(0.0, 0.12, 4)),
    "square_crop": lambda im, rng: (
        _crop(im, *(((1 - im.height / im.width) / 2, 0.0) * 2))
        if im.width > im.height
        else _crop(im, *((0.0, (1 - im.width / im.height) / 2) * 2))
    ),
    "tilt_3_black": lambda im, rng: rotated(im, 3.0, (0, 0, 0)),
    "tilt_-7_white": lambda im, rng: rotated(im, -7.0, (255, 255, 255)),
    "meme_text": lambda im, rng: _meme(im),
    "centre_text": lambda im, rng: overlaid(im, "OMG REALLY"),
    "feed_screenshot": lambda im, rng: _feed_screenshot(im, dark=False),
    "feed_screenshot_dark": lambda im, rng: _feed_screenshot(im, dark=True),
    "chat_screenshot": lambda im, rng: chat_screenshot(im)[0],
}


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def crop_sensitivity(images: list[tuple[str, Image.Image]], limits: MediaLimits) -> None:
    """Median and 90th percentile PDQ distance between a picture and slightly cropped copies."""
    print("| crop | median bits | p90 bits | within 31 |\n|---|---|---|---|")
    cases = {
        "one edge 2.5%": (0.025, 0, 0, 0),
        "one edge 5%": (0.05, 0, 0, 0),
        "all edges 1.25% (zoom 97.5%)": (0.0125,) * 4,
        "all edges 2.5% (zoom 95%)": (0.025,) * 4,
        "all edges 5% (zoom 90%)": (0.05,) * 4,
    }
    for label, box in cases.items():
        distances = []
        for _, image in images:
            whole = hash_content(_jpeg(image), limits).pdq.value
            distances.append(
                pdq_distance(whole, hash_content(_jpeg(_crop(image, *box)), limits).pdq.value)
            )
        within = sum(d <= THRESHOLD for d in distances) / len(distances)
        print(
            f"| {label} | {statistics.median(distances):.0f} | "
            f"{np.percentile(distances, 90):.0f} | {within:.0%} |"
        )


def main() -> None:
    limits = MediaLimits()
    images = tuning_images()
    print(f"{len(images)} images: scikit-image samples and generated scenes\n")
    crop_sensitivity(images, limits)
    bank: list[tuple[int, np.ndarray]] = []
    for number, (_, image) in enumerate(images):
        stored = hash_content(_jpeg(image), limits, purpose=Purpose.BANK)
        bank += [
            (number, np.frombuffer(bytes.fromhex(s.value), np.uint8))
            for s in stored.entry_signals()
            if s.type == "pdq"
        ]
    owners = np.array([owner for owner, _ in bank])
    stored_bits = np.unpackbits(np.stack([value for _, value in bank]), axis=1)
    print(f"\n{len(bank) / len(images):.1f} stored PDQ hashes per image\n")
    print("| edit | recall | nearest wrong (bits) |\n|---|---|---|")
    rng, recalls, nearest_wrong, spent, queries = np.random.default_rng(7), [], 256, 0.0, 0
    for name, edit in EDITS.items():
        found, wrong = 0, 256
        for number, (_, image) in enumerate(images):
            data = _jpeg(edit(image.convert("RGB").copy(), rng))
            started = time.perf_counter()
            hashed = hash_content(data, limits, purpose=Purpose.LOOKUP)
            spent, queries = spent + time.perf_counter() - started, queries + 1
            values = [s.value for s in hashed.lookup_signals() if s.type == "pdq"]
            bits = np.unpackbits(
                np.stack([np.frombuffer(bytes.fromhex(v), np.uint8) for v in values]), axis=1
            )
            distances = (bits[:, None, :] != stored_bits[None, :, :]).sum(axis=2)
            found += int(distances[:, owners == number].min() <= THRESHOLD)
            wrong = min(wrong, int(distances[:, owners != number].min()))
        recalls.append(found / len(images))
        nearest_wrong = min(nearest_wrong, wrong)
        print(f"| {name} | {found}/{len(images)} ({found / len(images):.2f}) | {wrong} |")
    print(
        f"\nmean recall {statistics.mean(recalls):.3f}; nearest wrong {nearest_wrong} bits; "
        f"lookup hashing {spent / queries * 1e3:.1f} ms per query"
    )
    print(f"RESULT mean_recall={statistics.mean(recalls):.4f} nearest_wrong={nearest_wrong}")


def _shade(rng: np.random.Generator) -> tuple[int, int, int]:
    grey = int(rng.integers(0, 256))
    return grey, grey, grey


def _zoom(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    keep_x, keep_y = rng.uniform(0.55, 0.9, size=2)
    left, top = rng.uniform(0, 1 - keep_x), rng.uniform(0, 1 - keep_y)
    return cut_sides(image, left, top, 1 - keep_x - left, 1 - keep_y - top)


def _captioned_crop(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A crop (each side 0-10%) with a caption bar of 12-20% of its height, above or below."""
    cropped = cut_sides(image, *rng.uniform(0.0, 0.10, 4))
    height = int(cropped.height * rng.uniform(0.12, 0.20))
    return captioned(cropped, height, top=bool(rng.integers(2)))


def _bordered_crop(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A crop (each side 0-10%) inside a border of one grey, 3-8% of the width per side."""
    cropped = cut_sides(image, *rng.uniform(0.0, 0.10, 4))
    widths = (rng.uniform(0.03, 0.08, 4) * cropped.width).astype(int)
    return bordered(cropped, *(int(w) for w in widths), _shade(rng))


SECOND_STAGE_EDITS: dict[str, Edit] = {
    "sides_cut_0_10": lambda im, rng: cut_sides(im, *rng.uniform(0.0, 0.10, 4)),
    "sides_cut_0_12": lambda im, rng: cut_sides(im, *rng.uniform(0.0, 0.12, 4)),
    "off_axis_0_7_any_rim": lambda im, rng: off_axis(im, rng.uniform(0, 0.07, (4, 2)), _shade(rng)),
    "beside_scene_gutter": lambda im, rng: beside(
        im, scene(int(rng.integers(10_000))), gutter=max(2, im.width // 60), colour=_shade(rng)
    ),
    "above_scene_seam": lambda im, rng: beside(
        im, scene(int(rng.integers(10_000))), across=False, first=False, gutter=0
    ),
    "zoom_55_90": _zoom,
    "sides_cut_0_10_then_caption": _captioned_crop,
    "sides_cut_0_10_then_border": _bordered_crop,
}


def second_stage(images: list[tuple[str, Image.Image]], limits: MediaLimits) -> None:
    """Recall and false matches through the matcher, half the images banked, half unrelated."""
    repository = InMemoryBankRepository()
    service = BankService(repository)
    service.create_bank("tuning")
    provenance = Provenance(EntrySource.MANUAL, submitted_by="bench")
    banked, others, owner = [], images[1::2], {}
    for name, image in images[::2]:
        signals, _ = without_refused(
            hash_content(_jpeg(image), limits, purpose=Purpose.BANK).entry_signals()
        )
        try:
            [added] = service.add_entries("tuning", [NewEntry(signals, provenance)])
        except RefusedPdqError as refused:  # a near-flat picture: the bank will not hold it
            print(f"{name} not banked: {refused}")
            continue
        owner[added.entry_id] = len(banked)
        banked.append((name, image))
    matcher = BankMatcher.load(repository)
    print("\n| second-stage edit | recall | by the second stage | false matches |")
    print("|---|---|---|---|")
    rng, seconds, lookups = np.random.default_rng(11), [], 0
    for name, edit in SECOND_STAGE_EDITS.items():
        found = second = false = 0
        for group, is_banked in ((banked, True), (others, False)):
            for number, (_, image) in enumerate(group):
                for _ in range(2 if is_banked else 1):
                    data = _jpeg(edit(image.convert("RGB").copy(), rng))
                    lookup = hash_content(data, limits, purpose=Purpose.LOOKUP)
                    started = time.perf_counter()
                    matches = matcher.match_signals(lookup.lookup_signals(), pixels=lookup.pixels)
                    seconds.append(time.perf_counter() - started)
                    lookups += 1
                    right = [m for m in matches if is_banked and owner[m.entry_id] == number]
                    false += len(matches) - len(right)
                    found += bool(right)
                    second += any(m.stage is Stage.SECOND for m in right)
        total = 2 * len(banked)
        print(f"| {name} | {found}/{total} ({found / total:.2f}) | {second} | {false} |")
    ms = np.array(seconds) * 1000
    print(
        f"\nmatching (both stages, {len(banked)} images banked): mean {ms.mean():.1f} ms, "
        f"p95 {np.percentile(ms, 95):.1f} ms over {lookups} lookups"
    )


if __name__ == "__main__":
    main()
    second_stage(tuning_images(), MediaLimits())
