"""Parts of `http_load.py`: inputs, /proc measurements, and its two HTTP client kinds.

The RSS and CPU time cover the server process and its uvicorn workers (read from /proc).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol
from urllib.parse import urlsplit

import httpx
from PIL import Image

ROOT: Final = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.support (generated scenes)

from tests.support.images import scene  # noqa: E402

PHOTOS: Final = ROOT.parent / "shared" / "data" / "photos-bsds500"
LONG_SIDE: Final = 1280
CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


# Server process: RSS and CPU of the server and all its descendants ------------------------


def _family(pid: int) -> list[int]:
    """`pid` and its descendants (uvicorn workers are children of the supervisor)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                queue.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue
    return found


def rss_bytes(pid: int) -> int:
    """Resident memory of the server process family (VmRSS, bytes)."""
    total = 0
    for member in _family(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server process family so far."""
    total = 0
    for member in _family(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


# Workload --------------------------------------------------------------------------------


def write_hashfile(path: Path, count: int, seed: int) -> list[int]:
    """`pdq <hex>` lines of random hashes; returns a sample of them for near queries."""
    rng = random.Random(seed)
    sample: list[int] = []
    with path.open("w") as out:
        for start in range(0, count, 100_000):
            values = [rng.getrandbits(256) for _ in range(min(100_000, count - start))]
            out.write("".join(f"pdq {v:064x}\n" for v in values))
            sample.extend(values[:: max(1, count // 5000)])
    return sample


def signal_bodies(stored: list[int], count: int, seed: int) -> list[bytes]:
    """JSON bodies: even ones near a stored hash (0-16 bits flipped), odd ones random."""
    rng = random.Random(f"queries {seed}")  # not the stored hashes' sequence
    bodies = []
    for index in range(count):
        if index % 2 == 0:
            value = rng.choice(stored)
            for bit in rng.sample(range(256), rng.randint(0, 16)):
                value ^= 1 << bit
        else:
            value = rng.getrandbits(256)
        bodies.append(json.dumps({"pdq": f"{value:064x}"}).encode())
    return bodies


def chat_jpegs(count: int) -> tuple[list[bytes], str]:
    """JPEGs with a 1280 px long side, quality 85, and where they came from."""
    photos = sorted(PHOTOS.glob("*/*.jpg"))[:count]
    source = f"BSDS500 photos from {PHOTOS}" if photos else "generated scenes (no BSDS500)"
    images = [Image.open(p).convert("RGB") for p in photos] or [scene(s) for s in range(count)]
    encoded = []
    for image in images:
        scale = LONG_SIDE / max(image.size)
        size = (round(image.width * scale), round(image.height * scale))
        buffer = io.BytesIO()
        image.resize(size, Image.Resampling.LANCZOS).save(buffer, "JPEG", quality=85)
        encoded.append(buffer.getvalue())
    return encoded, source


# Requests and the two client kinds --------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """One request, built once and sent many times."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


def multipart_file(data: bytes, field: str = "file") -> tuple[str, bytes]:
    """Content type and body of a one-file multipart upload (as a chat server sends it)."""
    boundary = "shieldwall-bench-5f1d8c"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
        'filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    )
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


class Connection(Protocol):
    """One keep-alive connection used by one client task at a time."""

    async def send(self, request: Prepared) -> tuple[int, bytes]:
        """Status code and body of the answer."""

    async def aclose(self) -> None:
        """Close the connection."""


class HttpxConnection:
    """An httpx.AsyncClient limited to one connection (no pool shared between tasks)."""

    def __init__(self, url: str) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self._client = httpx.AsyncClient(base_url=url, limits=limits, timeout=60.0)

    async def send(self, request: Prepared) -> tuple[int, bytes]:
        """Send with httpx."""
        response = await self._client.request(
            request.method, request.path, headers=request.headers, content=request.body
        )
        return response.status_code, response.content

    async def aclose(self) -> None:
        """Close the client."""
        await self._client.aclose()


class RawConnection:
    """Minimal HTTP/1.1 over asyncio streams: far less client CPU per request than httpx."""

    def __init__(self, url: str) -> None:
        parsed = urlsplit(url)
        self._host, self._port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._wire: dict[int, bytes] = {}

    def _serialise(self, request: Prepared) -> bytes:
        wire = self._wire.get(id(request))
        if wire is None:
            lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {self._host}"]
            lines += [f"{k}: {v}" for k, v in request.headers.items()]
            lines.append(f"Content-Length: {len(request.body)}")
            wire = self._wire[id(request)] = "\r\n".join(lines).encode() + b"\r\n\r\n"
        return wire

    async def send(self, request: Prepared) -> tuple[int, bytes]:
        """Send on the open connection (opened on first use), read one answer."""
        if self._streams is None:
            self._streams = await asyncio.open_connection(self._host, self._port)
        reader, writer = self._streams
        writer.write(self._serialise(request) + request.body)
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in head[1:] if ": " in line)
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection") == "close":
            await self.aclose()
        return int(head[0].split()[1]), body

    async def aclose(self) -> None:
        """Close the streams."""
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


# Per-process memory ----------------------------------------------------------------------


def workers_of(pid: int) -> list[int]:
    """The uvicorn worker processes under a `serve` supervisor (or the server itself); not
    multiprocessing's resource tracker, a 12 MiB helper that serves nothing."""
    family = _family(pid)
    workers = [member for member in family[1:] if "resource_tracker" not in _cmdline(member)]
    return workers or family


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def memory_of(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in bytes, from /proc/PID/smaps_rollup."""
    values = {"Rss:": 0, "Pss:": 0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            parts = line.split()
            if parts and parts[0] in values:
                values[parts[0]] = int(parts[1]) * 1024
    except OSError:
        pass
    return values["Rss:"], values["Pss:"]


def batch_bodies(stored: list[int], batches: int, size: int, seed: int) -> list[bytes]:
    """Batch lookup bodies of `size` signal sets each, half near stored hashes, half random."""
    singles = signal_bodies(stored, batches * size, seed)
    bodies = []
    for start in range(0, len(singles), size):
        items = ",".join(body.decode() for body in singles[start : start + size])
        bodies.append(f'{{"items":[{items}]}}'.encode())
    return bodies
