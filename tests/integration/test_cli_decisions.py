"""`shieldwall decisions export --format dsa-tdb`, run as a real process on a SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from shieldwall.review.models import (
    AutomatedDecision,
    Decision,
    DecisionKind,
    ItemSource,
    ItemState,
    NewItem,
    RemovalAction,
)
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.review_repositories import SqlReviewRepository
from tests.support.cli import Cli

SCHEMA = json.loads((Path(__file__).parents[1] / "support" / "dsa_tdb_schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())
CASE_NUMBER = "SW-7KQ4-9XPM"
CONTENT_REF = "https://uploads.example.com/u/jane.doe-1987/holiday.jpg"
REVIEWER = "reviewer-annika"
PERIOD = ("--from", "2026-12-01", "--to", "2026-12-02")


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, 30, tzinfo=UTC) + timedelta(
        days=day, hours=hour, minutes=minute, seconds=second
    )


DECISIONS: list[dict[str, Any]] = [
    # One item each: the decision, its ground, when, the statement id, and item fields.
    {"kind": DecisionKind.CONFIRM, "ground": "take-it-down-act", "at": at(1, 0), "puid": "sw-1"},
    {
        "kind": DecisionKind.CONFIRM,
        "ground": "csam",
        "at": at(2, 23, 59, 59),
        "puid": "sw-2",
        "minor": True,
        "case_number": CASE_NUMBER,
        "trusted_flagger": True,
        "action": RemovalAction.RESTRICT,
    },
    {"kind": DecisionKind.REJECT, "ground": "", "at": at(2, 9), "puid": ""},
    {"kind": DecisionKind.ACCEPT, "ground": "terms-ncii", "at": at(1, 9), "puid": ""},
    {"kind": DecisionKind.CONFIRM, "ground": "terms-ncii", "at": at(3, 0), "puid": "sw-late"},
    {"kind": DecisionKind.CONFIRM, "ground": "terms-ncii", "at": at(0, 23, 59), "puid": "sw-early"},
]


def seed(url: str) -> None:
    upgrade_database(url)
    engine = create_database_engine(url)
    try:
        repository = SqlReviewRepository(engine)
        for spec in DECISIONS:
            kind = spec["kind"]
            source = ItemSource.CASE if kind is DecisionKind.ACCEPT else ItemSource.PLATFORM
            when = spec["at"]
            item, _ = repository.open(
                NewItem(
                    source=source,
                    opened_at=when - timedelta(hours=30),
                    deadline=when + timedelta(hours=18),
                    minor=spec.get("minor", False),
                    trusted_flagger=spec.get("trusted_flagger", False),
                    case_number=spec.get("case_number", ""),
                    content_ref=CONTENT_REF,
                )
            )
            repository.claim(item.id, REVIEWER, when, when + timedelta(minutes=10))
            decision = Decision(
                kind=kind,
                action=spec.get("action", RemovalAction.REMOVE),
                ground=spec["ground"],
                facts=f"Confirmed by {REVIEWER} for case {CASE_NUMBER}.",
                reason="written to support from jane@example.com",
                reviewer=REVIEWER,
                at=when,
                automated_detection=True,
                automated_decision=AutomatedDecision.PARTIALLY,
                statement_id=spec["puid"],
            )
            repository.record_decision(item.id, decision, ItemState.DECIDED, when)
    finally:
        engine.dispose()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The command line on a database holding decisions in and around the period."""
    cli = Cli(tmp_path)
    seed(cli.env["SHIELDWALL_DATABASE_URL"])
    return cli


def test_the_export_is_one_bulk_body_of_the_confirm_decisions_in_the_period(cli: Cli) -> None:
    proc = cli.run("decisions", "export", "--format", "dsa-tdb", *PERIOD)
    body = json.loads(proc.stdout)
    assert list(body) == ["statements"]
    statements = body["statements"]
    assert [s["puid"] for s in statements] == ["sw-1", "sw-2"]
    assert [list(VALIDATOR.iter_errors(s)) for s in statements] == [[], []]
    first, second = statements
    assert (first["source_type"], second["source_type"]) == (
        "SOURCE_VOLUNTARY",
        "SOURCE_TRUSTED_FLAGGER",
    )
    assert second["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert second["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert second["application_date"] == "2026-12-02"
    assert "2 statements of reasons" in proc.stderr
    assert "at most 100" in proc.stderr


def test_the_export_holds_no_personal_data(cli: Cli) -> None:
    text = cli.run("decisions", "export", "--format", "dsa-tdb", *PERIOD).stdout.lower()
    for personal in (CASE_NUMBER, CONTENT_REF, "jane", REVIEWER, "annika"):
        assert personal.lower() not in text, personal


def test_json_lines_and_an_output_file(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "statements.jsonl"
    proc = cli.run(
        "decisions",
        "export",
        "--format",
        "dsa-tdb",
        *PERIOD,
        "--json",
        "--out",
        str(out),
        "--territorial-scope",
        "de,GR",
        "--content-language",
        "el",
    )
    assert proc.stdout == ""
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [s["puid"] for s in lines] == ["sw-1", "sw-2"]
    assert {tuple(s["territorial_scope"]) for s in lines} == {("DE", "GR")}
    assert {s["content_language"] for s in lines} == {"EL"}


def test_a_day_without_decisions_exports_an_empty_list(cli: Cli) -> None:
    proc = cli.run(
        "decisions", "export", "--format", "dsa-tdb", "--from", "2026-12-10", "--to", "2026-12-11"
    )
    assert json.loads(proc.stdout) == {"statements": []}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "dsa-tdb", "--from", "2026-12-02", "--to", "2026-12-01"), "before"),
        (("--format", "csv", *PERIOD), "dsa-tdb"),
        (("--format", "dsa-tdb", "--from", "2026-13-01", "--to", "2026-12-01"), "2026-13-01"),
        (("--format", "dsa-tdb", *PERIOD, "--territorial-scope", "EL"), "Greece is GR"),
    ],
)
def test_bad_arguments_fail_with_one_line(cli: Cli, args: tuple[str, ...], message: str) -> None:
    proc = cli.run("decisions", "export", *args, ok=False)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert proc.stdout == ""
