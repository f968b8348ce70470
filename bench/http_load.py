"""HTTP load: sustained lookups against `shieldwall serve --workers 2` on loopback.

Builds a database (SQLite file, or a fresh PostgreSQL database with `--database
postgres`) holding one bank of N random PDQ hashes (`shieldwall bank create` and `bank
import` of a generated hash file; `--home DIR` keeps and reuses it between runs), starts
`shieldwall serve` on a free loopback port, times start-up until every worker answers
ready (index loaded), and drives it from concurrent asyncio client tasks, each on its own
keep-alive connection (`--client raw`, the default, is a minimal HTTP/1.1 client on
asyncio streams that needs about a tenth of httpx's CPU per request, since the client and
the server share the machine's cores; `--client httpx` is the other), each load for
`--seconds` after a short untimed warm-up:

1. anchor: GET /status/live, the framework's floor (routing and a JSON answer, no work);
2. HMA hash lookups: GET /m/lookup?signal_type=pdq&signal=..., with 8 and with 32 clients;
3. native hash lookups: POST /api/v1/lookup/signals `{"pdq": ...}`, 8 and 32 clients;
   in both, half the hashes are a stored hash with 0-16 bits flipped (a match), half random;
4. batch lookups: POST /api/v1/lookup/batch of 1,000 signal sets (reported in hashes/s);
5. image lookups: POST /api/v1/lookup, multipart uploads of chat-size JPEGs (long side
   1280 px, quality 85, all robust views on) made from BSDS500 photos, or generated scenes;
   and the same uploads through HMA's POST /m/lookup (field `photo`).

`--hma-url URL` also drives a Meta HMA 1.1 instance running beside it (loaded with the same
hashes: `bench/http_load_support.write_hashfile` with the same seed) with the same client:
its GET /m/lookup and POST /m/lookup, as the anchor the issue's targets are set against.

It reports requests/s, p50/p99 latency, errors (non-2xx answers or exceptions; must be 0),
the server's CPU use, and each worker's resident memory (RSS and PSS, from smaps_rollup)
after start-up and after the loads. `--soak-minutes M` then alternates hash, batch and
image loads in 30 s slices for M minutes and reports each worker's RSS growth (limit 10%).

The load key is a screener key with `see_details` (HMA's lookups answer with content ids
and distances) made with `shieldwall key create`; the server runs with
SHIELDWALL_RATE_SCREENER=1000000/1000000 so that the key's rate limit (5,000/s by default,
shared by all workers) does not throttle the run. Only loopback traffic.

    .venv/bin/python bench/http_load.py [--hashes 1000000] [--seconds 30] [--workers 2]
        [--database sqlite|postgres] [--home DIR] [--hma-url URL] [--soak-minutes 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
    batch_bodies,
    chat_jpegs,
    cpu_seconds,
    memory_of,
    multipart_file,
    signal_bodies,
    workers_of,
    write_hashfile,
)

sys.path.insert(0, str(ROOT))  # for tests.support (the server runner)

from tests.support.server import ServerProcess

BANK: Final = "bench"
SOAK_SLICE_S: Final = 30.0
SETTLE_S: Final = 6.0
"""Idle seconds before a settled memory reading (the workers trim every 5 s)."""
BATCH: Final = 1000
FILE_PATH: Final = "/api/v1/lookup"
HMA_PATH: Final = "/m/lookup"


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
    clients: int = 0
    items: int = 1
    """Lookups per request (a batch's signal sets)."""
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
    url: str, pid: int, name: str, requests: list[Prepared], load: LoadShape, seconds: float
) -> Phase:
    """Warm up (untimed), then send `requests` round-robin for `seconds` (`pid`: the server
    whose CPU time is sampled; 0 for none)."""
    if load.warmup > 0:
        asyncio.run(_drive(url, requests, load, load.warmup, Phase("warm-up")))
    phase = Phase(name)
    cpu_before, client_before = cpu_seconds(pid) if pid else 0.0, time.process_time()
    asyncio.run(_drive(url, requests, load, seconds, phase))
    phase.server_cpu = (cpu_seconds(pid) - cpu_before) / phase.seconds if pid else 0.0
    phase.client_cpu = (time.process_time() - client_before) / phase.seconds
    return phase


# Requests --------------------------------------------------------------------------------


def anchor_requests() -> list[Prepared]:
    """GET /status/live."""
    return [Prepared("GET", "/status/live", {})]


def _pdq_of(body: bytes) -> str:
    value: str = json.loads(body)["pdq"]
    return value


