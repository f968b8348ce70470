"""Benign generated test images: smooth scenes with shapes and noise, never people."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def scene(seed: int, width: int = 480, height: int = 320) -> Image.Image:
    """A photo-like RGB scene: gradient sky, coloured shapes, mild noise; distinct per seed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [
            (x / width) * rng.uniform(80, 200) + rng.uniform(0, 50),
            (y / height) * rng.uniform(80, 200) + rng.uniform(0, 50),
            ((x + y) / (width + height)) * rng.uniform(80, 200) + rng.uniform(0, 50),
        ],
        axis=-1,
    )
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width - 20)), int(rng.integers(0, height - 20))
        x1 = x0 + int(rng.integers(20, width // 2))
        y1 = y0 + int(rng.integers(20, height // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    noisy = np.asarray(image, dtype=np.int16) + rng.integers(-6, 7, (height, width, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


def write_scenes(directory: Path, seeds: range | list[int], fmt: str = "JPEG") -> list[Path]:
    """Save one scene per seed as `scene-<seed>.<ext>`; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    ext = {"JPEG": "jpg", "PNG": "png"}[fmt]
    paths = []
    for seed in seeds:
        path = directory / f"scene-{seed:03d}.{ext}"
        scene(seed).save(path, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
        paths.append(path)
    return paths


SAMPLE_PHOTOS = (
    "astronaut",
    "camera",
    "chelsea",
    "coffee",
    "rocket",
    "immunohistochemistry",
    "brick",
    "grass",
    "gravel",
    "moon",
    "coins",
    "clock",
)
"""scikit-image's bundled sample photos (shipped in its wheel: nothing is downloaded)."""


def sample_photos() -> list[tuple[str, Image.Image]]:
    """scikit-image's sample photos as RGB (greys repeated), by name."""
    import skimage.data

    photos = []
    for name in SAMPLE_PHOTOS:
        pixels = getattr(skimage.data, name)()
        if pixels.ndim == 2:
            pixels = np.stack([pixels] * 3, axis=-1)
        photos.append((name, Image.fromarray(pixels[..., :3])))
    return photos
