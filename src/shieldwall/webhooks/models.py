"""Webhook endpoints, events and deliveries, and the retry schedule. No I/O here.

An endpoint belongs to a platform's API key (it hears about that key's queued uploads,
their decisions and the copies its lookups screened) or to the deployment (no key: it
hears every event, e.g. a chat-server module). Each event it subscribes to becomes one
delivery, kept in the database until it is delivered, or until its retries run out a day
later (then it waits in the dead-letter list for an admin to replay it).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from shieldwall.errors import InvalidInputError

EVENTS: Final = frozenset(
    {
        "review.decided",  # a review item got its final decision
        "lookup.verdict",  # a queued upload's review ended (the platform's item outcome)
        "sweep.copies",  # a sweep found copies of confirmed content among a key's lookups
        "case.event",  # a case moved (filed, decided, complaint, withdrawn...)
    }
)
MAX_URL: Final = 2000
_EVENT_PATTERN: Final = re.compile(r"[a-z]+\.[a-z_]+")


class DeliveryState(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"  # waiting for its first or next attempt
    DELIVERED = "delivered"  # the endpoint answered 2xx
    DEAD = "dead"  # retries ran out: in the dead-letter list


@dataclass(frozen=True)
class NewEndpoint:
    """An endpoint to register."""

    url: str
    events: frozenset[str]
    secret: str
    key_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Endpoint(NewEndpoint):
    """A registered endpoint."""

    id: int
    active: bool = True

    def hears(self, event: str, audience: int | None) -> bool:
        """Whether it gets `event` meant for the key `audience` (None: for the deployment)."""
        if not self.active or event not in self.events:
            return False
        return self.key_id is None or self.key_id == audience


def checked_events(given: object) -> frozenset[str]:
    """The events an endpoint subscribes to; InvalidInputError naming unknown ones."""
    items = given.split(",") if isinstance(given, str) else given
    if not isinstance(items, list | tuple | set | frozenset):
        raise InvalidInputError("events: a list of " + ", ".join(sorted(EVENTS)))
    events = {str(item).strip() for item in items if str(item).strip()}
    unknown = sorted(e for e in events if e not in EVENTS)
    if unknown or not events:
        raise InvalidInputError(
            f"events: unknown {', '.join(unknown) or '(none given)'}; known: "
            + ", ".join(sorted(EVENTS))
        )
    return frozenset(events)


@dataclass(frozen=True)
class NewDelivery:
    """One event for one endpoint."""

    endpoint_id: int
    event: str
    body: bytes
    created_at: datetime


@dataclass(frozen=True)
class Delivery(NewDelivery):
    """A stored delivery and its attempts so far."""

    id: int
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str = ""
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, for up to `give_up_after` from the event."""

    first_delay: timedelta = timedelta(seconds=10)
    max_delay: timedelta = timedelta(hours=2)
    give_up_after: timedelta = timedelta(days=1)
    jitter: float = 0.2
    """Each delay is scaled by a random factor in [1 - jitter, 1 + jitter]."""

    def next_attempt(
        self, delivery: Delivery, failed_at: datetime, rng: random.Random
    ) -> datetime | None:
        """When to try again after the delivery's `attempts`-th failure; None: give up."""
        exponent = max(0, delivery.attempts - 1)
        base = min(self.first_delay * (1 << min(exponent, 30)), self.max_delay)
        factor = 1 + self.jitter * (2 * rng.random() - 1)
        when = failed_at + base * factor
        if when - delivery.created_at > self.give_up_after:
            return None
        return when
