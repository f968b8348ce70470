"""Filing a report, reading a case's status with its secret, withdrawing it.

A report's hashes go into the `reported` bank (action `review`), linked to the case: a
lookup that matches them answers `review`, not `block`, until a reviewer confirms. The
case number finds the case; a separate secret (shown once, stored only as a SHA-256 hash)
proves it is the person's. A wrong secret and an unknown number get the same answer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from shieldwall.banks.models import (
    AddedEntry,
    EntrySource,
    EntryState,
    MatchAction,
    NewEntry,
    Provenance,
)
from shieldwall.banks.service import BankService
from shieldwall.cases.models import Case, CaseEvent, CaseState, Report, can_move
from shieldwall.cases.ports import CaseRepository, HitCounter, Notifier
from shieldwall.clock import Clock, utc_now
from shieldwall.deadlines import DeadlinePolicy
from shieldwall.errors import ConflictError, InvalidInputError, NotFoundError
from shieldwall.receipts import (
    hash_secret,
    new_number,
    new_secret,
    normalise_number,
    secret_matches,
)
from shieldwall.signals.models import Signal

REPORTED_BANK: Final = "reported"
"""Where reported hashes wait for review (action `review`)."""

MAX_REPORTED_AGAIN: Final = 100
"""Entries in one picture's line (reported, withdrawn, reported again...) at most."""
_NOT_FOUND: Final = "no case with this number and secret"


CASE_PREFIX: Final = "SW"


def new_case_number() -> str:
    """`SW-XXXX-XXXX`: 40 random bits, easy to read out and type (no I, L, O, U)."""
    return new_number(CASE_PREFIX)


def normalise_case_number(value: str) -> str:
    """A case number as typed (any case, spaces, O for 0...) in its canonical form."""
    return normalise_number(value, CASE_PREFIX)


@dataclass(frozen=True)
class FiledCase:
    """A new case and its secret (the only copy: show it once)."""

    case: Case
    secret: str


