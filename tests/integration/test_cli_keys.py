"""`shieldwall key create/list/revoke`, run as a real process on a SQLite database."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from shieldwall.access.service import AccessService
from shieldwall.app import Services, build_services
from shieldwall.config import Settings
from shieldwall.errors import AuthenticationError
from tests.support.cli import Cli as BaseCli

TOKEN = re.compile(r"sw_[0-9a-f]{12}_[A-Za-z0-9_-]{32}")


class Cli(BaseCli):
    """The command line, plus the access service on the same database in this process."""

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.database = home / "cli.db"
        self._services: Services | None = None

    def access(self) -> AccessService:
        """The access service on the same database, in this process."""
        if self._services is None:
            url = self.env["SHIELDWALL_DATABASE_URL"]
            self._services = build_services(Settings(database_url=url))
        return self._services.access

    def close(self) -> None:
        if self._services is not None:
            self._services.close()


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    runner = Cli(tmp_path / "home")
    yield runner
    runner.close()


def test_create_prints_the_token_once_with_a_warning(cli: Cli) -> None:
    proc = cli.run("key", "create", "--role", "screener", "--name", "upload path")
    token = proc.stdout.strip()
    assert TOKEN.fullmatch(token)
    assert "cannot be shown again" in proc.stderr
    assert token not in proc.stderr
    key = cli.access().authenticate(token)
    assert (key.name, key.role.value, key.see_details) == ("upload path", "screener", False)


def test_create_json_and_list_never_show_secrets(cli: Cli) -> None:
    [created] = cli.json("key", "create", "--role", "screener", "--name", "hma", "--see-details")
    assert TOKEN.fullmatch(created["token"])
    assert created["see_details"] is True
    assert created["prefix"] == created["token"][3:15]
    cli.run("key", "create", "--role", "admin", "--name", "ops")
    listed = cli.json("key", "list")
    assert [(k["name"], k["role"]) for k in listed] == [("hma", "screener"), ("ops", "admin")]
    assert set(listed[0]) == {
        "id", "name", "role", "see_details", "prefix", "created_at", "revoked_at"
    }  # fmt: skip
    secret = created["token"][16:]
    table = cli.run("key", "list").stdout
    assert "hma" in table
    assert "ops" in table
    assert created["prefix"] in table
    for output in (json.dumps(listed), table):
        assert secret not in output
    with closing(sqlite3.connect(cli.database)) as connection:
        stored = connection.execute("SELECT secret_hash FROM api_keys").fetchall()
    assert (hashlib.sha256(created["token"].encode()).hexdigest(),) in stored


def test_revoke_stops_the_key(cli: Cli) -> None:
    [created] = cli.json("key", "create", "--role", "curator", "--name", "bank admin")
    proc = cli.run("key", "revoke", str(created["id"]))
    assert "revoked key" in proc.stderr
    [listed] = cli.json("key", "list")
    assert listed["revoked_at"] is not None
    with pytest.raises(AuthenticationError):
        cli.access().authenticate(created["token"])
    cli.run("key", "revoke", str(created["id"]))  # idempotent


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("key", "revoke", "999"), "no API key 999"),
        (("key", "revoke", "99999999999999999999999"), "no API key"),
        (("key", "revoke", "abc"), "not a valid integer"),
        (("key", "create", "--role", "superuser", "--name", "x"), "superuser"),
        (("key", "create", "--role", "admin", "--name", "  "), "must not be empty"),
        (("key", "create", "--role", "admin", "--name", "x" * 101), "at most 100"),
        (("key", "create", "--name", "x"), "--role"),
        (("key", "create", "--role", "admin"), "--name"),
    ],
)
def test_bad_input_is_one_clear_line(cli: Cli, args: tuple[str, ...], message: str) -> None:
    proc = cli.run(*args, ok=False)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
