"""Undoing a decision that a complaint reversed.

- a confirm: the entries it made in the `confirmed` bank are withdrawn (tombstones: every
  worker's matcher drops them through the change log, and exports carry the withdrawal);
  the reported entries it matched keep asking for a review;
- a reject: the allow-list entry it made in `reviewed-allowed` is withdrawn, so the picture
  is queued for a review again;
- a case's refusal: the case is accepted, its reported hashes active again (and a trusted
  flagger's blocked, as on accept);
- a case's acceptance: the case is refused, its reported hashes stop asking for review (as
  on refuse), and entries a trusted flagger's acceptance blocked are withdrawn.

The entries a decision made are those recorded on it (`Decision.added_entries`) whose
provenance names its item: an entry it found already there (made by an earlier decision)
is left alone. Decisions recorded before the entries were kept are undone by provenance.
"""

from __future__ import annotations

from collections.abc import Iterable

from shieldwall.banks.models import Entry, EntryState
from shieldwall.banks.service import BankService
from shieldwall.cases.service import CaseService
from shieldwall.errors import NotFoundError
from shieldwall.review.effects import ALLOWED_BANK, CONFIRMED_BANK, DecisionEffects, made_by
from shieldwall.review.models import Decision, DecisionKind, ReviewItem, ReviewPolicy


class Reversal:
    """Undoes confirm, reject, accept and refuse decisions."""

    def __init__(self, banks: BankService, cases: CaseService, policy: ReviewPolicy) -> None:
        self._banks = banks
        self._cases = cases
        self._effects = DecisionEffects(banks, cases)
        self._policy = policy

    def undo(self, original: ReviewItem, reversing: Decision) -> list[int]:
        """Undo the original item's decision; the entries withdrawn or made active again."""
        decision = original.decision
        if decision is None:
            return []
        if decision.kind is DecisionKind.CONFIRM:
            return self._withdraw(self._made(original, decision, CONFIRMED_BANK))
        if decision.kind is DecisionKind.REJECT:
            return self._withdraw(self._made(original, decision, ALLOWED_BANK))
        if decision.kind is DecisionKind.ACCEPT:
            withdrawn = self._withdraw(self._made(original, decision, CONFIRMED_BANK))
            self._effects.refuse_case(original.case_number)
            return withdrawn
        if decision.kind is DecisionKind.REFUSE:
            enabled = self._enable_reported(original.case_number)
            if original.trusted_flagger and self._policy.trusted_flaggers_confirm:
                enabled += self._effects.confirm_case(original, reversing)
            return enabled
        return []

    def _made(self, item: ReviewItem, decision: Decision, bank: str) -> list[Entry]:
        """The entries of `bank` the decision on `item` made (not those it found there)."""
        marker = made_by(item)
        if decision.added_entries is None:
            try:
                found: Iterable[Entry] = self._banks.iter_entries(bank)
            except NotFoundError:
                return []
        else:
            found = self._entries(decision.added_entries)
        return [e for e in found if e.bank == bank and marker in e.provenance.note]

    def _entries(self, entry_ids: Iterable[int]) -> list[Entry]:
        """The entries with these ids that still exist."""
        found = []
        for entry_id in dict.fromkeys(entry_ids):
            try:
                found.append(self._banks.get_entry(entry_id))
            except NotFoundError:  # its bank was deleted meanwhile
                continue
        return found

    def _withdraw(self, entries: list[Entry]) -> list[int]:
        withdrawn = []
        for entry in entries:
            if entry.state is not EntryState.WITHDRAWN:
                self._banks.set_entry_state(entry.id, EntryState.WITHDRAWN)
                withdrawn.append(entry.id)
        return withdrawn

    def _enable_reported(self, case_number: str) -> list[int]:
        """Make the case's reported entries that its refusal disabled active again (a
        withdrawn one stays withdrawn: withdrawal is final)."""
        case = self._cases.get(case_number)
        enabled = []
        for entry in self._entries(case.entry_ids):
            if entry.state is EntryState.DISABLED and entry.bank != CONFIRMED_BANK:
                self._banks.set_entry_state(entry.id, EntryState.ACTIVE)
                enabled.append(entry.id)
        return enabled
