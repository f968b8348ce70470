"""`shieldwall user ...`: console accounts from the command line, on a SQLite database.

Most commands run as real processes (`--password-stdin` for passwords); the hidden prompt is
driven in-process through Click's runner, which stands in for the terminal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner

from shieldwall.access.account_service import AccountService
from shieldwall.app import Services
from shieldwall.cli.main import cli as shieldwall_cli
from shieldwall.errors import AuthenticationError
from tests.support.cli import Cli as BaseCli
from tests.support.services import make_services

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


class Cli(BaseCli):
    """The command line, plus the account service on the same database in this process."""

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.home = home
        self._services: Services | None = None

    def accounts(self) -> AccountService:
        if self._services is None:
            self._services = make_services(self.home, "cli.db")
        return self._services.accounts

    def create(self, username: str, role: str = "reviewer") -> dict[str, object]:
        proc = self.run(
            "user", "create", username, "--role", role, "--password-stdin", "--json",
            stdin=PASSWORD + "\n",
        )  # fmt: skip
        record: dict[str, object] = json.loads(proc.stdout)
        return record

    def close(self) -> None:
        if self._services is not None:
            self._services.close()


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    runner = Cli(tmp_path / "home")
    yield runner
    runner.close()


def test_create_reads_the_password_from_stdin_and_prints_no_secret(cli: Cli) -> None:
    proc = cli.run(
        "user", "create", "alice", "--role", "lead", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert proc.returncode == 0
    assert "created lead alice" in proc.stderr
    assert PASSWORD not in proc.stdout + proc.stderr
    account = cli.accounts().authenticate("alice", PASSWORD, None)
    assert account.role.value == "lead"


def test_create_as_json_and_list(cli: Cli) -> None:
    record = cli.create("bob", "admin")
    assert (record["username"], record["role"], record["disabled"]) == ("bob", "admin", False)
    assert record["totp_enabled"] is False
    assert not {"password_hash", "totp_secret", "password"} & set(record)
    cli.create("alice")
    listed = cli.json("user", "list")
    assert [(r["username"], r["role"]) for r in listed] == [("alice", "reviewer"), ("bob", "admin")]
    table = cli.run("user", "list").stdout
    assert "alice" in table
    assert "admin" in table


def test_create_refuses_bad_input_with_one_line(cli: Cli) -> None:
    cli.create("alice")
    for args, stdin, says in (
        (("alice", "--role", "reviewer"), PASSWORD, "exists"),
        (("bob", "--role", "reviewer"), "short", "12-256 characters"),
        (("Bob Smith", "--role", "reviewer"), PASSWORD, "username"),
        (("bob", "--role", "reviewer"), "", "stdin held no password"),
    ):
        proc = cli.run("user", "create", *args, "--password-stdin", stdin=stdin + "\n", ok=False)
        assert proc.returncode == 1, args
        assert proc.stderr.startswith("error: ")
        assert says in proc.stderr
    bad_role = cli.run("user", "create", "bob", "--role", "owner", "--password-stdin", ok=False)
    assert bad_role.returncode == 2
    assert [r["username"] for r in cli.json("user", "list")] == ["alice"]


def test_the_password_prompt_asks_twice(cli: Cli) -> None:
    cli.accounts()  # the database exists, migrated
    runner = CliRunner()
    base = ["--db", cli.env["SHIELDWALL_DATABASE_URL"], "--home", str(cli.home), "user"]
    typed = f"{PASSWORD}\n{PASSWORD}\n"
    result = runner.invoke(shieldwall_cli, [*base, "create", "alice", "--role", "reviewer"], typed)
    assert result.exit_code == 0, result.output
    assert cli.accounts().authenticate("alice", PASSWORD, None)
    mismatch = f"{PASSWORD}\n{NEW_PASSWORD}\n"
    result = runner.invoke(shieldwall_cli, [*base, "create", "bob", "--role", "reviewer"], mismatch)
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert [a.username for a in cli.accounts().list()] == ["alice"]


def test_disable_and_enable(cli: Cli) -> None:
    cli.create("alice")
    accounts = cli.accounts()
    token, _ = accounts.start_session(accounts.account("alice"))
    (disabled,) = cli.json("user", "disable", "alice")
    assert disabled["disabled"] is True
    assert accounts.resolve_session(token) is None
    with pytest.raises(AuthenticationError):
        accounts.authenticate("alice", PASSWORD, None)
    proc = cli.run("user", "enable", "alice")
    assert "enabled alice" in proc.stderr
    assert accounts.authenticate("alice", PASSWORD, None)


def test_set_role_and_the_last_admin_stays(cli: Cli) -> None:
    cli.create("ada", "admin")
    cli.create("alice")
    (record,) = cli.json("user", "set-role", "alice", "lead")
    assert record["role"] == "lead"
    proc = cli.run("user", "set-role", "ada", "reviewer", ok=False)
    assert proc.returncode == 1
    assert "last enabled admin" in proc.stderr
    assert cli.run("user", "disable", "ada", ok=False).returncode == 1
    missing = cli.run("user", "set-role", "nobody", "lead", ok=False)
    assert missing.returncode == 1
    assert "no account 'nobody'" in missing.stderr


def test_reset_password_unlocks_and_ends_sessions(cli: Cli) -> None:
    cli.create("alice")
    accounts = cli.accounts()
    token, _ = accounts.start_session(accounts.account("alice"))
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            accounts.authenticate("alice", "not the password", None)
    assert cli.json("user", "list")[0]["locked_until"] is not None
    cli.run("user", "reset-password", "alice", "--password-stdin", stdin=NEW_PASSWORD + "\n")
    assert accounts.resolve_session(token) is None
    assert accounts.authenticate("alice", NEW_PASSWORD, None).failed_logins == 0


def test_reset_totp_removes_the_second_factor(cli: Cli) -> None:
    cli.create("alice")
    accounts = cli.accounts()
    alice = accounts.account("alice")
    setup = accounts.begin_totp(alice)
    accounts.confirm_totp(alice, pyotp.TOTP(setup.secret).now())
    assert cli.json("user", "list")[0]["totp_enabled"] is True
    with pytest.raises(AuthenticationError):
        accounts.authenticate("alice", PASSWORD, None)
    (record,) = cli.json("user", "reset-totp", "alice")
    assert record["totp_enabled"] is False
    assert accounts.authenticate("alice", PASSWORD, None)


def test_account_changes_reach_the_audit_log(cli: Cli) -> None:
    cli.create("alice")
    cli.run("user", "set-role", "alice", "lead")
    (result,) = cli.json("audit", "verify")
    assert result["ok"] is True
    assert result["records"] == 2
