"""The parsers of outside data the fuzzer drives, each with small valid seeds built in code.

Media (every image format decode_image takes), bank files (hash files, CSV, JSON lines,
and format detection), report forms (validate_report, and the stored form read back with
report_from_dict), submission files (`shieldwall case submit`), settings (TOML and rate
limits), and the JSON bodies of the HTTP routes (HMA, victims' API, native API) through
the ASGI app, where anything but a 5xx answer is fine.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import click
import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from shieldwall.banks.formats import BankFileFormat, ImportRecord, detect_format, parse_bank_file
from shieldwall.banks.models import EntrySource, Provenance
from shieldwall.cases.models import report_from_dict, report_to_dict, validate_report
from shieldwall.cases.service import normalise_case_number
from shieldwall.cli.case_cmd import _report_fields, read_submission
from shieldwall.cli.submission_import import SUBMISSION_FORMAT
from shieldwall.config import MediaLimits, load_settings
from shieldwall.detection.c2pa_manifest import generation_claims
from shieldwall.detection.provenance import GENERATOR_NAMES, generator_metadata
from shieldwall.errors import InvalidInputError, MediaError, ShieldwallError
from shieldwall.likeness.files import enrolment_file, read_enrolment_file
from shieldwall.media.decode import decode_image
from shieldwall.media.limits import MIB
from tests.support.fuzz_http import http_target
from tests.support.fuzz_seeds import IMAGE_TOKENS, MD5, PDQ, SHA256, image_seeds, report_dict
from tests.support.fuzzing import Target

# Small limits keep mutated headers that declare big images cheap, on the same code paths.
MEDIA_LIMITS: Final = MediaLimits(max_pixels=2_000_000, max_decode_bytes=64 * MIB)
JSON_TOKENS: Final = (
    b"null",
    b"{}",
    b"[]",
    b'"',
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"1e999",
    b"-0",
    b"NaN",
    b"Infinity",
    b"true",
    b",",
    b":",
    b"[" * 3000,
    b"{" * 50,
    b"\xff",
    b"\xef\xbb\xbf",
)
TEXT_TOKENS: Final = (
    b"\n",
    b"\r\n",
    b"\r",
    b"\t",
    b" ",
    b"#",
    b",",
    b'"',
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xff",
    "\u0661\u0662".encode(),  # Arabic-Indic digits
    "\u2028".encode(),
    b"pdq ",
    b"md5 ",
    b"sha256 ",
    b"ROTATE90 ",
    b"FLIPX ",
    PDQ.encode(),
    MD5.encode(),
    b"A" * 200_000,
)


def _json_seed(value: object) -> bytes:
    return json.dumps(value).encode()


def media_target() -> Target:
    """decode_image over every format it takes."""
    return Target(
        "media-decode",
        lambda data: decode_image(data, MEDIA_LIMITS),
        image_seeds(),
        (MediaError,),
        IMAGE_TOKENS,
        max_size=256 * 1024,
    )


def bank_file_target(fmt: BankFileFormat | None) -> Target:
    """parse_bank_file as the HTTP import feeds it (None: the format detected)."""

    def run(data: bytes) -> str:
        text = data.decode("utf-8-sig", errors="replace")  # how the HTTP import reads a body
        chosen = fmt or detect_format(text[:65536].splitlines()[:20], None)
        provenance = Provenance(EntrySource.EXCHANGE)
        records = problems = 0
        for item in parse_bank_file(io.StringIO(text, newline=""), chosen, provenance):
            if isinstance(item, ImportRecord):
                assert item.entry.signals, "a record without signals"
                records += 1
            else:
                problems += 1
        return f"{chosen.value}: {'records' if records else 'no records'}" + (
            ", problems" if problems else ""
        )

    lines = [
        f"pdq {PDQ}",
        f"md5 {MD5} from a partner # note",
        f"sha256 {SHA256}",
        f"ROTATE90 pdq {PDQ}",
        "# a comment",
        "",
    ]
    seeds = {
        BankFileFormat.HASHFILE: ["\n".join(lines), "\ufeff" + "\r\n".join(lines)],
        BankFileFormat.CSV: [
            f'signal_type,signal,note\npdq,{PDQ},"a note, with a comma"\nmd5,{MD5},\n',
            f'type,hash\r\nsha256,{SHA256}\r\npdq,{PDQ}\r\n"pdq","{PDQ}"\r\n',
        ],
        BankFileFormat.JSONL: [
            json.dumps({"signals": [{"type": "pdq", "value": PDQ, "quality": 90}]})
            + "\n"
            + json.dumps(
                {
                    "state": "disabled",
                    "source": "case",
                    "note": "n",
                    "case_id": "c-1",
                    "signals": [
                        {"type": "md5", "value": MD5},
                        {"type": "pdq", "value": PDQ, "variant": "mirror", "quality": 50},
                    ],
                }
            )
        ],
    }
    chosen = [fmt] if fmt else list(BankFileFormat)
    texts = [text for each in chosen for text in seeds[each]]
    name = f"bank-{fmt.value}" if fmt else "bank-detected"
    tokens = TEXT_TOKENS + JSON_TOKENS if fmt is not BankFileFormat.HASHFILE else TEXT_TOKENS
    return Target(name, run, tuple(t.encode() for t in texts), (ShieldwallError,), tokens)


def report_target() -> Target:
    """validate_report on the JSON object the victims' API takes, then its stored form."""

    def run(data: bytes) -> str:
        try:
            body = json.loads(data)
        except (ValueError, RecursionError):
            return "not JSON"  # the route answers 422 before validating
        if not isinstance(body, dict):
            return "not an object"  # the route answers 422 "send a JSON object"
        report = validate_report(body)
        # Storage keeps report_to_dict's JSON; reading it back must give the same form.
        stored = json.loads(json.dumps(report_to_dict(report)))
        assert report_to_dict(report_from_dict(stored)) == stored, "stored form changes"
        return "valid"

    minimal = {k: v for k, v in report_dict().items() if k not in {"locators", "language"}}
    representative = {**report_dict(), "reporter": "representative", "authority": "Helpline"}
    seeds = tuple(_json_seed(s) for s in (report_dict(), minimal, representative))
    return Target("report-form", run, seeds, (InvalidInputError,), JSON_TOKENS, json_tree=True)


