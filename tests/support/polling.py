"""The tests' one way to wait for something another thread or process does: bounded polling."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(
    predicate: Callable[[], object],
    timeout: float = 5.0,
    interval: float = 0.02,
    message: str = "",
) -> float:
    """Poll `predicate` until it is truthy; the seconds that took. Fails after `timeout` s.

    The predicate is asked once more after the deadline, so a slow machine that reaches
    the state just as time runs out does not fail.
    """
    started = time.monotonic()
    deadline = started + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            if predicate():
                break
            raise AssertionError(f"not within {timeout} s: {message or predicate}")
        time.sleep(interval)
    return time.monotonic() - started
