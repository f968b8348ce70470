"""Bank region variants and query views: bookkeeping, and that edited copies land near them."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import NewEntry
from shieldwall.banks.service import BankService
from shieldwall.config import MediaLimits
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.matching.service import BankMatcher
from shieldwall.normalise.rotation import clear_centre
from shieldwall.normalise.views import bank_regions, query_views
from shieldwall.signals.models import Signal
from shieldwall.signals.pairs import MAX_PAIRS, is_pair_name
from shieldwall.signals.pdq import pdq_distance
from shieldwall.signals.pdq_pixels import pdq_from_pixels
from shieldwall.signals.regions import (
    BANK_REGIONS,
    CENTRED_SPANS,
    MAX_STORED_PDQ,
    REGION_MIN_QUALITY,
    aspect_regions,
    bank_regions_for,
)
from tests.support.edits import (
    as_jpeg_pixels,
    bordered,
    captioned,
    chat_screenshot,
    jpeg_bytes,
    overlaid,
    rotated,
)
from tests.support.images import scene

PICTURE = scene(11, 480, 320)
LIMITS_SIZE = (480, 320)


def _size(pixels: np.ndarray) -> tuple[int, int]:
    return pixels.shape[1], pixels.shape[0]


@pytest.fixture(scope="module")
def bank() -> dict[str, str]:
    pixels = as_jpeg_pixels(PICTURE)
    (whole,), _ = pdq_from_pixels(pixels, _size(pixels))
    return {"original": whole, **{s.variant: s.value for s in bank_regions(pixels, _size(pixels))}}


def _views(image: Image.Image) -> dict[str, str]:
    pixels = as_jpeg_pixels(image)
    return {s.variant: s.value for s in query_views(pixels, _size(pixels))}


def test_bank_variants_are_named_regions_and_at_most_64_hashes(bank: dict[str, str]) -> None:
    names = [name for name, _ in bank_regions_for(480, 320)]
    assert len(names) == len(set(names))
    assert len(names) + 1 <= MAX_STORED_PDQ
    pairs = {name for name in bank if is_pair_name(name)}
    assert 5 <= len(pairs) <= MAX_PAIRS
    assert set(bank) - {"original"} - pairs <= set(names)
    assert {"crop90:x05:y05", "crop80:x15:y05", "zoom925", "band:top", "aspect1x1"} <= set(bank)
    signals = bank_regions(as_jpeg_pixels(PICTURE), LIMITS_SIZE)
    assert all(s.type == "pdq" and (s.quality or 0) >= REGION_MIN_QUALITY for s in signals)


def test_aspect_crops_depend_on_the_shape() -> None:
    assert [name for name, _ in aspect_regions(300, 300)] == [
        "aspect4x5",
        "aspect16x9",
        "aspect9x16",
    ]
    assert [name for name, _ in aspect_regions(480, 320)] == [
        "aspect1x1",
        "aspect4x5",
        "aspect16x9",
    ]
    # A picture already 16:9 gets no 16:9 crop (it would cut nothing).
    assert "aspect16x9" not in [name for name, _ in aspect_regions(1600, 900)]
    assert len(BANK_REGIONS) == 34 + 9 + 8 + 6


def test_flat_regions_are_not_kept() -> None:
    flat = np.full((320, 480, 3), 90, dtype=np.uint8)
    assert bank_regions(flat, LIMITS_SIZE) == []
    assert query_views(flat, LIMITS_SIZE) == []


def test_a_bordered_copy_is_trimmed_back_to_the_original(bank: dict[str, str]) -> None:
    views = _views(bordered(PICTURE, 30, 20, 30, 20, (0, 0, 0)))
    assert pdq_distance(views["trimmed"], bank["original"]) <= 10


def test_a_mirrored_bordered_copy_matches_through_the_mirrored_view(bank: dict[str, str]) -> None:
    views = _views(bordered(ImageOps.mirror(PICTURE), 24, 24, 24, 24, (255, 255, 255)))
    assert pdq_distance(views["trimmed:mirror"], bank["original"]) <= 10


def test_a_captioned_copy_loses_its_caption(bank: dict[str, str]) -> None:
    views = _views(captioned(PICTURE, 56))
    assert pdq_distance(views["uncaptioned"], bank["original"]) <= 10


def test_the_photo_in_a_screenshot_matches(bank: dict[str, str]) -> None:
    screenshot, _ = chat_screenshot(PICTURE)
    views = _views(screenshot)
    best = min(pdq_distance(views[n], bank["original"]) for n in views if n.startswith("screen"))
    assert best <= 31


@pytest.mark.parametrize(("degrees", "fill"), [(4.0, (0, 0, 0)), (-6.0, (255, 255, 255))])
def test_a_tilted_copy_turned_back_matches_a_centred_window(
    bank: dict[str, str], degrees: float, fill: tuple[int, int, int]
) -> None:
    views = _views(rotated(PICTURE, degrees, fill))
    centre = clear_centre(480, 320, degrees)
    assert centre is not None
    assert round(centre.width, 3) in CENTRED_SPANS
    best = min(pdq_distance(views["derotated"], value) for value in bank.values())
    assert best <= 24


def test_bands_away_from_an_overlay_still_match(bank: dict[str, str]) -> None:
    views = _views(overlaid(PICTURE))
    assert pdq_distance(views["band:top"], bank["band:top"]) <= 12
    assert pdq_distance(views["band:bottom"], bank["band:bottom"]) <= 12


def test_a_crop_on_the_grid_matches_its_stored_window(bank: dict[str, str]) -> None:
    cropped = PICTURE.crop((72, 16, 456, 272))  # x 15-95%, y 5-85%
    pixels = as_jpeg_pixels(cropped)
    (whole,), _ = pdq_from_pixels(pixels, _size(pixels))
    assert pdq_distance(whole, bank["crop80:x15:y05"]) <= 10
    assert pdq_distance(whole, bank["original"]) > 31


def test_unrelated_pictures_stay_far_from_every_variant() -> None:
    """False-match margin: views of 12 other scenes against the bank variants of 12 scenes."""
    stored = []
    for seed in range(100, 112):
        pixels = as_jpeg_pixels(scene(seed))
        stored += [s.value for s in bank_regions(pixels, _size(pixels))]
    nearest = 256
    for seed in range(200, 212):
        for image in (scene(seed), bordered(scene(seed), 20, 20, 20, 20, (0, 0, 0))):
            for value in _views(image).values():
                nearest = min(nearest, *(pdq_distance(value, s) for s in stored))
    assert nearest > 45


def test_hash_content_purposes_decide_the_variants() -> None:
    data = jpeg_bytes(PICTURE)
    plain = hash_content(data, _limits())
    stored = hash_content(data, _limits(), purpose=Purpose.BANK)
    lookup = hash_content(data, _limits(), purpose=Purpose.LOOKUP)
    assert plain.views == ()
    assert plain.pdq_variants == ()
    assert stored.pdq == plain.pdq
    assert len(stored.views) >= 40
    assert stored.entry_signals()[:3] == plain.signals()
    assert len(lookup.pdq_variants) == 8
    assert len({s.variant for s in lookup.views if s.variant.startswith("band:")}) >= 3
    assert lookup.lookup_signals()[-2:] == (plain.md5, plain.sha256)


def _limits() -> MediaLimits:
    return MediaLimits()


def test_matches_say_which_view_and_variant_made_them() -> None:
    repository = InMemoryBankRepository()
    service = BankService(repository)
    service.create_bank("known")
    stored = hash_content(jpeg_bytes(PICTURE), _limits(), purpose=Purpose.BANK)
    [added] = service.add_entries("known", [NewEntry(stored.entry_signals())])
    matcher = BankMatcher.load(repository)

    def lookup(image: Image.Image) -> list[tuple[int, str, int]]:
        hashed = hash_content(jpeg_bytes(image), _limits(), purpose=Purpose.LOOKUP)
        found = matcher.match_signals(hashed.lookup_signals())
        return [(m.entry_id, m.variant, m.distance) for m in found if m.signal_type == "pdq"]

    [(entry_id, variant, distance)] = lookup(bordered(PICTURE, 30, 20, 30, 20, (0, 0, 0)))
    assert entry_id == added.entry_id
    assert variant == "trimmed" or variant.startswith("cleaned-band:")  # the border was cut
    assert distance <= 10
    [(_, variant, _)] = lookup(PICTURE.crop((72, 16, 456, 272)))
    assert variant == "crop80:x15:y05"
    # Words over the middle: the whole picture's hash may still be within the threshold
    # (then that earliest stage is what the match reports); otherwise a band away from them.
    [(_, variant, distance)] = lookup(overlaid(PICTURE))
    whole = hash_content(jpeg_bytes(overlaid(PICTURE)), _limits()).pdq.value
    if pdq_distance(whole, stored.pdq.value) <= 31:
        assert (variant, distance) == ("original", pdq_distance(whole, stored.pdq.value))
    else:
        assert variant.startswith("band:")
        assert "/" in variant
    assert lookup(scene(300)) == []


def test_a_bank_threshold_applies_to_every_variant() -> None:
    repository = InMemoryBankRepository()
    service = BankService(repository)
    service.create_bank("strict", pdq_threshold=0)
    stored = hash_content(jpeg_bytes(PICTURE), _limits(), purpose=Purpose.BANK)
    service.add_entries("strict", [NewEntry(stored.entry_signals())])
    matcher = BankMatcher.load(repository)
    hashed = hash_content(
        jpeg_bytes(bordered(PICTURE, 30, 20, 30, 20, (0, 0, 0))), _limits(), purpose=Purpose.LOOKUP
    )
    pdq = [m for m in matcher.match_signals(hashed.lookup_signals()) if m.signal_type == "pdq"]
    assert all(m.distance == 0 for m in pdq)


def test_view_and_variant_names_are_valid_signal_variants() -> None:
    hashed = hash_content(
        jpeg_bytes(bordered(PICTURE, 30, 20, 30, 20, (0, 0, 0))), _limits(), purpose=Purpose.LOOKUP
    )
    for signal in hashed.views:
        assert Signal.of("pdq", signal.value, variant=signal.variant) == Signal(
            "pdq", signal.value, signal.variant
        )
