"""Provenance on benign fixtures built here: a generated landscape saved as each generator
saves its files (PNG text chunks, EXIF UserComment), with a signed C2PA manifest (a test CA),
or with a Stable Diffusion watermark (the package's own encoder); and files without any."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from shieldwall.detection.c2pa_manifest import IPTC, generation_claims
from shieldwall.detection.provenance import (
    EXCERPT,
    GENERATOR_NAMES,
    generator_metadata,
    provenance_of,
)
from shieldwall.detection.watermarks import MARKS, generator_watermarks, least_agreeing
from tests.support.images import scene
from tests.support.provenance import watermarked, with_manifest

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


def _png_bytes(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def _jpeg_bytes(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=92)
    return out.getvalue()


@pytest.mark.parametrize(
    ("encode", "media_type"), [(_png_bytes, "image/png"), (_jpeg_bytes, "image/jpeg")]
)
def test_a_signed_c2pa_manifest_saying_generated_is_found(
    encode: Callable[[Image.Image], bytes], media_type: str
) -> None:
    data = with_manifest(encode(scene(13)), media_type)
    [found] = provenance_of(data)
    assert (found.generator, found.where) == ("Test generator 1.0", "c2pa:digitalSourceType")
    assert found.excerpt.startswith("trainedAlgorithmicMedia (made by a generative model)")
    assert "signature valid, signer not on a trust list" in found.excerpt
    assert "signed by Test generator, Shieldwall tests" in found.excerpt


def test_a_manifest_changed_after_signing_says_its_signature_is_invalid() -> None:
    data = bytearray(with_manifest(_png_bytes(scene(14)), "image/png"))
    at = data.find(b"c2pa.created")
    data[at : at + 12] = b"c2pa.edited!"  # the action's text, inside the signed claim
    [claim] = generation_claims(bytes(data), GENERATOR_NAMES)
    assert claim.signature.startswith("invalid: ")


def test_a_manifest_of_an_ordinary_capture_is_no_sign_of_generation() -> None:
    camera = IPTC + "digitalCapture"
    assert generation_claims(with_manifest(_png_bytes(scene(15)), "image/png", camera), ()) == []
    named = with_manifest(_png_bytes(scene(15)), "image/png", camera, generator="Adobe Firefly")
    [claim] = generation_claims(named, GENERATOR_NAMES)
    assert (claim.source_type, claim.claim_generator) == ("", "Adobe Firefly 1.0")


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n\x1a\n broken", b"not an image", png()])
def test_files_without_a_readable_manifest_have_no_claims(data: bytes) -> None:
    assert generation_claims(data, GENERATOR_NAMES) == []


@pytest.mark.parametrize("generator", sorted(MARKS))
@pytest.mark.parametrize("order", ["BGR", "RGB"])
def test_a_stable_diffusion_watermark_is_found_in_a_generated_landscape(
    generator: str, order: str
) -> None:
    # The package's encoder leaves too many bits wrong on some pictures (the rates over
    # BSDS500 are bench/watermark_rates.py's); this landscape takes every mark.
    landscape = np.asarray(scene(7, 512, 512))
    marked = watermarked(landscape, MARKS[generator], order)
    found = generator_watermarks(marked)
    assert [f.generator for f in found] == [generator]
    assert found[0].agreeing >= least_agreeing(found[0].bits)
    [sign] = provenance_of(_png_bytes(Image.fromarray(marked)), marked)
    assert sign.where.startswith("watermark:dwtDct")


@pytest.mark.parametrize("seed", range(6))
def test_pictures_without_a_mark_or_too_small_have_none(seed: int) -> None:
    assert generator_watermarks(np.asarray(scene(seed, 512, 384))) == []
    small = np.asarray(scene(3, 200, 200))
    assert generator_watermarks(watermarked(small, MARKS["Stable Diffusion XL"])) == []
    assert generator_watermarks(np.zeros((300, 300), np.uint8)) == []  # grey: not read


def test_the_fewest_agreeing_bits_make_chance_agreement_rarer_than_one_in_a_million() -> None:
    assert [least_agreeing(n) for n in (32, 48, 136, 224)] == [30, 41, 96, 148]
