"""Cases and the reports that open them: legal fields, validation, workflow. No I/O here.

A report is what a victim (or a parent, or an authorised representative) files from the
victims' page or `shieldwall case submit`: who is reporting, contact, an electronic
signature, the statements the US TAKE IT DOWN Act and EU DSA Art. 16 require, locators
(where copies are), whether the person depicted was a minor, and hashes computed on the
person's own device. Images are never part of a report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from shieldwall.errors import InvalidInputError
from shieldwall.signals.models import ORIGINAL, Signal
from shieldwall.signals.pairs import MAX_PAIRS, is_pair_name
from shieldwall.signals.pdq_quality import REGION_MIN_QUALITY, pdq_refusals
from shieldwall.signals.regions import MAX_REGIONS, REGION_NAMES

TAKEDOWN_DEADLINE: Final = timedelta(hours=48)
"""US TAKE IT DOWN Act: removal within 48 hours of a valid request (also the UK's)."""

MAX_NAME, MAX_TEXT, MAX_LOCATORS, MAX_ITEMS = 200, 2000, 50, 100
MAX_EMAIL, MAX_EMAIL_LOCAL, MAX_LANGUAGE = 254, 64, 35
# Dot-atoms of letters, digits and the RFC 5322 atom signs, minus quotes and backquote:
# nothing that closes an HTML attribute or opens a tag, no spaces, commas or angle
# brackets (which would let one field name several recipients in a mail header).
_ATOM: Final = r"[\w!#$%&*+/=?^{|}~-]+"
_LABEL: Final = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"  # letters and digits, inner hyphens
_DOMAIN: Final = rf"(?:{_LABEL}\.)+(?:[^\W\d_]{{2,63}}|xn--[a-z0-9-]{{1,59}})"
_EMAIL: Final = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_DOMAIN}")
_LANGUAGE: Final = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}")
"""A BCP 47-like tag: `en`, `es`, `ko`, `pt-BR`, `zh-Hant-TW`."""
_COUNTRY: Final = re.compile(r"^[A-Z]{2}$")
REPORT_FIELDS: Final = frozenset(
    {
        "reporter",
        "name",
        "email",
        "signature",
        "signature_confirmed",
        "good_faith",
        "accurate",
        "authority",
        "country",
        "depicted_minor",
        "locators",
        "hashes",
        "language",
    }
)
"""Every top-level field of a report; any other is refused (`report`, `unknown_field`)."""


class ReporterRole(StrEnum):
    """Who files the report."""

    DEPICTED = "depicted"  # the person shown
    GUARDIAN = "guardian"  # a parent or legal guardian
    REPRESENTATIVE = "representative"  # someone authorised to act for them


class CaseState(StrEnum):
    """Where a case stands."""

    RECEIVED = "received"  # filed; its 48-hour clock runs from here
    TRIAGED = "triaged"  # a reviewer looked at it and queued it for a decision
    UNDER_REVIEW = "under_review"  # a reviewer is deciding it
    DECIDED = "decided"  # accepted or refused, with reasons
    CLOSED = "closed"  # nothing more to do
    COMPLAINT = "complaint"  # a decision is being looked at again after a complaint
    WITHDRAWN = "withdrawn"  # the person withdrew it; its hashes stopped matching


TRANSITIONS: Final[dict[CaseState, frozenset[CaseState]]] = {
    CaseState.RECEIVED: frozenset({CaseState.TRIAGED, CaseState.UNDER_REVIEW, CaseState.WITHDRAWN}),
    CaseState.TRIAGED: frozenset({CaseState.UNDER_REVIEW, CaseState.WITHDRAWN}),
    CaseState.UNDER_REVIEW: frozenset({CaseState.TRIAGED, CaseState.DECIDED, CaseState.WITHDRAWN}),
    CaseState.DECIDED: frozenset({CaseState.CLOSED, CaseState.COMPLAINT, CaseState.WITHDRAWN}),
    CaseState.CLOSED: frozenset({CaseState.COMPLAINT, CaseState.WITHDRAWN}),
    CaseState.COMPLAINT: frozenset({CaseState.DECIDED, CaseState.WITHDRAWN}),
    CaseState.WITHDRAWN: frozenset(),
}
"""The workflow: the only place that says which state may follow which. A reviewer who
needs more information puts a case under review back to triaged; a complaint about a
decision reopens a decided (or closed) case until another reviewer decides it again; a
person may withdraw at any time, even after a decision; a withdrawn case stays withdrawn."""


