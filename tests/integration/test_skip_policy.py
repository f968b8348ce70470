"""A run with a test skipped for a forbidden reason fails: a green run means every test ran.

Each case runs pytest on a small suite of its own, with the suite's skip policy loaded as a
plugin, and reads the exit status and the report.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tests
import tests.conftest
from tests.support.skip_policy import ALLOWED_SKIPS

REPOSITORY = Path(tests.__file__).resolve().parents[1]


def _run_suite(directory: Path, source: str) -> subprocess.CompletedProcess[str]:
    (directory / "test_sample.py").write_text(textwrap.dedent(source), encoding="utf-8")
    (directory / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # not ours
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    command = [sys.executable, "-m", "pytest", "-p", "tests.support.skip_policy"]
    return subprocess.run(
        [*command, "-p", "no:cacheprovider", "-q", str(directory)],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_suite_loads_the_policy() -> None:
    assert "tests.support.skip_policy" in tests.conftest.pytest_plugins


def test_a_database_that_is_down_cannot_pass_as_a_skip(tmp_path: Path) -> None:
    run = _run_suite(
        tmp_path,
        """
        import pytest

        def test_runs():
            pass

        @pytest.mark.postgres
        def test_needs_postgres():
            pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
        """,
    )
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout
    assert "forbidden skips" in run.stdout
    assert "test_needs_postgres: PostgreSQL is not reachable" in run.stdout


def test_a_module_skipped_at_collection_fails_the_run(tmp_path: Path) -> None:
    run = _run_suite(
        tmp_path,
        """
        import pytest

        pytest.skip("playwright is missing", allow_module_level=True)

        def test_never_collected():
            pass
        """,
    )
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout
    assert "test_sample.py: playwright is missing" in run.stdout


def test_allowed_skips_and_expected_failures_pass(tmp_path: Path) -> None:
    reason = next(iter(ALLOWED_SKIPS))
    run = _run_suite(
        tmp_path,
        f"""
        import pytest

        @pytest.mark.skipif(True, reason={reason!r})
        def test_platform_fact():
            pass

        @pytest.mark.xfail(reason="a documented difference", strict=True)
        def test_known_difference():
            assert False
        """,
    )
    assert run.returncode == pytest.ExitCode.OK, run.stdout
    assert "1 skipped, 1 xfailed" in run.stdout
    assert "forbidden skips" not in run.stdout


def test_a_failing_run_keeps_its_own_status(tmp_path: Path) -> None:
    run = _run_suite(
        tmp_path,
        """
        import pytest

        def test_fails():
            assert False

        def test_skipped():
            pytest.skip("not now")
        """,
    )
    assert run.returncode == pytest.ExitCode.TESTS_FAILED
    assert "test_skipped: not now" in run.stdout
