"""Reading content from files: the byte limit before and while reading, clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shieldwall.config import MediaLimits
from shieldwall.errors import MediaError, MediaTooLargeError
from shieldwall.media.decode import read_content

LIMITS = MediaLimits()


def test_read_content_returns_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "scene.png"
    path.write_bytes(b"\x89PNG not really")
    assert read_content(path, LIMITS) == b"\x89PNG not really"


def test_read_content_refuses_big_files_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    with path.open("wb") as handle:
        handle.truncate(2000)
    with pytest.raises(MediaTooLargeError, match="2000 bytes, over the limit of 1000"):
        read_content(path, MediaLimits(max_bytes=1000))


def test_read_content_refuses_a_stream_over_the_limit(tmp_path: Path) -> None:
    fifo = tmp_path / "stream"
    os.mkfifo(fifo)
    writer_fd = os.open(fifo, os.O_RDWR)  # keeps the pipe open without blocking
    try:
        os.write(writer_fd, b"x" * 3000)
        with pytest.raises(MediaTooLargeError, match="over the limit of 1000 bytes"):
            read_content(fifo, MediaLimits(max_bytes=1000))
    finally:
        os.close(writer_fd)


@pytest.mark.parametrize(
    ("name", "reason"), [("missing.jpg", "no such file or directory"), (".", "is a directory")]
)
def test_read_content_errors_are_media_errors(tmp_path: Path, name: str, reason: str) -> None:
    path = tmp_path / name
    with pytest.raises(MediaError, match=f"cannot read .*: {reason}") as caught:
        read_content(path, LIMITS)
    assert "\n" not in str(caught.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_read_content_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "secret.jpg"
    path.write_bytes(b"x")
    path.chmod(0)
    with pytest.raises(MediaError, match="permission denied"):
        read_content(path, LIMITS)
