"""The composition root's Services: readiness through a port, and the clock port."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import BankPolicy
from shieldwall.clock import Clock, utc_now
from shieldwall.errors import StorageError
from tests.support.clock import FakeClock
from tests.support.services import make_services


class Unreachable(InMemoryBankRepository):
    """A repository whose storage has gone away."""

    def ping(self) -> None:
        raise StorageError("database error: connection refused")


def test_ping_says_whether_the_database_answers(tmp_path: Path) -> None:
    services = make_services(tmp_path)
    try:
        assert services.ping() is True
        assert dataclasses.replace(services, repository=Unreachable()).ping() is False
    finally:
        services.close()


def test_the_clock_port_gives_aware_utc_time_and_takes_the_fake() -> None:
    before = datetime.now(UTC)
    now = utc_now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(UTC)
    fake: Clock = FakeClock(datetime(2026, 5, 1, 12, tzinfo=UTC))
    bank = InMemoryBankRepository(clock=fake).create_bank("ncii", BankPolicy())
    assert bank.created_at == datetime(2026, 5, 1, 12, tzinfo=UTC)
