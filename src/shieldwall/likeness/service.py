"""Enrolling with consent, reading one's enrolment with its secret, withdrawing, expiry,
and the one question templates answer: does this face belong to an enrolled person?

Templates are sealed (encrypted) before they are stored, kept in memory only in the
template index, never returned by any method, and deleted with the enrolment's end. A
wrong secret and an unknown number get the same answer, as for cases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final

import numpy as np

from shieldwall.clock import Clock, utc_now
from shieldwall.detection.faces import FACE_MATCH_THRESHOLD
from shieldwall.detection.models import Template
from shieldwall.errors import NotFoundError
from shieldwall.likeness.index import LikenessMatch, TemplateIndex
from shieldwall.likeness.models import (
    ENROLMENT_PREFIX,
    TEMPLATE_SIZE,
    Consent,
    Enrollee,
    Enrolment,
    EnrolmentState,
)
from shieldwall.likeness.ports import EnrolledNotifier, EnrolmentRepository, TemplateSealer
from shieldwall.receipts import (
    hash_secret,
    new_number,
    new_secret,
    normalise_number,
    secret_matches,
)

_NOT_FOUND: Final = "no enrolment with this number and secret"

Ended = Callable[[Enrolment, str], object]
"""Told of every enrolment that ends, with why (`withdrawn`, `expired`): the audit log."""


def normalise_enrolment_number(value: str) -> str:
    """An enrolment number as typed, in its canonical form."""
    return normalise_number(value, ENROLMENT_PREFIX)


def _sealed_bytes(templates: Sequence[Template]) -> bytes:
    return np.stack([np.asarray(t, np.float32) for t in templates]).astype("<f4").tobytes()


def _context(number: str) -> str:
    """What sealed templates are bound to: their enrolment (they cannot be moved)."""
    return f"enrolment-templates:{number}"


def _templates(data: bytes) -> list[Template]:
    rows = np.frombuffer(data, "<f4").reshape(-1, TEMPLATE_SIZE)
    return [np.array(row, np.float32) for row in rows]


class EnrolmentService:
    """Enrolments in, status and withdrawal out; the enrolled templates searched in memory."""

    def __init__(
        self,
        repository: EnrolmentRepository,
        sealer: TemplateSealer,
        clock: Clock = utc_now,
        threshold: float = FACE_MATCH_THRESHOLD,
        notifier: EnrolledNotifier | None = None,
    ) -> None:
        self._repository = repository
        self._sealer = sealer
        self._notifier = notifier
        self._clock = clock
        self._threshold = threshold
        self._index: TemplateIndex | None = None
        self._revision: tuple[int, int] | None = None
        self._ended: list[Ended] = []

    def now(self) -> datetime:
        """The service's clock (files are checked against it)."""
        return self._clock()

    def on_ended(self, callback: Ended) -> None:
        """Call `callback(enrolment, why)` after each enrolment ends (its templates gone)."""
        self._ended.append(callback)

    def enrol(self, consent: Consent, templates: Sequence[Template]) -> tuple[Enrolment, str]:
        """A new enrolment and its secret (the only copy: show it once)."""
        number, secret = new_number(ENROLMENT_PREFIX), new_secret()
        sealed = self._sealer.seal_bytes(_sealed_bytes(templates), _context(number))
        enrolment = self._repository.create(
            number, hash_secret(secret), consent, sealed, len(templates)
        )
        if self._index is not None:
            self._index.add(number, list(templates))
        return enrolment, secret

    def open(self, number: str, secret: str) -> Enrolment:
        """The enrolment if the secret is its own; NotFoundError otherwise, the same either
        way (one indexed read and one comparison, against a dummy when there is none)."""
        canonical = normalise_enrolment_number(number) if isinstance(number, str) else ""
        matches = secret_matches(self._repository.secret_hash(canonical), secret)
        found = self._repository.find(canonical) if matches else None
        if found is None:
            raise NotFoundError(_NOT_FOUND)
        return found

    def withdraw(self, number: str, secret: str) -> Enrolment:
        """End an enrolment at its person's request: its templates are deleted at once. An
        enrolment already ended is returned as it is."""
        enrolment = self.open(number, secret)
        if enrolment.state is not EnrolmentState.ACTIVE:
            return enrolment
        return self._end(enrolment.number, EnrolmentState.WITHDRAWN) or self.open(number, secret)

    def expire(self) -> list[Enrolment]:
        """End every enrolment whose term is over (run daily, and by the service); those
        this call ended (another worker may end some at the same time)."""
        ended = [self._end(n, EnrolmentState.EXPIRED) for n in self._repository.due(self._clock())]
        return [enrolment for enrolment in ended if enrolment is not None]

    def acted_on(self, numbers: Sequence[str]) -> list[Enrolment]:
        """An image showing these enrolled people was confirmed and is blocked from now on:
        each active enrolment records it (its status page says so) and its person is
        emailed if they gave an address. Ended enrolments are not told (their consent is
        over). The enrolments told."""
        now = self._clock()
        told = []
        for number in dict.fromkeys(numbers):
            enrolment = self._repository.find(number)
            if enrolment is None or enrolment.state is not EnrolmentState.ACTIVE:
                continue
            self._repository.add_notice(number, now)
            if enrolment.consent.email and self._notifier is not None:
                self._notifier.notify_enrolled(enrolment.consent.email, number, now)
            told.append(enrolment)
        return told

    def is_minor(self, numbers: Sequence[str]) -> bool:
        """Whether any of these enrolments was made by a guardian (for someone under 18)."""
        for number in numbers:
            enrolment = self._repository.find(number)
            if enrolment is not None and enrolment.consent.enrollee is Enrollee.GUARDIAN:
                return True
        return False

    def likeness(self, template: Template) -> list[LikenessMatch]:
        """Active enrolments whose templates come near this face's (most similar first)."""
        return self._loaded().nearest(template, self._threshold)

    def _end(self, number: str, state: EnrolmentState) -> Enrolment | None:
        """End an enrolment; None if someone else ended it first (told once, by them)."""
        ended, now = self._repository.end(number, state, self._clock())
        if self._index is not None:
            self._index.remove(number)
        if not now:
            return None
        for callback in self._ended:
            callback(ended, state.value)
        return ended

    def _loaded(self) -> TemplateIndex:
        """The template index, rebuilt when any process made or ended an enrolment since
        it was built (one cheap read per likeness question, which only explicit content
        with a face asks): a withdrawal stops matching in every worker at once."""
        revision = self._repository.templates_revision()
        if self._index is None or revision != self._revision:
            self._revision = revision
            index = TemplateIndex()
            index.replace_all(
                [
                    (number, _templates(self._sealer.open_bytes(sealed, _context(number))))
                    for number, sealed, _ in self._repository.active_templates()
                ]
            )
            self._index = index
        return self._index
