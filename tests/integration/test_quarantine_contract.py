"""The quarantine store's contract: the in-memory fake and the sealed-file store alike."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from shieldwall.errors import InvalidInputError, NotFoundError
from shieldwall.review.quarantine import InMemoryQuarantine, QuarantineStore, retention_end
from shieldwall.storage.quarantine_files import FileQuarantine
from tests.support.clock import FakeClock
from tests.support.factories import jpeg

DAY = timedelta(days=1)
KEY = bytes(range(32))

MakeStore = Callable[[FakeClock], QuarantineStore]


@pytest.fixture(params=["memory", "files"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> MakeStore:
    if request.param == "memory":
        return InMemoryQuarantine
    return lambda clock: FileQuarantine.in_home(tmp_path, KEY, clock)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(make_store: MakeStore, clock: FakeClock) -> QuarantineStore:
    return make_store(clock)


def test_put_then_get_gives_the_same_bytes_at_their_sha256(
    store: QuarantineStore, clock: FakeClock
) -> None:
    content = jpeg(1)
    address = store.put(content, clock() + DAY)
    assert address == hashlib.sha256(content).hexdigest()
    assert store.get(address) == content
    assert store.usage().count == 1
    assert store.usage().bytes >= len(content)


def test_the_same_content_twice_is_kept_once_until_the_later_time(
    store: QuarantineStore, clock: FakeClock
) -> None:
    content = jpeg(2)
    first = store.put(content, clock() + DAY)
    again = store.put(content, clock() + 3 * DAY)
    assert first == again
    assert store.usage().count == 1
    clock.advance(2 * DAY)
    assert store.sweep(clock()) == 0
    assert store.get(first) == content


def test_an_earlier_time_does_not_shorten_the_retention(
    store: QuarantineStore, clock: FakeClock
) -> None:
    content = jpeg(3)
    address = store.put(content, clock() + 3 * DAY)
    store.put(content, clock() + DAY)
    clock.advance(2 * DAY)
    assert store.get(address) == content


def test_different_contents_have_different_addresses(
    store: QuarantineStore, clock: FakeClock
) -> None:
    one = store.put(jpeg(4), clock() + DAY)
    two = store.put(jpeg(5), clock() + DAY)
    assert one != two
    assert store.get(one) == jpeg(4)
    assert store.get(two) == jpeg(5)
    assert store.usage().count == 2


def test_delete_removes_the_content_and_may_be_repeated(
    store: QuarantineStore, clock: FakeClock
) -> None:
    address = store.put(jpeg(6), clock() + DAY)
    store.delete(address)
    with pytest.raises(NotFoundError, match=address):
        store.get(address)
    store.delete(address)
    assert store.usage().count == 0
    assert store.usage().bytes == 0


def test_content_past_its_retention_is_not_found_and_swept(
    store: QuarantineStore, clock: FakeClock
) -> None:
    expiring = store.put(jpeg(7), clock() + DAY)
    lasting = store.put(jpeg(8), clock() + 5 * DAY)
    clock.advance(DAY)
    with pytest.raises(NotFoundError):
        store.get(expiring)
    assert store.usage().count == 2  # kept (unreadable) until swept
    assert store.sweep(clock()) == 1
    assert store.usage().count == 1
    assert store.sweep(clock()) == 0
    assert store.get(lasting) == jpeg(8)


def test_sweep_uses_the_time_it_is_given(store: QuarantineStore, clock: FakeClock) -> None:
    store.put(jpeg(9), clock() + DAY)
    assert store.sweep(clock() + DAY - timedelta(seconds=1)) == 0
    assert store.sweep(clock() + DAY) == 1


def test_a_missing_address_is_not_found(store: QuarantineStore) -> None:
    address = hashlib.sha256(b"never kept").hexdigest()
    with pytest.raises(NotFoundError, match=address):
        store.get(address)
    store.delete(address)
    assert store.sweep(FakeClock()()) == 0


@pytest.mark.parametrize("address", ["", "abc", "../" + "0" * 61, "A" * 64, "0" * 65])
def test_a_malformed_address_is_refused(store: QuarantineStore, address: str) -> None:
    with pytest.raises(InvalidInputError):
        store.get(address)
    with pytest.raises(InvalidInputError):
        store.delete(address)


def test_a_retention_time_must_be_aware_and_in_the_future(
    store: QuarantineStore, clock: FakeClock
) -> None:
    with pytest.raises(InvalidInputError):
        store.put(b"x", clock())
    with pytest.raises(InvalidInputError):
        store.put(b"x", (clock() + DAY).replace(tzinfo=None))
    assert store.usage().count == 0


def test_retention_end_is_the_given_days_on(clock: FakeClock) -> None:
    assert retention_end(clock()) == clock() + 14 * DAY
    assert retention_end(clock(), 2) == clock() + 2 * DAY
    with pytest.raises(InvalidInputError):
        retention_end(clock(), 0)
