"""API keys, roles and the one role matrix. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final


class Role(StrEnum):
    """What a key is for."""

    ADMIN = "admin"  # everything, including key management
    CURATOR = "curator"  # banks and entries
    SCREENER = "screener"  # lookups only; no distances or entry ids unless see_details
    REVIEWER = "reviewer"  # reads banks; works the review queue through the JSON API
    REPORTER = "reporter"  # a trusted flagger (hotline, support centre): files reports
    MONITOR = "monitor"  # reads /metrics (a Prometheus scraper): nothing else


class Capability(StrEnum):
    """What an endpoint needs; every route names exactly one, and every one is some route's.

    A capability comes with the first route that checks it (tests/integration/
    test_capabilities.py fails for one no route checks).
    """

    ANY_KEY = "any_key"  # any valid key (HMA's GET /status)
    LOOKUP = "lookup"  # hash and match content or signals
    READ_BANKS = "read_banks"  # list banks, read entries, export
    WRITE_BANKS = "write_banks"  # create/change banks, add/withdraw entries, import
    MANAGE_KEYS = "manage_keys"  # create, list and revoke API keys
    READ_METRICS = "read_metrics"  # /metrics: bank sizes (the reported bank's too), traffic
    REVIEW = "review"  # the review queue: claim items and decide them (/api/v1/review)
    FILE_CASES = "file_cases"  # file reports as a trusted flagger (/api/v1/cases)


ROLE_CAPABILITIES: Final[dict[Role, frozenset[Capability]]] = {
    Role.ADMIN: frozenset(Capability),
    Role.CURATOR: frozenset(
        {Capability.ANY_KEY, Capability.LOOKUP, Capability.READ_BANKS, Capability.WRITE_BANKS}
    ),
    Role.SCREENER: frozenset({Capability.ANY_KEY, Capability.LOOKUP}),
    Role.REVIEWER: frozenset({Capability.ANY_KEY, Capability.READ_BANKS, Capability.REVIEW}),
    Role.REPORTER: frozenset({Capability.ANY_KEY, Capability.FILE_CASES}),
    Role.MONITOR: frozenset({Capability.ANY_KEY, Capability.READ_METRICS}),
}
"""The role matrix: the only place that says which role may do what."""

DETAIL_ROLES: Final = frozenset({Role.ADMIN, Role.CURATOR})
"""Roles that always see distances and entry ids; others only with `see_details`."""

CASE_NUMBER_ROLES: Final = frozenset({Role.ADMIN, Role.REVIEWER})
"""Roles that see which case reported an entry (others could link a victim's reports)."""


@dataclass(frozen=True)
class ApiKey:
    """A stored API key (never its secret)."""

    id: int
    name: str
    role: Role
    see_details: bool
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None

    def can(self, capability: Capability) -> bool:
        """True if this key's role grants the capability (and the key is not revoked)."""
        return self.revoked_at is None and capability in ROLE_CAPABILITIES[self.role]

    @property
    def sees_case_numbers(self) -> bool:
        """Whether entry listings show this key the case numbers of reported entries."""
        return self.role in CASE_NUMBER_ROLES

    @property
    def sees_details(self) -> bool:
        """Whether lookups answer this key with distances and entry ids (no match oracle)."""
        return self.role in DETAIL_ROLES or self.see_details


@dataclass(frozen=True)
class IssuedKey:
    """A newly created key with its secret token, which is shown once and never stored."""

    key: ApiKey
    token: str


class LookupKind(StrEnum):
    """Which front end a lookup came through, as the audit log records it."""

    FILE = "file"  # native API: an uploaded image
    SIGNALS = "signals"  # native API: given signals
    URL = "url"  # native API: an image fetched by URL
    BATCH = "batch"  # native API: up to 1,000 signal sets
    HMA = "hma"  # the HMA-compatible routes
    CLI = "cli"  # `shieldwall match` (no API key)


class LookupVerdict(StrEnum):
    """A lookup's verdict as the audit log records it: the most severe action matched.

    The values are banks.models.MatchAction's (a lower layer cannot import it; a test
    keeps the two equal): screening records `LookupVerdict(result.verdict)`.
    """

    BLOCK = "block"
    REVIEW = "review"
    ALLOW = "allow"


@dataclass(frozen=True)
class LookupEvent:
    """One lookup for the audit log: never the content or its signals."""

    key_id: int | None
    at: datetime
    kind: LookupKind
    queries: int
    matches: int
    verdict: LookupVerdict
