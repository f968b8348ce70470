"""Factories for what the tests build again and again: hashes, entries, banks, keys, reports.

Each gives a valid thing with plain defaults; a test names only what it is about.
Random values come from one seeded generator, so a run is repeatable.
"""

from __future__ import annotations

import io
import random
from datetime import datetime
from typing import Any

from PIL import ImageOps

from shieldwall.access.models import ApiKey, Role
from shieldwall.access.service import AccessService
from shieldwall.banks.models import Bank, BankPolicy, EntrySource, NewEntry, Provenance
from shieldwall.banks.ports import BankRepository
from shieldwall.signals.models import Signal
from tests.support.clock import EPOCH
from tests.support.images import scene

_rng = random.Random(20240611)

# The sample report's photo hashes: a PDQ hash the intake accepts (132 bits set, rank 16).
REPORT_PDQ = "3e2bf2a5f781f425f0b5a3b02e7a0adf8f87b78bc8d77fee94dfccf3243591c6"
REPORT_SHA = "ab" * 32


def random_pdq(rng: random.Random | None = None) -> str:
    """A random 256-bit PDQ hash in hex (from `rng`, or the factories' seeded generator)."""
    return f"{(rng or _rng).getrandbits(256):064x}"


def pdq_entry(
    value: str | None = None, *, variant: str = "original", quality: int = 90, **provenance: Any
) -> NewEntry:
    """A hash-only entry: one PDQ hash (a fresh random one unless given)."""
    signal = Signal.of("pdq", value or random_pdq(), variant, quality=quality)
    return NewEntry((signal,), Provenance(**provenance))


def content_entry() -> NewEntry:
    """An entry as hashing a photo gives it: digests, PDQ and a mirrored PDQ variant."""
    return NewEntry(
        (
            Signal.of("sha256", f"{_rng.getrandbits(256):064X}"),
            Signal.of("md5", f"{_rng.getrandbits(128):032x}"),
            Signal.of("pdq", random_pdq(), quality=100),
            Signal.of("pdq", random_pdq(), variant="mirror", quality=42),
        ),
        Provenance(EntrySource.CASE, submitted_by="helpline-7", case_id="C-2024-0042", note="n"),
    )


def make_bank(repository: BankRepository, name: str = "school-reports", **policy: Any) -> Bank:
    """Create a bank with a policy built from keyword arguments."""
    return repository.create_bank(name, BankPolicy(**policy))


def api_key(
    key_id: int = 1,
    role: Role = Role.SCREENER,
    *,
    see_details: bool = False,
    created_at: datetime = EPOCH,
) -> ApiKey:
    """A stored key (never its secret) with a prefix derived from its id."""
    return ApiKey(key_id, f"key {key_id}", role, see_details, f"{key_id:012x}", created_at)


def tokens_by_role(access: AccessService) -> dict[Role, str]:
    """One new key for each role, named after it: the tokens by role."""
    return {role: access.issue_key(role.value, role).token for role in Role}


def report_fields(**changes: Any) -> dict[str, Any]:
    """A complete, valid report from the depicted person, with changes."""
    data: dict[str, Any] = {
        "reporter": "depicted",
        "name": "Ana Example",
        "email": "ana@example.org",
        "signature": "Ana Example",
        "signature_confirmed": True,
        "good_faith": True,
        "accurate": True,
        "country": "es",
        "locators": [
            {"kind": "url", "value": "https://forum.example/t/123"},
            {"kind": "message", "value": "https://t.me/somegroup/456"},
            {"kind": "platform", "value": "a school group chat"},
        ],
        "hashes": [{"pdq": REPORT_PDQ, "pdq_quality": 100, "md5": "cd" * 16, "sha256": REPORT_SHA}],
    }
    data.update(changes)
    return data


def jpeg(seed: int, *, mirror: bool = False, quality: int = 90) -> bytes:
    """A photo-like JPEG (a generated scene, different for each seed), mirrored if asked."""
    image = scene(seed)
    if mirror:
        image = ImageOps.mirror(image)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def report_item(content: bytes, *, regions: bool = False) -> dict[str, Any]:
    """A report item for `content` as a device makes it: PDQ with its quality, MD5, SHA-256,
    and with `regions` the region PDQ hashes `bank add` keeps."""
    from shieldwall.config import MediaLimits
    from shieldwall.hashing.service import Purpose, hash_content

    purpose = Purpose.BANK if regions else Purpose.PLAIN
    signals = hash_content(content, MediaLimits(), purpose=purpose)
    item: dict[str, Any] = {
        "pdq": signals.pdq.value,
        "pdq_quality": signals.pdq.quality,
        "md5": signals.md5.value,
        "sha256": signals.sha256.value,
    }
    if regions:
        item["regions"] = [
            {"variant": v.variant, "pdq": v.value, "quality": v.quality} for v in signals.views
        ]
    return item
