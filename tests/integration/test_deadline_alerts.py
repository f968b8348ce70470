"""The deadline alert store on every back end (one record per subject and kind, whoever
records it first), migration 0012, the clock settings, and `shieldwall cases
check-deadlines` over a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from shieldwall.cases.models import Report, validate_report
from shieldwall.cli.main import cli
from shieldwall.config import load_settings
from shieldwall.errors import InvalidInputError
from shieldwall.review.deadlines import AlertStore
from shieldwall.review.memory import InMemoryAlertStore
from shieldwall.storage.deadline_alerts import SqlAlertStore
from shieldwall.storage.engine import create_database_engine
from tests.integration.conftest import SQL_BACKENDS
from tests.support.backends import on_backend
from tests.support.factories import jpeg, report_fields, report_item
from tests.support.migrations import migrate
from tests.support.services import make_services

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def alerts(request: pytest.FixtureRequest) -> Iterator[AlertStore]:
    made: Iterator[AlertStore] = on_backend(request, InMemoryAlertStore, SqlAlertStore)
    yield from made


def test_an_alert_is_recorded_once_per_subject_and_kind(alerts: AlertStore) -> None:
    assert alerts.record("SW-AAAA-0001", "at_risk", NOW)
    assert not alerts.record("SW-AAAA-0001", "at_risk", NOW + timedelta(minutes=1))
    assert alerts.record("SW-AAAA-0001", "overdue", NOW)
    assert alerts.record("SW-AAAA-0002", "at_risk", NOW)


def test_0012_adds_the_deadline_and_the_alerts_and_takes_them_away(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        migrate(engine, "0011")
        assert "deadline" not in {c["name"] for c in inspect(engine).get_columns("cases")}
        migrate(engine, "0012")
        assert "deadline" in {c["name"] for c in inspect(engine).get_columns("cases")}
        assert "deadline_alerts" in inspect(engine).get_table_names()
        migrate(engine, "0011", down=True)
        assert "deadline_alerts" not in inspect(engine).get_table_names()
        assert "deadline" not in {c["name"] for c in inspect(engine).get_columns("cases")}
    finally:
        engine.dispose()


def test_the_clock_settings_come_from_the_file_and_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "shieldwall.toml"
    config.write_text("deadline_hours = 36\n[deadline_hours_by_country]\nDE = 24\n")
    settings = load_settings(
        config,
        {"SHIELDWALL_DEADLINE_AT_RISK_HOURS": "6", "SHIELDWALL_LEAD_EMAILS": "a@ngo.example"},
    )
    policy = settings.deadline_policy
    assert (policy.default, policy.at_risk) == (timedelta(hours=36), timedelta(hours=6))
    assert policy.clock_for("de") == timedelta(hours=24)
    assert settings.lead_emails == ("a@ngo.example",)
    with pytest.raises(InvalidInputError, match="lead_emails"):
        load_settings(config, {"SHIELDWALL_LEAD_EMAILS": "not an address"})
    with pytest.raises(InvalidInputError, match="deadline_hours_by_country"):
        load_settings(config, {"SHIELDWALL_DEADLINE_HOURS_BY_COUNTRY": "Germany=24"})


def test_check_deadlines_lists_the_cases_at_risk_and_alerts_once(tmp_path: Path) -> None:
    # A one-hour clock is inside the twelve-hour margin: at risk from the start.
    services = make_services(tmp_path, "d.db", deadline_hours=1, lead_emails="lead@ngo.example")
    try:
        filed = services.cases.file(validate(jpeg(82))).case
    finally:
        services.close()
    args = ["--db", f"sqlite:///{tmp_path / 'd.db'}", "cases", "check-deadlines", "--json"]
    env = {"SHIELDWALL_HOME": str(tmp_path), "SHIELDWALL_DEADLINE_HOURS": "1"}
    first = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    [row] = [json.loads(line) for line in first.stdout.splitlines() if line.startswith("{")]
    assert (row["subject"], row["state"], row["alerted"]) == (filed.number, "at_risk", True)
    assert 0 < row["hours_left"] <= 1
    again = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    [row] = [json.loads(line) for line in again.stdout.splitlines() if line.startswith("{")]
    assert row["alerted"] is False  # the leads were told by the first run


def validate(content: bytes) -> Report:
    return validate_report(report_fields(hashes=[report_item(content)]))
