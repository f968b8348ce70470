"""Audit records of lookups carry typed kinds and verdicts, from every producer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from shieldwall.access.memory import InMemoryApiKeyRepository, InMemoryLookupLog
from shieldwall.access.models import LookupEvent, LookupKind, LookupVerdict, Role
from shieldwall.access.service import AccessService
from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import MatchAction
from shieldwall.errors import InvalidInputError
from shieldwall.matching.service import BankMatcher
from shieldwall.media.limits import MediaLimits
from shieldwall.screening.service import ScreeningService

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def log() -> InMemoryLookupLog:
    return InMemoryLookupLog()


@pytest.fixture
def access(log: InMemoryLookupLog) -> Iterator[AccessService]:
    service = AccessService(InMemoryApiKeyRepository(), log)
    yield service
    service.close()


def test_the_audit_verdicts_are_the_bank_actions() -> None:
    assert [v.value for v in LookupVerdict] == [a.value for a in MatchAction]


def test_values_given_as_text_are_recorded_as_members(
    access: AccessService, log: InMemoryLookupLog
) -> None:
    key = access.issue_key("k", Role.SCREENER).key
    access.record_lookup(access.lookup_event(key, "signals", 1, 0, "allow"))
    access.record_lookup(LookupEvent(key.id, T0, "hma", 2, 1, "block"))  # type: ignore[arg-type]
    access.flush()
    events = log.recent()
    assert [(type(e.kind), type(e.verdict)) for e in events] == [(LookupKind, LookupVerdict)] * 2
    assert [(e.kind, e.verdict) for e in events] == [
        (LookupKind.HMA, LookupVerdict.BLOCK),
        (LookupKind.SIGNALS, LookupVerdict.ALLOW),
    ]


@pytest.mark.parametrize(("kind", "verdict"), [("upload", "allow"), ("file", "deny"), (3, "allow")])
def test_unknown_kinds_and_verdicts_are_refused_naming_the_known_ones(
    access: AccessService, kind: object, verdict: str
) -> None:
    with pytest.raises(InvalidInputError, match="must be one of"):
        access.lookup_event(None, kind, 1, 0, verdict)  # type: ignore[arg-type]


def test_screening_records_each_front_ends_kind(
    access: AccessService, log: InMemoryLookupLog
) -> None:
    matcher = BankMatcher.load(InMemoryBankRepository())  # no banks: nothing matches
    screening = ScreeningService(lambda: matcher, MediaLimits(), access.record_lookup)
    screening.screen_signals({"md5": "0" * 32}, None)
    screening.screen_batch([{"md5": "0" * 32}, {"bad": "x"}], None)
    access.flush()
    assert [(e.kind, e.verdict, e.queries) for e in log.recent()] == [
        (LookupKind.BATCH, LookupVerdict.ALLOW, 2),
        (LookupKind.SIGNALS, LookupVerdict.ALLOW, 1),
    ]
