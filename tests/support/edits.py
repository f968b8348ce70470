"""Edits that re-shared copies go through, applied to benign generated scenes, with the truth.

These are the test's own renderings (not the evaluation harness's): borders, caption bars,
a chat screenshot, small rotations and text laid over the picture.
"""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont, ImageOps

Colour = tuple[int, int, int]


def font(size: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's default font at about `size` pixels."""
    return ImageFont.load_default(size=max(8, int(size)))


def as_jpeg_pixels(image: Image.Image, quality: int = 92) -> npt.NDArray[np.uint8]:
    """RGB pixels of the image after a JPEG round trip (what a shared copy looks like)."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))


def jpeg_bytes(image: Image.Image, quality: int = 92) -> bytes:
    """The image as JPEG bytes."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def bordered(
    image: Image.Image, left: int, top: int, right: int, bottom: int, colour: Colour
) -> Image.Image:
    """The image inside a border of `colour` with these widths in pixels."""
    return ImageOps.expand(image, border=(left, top, right, bottom), fill=colour)


def captioned(
    image: Image.Image,
    height: int,
    *,
    top: bool = False,
    bar: Colour = (255, 255, 255),
    ink: Colour = (0, 0, 0),
    text: str = "when the weekend finally arrives",
) -> Image.Image:
    """The image with a caption bar of `height` pixels above or below it."""
    canvas = Image.new("RGB", (image.width, image.height + height), bar)
    canvas.paste(image, (0, height if top else 0))
    draw = ImageDraw.Draw(canvas)
    offset = 0 if top else image.height
    draw.text(
        (image.width * 0.04, offset + height * 0.25), text, font=font(height * 0.45), fill=ink
    )
    return canvas


def chat_screenshot(
    image: Image.Image, dark: bool = False
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """A 900x1900 messenger screenshot showing the image; also the photo's (l, t, r, b) box."""
    width, height = 900, 1900
    background: Colour = (16, 16, 20) if dark else (240, 236, 230)
    ink: Colour = (225, 225, 225) if dark else (40, 40, 40)
    canvas = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, width, 70), fill=(0, 0, 0))
    draw.text((30, 18), "10:24", font=font(30), fill=(255, 255, 255))
    draw.rectangle((0, 70, width, 200), fill=(30, 90, 160))
    draw.ellipse((30, 95, 110, 175), fill=(180, 190, 200))
    draw.text((130, 110), "Group chat", font=font(40), fill=(255, 255, 255))
    draw.rounded_rectangle((30, 260, 600, 360), radius=30, fill=(255, 255, 255))
    draw.text((60, 290), "did you see this", font=font(34), fill=(40, 40, 40))
    photo = image.copy()
    photo.thumbnail((640, 800))
    left, top = width - 30 - 12 - photo.width, 420
    draw.rounded_rectangle(
        (left - 12, top - 12, left + photo.width + 12, top + photo.height + 12),
        radius=24,
        fill=(200, 240, 200),
    )
    mask = Image.new("L", photo.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        (0, 0, photo.width - 1, photo.height - 1), radius=14, fill=255
    )
    canvas.paste(photo, (left, top), mask)
    below = top + photo.height + 50
    draw.rounded_rectangle((30, below, 520, below + 100), radius=30, fill=(255, 255, 255))
    draw.text((60, below + 30), "who sent it?", font=font(34), fill=(40, 40, 40))
    draw.rectangle((0, height - 130, width, height), fill=background)
    draw.rounded_rectangle((20, height - 110, 760, height - 30), radius=40, outline=ink, width=3)
    return canvas, (left, top, left + photo.width, top + photo.height)


def rotated(image: Image.Image, degrees: float, fill: Colour) -> Image.Image:
    """The image turned `degrees` counter-clockwise on its own canvas, corners filled."""
    return image.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=fill)


def overlaid(image: Image.Image, text: str = "NO WAY") -> Image.Image:
    """Big white words with a black outline across the middle of the image."""
    copy = image.copy()
    draw = ImageDraw.Draw(copy)
    size = copy.height * 0.14
    draw.text(
        (copy.width * 0.2, copy.height * 0.45),
        text,
        font=font(size),
        fill=(255, 255, 255),
        stroke_width=3,
        stroke_fill=(0, 0, 0),
    )
    return copy


def cut_sides(
    image: Image.Image, left: float, top: float, right: float, bottom: float
) -> Image.Image:
    """The image with these shares of its width (left, right) and height (top, bottom) cut."""
    width, height = image.size
    box = (round(width * left), round(height * top))
    return image.crop((*box, width - round(width * right), height - round(height * bottom)))


def _perspective(source: npt.NDArray[np.float64], target: npt.NDArray[np.float64]) -> list[float]:
    """Image.transform(PERSPECTIVE) coefficients mapping output corners `target` to `source`."""
    rows, values = [], []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        values += [u, v]
    return [float(c) for c in np.linalg.solve(np.array(rows), np.array(values))]


def off_axis(image: Image.Image, insets: npt.ArrayLike, rim: Colour) -> Image.Image:
    """The image as if photographed off-axis: its corners (top-left, top-right, bottom-right,
    bottom-left) moved inwards by `insets` (4 x 2 shares of the width and height) on its own
    canvas, the uncovered rim filled with `rim`."""
    width, height = image.size
    corners = np.array([(0, 0), (width, 0), (width, height), (0, height)], dtype=np.float64)
    inwards = np.array([(1, 1), (-1, 1), (-1, -1), (1, -1)], dtype=np.float64)
    moved = corners + inwards * np.asarray(insets, dtype=np.float64) * (width, height)
    coefficients = _perspective(corners, moved)
    return image.transform(
        image.size,
        Image.Transform.PERSPECTIVE,
        coefficients,
        Image.Resampling.BICUBIC,
        fillcolor=rim,
    )


def beside(
    image: Image.Image,
    other: Image.Image,
    *,
    across: bool = True,
    first: bool = True,
    gutter: int = 8,
    colour: Colour = (250, 250, 250),
) -> Image.Image:
    """The image beside (`across`) or above/below another picture scaled to its height (or
    width), with a plain gutter of `gutter` pixels; `first`: the image on the left or top."""
    if across:
        other = other.resize(
            (max(1, round(other.width * image.height / other.height)), image.height)
        )
        canvas = Image.new("RGB", (image.width + gutter + other.width, image.height), colour)
        spots = (
            ((0, 0), (image.width + gutter, 0)) if first else ((other.width + gutter, 0), (0, 0))
        )
    else:
        other = other.resize((image.width, max(1, round(other.height * image.width / other.width))))
        canvas = Image.new("RGB", (image.width, image.height + gutter + other.height), colour)
        spots = (
            ((0, 0), (0, image.height + gutter)) if first else ((0, other.height + gutter), (0, 0))
        )
    canvas.paste(image, spots[0])
    canvas.paste(other, spots[1])
    return canvas
