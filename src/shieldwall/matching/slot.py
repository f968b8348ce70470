"""The process's live matcher, loaded in the background so a server answers health at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from shieldwall.allocator import give_back_free_memory
from shieldwall.errors import StorageError
from shieldwall.matching.service import BankMatcher
from shieldwall.matching.tailer import LiveMatcher


class MatcherSlot:
    """Holds the live matcher (it tails the change log) once `load` has built it.

    A server calls `load_in_background` at start-up; lookups call `get`, which waits for the
    load, while health checks call `ready`, which never waits.
    """

    def __init__(self, open_live: Callable[[], LiveMatcher]) -> None:
        self._open_live = open_live
        self._live: LiveMatcher | None = None
        self._failure: BaseException | None = None
        self._started = threading.Event()
        self._loaded = threading.Event()
        self._lock = threading.Lock()
        self._closed = False
        self.load_seconds: float | None = None
        """How long the last successful load took (None until one has finished)."""

    def load_in_background(self) -> threading.Thread:
        """Start `load` in a daemon thread; `get` waits for it from now on."""
        self._started.set()
        loader = threading.Thread(target=self.load, name="index-loader", daemon=True)
        loader.start()
        return loader

    def load(self) -> None:
        """Build the live matcher (minutes for a large bank); `get` waits until this ends."""
        self._started.set()
        started = time.perf_counter()
        try:
            live = self._open_live()
        except BaseException as exc:
            # Without this, every lookup would wait forever on an index that never comes.
            self._failure = exc
            self._loaded.set()
            raise
        with self._lock:
            if self._closed:  # closed while loading: do not leave a tailer thread running
                live.close()
            else:
                self._live = live
                self.load_seconds = time.perf_counter() - started
        self._loaded.set()
        # Loading read the bank in batches of row objects, since freed: hand those pages
        # back so the worker's resident memory is the index, not the load's high-water mark.
        give_back_free_memory()

    def get(self) -> BankMatcher:
        """The current matcher, waiting for the load to finish (an error if none started)."""
        if not self._started.is_set():
            # Waiting would hang for ever: nothing will load it (a CLI, a test without a
            # server's start-up).
            raise StorageError("the matching index was never loaded")
        self._loaded.wait()
        live = self._live
        if live is None:
            why = "is closed" if self._failure is None else "failed to load"
            raise StorageError(f"the matching index {why}") from self._failure
        return live.matcher

    def current(self) -> bool:
        """True if the loaded matcher holds every change committed on this host."""
        live = self._live
        return live is not None and live.current()

    def ready(self) -> bool:
        """True once the matcher has loaded (never waits)."""
        return self._live is not None

    def close(self) -> None:
        """Stop tailing the change log; safe to call more than once, or before `load`."""
        with self._lock:
            self._closed = True
            live, self._live = self._live, None
        if live is not None:
            live.close()
