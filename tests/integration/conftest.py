"""Fixtures for storage tests: fresh SQLite files and isolated PostgreSQL schemas."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from shieldwall.access.memory import InMemoryApiKeyRepository, InMemoryLookupLog
from shieldwall.access.ports import ApiKeyRepository, LookupLog
from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.ports import BankRepository
from shieldwall.cases.memory import InMemoryCaseRepository
from shieldwall.cases.ports import CaseRepository
from shieldwall.storage.access_repositories import SqlApiKeyRepository, SqlLookupLog
from shieldwall.storage.case_repositories import SqlCaseRepository
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.repositories import SqlBankRepository
from shieldwall.storage.sealing import Sealer
from tests.support.console import Console, running_console
from tests.support.telegram_standin import TelegramStandIn
from tests.support.telegram_world import ShieldwallService

POSTGRES_URL = os.environ.get(
    "SHIELDWALL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An engine on the test PostgreSQL database; fails (never skips) if it is down."""
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 5})
    problem = None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        problem = str(exc.orig).strip()
    if problem is not None:
        engine.dispose()
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_URL}: {problem}\nStart it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
            "or set SHIELDWALL_TEST_POSTGRES_URL.",
            pytrace=False,
        )
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_admin: Engine) -> Iterator[str]:
    """URL of a fresh, empty schema (first on every connection's search_path); dropped after."""
    schema = f"sw_test_{uuid.uuid4().hex[:12]}"
    with postgres_admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    # libpq's `options` sets search_path at connection start, so every connection of
    # every engine built from this URL (migrations included) lives in the schema.
    yield f"{POSTGRES_URL}?options={quote(f'-csearch_path={schema}')}"
    with postgres_admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file that does not exist yet (in a directory that does not either)."""
    return f"sqlite:///{tmp_path / 'data' / 'shieldwall.db'}"


@pytest.fixture(params=SQL_BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database: a new SQLite file or a new PostgreSQL schema."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def sql_engine(database_url: str) -> Iterator[Engine]:
    """An engine on an upgraded, empty database."""
    upgrade_database(database_url)
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def repository(request: pytest.FixtureRequest) -> Iterator[BankRepository]:
    """Each BankRepository adapter, on empty storage."""
    if request.param == "memory":
        yield InMemoryBankRepository()
        return
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade_database(url)
    engine = create_database_engine(url)
    yield SqlBankRepository(engine)
    engine.dispose()


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def access_storage(request: pytest.FixtureRequest) -> Iterator[tuple[ApiKeyRepository, LookupLog]]:
    """Each ApiKeyRepository and LookupLog adapter pair, on empty storage."""
    if request.param == "memory":
        yield InMemoryApiKeyRepository(), InMemoryLookupLog()
        return
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade_database(url)
    engine = create_database_engine(url)
    yield SqlApiKeyRepository(engine), SqlLookupLog(engine)
    engine.dispose()


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def case_storage(request: pytest.FixtureRequest) -> Iterator[tuple[CaseRepository, BankRepository]]:
    """Each CaseRepository adapter beside the bank repository of the same storage."""
    if request.param == "memory":
        yield InMemoryCaseRepository(), InMemoryBankRepository()
        return
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade_database(url)
    engine = create_database_engine(url)
    yield SqlCaseRepository(engine, Sealer(secrets.token_bytes(32))), SqlBankRepository(engine)
    engine.dispose()


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    """The whole app with console accounts (tests/support/console.py)."""
    yield from running_console(tmp_path)


@pytest.fixture(scope="module")
def shieldwall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShieldwallService]:
    """A real `shieldwall serve` for the Telegram guard's tests, one per test module."""
    service = ShieldwallService(tmp_path_factory.mktemp("telegram") / "home")
    yield service
    service.close()


@pytest.fixture
def stand_in() -> Iterator[TelegramStandIn]:
    """The local Bot API stand-in (tests/support/telegram_standin.py)."""
    made = TelegramStandIn()
    yield made
    made.close()
