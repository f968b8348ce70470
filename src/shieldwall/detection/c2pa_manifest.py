"""C2PA manifests (Content Credentials), read with the `c2pa-python` package.

Generators that sign their output (Adobe Firefly, OpenAI's image models, Google's, Microsoft
Designer and others) embed a C2PA manifest whose actions carry an IPTC `digitalSourceType`:
`trainedAlgorithmicMedia` for a picture made by a generative model,
`compositeWithTrainedAlgorithmicMedia` for one partly made by one. The manifest also names
its claim generator (the software that signed it). Either is a strong sign of generation,
shown to the reviewer with whether the signature holds and whether its signer is on a trust
list (Shieldwall keeps none, so signers read as untrusted: the statement is the signer's).

Nothing is fetched: remote manifests and certificate revocation (OCSP) are off, so reading
stays on this machine. A file without a manifest, or one the library cannot parse, gives
no finding (the other detectors say what is wrong with the file).
"""

from __future__ import annotations

import functools
import io
import json
from dataclasses import dataclass
from typing import Any, Final

from shieldwall.detection.models import DetectorUnavailableError

DISTRIBUTION: Final = "c2pa-python"

IPTC: Final = "http://cv.iptc.org/newscodes/digitalsourcetype/"
GENERATED_SOURCES: Final = {
    "trainedAlgorithmicMedia": "made by a generative model",
    "compositeWithTrainedAlgorithmicMedia": "partly made by a generative model",
    "algorithmicMedia": "made by an algorithm",
    "compositeSynthetic": "a composite including synthetic elements",
}
"""The IPTC source types that mean the picture was (partly) generated, and in plain words."""

FORMATS: Final = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG": "image/png",
    b"RIFF": "image/webp",
    b"GIF8": "image/gif",
    b"II*\x00": "image/tiff",
    b"MM\x00*": "image/tiff",
}
"""Formats C2PA embeds manifests in, by their first bytes (HEIF/AVIF by their `ftyp` box)."""

READ_SETTINGS: Final = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}


@dataclass(frozen=True)
class ManifestFinding:
    """What a manifest says about generation, and how far it can be believed."""

    claim_generator: str
    source_type: str
    """The IPTC term (without its namespace) when generated; empty when only the claim
    generator is a known generator's name."""
    signature: str
    """`valid`, `valid, signer not on a trust list`, or `invalid: <codes>`."""
    signer: str


def _media_type(data: bytes) -> str | None:
    for magic, media_type in FORMATS.items():
        if data.startswith(magic):
            return media_type
    if data[4:8] == b"ftyp":
        return "image/avif" if data[8:12] in (b"avif", b"avis") else "image/heif"
    return None


@functools.cache
def _reader_context() -> Any:
    try:
        import c2pa
    except ImportError as exc:
        raise DetectorUnavailableError(
            "C2PA checks need the package c2pa-python (pip install 'shieldwall[detect]')"
        ) from exc
    return c2pa, c2pa.Context(c2pa.Settings.from_dict(READ_SETTINGS))


def manifest_store(data: bytes) -> dict[str, Any] | None:
    """The file's C2PA manifest store as JSON (None without one, or unreadable)."""
    media_type = _media_type(data)
    if media_type is None:
        return None
    c2pa, context = _reader_context()
    try:
        with c2pa.Reader(media_type, io.BytesIO(data), context=context) as reader:
            store = json.loads(reader.json())
    except Exception:  # no manifest, or one the library cannot parse: nothing to say
        return None
    return store if isinstance(store, dict) else None


def generation_claims(data: bytes, known_generators: tuple[str, ...]) -> list[ManifestFinding]:
    """What the active manifest says about generation ([] when nothing)."""
    store = manifest_store(data)
    if not store:
        return []
    manifest = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    if not isinstance(manifest, dict):
        return []
    generator = _claim_generator(manifest)
    signature = _signature(store)
    signer = _signer(manifest)
    found = [
        ManifestFinding(generator, source, signature, signer)
        for source in _source_types(manifest)
        if source in GENERATED_SOURCES
    ]
    if not found and any(name.lower() in generator.lower() for name in known_generators):
        found.append(ManifestFinding(generator, "", signature, signer))
    return found


def _claim_generator(manifest: dict[str, Any]) -> str:
    infos = manifest.get("claim_generator_info")
    if isinstance(infos, list) and infos and isinstance(infos[0], dict):
        name = str(infos[0].get("name", ""))
        version = str(infos[0].get("version", ""))
        return f"{name} {version}".strip()
    return str(manifest.get("claim_generator", "")) or "unnamed"


def _source_types(manifest: dict[str, Any]) -> list[str]:
    found = []
    for assertion in manifest.get("assertions", []):
        if not isinstance(assertion, dict):
            continue
        if str(assertion.get("label", "")).split(".v")[0] != "c2pa.actions":
            continue
        data = assertion.get("data")
        actions = data.get("actions", []) if isinstance(data, dict) else []
        for action in actions if isinstance(actions, list) else []:
            source = action.get("digitalSourceType") if isinstance(action, dict) else None
            if isinstance(source, str):
                found.append(source.removeprefix(IPTC).rsplit("/", 1)[-1])
    return list(dict.fromkeys(found))


def _signature(store: dict[str, Any]) -> str:
    statuses = store.get("validation_status") or []
    codes = sorted({str(s.get("code")) for s in statuses if isinstance(s, dict) and s.get("code")})
    untrusted = "signingCredential.untrusted"
    problems = [code for code in codes if code != untrusted]
    if problems:
        return "invalid: " + ", ".join(problems)
    return "valid, signer not on a trust list" if untrusted in codes else "valid"


def _signer(manifest: dict[str, Any]) -> str:
    info = manifest.get("signature_info")
    if not isinstance(info, dict):
        return ""
    name, issuer = info.get("common_name"), info.get("issuer")
    return ", ".join(str(part) for part in (name, issuer) if part)
