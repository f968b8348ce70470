"""`shieldwall decisions submit|submissions` as real processes, on SQLite and PostgreSQL,
against the local Transparency Database stand-in (tests/support/tdb_standin.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_cli_decisions import PERIOD, seed
from tests.support.cli import Cli
from tests.support.decided_items import seed_varied
from tests.support.tdb_standin import TOKEN, TdbStandIn, running_standin

STATEMENTS = "/api/v1/statements"


@pytest.fixture
def standin() -> Iterator[TdbStandIn]:
    with running_standin() as running:
        yield running


def _cli(tmp_path: Path, database_url: str, standin: TdbStandIn, token: str = TOKEN) -> Cli:
    cli = Cli(tmp_path)
    cli.env["SHIELDWALL_DATABASE_URL"] = database_url
    cli.env["SHIELDWALL_TDB_URL"] = standin.url
    cli.env["SHIELDWALL_TDB_TOKEN"] = token
    return cli


def test_submit_sends_batches_tracks_them_and_retries_what_failed(
    tmp_path: Path, database_url: str, standin: TdbStandIn
) -> None:
    seed(database_url)
    seed_varied(database_url, 200)
    cli = _cli(tmp_path, database_url, standin)
    standin.fail_next(1)
    first = cli.run("decisions", "submit", *PERIOD, "--json", ok=False)
    assert first.returncode == 1
    assert json.loads(first.stdout) == {"stored": 102, "failed": 100, "skipped": 0, "requests": 3}
    assert first.stderr.count("HTTP 500: Server Error") == 100
    failed = cli.json("decisions", "submissions", "--state", "failed")
    assert len(failed) == 100
    assert {(f["state"], f["attempts"], f["last_error"]) for f in failed} == {
        ("failed", 1, "HTTP 500: Server Error")
    }
    second = cli.run("decisions", "submit", *PERIOD, "--json")
    assert json.loads(second.stdout) == {"stored": 100, "failed": 0, "skipped": 102, "requests": 1}
    third = cli.run("decisions", "submit", *PERIOD)
    assert "stored 0, failed 0, skipped 202" in third.stdout
    assert [r.statements for r in standin.posts(STATEMENTS)] == [100, 100, 2, 100]
    assert len(standin.statements) == 202
    listed = cli.json("decisions", "submissions")
    assert len(listed) == 202
    assert {row["state"] for row in listed} == {"stored"}
    assert max(row["attempts"] for row in listed) == 2
    table = cli.run("decisions", "submissions", "--state", "stored").stdout
    assert "sw-1" in table
    assert "202 statement(s)" in table
    for proc in (first, second, third):
        assert TOKEN not in proc.stdout + proc.stderr


def test_a_resend_after_a_lost_answer_stores_nothing_twice(
    tmp_path: Path, sqlite_url: str, standin: TdbStandIn
) -> None:
    seed(sqlite_url)
    # sw-1 reached the database in a run whose answer never came back.
    standin.statements["sw-1"] = {"puid": "sw-1", "uuid": "earlier"}
    cli = _cli(tmp_path, sqlite_url, standin)
    proc = cli.run("decisions", "submit", *PERIOD, "--json")
    assert json.loads(proc.stdout) == {"stored": 2, "failed": 0, "skipped": 0, "requests": 4}
    assert standin.statements["sw-1"]["uuid"] == "earlier"
    assert [(r.method, r.path.rsplit("/", 1)[-1], r.status) for r in standin.seen] == [
        ("POST", "statements", 422),
        ("GET", "sw-1", 302),
        ("GET", "sw-2", 404),
        ("POST", "statement", 201),
    ]
    assert [r["state"] for r in cli.json("decisions", "submissions")] == ["stored", "stored"]


def test_a_refused_token_fails_in_one_line_without_showing_it(
    tmp_path: Path, sqlite_url: str, standin: TdbStandIn
) -> None:
    seed(sqlite_url)
    cli = _cli(tmp_path, sqlite_url, standin, token="sw-wrong-token-123")
    proc = cli.run("decisions", "submit", *PERIOD, ok=False)
    assert proc.returncode != 0
    assert "refused the token (HTTP 401)" in proc.stderr
    assert "sw-wrong-token-123" not in proc.stdout + proc.stderr
    assert standin.statements == {}
    assert cli.json("decisions", "submissions") == []


def test_without_a_database_url_nothing_is_sent(tmp_path: Path, sqlite_url: str) -> None:
    seed(sqlite_url)
    cli = Cli(tmp_path)
    cli.env["SHIELDWALL_DATABASE_URL"] = sqlite_url
    cli.env.pop("SHIELDWALL_TDB_URL", None)
    proc = cli.run("decisions", "submit", *PERIOD, ok=False)
    assert proc.returncode != 0
    assert "no Transparency Database is set (tdb_url" in proc.stderr
    cli.env["SHIELDWALL_TDB_URL"] = "transparency.example"
    proc = cli.run("decisions", "submit", *PERIOD, ok=False)
    assert "setting tdb_url must be an http(s) URL" in proc.stderr
