"""Knowing when the in-memory index may lag the bank of record, without asking the database.

A worker's index follows other processes' writes through the change log, polled every
quarter second. A lookup that matched checks its matched entries are still active (a
victim's withdrawal must stop matching at once, in every worker), which would cost a
database read per matching lookup. A host-wide change beacon makes that read rare:
every process bumps it after committing a change that can stop an entry matching, and
the tailer notes the beacon's value before each poll of the log. While the beacon still
holds the value noted before the last completed poll, nothing has changed since, and the
index is current: no re-check is needed.
"""

from __future__ import annotations

import threading
from typing import Protocol


class ChangeBeacon(Protocol):
    """A counter every writer on this host bumps after committing a change."""

    def read(self) -> int:
        """The current value (cheap: read on every matching lookup)."""
        ...

    def bump(self) -> None:
        """Announce a committed change (after the commit, never before)."""
        ...


class InProcessChangeBeacon:
    """A beacon for one process (CLI tools, tests); `storage` has the host-wide one."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def read(self) -> int:
        """The current value."""
        return self._value

    def bump(self) -> None:
        """Announce a committed change."""
        with self._lock:
            self._value += 1
