"""In-memory case repository, for tests and the contract suite."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from shieldwall.cases.models import Case, CaseEvent, CaseState, Report
from shieldwall.errors import ConflictError, NotFoundError


class InMemoryCaseRepository:
    """Cases in a dict, behind a lock."""

    def __init__(self) -> None:
        self._cases: dict[str, tuple[Case, str]] = {}
        self._lock = threading.Lock()

    def create(
        self,
        number: str,
        secret_hash: str,
        report: Report,
        entry_ids: tuple[int, ...],
        received_at: datetime,
        deadline: datetime | None = None,
    ) -> Case:
        with self._lock:
            if number in self._cases:
                raise ConflictError(f"case {number} exists")
            event = CaseEvent(received_at, CaseState.RECEIVED.value)
            case = Case(
                len(self._cases) + 1,
                number,
                CaseState.RECEIVED,
                received_at,
                report,
                entry_ids,
                (event,),
                deadline,
            )
            self._cases[number] = (case, secret_hash)
            return case

    def find(self, number: str) -> tuple[Case, str] | None:
        with self._lock:
            return self._cases.get(number)

    def secret_hash(self, number: str) -> str | None:
        with self._lock:
            found = self._cases.get(number)
            return None if found is None else found[1]

    def move(self, number: str, state: CaseState, event: CaseEvent) -> Case:
        with self._lock:
            found = self._cases.get(number)
            if found is None:
                raise NotFoundError(f"no case {number}")
            case, secret_hash = found
            moved = replace(case, state=state, events=(*case.events, event))
            self._cases[number] = (moved, secret_hash)
            return moved

    def cases_linking(self, entry_id: int) -> list[Case]:
        with self._lock:
            return [case for case, _ in self._cases.values() if entry_id in case.entry_ids]

    def link_entries(self, number: str, entry_ids: Sequence[int]) -> Case:
        with self._lock:
            found = self._cases.get(number)
            if found is None:
                raise NotFoundError(f"no case {number}")
            case, secret_hash = found
            linked = tuple(dict.fromkeys((*case.entry_ids, *entry_ids)))
            case = replace(case, entry_ids=linked)
            self._cases[number] = (case, secret_hash)
            return case


class InMemoryHitCounter:
    """Hit counts per case in a dict; the cases linking an entry come from the repository."""

    def __init__(self, cases: InMemoryCaseRepository) -> None:
        self._cases = cases
        self._hits: dict[int, int] = {}
        self._blocked: dict[int, tuple[int, datetime | None]] = {}
        self._lock = threading.Lock()

    def record(
        self, entry_ids: Sequence[int], at: datetime, blocked_ids: Sequence[int] = ()
    ) -> None:
        if blocked_ids:
            self.record_blocked(blocked_ids, at)
        linked = [
            case.id for entry_id in set(entry_ids) for case in self._cases.cases_linking(entry_id)
        ]
        with self._lock:
            for case_id in linked:
                self._hits[case_id] = self._hits.get(case_id, 0) + 1

    def total(self, case_id: int) -> int:
        with self._lock:
            return self._hits.get(case_id, 0)

    def record_blocked(self, entry_ids: Sequence[int], at: datetime) -> None:
        linked = {
            case.id for entry_id in set(entry_ids) for case in self._cases.cases_linking(entry_id)
        }
        with self._lock:
            for case_id in linked:
                count, _ = self._blocked.get(case_id, (0, None))
                self._blocked[case_id] = (count + 1, at)

    def blocked(self, case_id: int) -> tuple[int, datetime | None]:
        with self._lock:
            return self._blocked.get(case_id, (0, None))