def provenance_target() -> Target:
    """generator_metadata over image files, with and without generators' text chunks."""
    info = PngInfo()
    info.add_text("parameters", "a lake\nSteps: 20, Sampler: Euler a")
    info.add_text("prompt", json.dumps({"3": {"class_type": "KSampler"}}))
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (40, 90, 160)).save(out, "PNG", pnginfo=info)
    seeds = (out.getvalue(), *image_seeds())

    def run(data: bytes) -> str:
        return "a sign" if generator_metadata(data) else "no sign"  # never an error

    return Target("generator-metadata", run, seeds, (), IMAGE_TOKENS, max_size=256 * 1024)


def c2pa_target() -> Target:
    """generation_claims: C2PA manifests (signed PNG and JPEG landscapes) as the library
    reads them; a mutant may lose its manifest or break its signature, never crash."""
    from tests.support.provenance import with_manifest

    small = Image.new("RGB", (32, 24), (60, 120, 90))
    pictures = []
    for fmt, media_type in (("PNG", "image/png"), ("JPEG", "image/jpeg")):
        out = io.BytesIO()
        small.save(out, fmt)
        pictures.append(with_manifest(out.getvalue(), media_type))

    def run(data: bytes) -> str:
        claims = generation_claims(data, GENERATOR_NAMES)
        if not claims:
            return "no claim"
        return "invalid" if claims[0].signature.startswith("invalid") else "a claim"

    return Target("c2pa-manifest", run, tuple(pictures), (), IMAGE_TOKENS, max_size=256 * 1024)


def enrolment_file_target() -> Target:
    """read_enrolment_file: what `shieldwall enrolments import` reads."""
    now = datetime(2026, 12, 4, tzinfo=UTC)
    fields = {"enrollee": "self", "statements": ["own_face", "purpose", "review", "withdraw"]}
    seed = enrolment_file(fields, [np.full(128, 0.088, np.float32)], now).encode()
    return Target(
        "enrolment-file",
        lambda data: read_enrolment_file(data, now),
        (seed,),
        (InvalidInputError,),
        JSON_TOKENS,
        json_tree=True,
    )


