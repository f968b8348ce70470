"""The platform directory: where copies are found, how each platform is told, under which
law, by when. No I/O here.

A platform is known by a short name (`examplegram`), has an abuse contact (an email address,
a web form, or both), the country whose law binds it, the legal bases it accepts notices
under, the deadline it is bound by, the language of its notices, and the host names it
serves, so that a locator's URL finds its platform.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlsplit

from shieldwall.errors import InvalidInputError

MAX_HOSTS: Final = 50
NOTICE_LANGUAGES: Final = ("en", "es", "ko")
"""Languages notice templates exist in; other platforms get English."""

_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_COUNTRY: Final = re.compile(r"[A-Z]{2}")
_HOST: Final = re.compile(r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_EMAIL: Final = re.compile(r"[^@\s<>,;\"]{1,64}@(?:[a-z0-9-]{1,63}\.)+[a-z]{2,63}", re.IGNORECASE)


class LegalBasis(StrEnum):
    """What a notice rests on."""

    TAKE_IT_DOWN = "take_it_down"  # US TAKE IT DOWN Act: removal within 48 hours
    DSA_ART16 = "dsa_art16"  # EU Digital Services Act, Article 16 notice and action
    UK_OSA = "uk_osa"  # UK Online Safety Act: the platform's illegal-content duties
    TERMS = "terms"  # the platform's own terms of service


@dataclass(frozen=True)
class Platform:
    """A platform in the directory."""

    name: str
    display_name: str
    jurisdiction: str
    bases: tuple[LegalBasis, ...]
    deadline_hours: int
    hosts: tuple[str, ...]
    abuse_email: str = ""
    abuse_form: str = ""
    language: str = "en"

    def as_json(self) -> dict[str, Any]:
        """As the command line and the leads' page show it."""
        return {
            "name": self.name,
            "display_name": self.display_name,
            "jurisdiction": self.jurisdiction,
            "bases": [basis.value for basis in self.bases],
            "deadline_hours": self.deadline_hours,
            "hosts": list(self.hosts),
            "abuse_email": self.abuse_email,
            "abuse_form": self.abuse_form,
            "language": self.language,
        }


def platform_from_mapping(values: Mapping[str, Any]) -> Platform:
    """A platform from fields (the CLI's options, the page's form, stored JSON); an
    InvalidInputError naming every problem."""
    problems: list[str] = []
    name = str(values.get("name", "")).strip().lower()
    if not _NAME.fullmatch(name):
        problems.append("name: 1-64 lowercase letters, digits, _ . - (e.g. examplegram)")
    display = " ".join(str(values.get("display_name") or name).split())[:200]
    country = str(values.get("jurisdiction", "")).strip().upper()
    if not _COUNTRY.fullmatch(country):
        problems.append("jurisdiction: the two-letter country whose law binds it (US, ES, KR)")
    bases = _bases(values.get("bases"), problems)
    deadline = _deadline(values.get("deadline_hours", 48), problems)
    hosts = _hosts(values.get("hosts"), problems)
    email = str(values.get("abuse_email") or "").strip()
    if email and not _EMAIL.fullmatch(email):
        problems.append("abuse_email: not an email address")
    form = str(values.get("abuse_form") or "").strip()
    if form and (urlsplit(form).scheme != "https" or not urlsplit(form).hostname):
        problems.append("abuse_form: an https:// address of the platform's web form")
    if not email and not form:
        problems.append("give an abuse contact: abuse_email, abuse_form or both")
    language = str(values.get("language") or "en").strip().lower()
    if not re.fullmatch(r"[a-z]{2}", language):
        problems.append("language: two letters (en, es, ko, ...)")
    if problems:
        raise InvalidInputError("; ".join(problems))
    return Platform(name, display, country, bases, deadline, hosts, email, form, language)


def _bases(value: object, problems: list[str]) -> tuple[LegalBasis, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, Iterable):
        problems.append("bases: at least one of " + ", ".join(b.value for b in LegalBasis))
        return ()
    found = []
    for item in items:
        text = str(item).strip().lower()
        if text not in {b.value for b in LegalBasis}:
            problems.append(f"bases: {text!r} is not one of " + ", ".join(LegalBasis))
            continue
        found.append(LegalBasis(text))
    if not found and not any(p.startswith("bases") for p in problems):
        problems.append("bases: at least one of " + ", ".join(b.value for b in LegalBasis))
    return tuple(dict.fromkeys(found))


def _deadline(value: object, problems: list[str]) -> int:
    try:
        hours = int(str(value))
    except ValueError:
        hours = 0
    if isinstance(value, bool) or not 1 <= hours <= 24 * 30:
        problems.append("deadline_hours: whole hours, 1 to 720")
    return hours


def _hosts(value: object, problems: list[str]) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    hosts = []
    for item in items if isinstance(items, Iterable) else []:
        host = str(item).strip().lower().rstrip(".")
        if host.startswith("www."):
            host = host[4:]
        if not _HOST.fullmatch(host):
            problems.append(f"hosts: {host!r} is not a host name")
            continue
        hosts.append(host)
    if not hosts and not any(p.startswith("hosts") for p in problems):
        problems.append("hosts: at least one host name the platform serves (example.com)")
    if len(hosts) > MAX_HOSTS:
        problems.append(f"hosts: at most {MAX_HOSTS}")
    return tuple(dict.fromkeys(hosts))


def platform_of(url: str, platforms: Sequence[Platform]) -> Platform | None:
    """The platform serving a locator's URL (the most specific host name wins), or None."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return None
    host = host.lower().rstrip(".")
    matches = [
        (len(own), platform)
        for platform in platforms
        for own in platform.hosts
        if host == own or host.endswith("." + own)
    ]
    return max(matches, key=lambda match: match[0])[1] if matches else None
