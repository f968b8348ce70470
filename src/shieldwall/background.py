"""A named daemon thread that runs one loop until asked to stop (tailers, checkpointers)."""

from __future__ import annotations

import threading
from collections.abc import Callable


class DaemonLoop:
    """Runs `target` in a daemon thread; `stopping` tells the loop to end. Restartable."""

    def __init__(self, name: str, target: Callable[[], None]) -> None:
        self._name = name
        self._target = target
        self.stopping = threading.Event()
        """Set by `stop`: the loop should return soon (wait on it instead of sleeping)."""
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (no-op if it runs already)."""
        if self.running:
            return
        self.stopping.clear()
        self._thread = threading.Thread(target=self._target, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end and wait for it (up to `timeout` seconds)."""
        self.stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
