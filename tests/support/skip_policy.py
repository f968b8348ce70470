"""A test run fails when a test was skipped for a reason that is not allowed.

A skipped test is a test that did not run, and a green run with PostgreSQL down (say) would
claim what it never checked. So the suite fails where it lacks what it needs (PostgreSQL,
Chromium, axe-core: their fixtures fail with the instruction to fix it), and a skip is
allowed only for a fact of the platform that no set-up changes, listed here with why.

tests/conftest.py takes these hooks; they work as a plugin too (`-p tests.support.skip_policy`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

ALLOWED_SKIPS: dict[str, str] = {
    "reads /proc": "Linux only: the memory limits are read from /proc",
    "glibc's allocator": "Linux only: malloc_trim is glibc's",
    "root reads files whatever their permissions": "an unreadable file cannot be made for root",
    "curl is not installed": "an optional tool: the documented curl calls, replayed as typed",
    "the openssl command is needed to make a test certificate": "an optional tool",
}
"""Skip reasons a run may have, each with why it is not a gap in what the suite checks."""


def skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str | None:
    """The reason a report was skipped for (None: not skipped, or an expected failure)."""
    if not report.skipped or hasattr(report, "wasxfail"):
        return None
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@dataclass
class SkipLedger:
    """The forbidden skips of one run, by test id."""

    forbidden: dict[str, str] = field(default_factory=dict)

    def note(self, report: pytest.CollectReport | pytest.TestReport) -> None:
        reason = skip_reason(report)
        if reason is not None and reason not in ALLOWED_SKIPS:
            self.forbidden[report.nodeid] = reason


_ledger = SkipLedger()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _ledger.note(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _ledger.note(report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    passing = (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    if _ledger.forbidden and exitstatus in passing:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _ledger.forbidden:
        return
    terminalreporter.section("forbidden skips", sep="=", red=True, bold=True)
    for nodeid, reason in sorted(_ledger.forbidden.items()):
        terminalreporter.line(f"{nodeid}: {reason}", red=True)
    terminalreporter.line(
        "A skipped test did not run: provide what it needs, or (for a fact of the platform "
        "only) allow its reason in tests/support/skip_policy.py."
    )