def hma_signal_requests(bodies: list[bytes], token: str) -> list[Prepared]:
    """GET /m/lookup?signal_type=pdq&signal=..., one per body's hash."""
    headers = {"X-API-Key": token} if token else {}
    return [
        Prepared("GET", f"/m/lookup?signal_type=pdq&signal={_pdq_of(body)}", headers)
        for body in bodies
    ]


def signal_requests(bodies: list[bytes], token: str) -> list[Prepared]:
    """POST /api/v1/lookup/signals, one per body."""
    headers = {"X-API-Key": token, "Content-Type": "application/json"}
    return [Prepared("POST", "/api/v1/lookup/signals", headers, body) for body in bodies]


def batch_requests(bodies: list[bytes], token: str) -> list[Prepared]:
    """POST /api/v1/lookup/batch, one per body of BATCH signal sets."""
    headers = {"X-API-Key": token, "Content-Type": "application/json"}
    return [Prepared("POST", "/api/v1/lookup/batch", headers, body) for body in bodies]


def file_requests(jpegs: list[bytes], token: str, path: str, field_name: str) -> list[Prepared]:
    """Multipart uploads (one file in `field_name`) to `path`, one per JPEG."""
    prepared = []
    for jpeg in jpegs:
        content_type, body = multipart_file(jpeg, field_name)
        headers = {"Content-Type": content_type} | ({"X-API-Key": token} if token else {})
        prepared.append(Prepared("POST", path, headers, body))
    return prepared


# Set-up ----------------------------------------------------------------------------------


