"""Takedown clocks: how long a case has, per jurisdiction, and whether it is on time, at
risk or overdue. No I/O here.

The US TAKE IT DOWN Act (and the UK's rules) give 48 hours from a valid request; other
jurisdictions or a platform's own terms may give less. A deployment sets the default and
the exceptions by country (the report's country); a case's deadline is fixed when it is
received, so a later change of settings never moves a running clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from shieldwall.errors import InvalidInputError

DEFAULT_CLOCK: Final = timedelta(hours=48)
DEFAULT_AT_RISK: Final = timedelta(hours=12)
MAX_CLOCK_HOURS: Final = 24 * 30
_COUNTRY: Final = re.compile(r"[A-Z]{2}")


class ClockState(StrEnum):
    """Where a deadline stands at a moment."""

    ON_TIME = "on_time"
    AT_RISK = "at_risk"  # less than the at-risk margin left
    OVERDUE = "overdue"  # the deadline has passed


@dataclass(frozen=True)
class DeadlinePolicy:
    """A deployment's clocks: the default, the exceptions by country, the at-risk margin."""

    default: timedelta = DEFAULT_CLOCK
    by_country: Mapping[str, timedelta] = field(default_factory=dict)
    at_risk: timedelta = DEFAULT_AT_RISK

    def clock_for(self, country: str) -> timedelta:
        """How long a case reported from `country` (two letters; "" for unknown) has."""
        return self.by_country.get(country.upper(), self.default)

    def state(self, deadline: datetime, now: datetime) -> ClockState:
        """The deadline's state at `now`."""
        if now >= deadline:
            return ClockState.OVERDUE
        if deadline - now <= self.at_risk:
            return ClockState.AT_RISK
        return ClockState.ON_TIME


def country_hours(value: object, setting: str) -> dict[str, timedelta]:
    """`{"DE": 24}` (a TOML table) or `DE=24,FR=24` (an environment variable) as clocks by
    country; InvalidInputError naming the setting otherwise."""
    if isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, str):
        pairs = []
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            country, sep, hours = part.partition("=")
            if not sep:
                raise InvalidInputError(f"{setting}: write COUNTRY=HOURS, e.g. DE=24 ({part!r})")
            pairs.append((country.strip(), hours.strip()))
    else:
        raise InvalidInputError(f"{setting} must be a table or COUNTRY=HOURS,...")
    clocks = {}
    for country, hours in pairs:
        code = country.upper()
        if not _COUNTRY.fullmatch(code):
            raise InvalidInputError(f"{setting}: {country!r} is not a two-letter country")
        clocks[code] = timedelta(hours=clock_hours(hours, f"{setting}.{code}"))
    return clocks


def clock_hours(value: object, setting: str) -> int:
    """A clock in whole hours, 1 to 720."""
    try:
        hours = int(str(value))
    except ValueError:
        raise InvalidInputError(f"{setting} must be whole hours") from None
    if isinstance(value, bool) or not 1 <= hours <= MAX_CLOCK_HOURS:
        raise InvalidInputError(f"{setting} must be 1 to {MAX_CLOCK_HOURS} hours")
    return hours
