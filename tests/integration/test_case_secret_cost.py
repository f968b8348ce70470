"""A wrong secret costs what an unknown case number costs (no timing oracle), on SQL.

Counted, not timed: the SQL statements run, the secrets hashed and the reports unsealed
must be the same for either failure, so no clock can tell them apart by the work done.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event

from shieldwall import receipts
from shieldwall.banks.service import BankService
from shieldwall.cases.models import validate_report
from shieldwall.cases.service import CaseService, FiledCase
from shieldwall.errors import NotFoundError
from shieldwall.storage.case_repositories import SqlCaseRepository
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.repositories import SqlBankRepository
from shieldwall.storage.sealing import Sealer
from tests.support.clock import FakeClock
from tests.support.factories import report_fields

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class CountingSealer(Sealer):
    """A Sealer that counts the reports it opens (the costliest step of loading a case)."""

    opened = 0

    def open(self, value: str, context: str) -> str:
        self.opened += 1
        return super().open(value, context)


@dataclass
class Work:
    """What one call did."""

    statements: list[str] = field(default_factory=list)
    hashed: int = 0
    unsealed: int = 0


@dataclass
class World:
    engine: Engine
    sealer: CountingSealer
    service: CaseService
    filed: FiledCase
    work: Work = field(default_factory=Work)


@pytest.fixture
def world(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    upgrade_database(database_url)
    engine = create_database_engine(database_url)
    sealer = CountingSealer(secrets.token_bytes(32))
    cases = SqlCaseRepository(engine, sealer)
    service = CaseService(cases, BankService(SqlBankRepository(engine)), FakeClock(NOW))
    state = World(engine, sealer, service, service.file(validate_report(report_fields())))

    def statement(*args: Any) -> None:
        state.work.statements.append(args[2])

    hash_secret = receipts.hash_secret

    def counted_hash(secret: str) -> str:
        state.work.hashed += 1
        return hash_secret(secret)

    event.listen(engine, "before_cursor_execute", statement)
    monkeypatch.setattr(receipts, "hash_secret", counted_hash)  # as secrets are checked
    yield state
    engine.dispose()


def _work(world: World, number: str, secret: str) -> Work:
    world.work = Work()
    world.sealer.opened = 0
    with contextlib.suppress(NotFoundError):
        world.service.open(number, secret)
    world.work.unsealed = world.sealer.opened
    return world.work


def test_a_wrong_secret_does_the_same_work_as_an_unknown_number(world: World) -> None:
    number = world.filed.case.number
    wrong = _work(world, number, "w" * 24)
    unknown = _work(world, "SW-0000-0000", "w" * 24)
    assert wrong == unknown
    [read] = [s for s in wrong.statements if s.lstrip().upper().startswith("SELECT")]
    assert (read.count("secret_hash"), wrong.hashed, wrong.unsealed) == (1, 1, 0)
    right = _work(world, number, world.filed.secret)
    assert right.statements[: len(wrong.statements)] == wrong.statements
    assert (right.hashed, right.unsealed) == (1, 1)  # only the right secret loads the case