class CaseService:
    """Reports in, status and withdrawal out."""

    def __init__(
        self,
        cases: CaseRepository,
        banks: BankService,
        clock: Clock = utc_now,
        notifier: Notifier | None = None,
        hits: HitCounter | None = None,
        deadlines: DeadlinePolicy | None = None,
    ) -> None:
        self._cases = cases
        self._deadlines = deadlines or DeadlinePolicy()
        self._banks = banks
        self._clock = clock
        self._notifier = notifier
        self._hits = hits
        self._filed: list[Callable[[Case], object]] = []
        self._withdrawn: list[Callable[[Case], object]] = []

    def on_filed(self, callback: Callable[[Case], object]) -> None:
        """Call `callback(case)` after each case is filed (the review queue opens its item)."""
        self._filed.append(callback)

    def _reported_bank(self) -> str:
        try:
            self._banks.get_bank(REPORTED_BANK)
        except NotFoundError:
            with contextlib.suppress(ConflictError):  # created meanwhile by another process
                self._banks.create_bank(REPORTED_BANK, action=MatchAction.REVIEW)
        return REPORTED_BANK

    def file(self, report: Report) -> FiledCase:
        """Open a case for a validated report; its receipt time starts its jurisdiction's
        clock (48 hours unless the deployment says otherwise), fixed from then on."""
        received_at = self._clock()
        number = new_case_number()
        secret = new_secret()
        provenance = Provenance(EntrySource.CASE, f"report:{report.reporter.value}", number)
        entries = [NewEntry(signals, provenance) for signals in report.hashes]
        bank = self._reported_bank()
        added = self._banks.add_entries(bank, entries)
        entry_ids = tuple(
            dict.fromkeys(
                self._holding_entry(bank, new, result)
                for new, result in zip(entries, added, strict=True)
            )
        )
        deadline = received_at + self._deadlines.clock_for(report.country)
        case = self._cases.create(
            number, hash_secret(secret), report, entry_ids, received_at, deadline
        )
        if self._notifier is not None:
            self._notifier.acknowledge(case)
        for callback in self._filed:
            callback(case)
        return FiledCase(case, secret)

    def _holding_entry(self, bank: str, new: NewEntry, result: AddedEntry) -> int:
        """The entry that holds a reported picture for this case.

        A picture reported before is held by the entry made then, unless that entry was
        withdrawn (its case was withdrawn: the new report must protect again) or holds
        fewer PDQ hashes than this report brings (made before devices sent region hashes):
        then the next entry in its line (`NewEntry.replaces`) holds it, made from this
        report, and the earlier entry stays as its own cases left it."""
        current = result
        wanted = _pdq_count(new.signals)
        for _ in range(MAX_REPORTED_AGAIN):
            if current.created:
                return current.entry_id
            held = self._banks.get_entry(current.entry_id)
            if held.state is not EntryState.WITHDRAWN and _pdq_count(held.signals) >= wanted:
                return current.entry_id
            [current] = self._banks.add_entries(bank, [replace(new, replaces=held.id)])
        raise ConflictError("this picture was reported and withdrawn too many times")

    def open(self, number: str, secret: str) -> Case:
        """The case if the secret is its own; NotFoundError otherwise, the same either way.

        A wrong secret and an unknown number cost the same: one indexed read of the
        secret's hash (no row or one row), one SHA-256 and one comparison (against a dummy
        when there is no case). Only the right secret goes on to load the case.
        """
        canonical = normalise_case_number(number) if isinstance(number, str) else ""
        matches = secret_matches(self._cases.secret_hash(canonical), secret)
        found = self._cases.find(canonical) if matches else None
        if found is None:
            raise NotFoundError(_NOT_FOUND)
        return found[0]

    def on_withdrawn(self, callback: Callable[[Case], object]) -> None:
        """Call `callback(case)` after a case is withdrawn (its review item leaves the queue)."""
        self._withdrawn.append(callback)

    def get(self, number: str) -> Case:
        """A case by number, for reviewers (never for the public: they prove the secret)."""
        found = self._cases.find(number)
        if found is None:
            raise NotFoundError(f"no case {number}")
        return found[0]

    def cases_of_entries(self, entry_ids: Sequence[int]) -> list[Case]:
        """The cases (not withdrawn) that reported or were linked to any of these entries."""
        found: dict[str, Case] = {}
        for entry_id in dict.fromkeys(entry_ids):
            for case in self._cases.cases_linking(entry_id):
                if case.state is not CaseState.WITHDRAWN:
                    found.setdefault(case.number, case)
        return sorted(found.values(), key=lambda case: case.received_at)

    def link_entries(self, number: str, entry_ids: Sequence[int]) -> Case:
        """Link entries a reviewer confirmed to the case: withdrawing the case withdraws them
        too, and their hits count as the case's copies found."""
        return self._cases.link_entries(number, entry_ids)

    def copies_found(self, case: Case) -> int:
        """How many lookups have matched this case's hashes since it was filed."""
        return self._hits.total(case.id) if self._hits is not None else 0

    def record_hits(self, entry_ids: Sequence[int], blocked_ids: Sequence[int] = ()) -> None:
        """Count a lookup that matched these entries (`blocked_ids`: those that blocked it,
        the confirmed ones: a re-upload after the decision)."""
        if self._hits is not None and (entry_ids or blocked_ids):
            self._hits.record(entry_ids, self._clock(), blocked_ids)

    def blocked_since_decision(self, case: Case) -> tuple[int, datetime | None]:
        """How many re-uploads the case's confirmed entries blocked, and the last time."""
        return self._hits.blocked(case.id) if self._hits is not None else (0, None)

    def withdraw(self, number: str, secret: str) -> Case:
        """Withdraw a case: its hashes are tombstoned and stop matching at once.

        An entry that another open case also reported stays active for that case.
        """
        case = self.open(number, secret)
        if case.state is CaseState.WITHDRAWN:
            return case
        for entry_id in case.entry_ids:
            others = [
                other
                for other in self._cases.cases_linking(entry_id)
                if other.number != case.number and other.state is not CaseState.WITHDRAWN
            ]
            if not others:
                entry = self._banks.get_entry(entry_id)
                if entry.state is not EntryState.WITHDRAWN:
                    self._banks.set_entry_state(entry_id, EntryState.WITHDRAWN)
        withdrawn = self.move(case.number, CaseState.WITHDRAWN)
        for callback in self._withdrawn:
            callback(withdrawn)
        return withdrawn

    def move(self, number: str, to: CaseState, detail: str = "") -> Case:
        """Move a case along the workflow (reviewers; the person only withdraws)."""
        found = self._cases.find(number)
        if found is None:
            raise NotFoundError(f"no case {number}")
        case = found[0]
        if not can_move(case.state, to):
            raise InvalidInputError(f"a {case.state.value} case cannot become {to.value}")
        return self._cases.move(number, to, CaseEvent(self._clock(), to.value, detail))


def _pdq_count(signals: Sequence[Signal]) -> int:
    return sum(signal.type == "pdq" for signal in signals)