class LocatorKind(StrEnum):
    """What a locator points at."""

    URL = "url"
    MESSAGE = "message"  # a message or channel link (t.me/..., discord.com/channels/...)
    PLATFORM = "platform"  # a platform or app named without a link
    TEXT = "text"  # anything else the person can tell


class LocatorState(StrEnum):
    """What has been done about a locator."""

    REPORTED = "reported"
    REMOVED = "removed"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Locator:
    """Where a copy is, as the person described it."""

    kind: LocatorKind
    value: str
    state: LocatorState = LocatorState.REPORTED


@dataclass(frozen=True)
class Problem:
    """A field that failed validation: a stable code the pages translate, e.g. `required`."""

    field: str
    code: str


class InvalidReportError(InvalidInputError):
    """A report with one or more invalid fields (each a Problem)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        shown = ", ".join(f"{p.field}: {p.code}" for p in self.problems)
        super().__init__(f"the report has invalid fields ({shown})")


@dataclass(frozen=True)
class Report:
    """A validated report."""

    reporter: ReporterRole
    email: str
    signature: str
    locators: tuple[Locator, ...]
    hashes: tuple[tuple[Signal, ...], ...]
    """Per item (a photo or video), its signals: pdq (photos), md5, sha256."""
    depicted_minor: bool
    country: str
    name: str = ""
    authority: str = ""
    """For an authorised representative: the statement of their authority."""
    language: str = "en"
    flagger: str = ""
    """The registered trusted flagger (DSA Art. 22) that filed it; "" for a person's own
    report. Set only by authenticated intake, never from a public form's fields."""


@dataclass(frozen=True)
class CaseEvent:
    """One line of a case's timeline."""

    at: datetime
    kind: str  # received, under_review, decided, withdrawn, ...
    detail: str = ""


@dataclass(frozen=True)
class Case:
    """A case as stored (never its secret)."""

    id: int
    number: str
    state: CaseState
    received_at: datetime
    report: Report
    entry_ids: tuple[int, ...]
    events: tuple[CaseEvent, ...] = field(default_factory=tuple)
    deadline_at: datetime | None = None
    """The deadline fixed when the case was received (its jurisdiction's clock); None for
    cases from before clocks were stored: 48 hours."""

    @property
    def priority(self) -> bool:
        """Reports about minors go first."""
        return self.report.depicted_minor

    @property
    def deadline(self) -> datetime:
        """When copies must be gone: the jurisdiction's clock (48 hours unless the
        deployment says otherwise) from the receipt."""
        return self.deadline_at or self.received_at + TAKEDOWN_DEADLINE


def can_move(current: CaseState, to: CaseState) -> bool:
    """Whether the workflow allows a case in `current` to move to `to`."""
    return to in TRANSITIONS[current]


def _text(data: Mapping[str, Any], name: str, problems: list[Problem], limit: int) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append(Problem(name, "invalid"))
        return ""
    value = " ".join(value.split())
    if len(value) > limit:
        problems.append(Problem(name, "too_long"))
    return value


def _flag(data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name, False)
    return value is True or (isinstance(value, str) and value.lower() in {"1", "true", "on", "yes"})


def _locators(raw: Any, problems: list[Problem]) -> tuple[Locator, ...]:
    if raw is None:
        raw = []
    if not isinstance(raw, list) or len(raw) > MAX_LOCATORS:
        problems.append(Problem("locators", "invalid"))
        return ()
    found = []
    for item in raw:
        kind = item.get("kind") if isinstance(item, Mapping) else None
        value = item.get("value") if isinstance(item, Mapping) else None
        if not isinstance(kind, str) or kind not in set(LocatorKind):
            problems.append(Problem("locators", "invalid"))  # an object or array: unhashable
            continue
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem("locators", "invalid"))
            continue
        value = value.strip()
        if len(value) > MAX_TEXT:
            problems.append(Problem("locators", "too_long"))
        elif kind == LocatorKind.URL and not re.match(r"^https?://[^\s/]+", value):
            problems.append(Problem("locators", "not_a_url"))
        else:
            found.append(Locator(LocatorKind(kind), value))
    return tuple(found)


