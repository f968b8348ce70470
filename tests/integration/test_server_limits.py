"""A real `shieldwall serve`: huge bodies and header sections cost the server no memory.

Peak memory is the server process's own high-water mark (VmHWM in /proc), read before
and after the abuse: bounded, quick, and independent of timing.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cli import Cli
from tests.support.server import ServerProcess

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")

MIB = 1024 * 1024
BODY = 60 * MIB
"""What the probe sent per request (four at once took two workers from 0.98 to 5.58 GB)."""


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(Cli(tmp_path_factory.mktemp("home")).env)
    try:
        process.wait_live()
        yield process
    finally:
        process.stop()
        process.remove_log()


def _send_chunked(port: int, path: str, headers: str, total: int) -> bytes:
    """POST `total` bytes as a chunked body; the server may hang up early. Its answer."""
    chunk = b"[" * (64 * 1024)
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"{headers}Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        try:
            for _ in range(total // len(chunk)):
                conn.sendall(frame)
            conn.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused early: what we want
        try:
            return conn.recv(4096)
        except (ConnectionResetError, TimeoutError):
            return b""


def test_four_concurrent_60_mb_bodies_cost_no_memory(server: ServerProcess) -> None:
    token = server.admin_key()
    before = peak_rss_mib(server.process.pid)
    targets = [
        ("/protect/api/status", ""),
        ("/protect/api/withdraw", ""),
        ("/api/v1/lookup/signals", f"X-API-Key: {token}\r\n"),
        ("/api/v1/lookup/batch", f"X-API-Key: {token}\r\n"),
    ]
    answers: list[bytes] = []
    threads = [
        threading.Thread(
            target=lambda p=path, h=headers: answers.append(_send_chunked(server.port, p, h, BODY))
        )
        for path, headers in targets
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    grown = peak_rss_mib(server.process.pid) - before
    assert grown < 64, f"peak RSS grew by {grown:.0f} MiB for 4 x 60 MB bodies"
    # Whatever reached the clients is a 413 (a hang-up before it is fine too).
    assert all(answer == b"" or b" 413 " in answer.split(b"\r\n")[0] for answer in answers)
    assert httpx.get(f"{server.url}/status/live", timeout=10).status_code == 200


def test_a_huge_header_section_is_refused_with_431(server: ServerProcess) -> None:
    before = peak_rss_mib(server.process.pid)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(b"GET /status/live HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        answer = b""
        try:
            for _ in range(64):  # up to 64 MiB of one header, unless refused first
                conn.sendall(b"X-Filler: " + b"a" * MIB + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            answer = conn.recv(4096)
        except ConnectionResetError:
            answer = b""
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert peak_rss_mib(server.process.pid) - before < 32
    # Ordinary requests with ordinary headers still work.
    live = httpx.get(f"{server.url}/status/live", headers={"x-note": "a" * 4000}, timeout=10)
    assert live.status_code == 200
