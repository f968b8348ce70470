"""The matcher slot: lookups wait for the background load, never for a load never started."""

from __future__ import annotations

import threading

import pytest

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.errors import StorageError
from shieldwall.matching.slot import MatcherSlot
from shieldwall.matching.tailer import LiveMatcher


def test_get_waits_for_the_background_load_and_close_stops_the_tailer() -> None:
    gate = threading.Event()
    opened: list[LiveMatcher] = []

    def open_live() -> LiveMatcher:
        gate.wait(5)
        repository = InMemoryBankRepository()
        opened.append(LiveMatcher.open(repository, repository.change_log, interval=0.05))
        return opened[0]

    slot = MatcherSlot(open_live)
    loader = slot.load_in_background()
    assert not slot.ready()
    gate.set()
    assert slot.get() is opened[0].matcher  # waited for the load
    assert slot.ready()
    loader.join()
    slot.close()
    slot.close()  # twice is harmless
    assert not opened[0].tailer.running
    assert not slot.ready()
    with pytest.raises(StorageError, match="closed"):
        slot.get()


def test_get_refuses_when_no_load_was_started_or_the_load_failed() -> None:
    def broken() -> LiveMatcher:
        raise OSError("database gone")

    slot = MatcherSlot(broken)
    with pytest.raises(StorageError, match="never loaded"):
        slot.get()
    with pytest.raises(OSError, match="database gone"):
        slot.load()
    with pytest.raises(StorageError, match="failed to load") as raised:
        slot.get()
    assert isinstance(raised.value.__cause__, OSError)


def test_a_slot_closed_while_loading_stops_what_it_loaded() -> None:
    opened: list[LiveMatcher] = []

    def open_live() -> LiveMatcher:
        slot.close()  # the server stops while the index is still loading
        repository = InMemoryBankRepository()
        opened.append(LiveMatcher.open(repository, repository.change_log, interval=0.05))
        return opened[0]

    slot = MatcherSlot(open_live)
    slot.load()
    assert not slot.ready()
    assert not opened[0].tailer.running
