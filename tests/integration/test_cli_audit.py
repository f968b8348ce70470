"""`shieldwall audit verify`, run as a real process on a SQLite database."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shieldwall.audit.models import Actor, ActorKind, AuditAction, AuditEvent, Subject
from shieldwall.storage.audit_log import SqlAuditLog
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from tests.support.cli import Cli


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The command line on a database holding three audit records."""
    cli = Cli(tmp_path)
    url = cli.env["SHIELDWALL_DATABASE_URL"]
    upgrade_database(url)
    engine = create_database_engine(url)
    try:
        log = SqlAuditLog(engine)
        for n, action in enumerate((AuditAction.CLAIM, AuditAction.REVEAL, AuditAction.DECISION)):
            log.append(
                AuditEvent(
                    datetime(2026, 12, 4, 1, n, tzinfo=UTC),
                    Actor(ActorKind.REVIEWER, "7"),
                    action,
                    Subject("quarantine_item", "31"),
                )
            )
    finally:
        engine.dispose()
    return cli


def tamper(home: Path, statement: str) -> None:
    with closing(sqlite3.connect(home / "cli.db")) as connection, connection:
        connection.execute(statement)


def test_an_intact_chain_exits_0_with_a_summary(cli: Cli) -> None:
    proc = cli.run("audit", "verify")
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("audit chain holds: 3 records, head 3 ")


def test_an_intact_chain_as_json(cli: Cli) -> None:
    (result,) = cli.json("audit", "verify")
    assert result["ok"] is True
    assert (result["records"], result["head_sequence"], result["problem"]) == (3, 3, None)
    assert len(result["head_hash"]) == 64


def test_an_altered_record_exits_1_naming_it(cli: Cli, tmp_path: Path) -> None:
    tamper(tmp_path, "UPDATE audit_records SET action = 'claim' WHERE sequence = 2")
    proc = cli.run("audit", "verify", ok=False)
    assert proc.returncode == 1
    assert "audit chain broken at record 2 (altered)" in proc.stderr
    assert proc.stderr.strip().endswith("records 1..1 hold")
    assert proc.stdout == ""


def test_a_deleted_record_as_json(cli: Cli, tmp_path: Path) -> None:
    tamper(tmp_path, "DELETE FROM audit_records WHERE sequence = 1")
    proc = cli.run("audit", "verify", "--json", ok=False)
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["ok"] is False
    assert result["problem"]["sequence"] == 1
    assert result["problem"]["fault"] == "deleted"
    assert result["records"] == 0


def test_a_new_database_holds_an_empty_chain(tmp_path: Path) -> None:
    proc = Cli(tmp_path / "fresh").run("audit", "verify")
    assert "audit chain holds: 0 records" in proc.stdout
