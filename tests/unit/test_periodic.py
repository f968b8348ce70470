"""The housekeeping jobs a worker runs by itself: counted, and a failure never ends them."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from shieldwall.web.periodic import PeriodicJob
from tests.support.polling import eventually


def test_a_job_counts_what_it_did_and_survives_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    results: Iterator[int | Exception] = iter([2, RuntimeError("database gone"), 3])

    def work() -> int:
        result = next(results)
        if isinstance(result, Exception):
            raise result
        return result

    job = PeriodicJob("enrolment expiry", work, 3600)
    assert job.run_once() == 2
    with caplog.at_level(logging.ERROR, logger="shieldwall.housekeeping"):
        assert job.run_once() == 0
    assert "enrolment expiry failed" in caplog.text
    assert job.run_once() == 3
    assert job.done == 5


def test_a_started_job_runs_at_once_and_stops() -> None:
    runs: list[int] = []

    def tick() -> int:
        runs.append(1)
        return 1

    job = PeriodicJob("tick", tick, 3600)
    job.start()
    eventually(lambda: runs == [1], timeout=2.0, message="the first run did not happen")
    job.stop()
    assert job.done == 1
