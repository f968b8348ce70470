"""Generator metadata, on benign fixtures built here: a generated landscape saved as each
generator saves its files (PNG text chunks, EXIF UserComment), and files without any."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from shieldwall.detection.provenance import EXCERPT, generator_metadata
from tests.support.images import scene

A1111 = "a mountain lake at dawn\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 480x320"


def png(**texts: str) -> bytes:
    info = PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    out = io.BytesIO()
    scene(11).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def jpeg_with_exif(user_comment: bytes = b"", software: str = "") -> bytes:
    exif = Image.Exif()
    if software:
        exif[0x0131] = software
    if user_comment:
        exif.get_ifd(0x8769)[0x9286] = user_comment
    out = io.BytesIO()
    scene(12).save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "generator", "where"),
    [
        (png(parameters=A1111), "AUTOMATIC1111", "png:parameters"),
        (png(prompt=json.dumps({"3": {"class_type": "KSampler"}})), "ComfyUI", "png:prompt"),
        (png(workflow=json.dumps({"nodes": [], "links": []})), "ComfyUI", "png:workflow"),
        (
            png(invokeai_metadata='{"positive_prompt": "a lake"}'),
            "InvokeAI",
            "png:invokeai_metadata",
        ),
        (png(Comment=json.dumps({"steps": 28, "sampler": "k_euler"})), "NovelAI", "png:Comment"),
        (png(Software="NovelAI"), "NovelAI", "png:Software"),
        (jpeg_with_exif(b"ASCII\0\0\0" + A1111.encode()), "AUTOMATIC1111", "exif:UserComment"),
        (
            jpeg_with_exif(b"UNICODE\0" + A1111.encode("utf-16-be")),
            "AUTOMATIC1111",
            "exif:UserComment",
        ),
        (jpeg_with_exif(software="ComfyUI 0.3"), "ComfyUI", "exif:Software"),
    ],
)
def test_each_generators_metadata_is_recognised(data: bytes, generator: str, where: str) -> None:
    [found] = generator_metadata(data)
    assert (found.generator, found.where) == (generator, where)
    assert len(found.excerpt) <= EXCERPT
    assert found.as_json()["generator"] == generator


def test_ordinary_files_and_lookalikes_carry_no_sign() -> None:
    assert generator_metadata(png()) == []
    assert generator_metadata(png(Title="Holiday", parameters="no settings here")) == []
    assert generator_metadata(png(prompt="just words, not a graph")) == []
    assert generator_metadata(jpeg_with_exif(software="GIMP 2.10")) == []
    assert generator_metadata(b"not an image at all") == []
    assert generator_metadata(b"") == []
