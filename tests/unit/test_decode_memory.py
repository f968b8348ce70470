"""Decoding memory: sample depth never amplifies, a budget refuses first, few decodes at once."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from shieldwall.config import MediaLimits, load_settings
from shieldwall.errors import DecompressionBombError
from shieldwall.media import budget, decode
from shieldwall.media.budget import MIB, decode_cost, decode_slots
from shieldwall.media.decode import decode_image
from shieldwall.media.pixels import to_rgb
from tests.support.deep_images import deep_png, float_tiff
from tests.support.images import scene

SIDE = 10_000  # 100 megapixels: the default pixel limit
# Decodes `argv[1]` in `argv[2]` threads at once, then prints the peak RSS in KiB.
CHILD = """
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from shieldwall.config import MediaLimits
from shieldwall.media.decode import decode_image
data = Path(sys.argv[1]).read_bytes()
with ThreadPoolExecutor(int(sys.argv[2])) as pool:
    jobs = [pool.submit(decode_image, data, MediaLimits()) for _ in range(int(sys.argv[2]))]
    assert all(job.result().pixels.shape == (527, 527, 3) for job in jobs)
# VmHWM belongs to this address space, made new at exec; ru_maxrss would also count the
# memory of the (large) test process this child was forked from.
status = Path("/proc/self/status").read_text().splitlines()
print(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
"""


@pytest.fixture(scope="module")
def deep_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 240 KB 16-bit PNG and a 640 KB float TIFF, both 100 megapixels."""
    folder = tmp_path_factory.mktemp("deep")
    files = {"png": folder / "deep.png", "tiff": folder / "float.tif"}
    files["png"].write_bytes(deep_png(SIDE, SIDE))
    files["tiff"].write_bytes(float_tiff(SIDE, SIDE))
    return files


def peak_rss_mib(path: Path, threads: int = 1) -> float:
    """Peak RSS of a fresh Python that decodes `path` in `threads` threads at once."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(threads)],
        capture_output=True,
        text=True,
        timeout=300,  # a bound on a broken run only; nothing waits on it
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1]) / 1024


# Figures on the reference machine: a fresh interpreter with Shieldwall imported is ~30 MiB;
# the PNG decodes in ~230 MiB (before the fix: 1,748 MiB) and the TIFF in ~440 MiB (2,418).
# The bounds leave room for allocator noise and are far below the old figures.
def test_sixteen_bit_png_is_never_widened_at_full_size(deep_files: dict[str, Path]) -> None:
    assert deep_files["png"].stat().st_size < 300_000
    assert peak_rss_mib(deep_files["png"]) < 400


def test_float_tiff_is_never_widened_at_full_size(deep_files: dict[str, Path]) -> None:
    assert deep_files["tiff"].stat().st_size < 700_000
    assert peak_rss_mib(deep_files["tiff"]) < 600


def test_four_uploads_at_once_hold_two_full_size_images(deep_files: dict[str, Path]) -> None:
    # Four threads as the HTTP server's pool would run them: two decode, two wait (~430 MiB;
    # before the fix, 6.45 GB; with the fix but no bound on concurrency, ~830 MiB).
    assert peak_rss_mib(deep_files["png"], threads=4) < 600


def test_an_image_over_the_decode_budget_is_refused_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def never(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels decoded despite the budget")

    monkeypatch.setattr(ImageFile.ImageFile, "load", never)
    limits = MediaLimits(max_decode_bytes=100 * MIB)
    with pytest.raises(DecompressionBombError) as caught:
        decode_image(deep_png(SIDE, SIDE), limits)
    message = str(caught.value)
    assert message == (
        "PNG image of 10000x10000 pixels in mode I;16 needs about 193 MiB to decode, "
        "over the limit of 100 MiB"
    )


def test_the_budget_counts_bytes_per_pixel_of_the_mode() -> None:
    size, out = (1000, 1000), (0, 0)
    assert decode_cost("PNG", "L", size, out) == 1_000_000
    assert decode_cost("PNG", "I;16", size, out) == 2_000_000
    assert decode_cost("PNG", "RGB", size, out) == 4_000_000  # Pillow pads RGB to 4 bytes
    assert decode_cost("TIFF", "F", size, out) == 4_000_000
    assert decode_cost("WEBP", "RGBA", size, out) == 16_000_000  # libwebp's copies too
    assert decode_cost("PNG", "L", size, size) == 8_000_000  # full-size output: 4 + 3 bytes


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "BMP", "TIFF", "PPM", "WEBP", "HEIF"])
def test_default_budget_admits_every_image_up_to_the_pixel_limit(fmt: str) -> None:
    limits = MediaLimits()
    side = int(limits.max_pixels**0.5)
    reduced = (-(-side // (side // limits.min_short_side)),) * 2
    for mode in ("1", "L", "P", "LA", "PA", "RGB", "RGBA", "CMYK", "I;16", "I", "F"):
        assert decode_cost(fmt, mode, (side, side), reduced) <= limits.max_decode_bytes


def test_the_budget_applies_to_the_jpeg_draft_size() -> None:
    buffer = io.BytesIO()
    scene(4, 2000, 1500).save(buffer, "JPEG", quality=85)
    limits = MediaLimits(max_decode_bytes=16 * MIB)
    # Decoded at 1/2 scale in the DCT domain: ~8 MiB; at full size it would need ~33 MiB.
    assert decode_image(buffer.getvalue(), limits).decoded_size == (1000, 750)
    with pytest.raises(DecompressionBombError, match="over the limit of 16 MiB"):
        decode_image(buffer.getvalue(), limits, reduce_for_pdq=False)


def test_decode_limits_are_settings() -> None:
    settings = load_settings(
        config_file=Path("/nonexistent/shieldwall.toml"),
        environ={
            "SHIELDWALL_MAX_DECODE_BYTES": "1000000",
            "SHIELDWALL_MAX_CONCURRENT_DECODES": "3",
        },
    )
    assert (settings.media.max_decode_bytes, settings.media.max_concurrent_decodes) == (
        1_000_000,
        3,
    )


def test_decode_slots_are_one_semaphore_per_process() -> None:
    slots = decode_slots(2)
    assert decode_slots(2) is slots
    assert slots.acquire(blocking=False)
    try:
        assert slots.acquire(blocking=False)
        assert not slots.acquire(blocking=False)
        slots.release()
    finally:
        slots.release()


class Gate:
    """Stands in for the decode semaphore and holds every decode inside it until opened.

    It counts threads waiting for a slot and threads inside one, so the test can see two
    decodes held and two waiting at the same moment, without timing anything.
    """

    def __init__(self, slots: int) -> None:
        self.slots = threading.BoundedSemaphore(slots)
        self.state = threading.Condition()
        self.opened = threading.Event()
        self.waiting = self.inside = self.peak = 0

    def __enter__(self) -> None:
        self._count("waiting", +1)
        self.slots.acquire()
        self._count("waiting", -1)

    def __exit__(self, *exc: object) -> None:
        self.slots.release()

    def hold(
        self, convert: Callable[[Image.Image, int], Image.Image]
    ) -> Callable[..., Image.Image]:
        """`convert` (decode's to_rgb, run inside the slot) that waits for the gate to open."""

        def held(image: Image.Image, factor: int) -> Image.Image:
            self._count("inside", +1)
            self.opened.wait(timeout=60)  # a bound on a broken run only: the test opens it
            self._count("inside", -1)
            return convert(image, factor)

        return held

    def _count(self, name: str, step: int) -> None:
        with self.state:
            setattr(self, name, getattr(self, name) + step)
            self.peak = max(self.peak, self.inside)
            self.state.notify_all()


def test_at_most_max_concurrent_decodes_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate(2)
    asked: list[int] = []

    def slots(count: int) -> Gate:
        asked.append(count)
        return gate

    monkeypatch.setattr(budget, "decode_slots", slots)
    monkeypatch.setattr(decode, "to_rgb", gate.hold(to_rgb))  # as decode looks it up
    data = deep_png(64, 48)
    limits = MediaLimits(max_concurrent_decodes=2)
    try:
        with ThreadPoolExecutor(4) as pool:
            jobs = [pool.submit(decode_image, data, limits) for _ in range(4)]
            with gate.state:
                both = gate.state.wait_for(lambda: gate.inside == 2 and gate.waiting == 2, 60)
            assert both, "four decodes never stood two inside, two waiting"
            gate.opened.set()
            assert all(job.result(timeout=60).size == (64, 48) for job in jobs)
    finally:
        gate.opened.set()
    assert gate.peak == 2
    assert asked == [2, 2, 2, 2]