def _item_signals(item: Any) -> tuple[Signal, ...]:
    """One item's signals; a PDQ hash carries the quality the device computed with it."""
    if not isinstance(item, Mapping):
        raise InvalidInputError("not an object")
    quality = item.get("pdq_quality")
    if quality is not None and (isinstance(quality, bool) or not isinstance(quality, int)):
        raise InvalidInputError("pdq_quality must be an integer")
    signals = tuple(
        Signal.of(name, item[name], quality=quality if name == "pdq" else None)
        for name in ("pdq", "md5", "sha256")
        if item.get(name)
    )
    if not any(s.type == "sha256" for s in signals):
        raise InvalidInputError("sha256 missing")
    return (*signals, *_region_signals(item.get("regions")))


def device_item_signals(item: Any) -> tuple[Signal, ...]:
    """One item of a device's submission (`shieldwall protect`, the /protect page) as the
    signals a bank entry keeps: digests, and the PDQ hashes (whole image and regions) that
    pass the acceptance rule with the quality the device computed; InvalidInputError for an
    item that cannot be read. For support centres importing a submission they received."""
    try:
        signals = _item_signals(item)
    except TypeError:
        raise InvalidInputError("an item is an object of hex hashes") from None
    refusals = pdq_refusals(signals, quality_required=True)
    return tuple(s for s, refusal in zip(signals, refusals, strict=True) if refusal is None)


