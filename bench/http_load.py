"""HTTP load: sustained lookups against `shieldwall serve` on loopback, beside /status/live.

Builds a SQLite database holding one bank of N random PDQ hashes (`shieldwall bank create`
and `bank import` of a generated hash file), starts `shieldwall serve` on a free loopback
port and drives it from concurrent asyncio client tasks, each on its own keep-alive
connection (httpx by default; `--client raw` is a minimal HTTP/1.1 client on asyncio
streams that needs about a tenth of httpx's CPU per request, for when the client and
the server share few cores), each load for `--seconds` after a short untimed warm-up:

1. anchor: GET /status/live, the framework's floor (routing and a JSON answer, no work);
2. hash lookups: POST /api/v1/lookup/signals `{"pdq": ...}`, half of them a stored hash
   with 0-16 bits flipped (a match), half random (no match);
3. file lookups: POST /api/v1/lookup, multipart uploads of chat-size JPEGs (long side
   1280 px, quality 85) made from BSDS500 photos, or generated scenes if those are absent.

It reports requests/s, p50/p99 latency, errors (non-2xx answers or exceptions; must be 0),
the server's CPU use and its RSS (VmRSS of the server and its worker processes) at start
and end. `--soak-minutes M` then alternates hash and file load in 30 s slices for M
minutes, sampling RSS after each, and reports the growth.

The load key is a screener key (a platform's upload path: verdicts, no distances) created
through the API; the server runs with SHIELDWALL_RATE_SCREENER=1000000/1000000 so that its
per-key rate limit (200/s by default) does not throttle the run. Only loopback traffic.

    .venv/bin/python bench/http_load.py [--hashes 1000000] [--seconds 60] [--clients 32]
        [--client httpx|raw] [--workers 1] [--soak-minutes 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

import httpx
from http_load_support import (
    LONG_SIDE,
    ROOT,
    Connection,
    HttpxConnection,
    Prepared,
    RawConnection,
    chat_jpegs,
    cpu_seconds,
    multipart_file,
    rss_bytes,
    signal_bodies,
    write_hashfile,
)

sys.path.insert(0, str(ROOT))  # for tests.support (the server runner)

from tests.support.server import ServerProcess

BANK: Final = "bench"
SOAK_SLICE_S: Final = 30.0


@dataclass(frozen=True)
class LoadShape:
    """How the load is driven: client tasks, their HTTP client kind, warm-up seconds."""

    clients: int
    client: str  # "httpx" or "raw"
    warmup: float


# Load ------------------------------------------------------------------------------------


@dataclass
class Phase:
    """What one timed load measured."""

    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    rss_start: int = 0
    rss_end: int = 0
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    @property
    def rate(self) -> float:
        """Completed requests per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        """Latency percentile in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _connect(kind: str, url: str) -> Connection:
    return RawConnection(url) if kind == "raw" else HttpxConnection(url)


async def _drive(
    url: str, requests: list[Prepared], load: LoadShape, seconds: float, phase: Phase
) -> None:
    """`load.clients` tasks, each on its own keep-alive connection, until the deadline."""
    deadline = time.monotonic() + seconds

    async def worker(first: int) -> None:
        connection, index = _connect(load.client, url), first
        while time.monotonic() < deadline:
            started, problem = time.perf_counter(), None
            try:
                status, body = await connection.send(requests[index % len(requests)])
                if not 200 <= status < 300:
                    problem = f"HTTP {status}: {body[:200]!r}"
            except (httpx.HTTPError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                problem = f"{type(exc).__name__} after {time.perf_counter() - started:.3f} s: {exc}"
                await connection.aclose()
                connection = _connect(load.client, url)
            phase.latencies.append(time.perf_counter() - started)
            if problem is not None:
                phase.errors += 1
                if len(phase.error_samples) < 5:
                    phase.error_samples.append(problem)
            index += load.clients
        await connection.aclose()

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(load.clients)))
    phase.seconds = time.monotonic() - started


def run_load(
    server: ServerProcess, name: str, requests: list[Prepared], load: LoadShape, seconds: float
) -> Phase:
    """Warm up (untimed), then send `requests` round-robin for `seconds`."""
    if load.warmup > 0:
        asyncio.run(_drive(server.url, requests, load, load.warmup, Phase("warm-up")))
    phase = Phase(name, rss_start=rss_bytes(server.process.pid))
    cpu_before, client_before = cpu_seconds(server.process.pid), time.process_time()
    asyncio.run(_drive(server.url, requests, load, seconds, phase))
    phase.server_cpu = (cpu_seconds(server.process.pid) - cpu_before) / phase.seconds
    phase.client_cpu = (time.process_time() - client_before) / phase.seconds
    phase.rss_end = rss_bytes(server.process.pid)
    return phase


# Requests --------------------------------------------------------------------------------


def anchor_requests() -> list[Prepared]:
    """GET /status/live."""
    return [Prepared("GET", "/status/live", {})]


def signal_requests(bodies: list[bytes], token: str) -> list[Prepared]:
    """POST /api/v1/lookup/signals, one per body."""
    headers = {"X-API-Key": token, "Content-Type": "application/json"}
    return [Prepared("POST", "/api/v1/lookup/signals", headers, body) for body in bodies]


def file_requests(jpegs: list[bytes], token: str) -> list[Prepared]:
    """POST /api/v1/lookup, one multipart upload (field `file`) per JPEG."""
    prepared = []
    for jpeg in jpegs:
        content_type, body = multipart_file(jpeg)
        headers = {"X-API-Key": token, "Content-Type": content_type}
        prepared.append(Prepared("POST", "/api/v1/lookup", headers, body))
    return prepared


# Set-up ----------------------------------------------------------------------------------


def build_database(home: Path, hashes: int, seed: int) -> tuple[dict[str, str], list[int]]:
    """A bank of `hashes` random PDQ hashes via the CLI; the server's environment."""
    env = {
        **os.environ,
        "SHIELDWALL_HOME": str(home),
        "SHIELDWALL_DATABASE_URL": f"sqlite:///{home / 'bench.db'}",
        "SHIELDWALL_RATE_SCREENER": "1000000/1000000",
    }
    hashfile = home / "bench.hashes"
    started = time.perf_counter()
    stored = write_hashfile(hashfile, hashes, seed)
    print(f"hash file: {hashes:,} random PDQ hashes in {time.perf_counter() - started:.1f} s")
    cli = [sys.executable, "-m", "shieldwall"]
    subprocess.run([*cli, "bank", "create", BANK], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    command = [*cli, "bank", "import", BANK, str(hashfile), "--format", "hashfile"]
    subprocess.run(command, env=env, check=True, capture_output=True)
    print(f"bank import (CLI): {time.perf_counter() - started:.1f} s")
    hashfile.unlink()
    return env, stored


def start_server(env: dict[str, str], workers: int) -> tuple[ServerProcess, str]:
    """`shieldwall serve` until ready (index loaded); a screener key for the load."""
    started = time.perf_counter()
    server = ServerProcess(env, workers=workers, start_timeout=900)
    admin = server.admin_key()
    print(f"server: {workers} worker(s), ready in {time.perf_counter() - started:.1f} s")
    created = httpx.post(
        f"{server.url}/api/v1/keys",
        json={"name": "load", "role": "screener"},
        headers={"X-API-Key": admin},
    )
    created.raise_for_status()
    token: str = created.json()["token"]
    return server, token


def check_answers(server: ServerProcess, token: str, bodies: list[bytes]) -> None:
    """Near hashes must match and random ones must not, before anything is timed."""
    verdicts = [
        httpx.post(
            f"{server.url}/api/v1/lookup/signals",
            content=body,
            headers={"X-API-Key": token, "content-type": "application/json"},
        ).json()["verdict"]
        for body in bodies[:40]
    ]
    near, random_ = verdicts[0::2], verdicts[1::2]
    print(f"check: near hashes blocked {near.count('block')}/{len(near)}, ", end="")
    print(f"random hashes allowed {random_.count('allow')}/{len(random_)}")


# Report ----------------------------------------------------------------------------------


def machine() -> None:
    """The machine and the command, for bench/RESULTS.md."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if "model name" in ln), "?"
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 1024**2
    malloc = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("MALLOC_")]
    print(f"command: {shlex.join([*malloc, Path(sys.executable).name, *sys.argv])}")
    print(f"cpu: {model}, {os.cpu_count()} cores, {memory:.1f} GiB; {platform.platform()}")
    load = os.getloadavg()
    print(f"python {platform.python_version()}; load average at start {load[0]:.2f}")


def mib(value: int) -> str:
    """Bytes as MiB."""
    return f"{value / 1024**2:.1f}"


def report(phases: list[Phase], load: LoadShape) -> None:
    """The table of loads, and each lookup's throughput against the anchor."""
    print(
        f"\n{load.clients} concurrent clients ({load.client}), each on its own keep-alive ", end=""
    )
    print("connection, in one asyncio process, over loopback")
    print("| load | requests | req/s | p50 ms | p99 ms | errors | CPU server / client |", end="")
    print(" RSS start | RSS end |\n|---|---|---|---|---|---|---|---|---|")
    for p in phases:
        print(
            f"| {p.name} | {len(p.latencies):,} | {p.rate:,.0f} | {p.percentile_ms(0.5):.2f} "
            f"| {p.percentile_ms(0.99):.2f} | {p.errors} "
            f"| {100 * p.server_cpu:.0f}% / {100 * p.client_cpu:.0f}% "
            f"| {mib(p.rss_start)} MiB | {mib(p.rss_end)} MiB |"
        )
    anchor = phases[0]
    for p in phases[1:]:
        print(f"{p.name}: {p.rate / anchor.rate:.2f}x the anchor's requests/s", end="")
        print(f", p50 {p.percentile_ms(0.5) / anchor.percentile_ms(0.5):.1f}x its latency")
    for p in phases:
        for sample in p.error_samples:
            print(f"  error in {p.name}: {sample}")


# Soak and main ---------------------------------------------------------------------------


def soak(
    server: ServerProcess, loads: list[tuple[str, list[Prepared]]], load: LoadShape, minutes: float
) -> float:
    """Alternate the loads in 30 s slices for `minutes`; RSS after each; growth in %."""
    pid = server.process.pid
    first = rss_bytes(pid)
    slices = max(1, round(minutes * 60 / SOAK_SLICE_S))
    print(f"\nsoak: {minutes:g} min, {slices} slices of {SOAK_SLICE_S:.0f} s alternating loads")
    print("| t s | load | req/s | p99 ms | errors | RSS MiB |")
    print("|---|---|---|---|---|---|")
    print(f"| 0 | start | - | - | - | {mib(first)} |")
    started, errors, requests, peak = time.monotonic(), 0, 0, first
    last = first
    for index in range(slices):
        name, requests_ = loads[index % len(loads)]
        phase = run_load(server, name, requests_, replace(load, warmup=0.0), SOAK_SLICE_S)
        errors, requests = errors + phase.errors, requests + len(phase.latencies)
        last = phase.rss_end
        peak = max(peak, last)
        print(
            f"| {time.monotonic() - started:.0f} | {name} | {phase.rate:,.0f} "
            f"| {phase.percentile_ms(0.99):.1f} | {phase.errors} | {mib(last)} |",
            flush=True,
        )
        for sample in phase.error_samples:
            print(f"  error in {name}: {sample}", flush=True)
    growth = 100 * (last - first) / first
    print(
        f"soak: {requests:,} requests, {errors} errors; RSS {mib(first)} -> {mib(last)} MiB ",
        end="",
    )
    print(f"(peak {mib(peak)} MiB): growth {growth:+.1f}%")
    return growth


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=1_000_000, help="PDQ hashes in the bank")
    parser.add_argument("--seconds", type=float, default=60.0, help="timed seconds per load")
    parser.add_argument("--warmup", type=float, default=5.0, help="untimed seconds per load")
    parser.add_argument("--clients", type=int, default=32, help="concurrent connections")
    parser.add_argument(
        "--client",
        choices=["httpx", "raw"],
        default="httpx",
        help="httpx, or minimal HTTP/1.1 on asyncio streams (about 10x less client CPU)",
    )
    parser.add_argument("--workers", type=int, default=1, help="`serve --workers`")
    parser.add_argument("--images", type=int, default=64, help="distinct JPEGs to upload")
    parser.add_argument("--soak-minutes", type=float, default=0.0, help="0: no soak")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def main() -> int:
    """Build, serve, load, report; non-zero if any request failed or RSS grew > 10%."""
    args = parse_args()
    machine()
    with tempfile.TemporaryDirectory(prefix="shieldwall-http-load-") as directory:
        env, stored = build_database(Path(directory), args.hashes, args.seed)
        bodies = signal_bodies(stored, 2000, args.seed)
        jpegs, source = chat_jpegs(args.images)
        average = sum(len(j) for j in jpegs) / len(jpegs) / 1024
        print(
            f"uploads: {len(jpegs)} JPEGs ({LONG_SIDE} px long side, {average:.0f} KiB): {source}"
        )
        server, token = start_server(env, args.workers)
        try:
            check_answers(server, token, bodies)
            pid = server.process.pid
            print(f"server RSS after start-up: {mib(rss_bytes(pid))} MiB")
            loads = [
                ("anchor GET /status/live", anchor_requests()),
                ("hash lookups", signal_requests(bodies, token)),
                ("file lookups", file_requests(jpegs, token)),
            ]
            shape = LoadShape(args.clients, args.client, args.warmup)
            phases = [
                run_load(server, name, requests_, shape, args.seconds) for name, requests_ in loads
            ]
            report(phases, shape)
            failed = sum(p.errors for p in phases) > 0
            if args.soak_minutes > 0:
                growth = soak(server, loads[1:], shape, args.soak_minutes)
                failed = failed or growth > 10.0
        finally:
            code = server.stop()
            print(f"server stopped (exit code {code})")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print("RESULT:", "FAIL" if failed else "PASS (0 errors, RSS growth within 10%)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