def submission_target(folder: Path) -> Target:
    """`shieldwall case submit`: read the submission file and build the report it posts."""
    path = folder / "submission.json"

    def run(data: bytes) -> None:
        path.write_bytes(data)
        submission = read_submission(path)
        report = _report_fields(submission, {"locators": ("url=https://x.example/1",)})
        json.dumps(report)  # what httpx posts
        validate_report(report)  # what the server does with it

    hashes = [
        {"kind": "photo", "pdq": PDQ, "pdq_quality": 90, "md5": MD5, "sha256": SHA256},
        {"kind": "video", "md5": MD5, "sha256": SHA256},
    ]
    plain = {"format": SUBMISSION_FORMAT, "created_at": "2026-01-01T00:00:00+00:00"}
    seeds = (
        _json_seed({**plain, "hashes": hashes}),
        _json_seed({**plain, "hashes": hashes, "report": report_dict()}),
    )
    allowed = (click.ClickException, InvalidInputError)
    return Target("submission-file", run, seeds, allowed, JSON_TOKENS, json_tree=True)


def settings_targets(folder: Path) -> list[Target]:
    """shieldwall.toml, and SHIELDWALL_* variables (a number, a rate limit): load_settings."""
    path = folder / "shieldwall.toml"

    def run(data: bytes) -> str:
        path.write_bytes(data)
        load_settings(config_file=path, environ={})
        return "ok"

    def run_env(data: bytes) -> str:
        text = data.decode("utf-8", errors="replace")
        absent = folder / "absent.toml"
        refused = 0
        for name in ("SHIELDWALL_JOBS", "SHIELDWALL_RATE_ADMIN"):
            try:
                load_settings(config_file=absent, environ={name: text})
            except InvalidInputError:  # a clear refusal is fine
                refused += 1
        return f"{refused} of 2 refused"

    seeds = (
        b'[shieldwall]\nhome = "var"\njobs = 2\nrate_screener = "200/400"\n'
        b'url_lookups = true\nurl_allow_hosts = ["a.example", "b.example"]\n'
        b"[shieldwall.media]\nmax_bytes = 1048576\nmax_decode_bytes = 536870912\n",
        b'default_pdq_threshold = 31\nprotect_file_limit = "0.0028/5"\n'
        b"max_concurrent_decodes = 1\n",
    )
    tokens = (b"[", b"]", b"=", b'"', b"'''", b"inf", b"nan", b"-1", b"1e999", b"[" * 3000, b"\n")
    env_seeds = (b"2", b"200/400", b"0.0028/5", b" 10 / 20 ")
    return [
        Target("settings-toml", run, seeds, (InvalidInputError,), tokens),
        Target("settings-env", run_env, env_seeds, (), tokens + TEXT_TOKENS, max_size=4096),
    ]


def case_number_target() -> Target:
    """Case numbers as typed by people: normalise_case_number."""

    def run(data: bytes) -> str:
        number = normalise_case_number(data.decode("utf-8", errors="replace"))
        return "case number" if re.fullmatch(r"SW-[0-9A-Z]{4}-[0-9A-Z]{4}", number) else "other"

    seeds = (b"SW-7K2M-9QXD", b" sw 7k2m 9qxd ")
    return Target("case-number", run, seeds, (), TEXT_TOKENS, max_size=4096)


def all_targets(folder: Path | None = None) -> list[Target]:
    """Every target; files they write go under `folder` (a new temporary folder if None)."""
    where = folder or Path(tempfile.mkdtemp(prefix="shieldwall-fuzz-"))
    makers: list[Callable[[], list[Target]]] = [
        lambda: [media_target()],
        lambda: [bank_file_target(fmt) for fmt in (None, *BankFileFormat)],
        lambda: [report_target(), submission_target(where)],
        lambda: [provenance_target(), c2pa_target(), enrolment_file_target()],
        lambda: settings_targets(where),
        lambda: [case_number_target(), http_target(where)],
    ]
    return [target for make in makers for target in make()]
