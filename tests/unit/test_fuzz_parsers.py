"""Bounded fuzzing of every parser of outside data (issue 9), and the crashes it found.

Each target runs a fixed number of seeded mutations (the same inputs on every run), so
CI repeats this exact run; `bench/fuzz.py` runs the same targets for longer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from shieldwall.cases.models import InvalidReportError, validate_report
from shieldwall.cli.case_cmd import submit_command
from shieldwall.cli.submission_import import SUBMISSION_FORMAT
from shieldwall.config import load_settings
from shieldwall.errors import InvalidInputError
from tests.support.fuzz_seeds import report_dict
from tests.support.fuzz_targets import all_targets
from tests.support.fuzzing import Target, fuzz

SEED = 9
TARGETS = (
    "media-decode",
    "bank-detected",
    "bank-hashfile",
    "bank-csv",
    "bank-jsonl",
    "report-form",
    "submission-file",
    "generator-metadata",
    "c2pa-manifest",
    "enrolment-file",
    "settings-toml",
    "settings-env",
    "case-number",
    "http-bodies",
)
# Under a second each on the reference machine (2 cores, shared): the whole file in ~10 s.
ITERATIONS = {"http-bodies": 300, "submission-file": 600, "c2pa-manifest": 300}


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Target]:
    """Every target, writing its files under one temporary folder."""
    return {t.name: t for t in all_targets(tmp_path_factory.mktemp("fuzz"))}


def test_every_parser_of_outside_data_is_a_target(targets: dict[str, Target]) -> None:
    assert tuple(targets) == TARGETS


@pytest.mark.parametrize("name", TARGETS)
def test_parser_never_crashes_on_mutated_input(targets: dict[str, Target], name: str) -> None:
    report = fuzz(targets[name], iterations=ITERATIONS.get(name, 1000), seed=SEED)
    assert not report.crashes, "\n".join(c.describe() for c in report.crashes.values())
    # Mutants reach both sides of the parser: some accepted, some refused.
    assert len(report.outcomes) >= 2, report.outcomes


def test_the_fuzzer_is_deterministic_and_reports_the_input() -> None:
    seen: list[bytes] = []

    def parser(data: bytes) -> None:
        seen.append(data)
        if data.count(b"{") > 2:
            raise KeyError("nested")
        if not data.startswith(b"{"):
            raise InvalidInputError("not an object")

    target = Target("toy", parser, (b'{"a": 1}',), (InvalidInputError,), (b"{",))
    first = fuzz(target, iterations=300, seed=1)
    inputs, seen[:] = list(seen), []
    again = fuzz(target, iterations=300, seed=1)
    assert seen == inputs
    assert first.outcomes == again.outcomes
    [crash] = first.crashes.values()
    assert crash.error == "KeyError: 'nested'"
    assert crash.data.count(b"{") > 2
    assert crash.data.hex() in crash.describe()
    assert first.outcomes["InvalidInputError"] > 0
    assert first.outcomes["ok"] > 0


# Crashes the fuzzer found, one test each ---------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [{"reporter": {}}, {"reporter": ["guardian"]}, {"locators": [{"kind": [], "value": "x"}]}],
    ids=["reporter-object", "reporter-array", "locator-kind-array"],
)
def test_report_fields_of_the_wrong_type_are_invalid_not_a_crash(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidReportError):
        validate_report({**report_dict(), **changes})


@pytest.mark.parametrize(
    "content",
    [
        {"hashes": False},
        {"hashes": [], "report": 1},
        {"hashes": [], "report": [[1]]},
        {"hashes": [], "report": {"locators": "not a list"}},
        '{"format": "shieldwall-submission/1", "hashes": ' + "[" * 100_000,
    ],
    ids=["hashes-false", "report-number", "report-array", "locators-text", "nested-deep"],
)
def test_damaged_submission_files_are_refused_clearly(tmp_path: Path, content: object) -> None:
    path = tmp_path / "submission.json"
    text = (
        content
        if isinstance(content, str)
        else json.dumps(
            {"format": SUBMISSION_FORMAT, **content}  # type: ignore[dict-item]
        )
    )
    path.write_text(text, encoding="utf-8")
    # Port 9 (discard) on loopback: never reached, the file is refused first.
    result = CliRunner().invoke(submit_command, [str(path), "--server", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert str(path) in result.output


@pytest.mark.parametrize(
    "toml",
    [
        "max_bytes = inf",
        "jobs = " + "9" * 5000,
        "a = " + "[" * 5000,
        "shieldwall = 1",
    ],
    ids=["infinite-number", "huge-integer", "nested-deep", "section-not-a-table"],
)
def test_settings_files_with_odd_values_are_invalid_not_a_crash(tmp_path: Path, toml: str) -> None:
    path = tmp_path / "shieldwall.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(InvalidInputError):
        load_settings(config_file=path, environ={})