def _region_signals(raw: Any) -> tuple[Signal, ...]:
    """The region PDQ hashes a device computed (`[{"variant", "pdq", "quality"}]`): at most
    MAX_REGIONS known regions and MAX_PAIRS pair windows (signals/pairs.py), each once;
    those below the region quality floor are not kept (as `bank add` keeps none), the rest
    carry their quality."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_REGIONS + MAX_PAIRS:
        raise InvalidInputError(
            f"regions must be a list of at most {MAX_REGIONS} regions and {MAX_PAIRS} pairs"
        )
    pairs = sum(isinstance(r, Mapping) and is_pair_name(str(r.get("variant"))) for r in raw)
    if pairs > MAX_PAIRS or len(raw) - pairs > MAX_REGIONS:
        raise InvalidInputError(
            f"regions must be a list of at most {MAX_REGIONS} regions and {MAX_PAIRS} pairs"
        )
    kept: dict[str, Signal] = {}
    for region in raw:
        if not isinstance(region, Mapping) or set(region) != {"variant", "pdq", "quality"}:
            raise InvalidInputError("a region is {variant, pdq, quality}")
        name, quality = region["variant"], region["quality"]
        known = isinstance(name, str) and (name in REGION_NAMES or is_pair_name(name))
        if not known or name in kept:
            raise InvalidInputError("a region's variant must be a known region or a pair, once")
        if isinstance(quality, bool) or not isinstance(quality, int) or not 0 <= quality <= 100:
            raise InvalidInputError("a region's quality must be an integer 0-100")
        if not isinstance(region["pdq"], str):
            raise InvalidInputError("a region's pdq must be hex")
        if quality >= REGION_MIN_QUALITY:
            kept[name] = Signal.of("pdq", region["pdq"], variant=name, quality=quality)
    return tuple(kept.values())


def _hashes(raw: Any, problems: list[Problem]) -> tuple[tuple[Signal, ...], ...]:
    if not isinstance(raw, list) or not raw:
        problems.append(Problem("hashes", "required"))
        return ()
    if len(raw) > MAX_ITEMS:
        problems.append(Problem("hashes", "too_many"))
        return ()
    items = []
    for item in raw:
        try:
            signals = _item_signals(item)
        except (InvalidInputError, TypeError):
            problems.append(Problem("hashes", "invalid"))
            continue
        # Anyone may file a report, so its PDQ hash must pass the acceptance rule with the
        # quality the device computed: a blank image's hash would match every blank upload.
        # A region hash that fails it (a flat corner) is left out, as `bank add` leaves it.
        refusals = pdq_refusals(signals, quality_required=True)
        whole = [r for s, r in zip(signals, refusals, strict=True) if s.variant == ORIGINAL]
        refusal = next(filter(None, whole), None)
        if refusal is not None:
            problems.append(Problem("hashes", refusal.code.value))
            continue
        items.append(
            tuple(
                s
                for s, r in zip(signals, refusals, strict=True)
                if s.variant == ORIGINAL or r is None
            )
        )
    return tuple(items)


def _email(data: Mapping[str, Any], problems: list[Problem]) -> str:
    email = _text(data, "email", problems, MAX_EMAIL)
    if not email:
        problems.append(Problem("email", "required"))
    elif len(email) <= MAX_EMAIL and (
        not _EMAIL.fullmatch(email) or len(email.partition("@")[0]) > MAX_EMAIL_LOCAL
    ):
        problems.append(Problem("email", "invalid"))
    return email


def _language(data: Mapping[str, Any], problems: list[Problem]) -> str:
    value = data.get("language")
    if value is None or value == "":
        return "en"
    if not isinstance(value, str) or len(value) > MAX_LANGUAGE or not _LANGUAGE.fullmatch(value):
        problems.append(Problem("language", "invalid"))
        return ""
    return value


def validate_report(data: Mapping[str, Any]) -> Report:
    """A Report from submitted fields; InvalidReportError listing every problem otherwise."""
    problems: list[Problem] = []
    role_value = data.get("reporter")
    if not isinstance(role_value, str) or role_value not in set(ReporterRole):
        problems.append(Problem("reporter", "required"))
    minor = _flag(data, "depicted_minor")
    name = _text(data, "name", problems, MAX_NAME)
    if not name and not minor:
        problems.append(Problem("name", "required"))  # optional only when a minor is shown
    email = _email(data, problems)
    signature = _text(data, "signature", problems, MAX_NAME)
    if not signature:
        problems.append(Problem("signature", "required"))
    for statement in ("signature_confirmed", "good_faith", "accurate"):
        if not _flag(data, statement):
            problems.append(Problem(statement, "required"))
    authority = _text(data, "authority", problems, MAX_TEXT)
    if role_value == ReporterRole.REPRESENTATIVE and not authority:
        problems.append(Problem("authority", "required"))
    country = _text(data, "country", problems, 2).upper()
    if not _COUNTRY.match(country):
        problems.append(Problem("country", "required" if not country else "invalid"))
    locators = _locators(data.get("locators"), problems)
    hashes = _hashes(data.get("hashes"), problems)
    language = _language(data, problems)
    if set(data) - REPORT_FIELDS:
        problems.append(Problem("report", "unknown_field"))
    if problems:
        raise InvalidReportError(problems)
    return Report(
        reporter=ReporterRole(str(role_value)),
        email=email,
        signature=signature,
        locators=locators,
        hashes=hashes,
        depicted_minor=minor,
        country=country,
        name=name,
        authority=authority if role_value == ReporterRole.REPRESENTATIVE else "",
        language=language,
    )


def report_to_dict(report: Report) -> dict[str, Any]:
    """A report as JSON-ready data (how storage keeps it)."""
    return {
        "reporter": report.reporter.value,
        "email": report.email,
        "signature": report.signature,
        "locators": [
            {"kind": loc.kind.value, "value": loc.value, "state": loc.state.value}
            for loc in report.locators
        ],
        "hashes": [_item_to_dict(item) for item in report.hashes],
        "depicted_minor": report.depicted_minor,
        "country": report.country,
        "name": report.name,
        "authority": report.authority,
        "language": report.language,
        **({"flagger": report.flagger} if report.flagger else {}),
    }


def _item_to_dict(item: tuple[Signal, ...]) -> dict[str, Any]:
    """One item as the report sent it: signals by type, the PDQ hash's quality, and the
    region hashes the device computed."""
    whole = [s for s in item if s.variant == ORIGINAL]
    out: dict[str, Any] = {s.type: s.value for s in whole}
    quality = next((s.quality for s in whole if s.type == "pdq"), None)
    if quality is not None:
        out["pdq_quality"] = quality
    regions = [
        {"variant": s.variant, "pdq": s.value, "quality": s.quality}
        for s in item
        if s.variant != ORIGINAL
    ]
    if regions:
        out["regions"] = regions
    return out


def report_from_dict(data: Mapping[str, Any]) -> Report:
    """The report `report_to_dict` wrote."""
    return Report(
        reporter=ReporterRole(data["reporter"]),
        email=data["email"],
        signature=data["signature"],
        locators=tuple(
            Locator(LocatorKind(loc["kind"]), loc["value"], LocatorState(loc["state"]))
            for loc in data["locators"]
        ),
        hashes=tuple(_item_signals(item) for item in data["hashes"]),
        depicted_minor=bool(data["depicted_minor"]),
        country=data["country"],
        name=data["name"],
        authority=data["authority"],
        language=data["language"],
        flagger=str(data.get("flagger", "")),
    )
