"""Provenance: signs that an image generator made a picture. Three kinds, each shown to the
reviewer beside the other findings and none ever deciding anything by itself:
- generator metadata (this module): what generators write into their files;
- C2PA manifests (detection/c2pa_manifest.py): a signed AI `digitalSourceType` or claim
  generator;
- Stable Diffusion's invisible watermarks (detection/watermarks.py).
`provenance_of` runs all three; a check whose package is not installed is left out
(`shieldwall doctor` says which).

Generator metadata: what image generators write into their files.

AUTOMATIC1111 and Forge write the prompt and settings as a PNG text chunk `parameters`
(or, for JPEG and WebP, as EXIF UserComment), "Steps: ..., Sampler: ...". ComfyUI writes
its graph as `prompt` and `workflow` JSON chunks; InvokeAI `invokeai_metadata` (older
versions `sd-metadata` and `Dream`); NovelAI `Software: NovelAI` and a `Comment` JSON.
Such metadata is easily stripped, so its absence says nothing; its presence is a strong
sign the picture was generated, shown to the reviewer beside the other findings.

Only the file's metadata is read (PNG chunks before the image data, the EXIF block): no
pixels are decoded here.
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from shieldwall.detection.c2pa_manifest import GENERATED_SOURCES, ManifestFinding, generation_claims
from shieldwall.detection.models import DetectorUnavailableError
from shieldwall.detection.watermarks import WatermarkFinding, generator_watermarks

EXCERPT: Final = 120
"""Characters of a metadata value shown (prompts can be long, and are not the point)."""

EXIF_SOFTWARE, EXIF_DESCRIPTION, EXIF_IFD, EXIF_USER_COMMENT = 0x0131, 0x010E, 0x8769, 0x9286
GENERATOR_NAMES: Final = (
    "NovelAI",
    "Stable Diffusion",
    "ComfyUI",
    "InvokeAI",
    "AUTOMATIC1111",
    "Midjourney",
    "DALL-E",
    "DALL·E",
    "Firefly",
)
"""Names that, in a Software or Source field (or a C2PA claim generator), mean a generator
made the file."""

Pixels = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class ProvenanceFinding:
    """One sign of generation: the generator, where it was found, and an excerpt."""

    generator: str
    where: str
    excerpt: str

    def as_json(self) -> dict[str, str]:
        """For findings shown to reviewers and printed by `shieldwall scan`."""
        return {"generator": self.generator, "where": self.where, "excerpt": self.excerpt}


def generator_metadata(data: bytes) -> list[ProvenanceFinding]:
    """Signs of an image generator in a file's metadata ([] for none, or a file that is
    not an image: the other detectors say what is wrong with it)."""
    try:
        with warnings.catch_warnings(), Image.open(io.BytesIO(data)) as image:
            # Only metadata is read here: a huge image is decode's to refuse, and Pillow's
            # warnings about corrupt EXIF mean only that there is nothing to read.
            warnings.simplefilter("ignore")
            texts = {str(k): v for k, v in image.info.items() if isinstance(v, str)}
            exif = image.getexif()
            fields = {
                "Software": exif.get(EXIF_SOFTWARE),
                "ImageDescription": exif.get(EXIF_DESCRIPTION),
                "UserComment": exif.get_ifd(EXIF_IFD).get(EXIF_USER_COMMENT),
            }
    except Exception:  # corrupt metadata (any of Pillow's errors on it) is no sign
        return []
    found = [*_from_texts(texts)]
    for name, value in fields.items():
        text = _text(value)
        if text:
            found += _from_field(f"exif:{name}", text)
    return _unique(found)


def provenance_of(data: bytes, rgb: Pixels | None = None) -> list[ProvenanceFinding]:
    """Every sign of generation in a file (and, for watermarks, its decoded RGB pixels)."""
    found = generator_metadata(data)
    with contextlib.suppress(DetectorUnavailableError):  # not installed: doctor says so
        found += [_from_manifest(claim) for claim in generation_claims(data, GENERATOR_NAMES)]
    if rgb is not None:
        with contextlib.suppress(DetectorUnavailableError):
            found += [_from_watermark(mark) for mark in generator_watermarks(rgb)]
    return _unique(found)


def _from_manifest(claim: ManifestFinding) -> ProvenanceFinding:
    if claim.source_type:
        what = f"{claim.source_type} ({GENERATED_SOURCES[claim.source_type]})"
        where = "c2pa:digitalSourceType"
    else:
        what, where = "claim generator is an image generator", "c2pa:claim_generator"
    signed = f"; signed by {claim.signer}" if claim.signer else ""
    return ProvenanceFinding(
        claim.claim_generator, where, f"{what}; signature {claim.signature}{signed}"
    )


def _from_watermark(mark: WatermarkFinding) -> ProvenanceFinding:
    return ProvenanceFinding(
        mark.generator,
        f"watermark:dwtDct ({mark.order})",
        f"invisible watermark: {mark.agreeing} of its {mark.bits} bits read",
    )


def _from_texts(texts: dict[str, str]) -> list[ProvenanceFinding]:
    found = []
    for key, value in texts.items():
        where = f"png:{key}"
        if key == "parameters" and _a1111(value):
            found.append(_finding("AUTOMATIC1111", where, value))
        elif key in ("prompt", "workflow") and _comfy(value):
            found.append(_finding("ComfyUI", where, value))
        elif key in ("invokeai_metadata", "sd-metadata", "Dream"):
            found.append(_finding("InvokeAI", where, value))
        elif key == "Comment" and _novelai_comment(value):
            found.append(_finding("NovelAI", where, value))
        elif key in ("Software", "Source", "Description"):
            found += _from_field(where, value)
    return found


def _from_field(where: str, value: str) -> list[ProvenanceFinding]:
    if _a1111(value):
        return [_finding("AUTOMATIC1111", where, value)]
    for name in GENERATOR_NAMES:
        if name.lower() in value.lower():
            return [_finding(name, where, value)]
    return []


def _a1111(value: str) -> bool:
    return "Steps:" in value and "Sampler:" in value


def _comfy(value: str) -> bool:
    document = _json(value)
    if isinstance(document, dict):
        nodes = document.get("nodes")
        if isinstance(nodes, list):
            return True
        return any(isinstance(n, dict) and "class_type" in n for n in document.values())
    return False


def _novelai_comment(value: str) -> bool:
    document = _json(value)
    return isinstance(document, dict) and "steps" in document and "sampler" in document


def _json(value: str) -> object:
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return None


def _text(value: object) -> str:
    """An EXIF value as text (UserComment carries an 8-byte charset prefix)."""
    if isinstance(value, bytes):
        body = value[8:] if value[:8] in (b"ASCII\0\0\0", b"UNICODE\0", b"\0" * 8) else value
        encoding = "utf-16-be" if value[:8] == b"UNICODE\0" else "utf-8"
        return body.decode(encoding, errors="replace").strip("\0 ")
    return value.strip() if isinstance(value, str) else ""


def _finding(generator: str, where: str, value: str) -> ProvenanceFinding:
    excerpt = " ".join(value.split())
    return ProvenanceFinding(generator, where, excerpt[:EXCERPT])


def _unique(found: list[ProvenanceFinding]) -> list[ProvenanceFinding]:
    return list(dict.fromkeys(found))
