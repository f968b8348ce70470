"""The memory trimmer hands freed heap back periodically and stops when asked."""

from __future__ import annotations

from shieldwall.web.memory_trim import MemoryTrimmer
from tests.support.polling import eventually


def test_the_trimmer_trims_until_stopped() -> None:
    trimmer = MemoryTrimmer(interval=0.01)
    trimmer.start()
    eventually(lambda: trimmer.trims >= 3, timeout=5, message="no trims")
    trimmer.stop()
    stopped_at = trimmer.trims
    trimmer.stop()  # twice is fine
    assert trimmer.trims == stopped_at
