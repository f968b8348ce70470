"""Sealed fields: AES-GCM round trips, and nothing opens with another key or row."""

from __future__ import annotations

import base64
import multiprocessing
import secrets
import stat
from pathlib import Path

import pytest

from shieldwall.errors import InvalidInputError, StorageError
from shieldwall.storage.sealing import Sealer, load_data_key


def test_sealed_text_opens_only_with_its_key_and_row() -> None:
    sealer = Sealer(secrets.token_bytes(32))
    sealed = sealer.seal('{"email": "ana@example.org"}', "SW-AAAA-BBBB")
    assert sealed.startswith("v1:")
    assert "ana@example.org" not in sealed
    assert sealed != sealer.seal('{"email": "ana@example.org"}', "SW-AAAA-BBBB")  # fresh nonce
    assert sealer.open(sealed, "SW-AAAA-BBBB") == '{"email": "ana@example.org"}'
    with pytest.raises(StorageError, match="cannot be opened"):
        sealer.open(sealed, "SW-CCCC-DDDD")  # moved to another case
    with pytest.raises(StorageError, match="cannot be opened"):
        Sealer(secrets.token_bytes(32)).open(sealed, "SW-AAAA-BBBB")  # another key
    for broken in ("v1:not base64!", "v1:" + base64.b64encode(b"short").decode(), "plain"):
        with pytest.raises(StorageError):
            sealer.open(broken, "SW-AAAA-BBBB")


def test_the_key_file_is_made_once_for_the_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = load_data_key("", home)
    assert len(first) == 32
    assert load_data_key("", home) == first
    mode = stat.S_IMODE((home / "data.key").stat().st_mode)
    assert mode == 0o600


def test_a_configured_key_wins_and_bad_ones_are_refused(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    assert load_data_key(base64.b64encode(key).decode(), tmp_path) == key
    assert not (tmp_path / "data.key").exists()
    for bad in ("not base64!", base64.b64encode(b"too short").decode()):
        with pytest.raises(InvalidInputError, match="data_key"):
            load_data_key(bad, tmp_path)
    with pytest.raises(InvalidInputError):
        Sealer(b"short")
    (tmp_path / "data.key").write_bytes(b"x")
    with pytest.raises(StorageError, match="data key"):
        load_data_key("", tmp_path)


def _key_of(home: str) -> bytes:
    return load_data_key("", Path(home))


def test_processes_starting_together_share_one_whole_key(tmp_path: Path) -> None:
    # Workers of `serve` start at the same moment: none may read a half-written key file.
    for attempt in range(5):
        home = str(tmp_path / f"home{attempt}")
        with multiprocessing.get_context("spawn").Pool(6) as pool:
            keys = pool.map(_key_of, [home] * 12)
        assert len(set(keys)) == 1
        assert len(keys[0]) == 32
        assert sorted(p.name for p in Path(home).iterdir()) == ["data.key"]  # no drafts left
