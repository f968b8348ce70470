"""The sealed-file quarantine: modes, sealing, refusal of altered files, concurrent writers."""

from __future__ import annotations

import base64
import stat
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from shieldwall.errors import InvalidInputError, StorageError
from shieldwall.storage.quarantine_files import (
    HEADER_BYTES,
    FileQuarantine,
    load_quarantine_key,
    quarantine_key,
)
from shieldwall.storage.sealing import load_data_key
from tests.support.clock import FakeClock
from tests.support.factories import jpeg

DAY = timedelta(days=1)
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> FileQuarantine:
    return FileQuarantine.in_home(tmp_path, KEY, clock)


def test_the_folder_is_owner_only_and_each_item_one_owner_only_file(
    store: FileQuarantine, clock: FakeClock, tmp_path: Path
) -> None:
    address = store.put(jpeg(1), clock() + DAY)
    assert store.folder == tmp_path / "quarantine"
    assert mode(store.folder) == 0o700
    item = store.folder / address
    assert mode(item) == 0o600
    assert [path.name for path in store.folder.iterdir() if not path.name.startswith(".")] == [
        address
    ]
    assert not any(path.name.startswith(f".{address}") for path in store.folder.iterdir())


def test_a_loose_existing_folder_is_tightened(
    store: FileQuarantine, clock: FakeClock, tmp_path: Path
) -> None:
    (tmp_path / "quarantine").mkdir(mode=0o755)
    (tmp_path / "quarantine").chmod(0o755)
    store.put(jpeg(1), clock() + DAY)
    assert mode(tmp_path / "quarantine") == 0o700


def test_the_file_holds_no_plaintext(store: FileQuarantine, clock: FakeClock) -> None:
    content = jpeg(2)
    address = store.put(content, clock() + DAY)
    stored = (store.folder / address).read_bytes()
    assert content not in stored
    assert content[:64] not in stored
    assert content[-64:] not in stored
    assert len(stored) == len(content) + HEADER_BYTES + 12 + 16  # header, nonce, tag


def test_each_write_uses_a_fresh_nonce(store: FileQuarantine, clock: FakeClock) -> None:
    content = jpeg(3)
    address = store.put(content, clock() + DAY)
    first = (store.folder / address).read_bytes()
    store.put(content, clock() + 2 * DAY)  # a later time: written again
    second = (store.folder / address).read_bytes()
    assert first[HEADER_BYTES : HEADER_BYTES + 12] != second[HEADER_BYTES : HEADER_BYTES + 12]


@pytest.mark.parametrize("offset", [HEADER_BYTES + 1, HEADER_BYTES + 20, -1])
def test_an_altered_file_is_refused_naming_its_address(
    store: FileQuarantine, clock: FakeClock, offset: int
) -> None:
    address = store.put(jpeg(4), clock() + DAY)
    path = store.folder / address
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError, match=address):
        store.get(address)


def test_a_retention_edited_in_the_header_is_refused(
    store: FileQuarantine, clock: FakeClock
) -> None:
    address = store.put(jpeg(5), clock() + DAY)
    path = store.folder / address
    data = bytearray(path.read_bytes())
    data[HEADER_BYTES - 4] ^= 0x10  # another retain-until, still a valid header
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError, match=address):
        store.get(address)


def test_a_file_moved_to_another_address_is_refused(
    store: FileQuarantine, clock: FakeClock
) -> None:
    one = store.put(jpeg(6), clock() + DAY)
    two = store.put(jpeg(7), clock() + DAY)
    (store.folder / one).replace(store.folder / two)
    with pytest.raises(StorageError, match=two):
        store.get(two)


def test_another_key_cannot_open_the_content(
    store: FileQuarantine, clock: FakeClock, tmp_path: Path
) -> None:
    address = store.put(jpeg(8), clock() + DAY)
    other = FileQuarantine.in_home(tmp_path, OTHER_KEY, clock)
    with pytest.raises(StorageError, match=address):
        other.get(address)


def test_a_file_in_an_unknown_format_is_refused_and_swept(
    store: FileQuarantine, clock: FakeClock
) -> None:
    address = store.put(jpeg(9), clock() + DAY)
    (store.folder / address).write_bytes(b"not a sealed file")
    with pytest.raises(StorageError, match=address):
        store.get(address)
    assert store.sweep(clock()) == 1
    assert store.usage().count == 0


def test_concurrent_puts_of_the_same_content_keep_one_whole_file_with_the_latest_time(
    store: FileQuarantine, clock: FakeClock
) -> None:
    content = jpeg(10)
    addresses: list[str] = []
    errors: list[BaseException] = []

    def put(days: int) -> None:
        try:
            addresses.append(store.put(content, clock() + days * DAY))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(1 + index % 8,)) for index in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(addresses)) == 1
    assert store.usage().count == 1
    assert sorted(path.name for path in store.folder.iterdir()) == [".lock", addresses[0]]
    clock.advance(7 * DAY)
    assert store.get(addresses[0]) == content  # the latest time (8 days) won
    clock.advance(DAY)
    assert store.sweep(clock()) == 1


def test_sweep_removes_drafts_left_by_a_dead_writer_without_counting_them(
    store: FileQuarantine, clock: FakeClock
) -> None:
    address = store.put(jpeg(11), clock() + 2 * DAY)
    draft = store.folder / f".{address}.999999.0badf00d"
    draft.write_bytes(b"half a file")
    assert store.usage().count == 1
    assert store.sweep(clock() + DAY) == 0
    assert not draft.exists()
    assert store.get(address) == jpeg(11)


def test_sweep_and_usage_of_a_store_never_written(tmp_path: Path, clock: FakeClock) -> None:
    store = FileQuarantine.in_home(tmp_path, KEY, clock)
    assert store.sweep(clock()) == 0
    assert store.usage().count == 0
    assert not (tmp_path / "quarantine").exists()


def test_the_derived_key_is_not_the_data_key_and_is_stable(tmp_path: Path) -> None:
    data_key = load_data_key("", tmp_path)
    derived = load_quarantine_key("", "", tmp_path)
    assert len(derived) == 32
    assert derived != data_key
    assert derived == quarantine_key("", data_key)
    configured = base64.b64encode(KEY).decode()
    assert load_quarantine_key("", configured, tmp_path) == quarantine_key("", KEY)


def test_a_configured_quarantine_key_is_used_as_given(tmp_path: Path) -> None:
    own = base64.b64encode(OTHER_KEY).decode()
    assert load_quarantine_key(own, "", tmp_path) == OTHER_KEY
    assert not (tmp_path / "data.key").exists()  # no data key needed


@pytest.mark.parametrize("configured", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_malformed_quarantine_key_is_refused_by_name(tmp_path: Path, configured: str) -> None:
    with pytest.raises(InvalidInputError, match="quarantine_key"):
        load_quarantine_key(configured, "", tmp_path)


def test_a_key_of_the_wrong_length_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError):
        FileQuarantine.in_home(tmp_path, b"short")
