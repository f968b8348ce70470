"""The case workflow: every pair of states is tried; each legal move works through the
service (with its event stamped by the injected clock), each illegal one is refused."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.service import BankService
from shieldwall.cases.memory import InMemoryCaseRepository
from shieldwall.cases.models import TRANSITIONS, CaseState, can_move, validate_report
from shieldwall.cases.service import CaseService
from shieldwall.errors import InvalidInputError
from tests.support.clock import FakeClock
from tests.support.factories import report_fields

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
LEGAL = {
    (CaseState.RECEIVED, CaseState.TRIAGED),
    (CaseState.RECEIVED, CaseState.UNDER_REVIEW),
    (CaseState.RECEIVED, CaseState.WITHDRAWN),
    (CaseState.TRIAGED, CaseState.UNDER_REVIEW),
    (CaseState.TRIAGED, CaseState.WITHDRAWN),
    (CaseState.UNDER_REVIEW, CaseState.TRIAGED),
    (CaseState.UNDER_REVIEW, CaseState.DECIDED),
    (CaseState.UNDER_REVIEW, CaseState.WITHDRAWN),
    (CaseState.DECIDED, CaseState.CLOSED),
    (CaseState.DECIDED, CaseState.COMPLAINT),
    (CaseState.DECIDED, CaseState.WITHDRAWN),
    (CaseState.CLOSED, CaseState.COMPLAINT),
    (CaseState.CLOSED, CaseState.WITHDRAWN),
    (CaseState.COMPLAINT, CaseState.DECIDED),
    (CaseState.COMPLAINT, CaseState.WITHDRAWN),
}
"""Written out by hand from the workflow, so that a change to the table shows here."""

# The shortest way from `received` to each state, through legal moves only.
PATH_TO = {
    CaseState.RECEIVED: [],
    CaseState.TRIAGED: [CaseState.TRIAGED],
    CaseState.UNDER_REVIEW: [CaseState.UNDER_REVIEW],
    CaseState.DECIDED: [CaseState.UNDER_REVIEW, CaseState.DECIDED],
    CaseState.CLOSED: [CaseState.UNDER_REVIEW, CaseState.DECIDED, CaseState.CLOSED],
    CaseState.COMPLAINT: [CaseState.UNDER_REVIEW, CaseState.DECIDED, CaseState.COMPLAINT],
    CaseState.WITHDRAWN: [CaseState.WITHDRAWN],
}


def test_the_table_is_exactly_the_workflow() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == LEGAL
    assert set(TRANSITIONS) == set(CaseState)


@pytest.mark.parametrize(
    ("current", "to"),
    list(itertools.product(CaseState, CaseState)),
    ids=lambda state: state.value,
)
def test_every_pair_of_states(current: CaseState, to: CaseState) -> None:
    clock = FakeClock(NOW)
    service = CaseService(InMemoryCaseRepository(), BankService(InMemoryBankRepository()), clock)
    number = service.file(validate_report(report_fields())).case.number
    for step in PATH_TO[current]:
        service.move(number, step)
    assert service.get(number).state is current
    clock.advance(timedelta(minutes=7))
    assert can_move(current, to) is ((current, to) in LEGAL)
    if (current, to) in LEGAL:
        moved = service.move(number, to, "why")
        assert moved.state is to
        assert (moved.events[-1].kind, moved.events[-1].at) == (to.value, clock())
        assert moved.events[-1].detail == "why"
    else:
        with pytest.raises(InvalidInputError, match="cannot become"):
            service.move(number, to)
        assert service.get(number).state is current
