"""What decisions change in the banks: confirmed content blocks, rejected content is
allow-listed, a refused report's hashes stop asking for review.

Every entry a decision adds says who decided and when (its provenance), so a block can
always be traced to the reviewer who confirmed it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Final

from shieldwall.banks.models import (
    EntrySource,
    EntryState,
    MatchAction,
    NewEntry,
    Provenance,
)
from shieldwall.banks.service import BankService
from shieldwall.cases.service import CaseService
from shieldwall.errors import ConflictError, NotFoundError
from shieldwall.review.models import Decision, ReviewItem
from shieldwall.signals.models import Signal

CONFIRMED_BANK: Final = "confirmed"
"""Content a reviewer confirmed: action `block`."""
ALLOWED_BANK: Final = "reviewed-allowed"
"""Content a reviewer rejected (benign, a collision): the review banks' allow-list."""


def made_by(item: ReviewItem) -> str:
    """What the provenance note of every entry a decision on `item` made contains (the
    reversal of the decision finds its entries by it)."""
    return f"(review item {item.id})"


class DecisionEffects:
    """Applies confirm, reject, accept and refuse decisions to the banks and cases."""

    def __init__(self, banks: BankService, cases: CaseService) -> None:
        self._banks = banks
        self._cases = cases

    def _ensure_bank(self, name: str, action: MatchAction) -> None:
        try:
            self._banks.get_bank(name)
        except NotFoundError:
            with contextlib.suppress(ConflictError):  # made meanwhile by another process
                self._banks.create_bank(name, action=action)

    @staticmethod
    def _provenance(item: ReviewItem, decision: Decision, what: str) -> Provenance:
        note = (
            f"{what} by reviewer {decision.reviewer} at {decision.at.isoformat()} {made_by(item)}"
        )
        source = EntrySource.CASE if item.case_number else EntrySource.MANUAL
        return Provenance(source, f"reviewer:{decision.reviewer}", item.case_number, note[:2000])

    def confirm(
        self, item: ReviewItem, decision: Decision, content_signals: Sequence[Signal]
    ) -> list[int]:
        """Block the content (with its region variants) and every `review` entry it matched,
        in the confirmed bank; link the new entries to the cases of the matched ones. The
        confirmed entries' ids."""
        self._ensure_bank(CONFIRMED_BANK, MatchAction.BLOCK)
        provenance = self._provenance(item, decision, "confirmed")
        entries = [NewEntry(tuple(content_signals), provenance)] if content_signals else []
        matched = sorted({m.entry_id for m in item.matches})
        for entry_id in matched:
            entry = self._banks.get_entry(entry_id)
            entries.append(NewEntry(entry.signals, provenance))
        return self._add_for_cases(entries, matched, item.case_number)

    def matched_signals(self, item: ReviewItem) -> list[Signal]:
        """The signals of the entries the item matched (still in the banks)."""
        return self.entry_signals(sorted({m.entry_id for m in item.matches}))

    def entry_signals(self, entry_ids: Sequence[int]) -> list[Signal]:
        """The signals of these entries (those no longer stored are left out)."""
        found: list[Signal] = []
        for entry_id in entry_ids:
            try:
                found.extend(self._banks.get_entry(entry_id).signals)
            except NotFoundError:
                continue
        return found

    def confirm_case(self, item: ReviewItem, decision: Decision) -> list[int]:
        """Block a trusted flagger's reported hashes at once (their report is the
        confirmation: they saw the content)."""
        self._ensure_bank(CONFIRMED_BANK, MatchAction.BLOCK)
        case = self._cases.get(item.case_number)
        provenance = self._provenance(item, decision, "accepted from a trusted flagger")
        entries = [NewEntry(signals, provenance) for signals in case.report.hashes]
        return self._add_for_cases(entries, case.entry_ids, item.case_number)

    def _add_for_cases(
        self, entries: list[NewEntry], matched: Sequence[int], case_number: str
    ) -> list[int]:
        if not entries:
            return []
        added = self._banks.add_entries(CONFIRMED_BANK, entries)
        ids = list(dict.fromkeys(result.entry_id for result in added))
        numbers = {case.number for case in self._cases.cases_of_entries(matched)}
        if case_number:
            numbers.add(case_number)
        for number in sorted(numbers):
            self._cases.link_entries(number, ids)
        return ids

    def reject(
        self, item: ReviewItem, decision: Decision, content_signals: Sequence[Signal]
    ) -> list[int]:
        """Allow-list the content for the banks whose entries it matched, so the same benign
        picture is not queued again; the allow-list entry names those entries."""
        if not content_signals:
            return []
        self._ensure_bank(ALLOWED_BANK, MatchAction.ALLOW)
        matched = sorted({m.entry_id for m in item.matches})
        provenance = self._provenance(item, decision, "rejected")
        note = f"{provenance.note}; entries {', '.join(map(str, matched))}: {decision.reason}"
        provenance = Provenance(
            provenance.source, provenance.submitted_by, provenance.case_id, note[:2000]
        )
        added = self._banks.add_entries(
            ALLOWED_BANK, [NewEntry(tuple(content_signals), provenance)]
        )
        for bank_name in item.banks:
            policy = self._banks.get_bank(bank_name).policy
            if ALLOWED_BANK not in policy.allow_list_banks:
                self._banks.update_policy(
                    bank_name, allow_list_banks=(*policy.allow_list_banks, ALLOWED_BANK)
                )
        return [result.entry_id for result in added]

    def refuse_case(self, case_number: str) -> None:
        """Stop a refused report's hashes asking for review (disabled, not withdrawn: a
        complaint that reverses the decision can enable them again). An entry another live
        case also reported stays active."""
        case = self._cases.get(case_number)
        for entry_id in case.entry_ids:
            others = [
                c for c in self._cases.cases_of_entries([entry_id]) if c.number != case_number
            ]
            entry = self._banks.get_entry(entry_id)
            if not others and entry.state is EntryState.ACTIVE and entry.bank != CONFIRMED_BANK:
                self._banks.set_entry_state(entry_id, EntryState.DISABLED)