def _cli(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-m", "shieldwall", *args]
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return done.stdout


def _postgres_url(home: Path) -> str:
    """A fresh PostgreSQL database for this run (dropped and made again)."""
    name = "shieldwall_bench"
    for sql in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"):
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql],
            check=True,
            capture_output=True,
        )
    (home / "database-url").write_text(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    return (home / "database-url").read_text()


def build_database(home: Path, args: argparse.Namespace) -> tuple[dict[str, str], list[int], str]:
    """A bank of `hashes` random PDQ hashes via the CLI (reused if `home` holds one already);
    the server's environment, a sample of stored hashes, and the load key."""
    home.mkdir(parents=True, exist_ok=True)
    marker = home / f"bench-{args.database}-{args.hashes}-{args.seed}.json"
    env = {
        **os.environ,
        "SHIELDWALL_HOME": str(home),
        "SHIELDWALL_RATE_SCREENER": "1000000/1000000",
    }
    if marker.is_file():
        saved = json.loads(marker.read_text())
        env["SHIELDWALL_DATABASE_URL"] = saved["database_url"]
        print(f"database: reused from {home} ({args.hashes:,} hashes, {args.database})")
        return env, saved["stored"], saved["token"]
    if args.database == "postgres":
        env["SHIELDWALL_DATABASE_URL"] = _postgres_url(home)
        _cli(env, "db", "upgrade")
    else:
        (home / "bench.db").unlink(missing_ok=True)
        env["SHIELDWALL_DATABASE_URL"] = f"sqlite:///{home / 'bench.db'}"
    hashfile = home / "bench.hashes"
    stored = write_hashfile(hashfile, args.hashes, args.seed)
    _cli(env, "bank", "create", BANK)
    started = time.perf_counter()
    _cli(env, "bank", "import", BANK, str(hashfile), "--format", "hashfile")
    print(f"bank import (CLI): {args.hashes:,} hashes in {time.perf_counter() - started:.1f} s")
    hashfile.unlink()
    created = _cli(
        env, "key", "create", "--role", "screener", "--see-details", "--name", "load", "--json"
    )
    token = json.loads(created.splitlines()[0])["token"]
    saved = {"database_url": env["SHIELDWALL_DATABASE_URL"], "stored": stored, "token": token}
    marker.write_text(json.dumps(saved))
    return env, stored, token


def start_server(env: dict[str, str], workers: int) -> tuple[ServerProcess, float]:
    """`shieldwall serve`; seconds until every worker answers ready (index loaded)."""
    started = time.perf_counter()
    server = ServerProcess(env, workers=workers, start_timeout=900)
    ready_in_a_row = 0
    while ready_in_a_row < 4 * workers:  # fresh connections land on every worker
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited:\n{server.stderr()}")
        try:
            answer = httpx.get(f"{server.url}/status/ready", timeout=2)
            ready_in_a_row = ready_in_a_row + 1 if answer.status_code == 200 else 0
        except httpx.HTTPError:
            ready_in_a_row = 0
        if ready_in_a_row == 0:
            time.sleep(0.05)
    seconds = time.perf_counter() - started
    print(f"server: {workers} worker(s), every worker ready in {seconds:.1f} s")
    return server, seconds


def check_answers(url: str, token: str, bodies: list[bytes]) -> None:
    """Near hashes must match and random ones must not, before anything is timed."""
    verdicts = [
        httpx.post(
            f"{url}/api/v1/lookup/signals",
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


def mib(value: float) -> str:
    """Bytes as MiB."""
    return f"{value / 1024**2:.1f}"


def worker_memory(pid: int) -> list[tuple[int, int]]:
    """(RSS, PSS) of each worker."""
    return [memory_of(worker) for worker in workers_of(pid)]


def print_memory(label: str, memory: list[tuple[int, int]]) -> None:
    """One line: each worker's RSS and PSS."""
    shown = ", ".join(f"{mib(rss)} MiB RSS / {mib(pss)} MiB PSS" for rss, pss in memory)
    print(f"memory per worker {label}: {shown}")


def report(phases: list[Phase], load: LoadShape) -> None:
    """The table of loads, and each lookup's throughput against the anchor."""
    print(f"\n{load.client} client: each task on its own keep-alive connection, over loopback")
    print("| load | clients | requests | req/s | p50 ms | p99 ms | errors | CPU server / client |")
    print("|---|---|---|---|---|---|---|---|")
    for p in phases:
        extra = f" ({p.rate * p.items:,.0f} hashes/s)" if p.items > 1 else ""
        print(
            f"| {p.name} | {p.clients} | {len(p.latencies):,} | {p.rate:,.0f}{extra} "
            f"| {p.percentile_ms(0.5):.2f} | {p.percentile_ms(0.99):.2f} | {p.errors} "
            f"| {100 * p.server_cpu:.0f}% / {100 * p.client_cpu:.0f}% |"
        )
    for p in phases:
        for sample in p.error_samples:
            print(f"  error in {p.name}: {sample}")


# Soak and main ---------------------------------------------------------------------------


def soak(
    server: ServerProcess, loads: list[tuple[str, list[Prepared]]], load: LoadShape, minutes: float
) -> float:
    """Alternate the loads in 30 s slices for `minutes`; growth in % of the settled RSS.

    After each slice the RSS is read at once (the peak the slice left) and again once the
    workers have settled (SETTLE_S idle: their memory trimmer runs every 5 s), since the
    question is whether memory stays, not how high a burst of image decodes reaches.
    """
    pid = server.process.pid
    time.sleep(SETTLE_S)
    first = [rss for rss, _ in worker_memory(pid)]
    slices = max(1, round(minutes * 60 / SOAK_SLICE_S))
    print(f"\nsoak: {minutes:g} min, {slices} slices of {SOAK_SLICE_S:.0f} s alternating loads")
    print("| t s | load | req/s | p99 ms | errors | RSS per worker MiB: peak; settled |")
    print("|---|---|---|---|---|---|")
    print(f"| 0 | start | - | - | - | -; {' / '.join(mib(v) for v in first)} |")
    started, errors, requests = time.monotonic(), 0, 0
    last = first
    for index in range(slices):
        name, requests_ = loads[index % len(loads)]
        phase = run_load(server.url, pid, name, requests_, replace(load, warmup=0.0), SOAK_SLICE_S)
        errors, requests = errors + phase.errors, requests + len(phase.latencies)
        peak = [rss for rss, _ in worker_memory(pid)]
        time.sleep(SETTLE_S)
        last = [rss for rss, _ in worker_memory(pid)]
        print(
            f"| {time.monotonic() - started:.0f} | {name} | {phase.rate:,.0f} "
            f"| {phase.percentile_ms(0.99):.1f} | {phase.errors} "
            f"| {' / '.join(mib(v) for v in peak)}; {' / '.join(mib(v) for v in last)} |",
            flush=True,
        )
        for sample in phase.error_samples:
            print(f"  error in {name}: {sample}", flush=True)
    growth = max(100 * (b - a) / a for a, b in zip(first, last, strict=False))
    print(f"soak: {requests:,} requests, {errors} errors; worst worker RSS growth {growth:+.1f}%")
    return growth if errors == 0 else float("inf")


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hashes", type=int, default=1_000_000, help="PDQ hashes in the bank")
    parser.add_argument("--seconds", type=float, default=30.0, help="timed seconds per load")
    parser.add_argument("--warmup", type=float, default=3.0, help="untimed seconds per load")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    parser.add_argument("--workers", type=int, default=2, help="`serve --workers`")
    parser.add_argument("--images", type=int, default=64, help="distinct JPEGs to upload")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--home", type=Path, help="keep the database here and reuse it")
    parser.add_argument("--hma-url", help="also load a Meta HMA instance at this base URL")
    parser.add_argument("--hma-only", action="store_true", help="only load the HMA instance")
    parser.add_argument("--soak-minutes", type=float, default=0.0, help="0: no soak")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def lookups(
    url: str, pid: int, token: str, inputs: Inputs, shape: LoadShape, seconds: float
) -> list[Phase]:
    """Every load of the issue against one server."""
    loads: list[tuple[str, list[Prepared], int, int]] = [
        ("anchor GET /status/live", anchor_requests(), 8, 1),
        ("HMA GET /m/lookup (hash)", hma_signal_requests(inputs.bodies, token), 8, 1),
        ("HMA GET /m/lookup (hash)", hma_signal_requests(inputs.bodies, token), 32, 1),
        ("POST /api/v1/lookup/signals", signal_requests(inputs.bodies, token), 8, 1),
        ("POST /api/v1/lookup/signals", signal_requests(inputs.bodies, token), 32, 1),
        ("POST /api/v1/lookup/batch (1,000)", batch_requests(inputs.batches, token), 4, BATCH),
        ("POST /api/v1/lookup (JPEG)", file_requests(inputs.jpegs, token, FILE_PATH, "file"), 8, 1),
        ("HMA POST /m/lookup (JPEG)", file_requests(inputs.jpegs, token, HMA_PATH, "photo"), 8, 1),
    ]
    phases = []
    for name, requests_, clients, items in loads:
        phase = run_load(url, pid, name, requests_, replace(shape, clients=clients), seconds)
        phase.clients, phase.items = clients, items
        phases.append(phase)
    return phases


def hma_lookups(url: str, inputs: Inputs, shape: LoadShape, seconds: float) -> list[Phase]:
    """HMA's own lookups, driven the same way (its server's CPU is not sampled)."""
    loads = [
        ("HMA 1.1 GET /m/lookup (hash)", hma_signal_requests(inputs.bodies, ""), 8),
        ("HMA 1.1 GET /m/lookup (hash)", hma_signal_requests(inputs.bodies, ""), 32),
        ("HMA 1.1 POST /m/lookup (JPEG)", file_requests(inputs.jpegs, "", HMA_PATH, "photo"), 8),
    ]
    phases = []
    for name, requests_, clients in loads:
        phase = run_load(url, 0, name, requests_, replace(shape, clients=clients), seconds)
        phase.clients = clients
        phases.append(phase)
    return phases


@dataclass(frozen=True)
class Inputs:
    """What the loads send."""

    bodies: list[bytes]
    batches: list[bytes]
    jpegs: list[bytes]


def main() -> int:
    """Build, serve, load, report; non-zero if any request failed or RSS grew > 10%."""
    args = parse_args()
    machine()
    with tempfile.TemporaryDirectory(prefix="shieldwall-http-load-") as directory:
        home = args.home or Path(directory)
        env, stored, token = build_database(home, args)
        jpegs, source = chat_jpegs(args.images)
        inputs = Inputs(
            signal_bodies(stored, 2000, args.seed),
            batch_bodies(stored, 16, BATCH, args.seed),
            jpegs,
        )
        average = sum(len(j) for j in jpegs) / len(jpegs) / 1024
        print(
            f"uploads: {len(jpegs)} JPEGs ({LONG_SIDE} px long side, {average:.0f} KiB): ", end=""
        )
        print(source)
        shape = LoadShape(8, args.client, args.warmup)
        failed = False
        if args.hma_url:
            phases = hma_lookups(args.hma_url.rstrip("/"), inputs, shape, args.seconds)
            report(phases, shape)
            failed = sum(p.errors for p in phases) > 0
        if args.hma_only:
            return 1 if failed else 0
        server, ready_seconds = start_server(env, args.workers)
        try:
            check_answers(server.url, token, inputs.bodies)
            pid = server.process.pid
            print_memory("after start-up", worker_memory(pid))
            phases = lookups(server.url, pid, token, inputs, shape, args.seconds)
            report(phases, shape)
            print_memory("right after the loads", worker_memory(pid))
            time.sleep(SETTLE_S)
            print_memory(f"after the loads, {SETTLE_S:g} s idle", worker_memory(pid))
            print(f"start-up to ready: {ready_seconds:.1f} s")
            failed = failed or sum(p.errors for p in phases) > 0
            if args.soak_minutes > 0:
                mixed = [
                    ("hash lookups", signal_requests(inputs.bodies, token)),
                    ("HMA hash lookups", hma_signal_requests(inputs.bodies, token)),
                    ("batch lookups", batch_requests(inputs.batches, token)),
                    ("image lookups", file_requests(inputs.jpegs, token, FILE_PATH, "file")),
                ]
                growth = soak(server, mixed, shape, args.soak_minutes)
                failed = failed or growth > 10.0
        finally:
            code = server.stop()
            print(f"server stopped (exit code {code})")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print("RESULT:", "FAIL" if failed else "PASS (0 errors, RSS growth within 10%)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
