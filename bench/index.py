"""PDQ index: Shieldwall `PdqIndex` against python-threatexchange `PDQIndex` and FAISS.

Environment, from the repository root (threatexchange and faiss-cpu are bench-only; numpy
>= 2.0 for `np.bitwise_count`; about 10 GB of free memory and 15-20 minutes for 10M):

    python -m venv bench/.venv
    bench/.venv/bin/pip install -e . threatexchange faiss-cpu
    bench/.venv/bin/python bench/index.py                      # 1,000,000 and 10,000,000
    bench/.venv/bin/python bench/index.py --sizes 10000        # smoke run, seconds

Stored set (regenerated from the seed in every process): N hashes, 90% random and 10% in
clusters of 10 near-duplicates (each member 0-16 bits from a random centre, so some
buckets are crowded). Queries, one at a time: half a stored hash with 0-31 bits flipped,
half random, interleaved so any prefix is balanced. Truth: numpy brute force over all N
rows, in chunks (every system is scored against the same truth). Systems, at threshold 31:
- shieldwall: `PdqIndex.add` of all rows at once, then `search(bytes, 31)`;
- threatexchange: `PDQIndex([(hex, id), ...])` (faiss MultiHash underneath), `query(hex)`;
- faiss-flat: `IndexBinaryFlat(256)`, `range_search(q, 32)` (faiss keeps distance < 32).
Each system is built and queried in a fresh process, so the growth of VmRSS over its build
(what it keeps, read after the build) belongs to it alone; VmHWM growth is the peak.
Slow anchors stop after --anchor-budget seconds of queries, but never before 300 queries.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
import numpy.typing as npt

THRESHOLD = 31
MIN_QUERIES = 300
SYSTEMS = ("shieldwall", "threatexchange", "faiss-flat")
U8 = npt.NDArray[np.uint8]
Hits = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]  # row ids, distances


# ---------------------------------------------------------------- data and truth


def flip(rng: np.random.Generator, rows: U8, counts: npt.NDArray[np.int64]) -> U8:
    """Copies of `rows` with up to counts[i] random bits of row i flipped (repeats cancel)."""
    out = rows.copy()
    for slot in range(int(counts.max(initial=0))):
        which = np.flatnonzero(counts > slot)
        bits = rng.integers(0, 256, len(which))
        out[which, bits >> 3] ^= (1 << (bits & 7)).astype(np.uint8)
    return out


def stored_hashes(n: int, seed: int) -> U8:
    """The stored set: random hashes plus 10% near-duplicates in clusters of 10."""
    rng = np.random.default_rng([seed, n])
    clustered = n // 10
    centres = rng.integers(0, 256, (max(1, clustered // 10), 32), dtype=np.uint8)
    members = centres[np.arange(clustered) % len(centres)]
    members = flip(rng, members, rng.integers(0, 17, clustered))
    random_rows = rng.integers(0, 256, (n - clustered, 32), dtype=np.uint8)
    hashes = np.concatenate([random_rows, members])
    return hashes[rng.permutation(n)]


def query_hashes(stored: U8, count: int, seed: int) -> U8:
    """Even positions: a stored hash with 0-31 distinct bits flipped; odd: random."""
    rng = np.random.default_rng([seed, len(stored), 1])
    out = rng.integers(0, 256, (count, 32), dtype=np.uint8)
    for i in range(0, count, 2):
        row = stored[rng.integers(len(stored))].copy()
        bits = rng.choice(256, int(rng.integers(0, 32)), replace=False)
        np.bitwise_xor.at(row, bits >> 3, (1 << (bits & 7)).astype(np.uint8))
        out[i] = row
    return out


_TRUTH: dict[str, Any] = {}


def _truth_rows(bounds: tuple[int, int]) -> list[tuple[int, int, int]]:
    """(query, row, distance) within THRESHOLD for rows [lo, hi): a worker's share."""
    stored, queries = _TRUTH["stored"], _TRUTH["queries"]
    words, q = stored.view("<u8"), queries.view("<u8")
    chunk, found = 32, []
    x = np.empty((chunk, len(q)), np.uint64)
    a, b = np.empty((chunk, len(q)), np.uint8), np.empty((chunk, len(q)), np.uint8)
    for start in range(bounds[0], bounds[1], chunk):
        rows = words[start : min(start + chunk, bounds[1])]
        m = len(rows)
        # the first 128 bits: within 31 overall means within 31 there (a safe filter)
        np.bitwise_xor(rows[:, 0, None], q[None, :, 0], out=x[:m])
        np.bitwise_count(x[:m], out=a[:m])
        np.bitwise_xor(rows[:, 1, None], q[None, :, 1], out=x[:m])
        np.bitwise_count(x[:m], out=b[:m])
        np.add(a[:m], b[:m], out=a[:m])
        for r, j in zip(*np.nonzero(a[:m] <= THRESHOLD), strict=True):
            full = int(np.bitwise_count(rows[r] ^ q[j]).sum())
            if full <= THRESHOLD:
                found.append((int(j), start + int(r), full))
    return found


def exact_truth(stored: U8, queries: U8, workers: int) -> list[dict[int, int]]:
    """Per query: {row: distance} of every stored row within THRESHOLD (brute force)."""
    _TRUTH.update(stored=stored, queries=queries)
    step = -(-len(stored) // (workers * 8))
    bounds = [(lo, min(lo + step, len(stored))) for lo in range(0, len(stored), step)]
    truth: list[dict[int, int]] = [{} for _ in queries]
    with mp.get_context("fork").Pool(workers) as pool:
        for part in pool.imap_unordered(_truth_rows, bounds):
            for j, row, distance in part:
                truth[j][row] = distance
    _TRUTH.clear()
    return truth


# ---------------------------------------------------------------- systems (one per process)


def status_kib(field_name: str) -> int:
    """A VmRSS/VmHWM-style figure of this process, in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field_name} in /proc/self/status")


def baseline_kib() -> tuple[int, int]:
    """VmRSS now, and VmHWM reset to it where the kernel allows (so the peak is the build's)."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        pass  # the peak then includes the data generation before the build
    return status_kib("VmRSS"), status_kib("VmHWM")


Search = Callable[[int], Any]
Convert = Callable[[Any], Hits]


def build_shieldwall(stored: U8, queries: U8, extra: dict[str, Any]) -> tuple[Search, Convert]:
    from shieldwall.matching.pdq_index import PdqIndex

    keys = np.arange(len(stored), dtype=np.int64)
    prepared = [q.tobytes() for q in queries]
    extra["rss0"], extra["hwm0"] = baseline_kib()
    started = time.perf_counter()
    index = PdqIndex()
    index.add(stored, keys)
    extra["build_s"] = time.perf_counter() - started
    extra["index_bytes"] = index.memory_bytes()
    extra["segments"] = index.segment_sizes()

    def convert(hits: Any) -> Hits:
        return (
            np.array([h.key for h in hits], np.int64),
            np.array([h.distance for h in hits], np.int64),
        )

    return (lambda i: index.search(prepared[i], THRESHOLD)), convert


def build_threatexchange(stored: U8, queries: U8, extra: dict[str, Any]) -> tuple[Search, Convert]:
    from threatexchange.signal_type.pdq.pdq_index import PDQIndex

    prepared = [q.tobytes().hex() for q in queries]
    extra["rss0"], extra["hwm0"] = baseline_kib()
    text = stored.tobytes().hex()
    # the index keeps these (hex, id) tuples, so they count as its memory
    entries = [(text[i * 64 : (i + 1) * 64], i) for i in range(len(stored))]
    del text
    started = time.perf_counter()
    index = PDQIndex(entries)
    extra["build_s"] = time.perf_counter() - started
    del entries

    def convert(matches: Any) -> Hits:
        return (
            np.array([m.metadata for m in matches], np.int64),
            np.array([m.similarity_info.distance for m in matches], np.int64),
        )

    return (lambda i: index.query(prepared[i])), convert


def build_faiss(stored: U8, queries: U8, extra: dict[str, Any]) -> tuple[Search, Convert]:
    import faiss

    prepared = [np.ascontiguousarray(q[None, :]) for q in queries]
    extra["rss0"], extra["hwm0"] = baseline_kib()
    started = time.perf_counter()
    index = faiss.IndexBinaryFlat(256)
    index.add(stored)
    extra["build_s"] = time.perf_counter() - started
    extra["omp_threads"] = faiss.omp_get_max_threads()

    def convert(result: Any) -> Hits:
        lims, distances, labels = result
        found = slice(int(lims[0]), int(lims[1]))
        return labels[found].astype(np.int64), distances[found].astype(np.int64)

    return (lambda i: index.range_search(prepared[i], THRESHOLD + 1)), convert


BUILDERS = {
    "shieldwall": build_shieldwall,
    "threatexchange": build_threatexchange,
    "faiss-flat": build_faiss,
}


def run_system(
    name: str, n: int, seed: int, count: int, budget_s: float, threads: int
) -> dict[str, Any]:
    """Build `name` over the stored set in this (fresh) process and time single queries."""
    if name != "shieldwall":
        import faiss

        faiss.omp_set_num_threads(threads)  # threatexchange's index is faiss too
    stored = stored_hashes(n, seed)
    queries = query_hashes(stored, count, seed)
    extra: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    search, convert = BUILDERS[name](stored, queries, extra)
    gc.collect()
    extra["rss1"], extra["hwm1"] = status_kib("VmRSS"), status_kib("VmHWM")
    for i in range(min(20, count)):  # warm-up, untimed
        search(i)
    latencies, raw = [], []
    spent = 0.0
    for i in range(count):
        started = time.perf_counter_ns()
        result = search(i)
        latencies.append(time.perf_counter_ns() - started)
        raw.append(result)
        spent += latencies[-1] / 1e9
        if spent > budget_s and i + 1 >= MIN_QUERIES:
            break
    extra["latencies_ns"] = np.array(latencies, np.int64)
    extra["hits"] = [convert(r) for r in raw]
    extra["load_after"] = os.getloadavg()[0]
    return extra


def run_isolated(
    name: str, n: int, seed: int, count: int, budget_s: float, threads: int
) -> dict[str, Any]:
    """run_system in a freshly spawned interpreter, so its RSS growth is its own."""
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(run_system, (name, n, seed, count, budget_s, threads))


# ---------------------------------------------------------------- scoring and report


@dataclass
class Score:
    """One system's figures at one size."""

    name: str
    build_s: float
    queries: int
    qps: float
    p50_ms: float
    p99_ms: float
    recall: float
    missed: int
    wrong: int  # reported rows not within the threshold, or with a wrong distance
    rss_per_hash: float
    hwm_per_hash: float
    index_per_hash: float | None
    notes: list[str] = field(default_factory=list)


def score(name: str, n: int, result: dict[str, Any], truth: list[dict[int, int]]) -> Score:
    """Compare a system's answers with the truth for the queries it ran."""
    latencies = result["latencies_ns"] / 1e6
    expected = missed = wrong = 0
    for (rows, distances), want in zip(result["hits"], truth, strict=False):
        got = dict(zip(rows.tolist(), distances.tolist(), strict=True))
        expected += len(want)
        missed += sum(1 for row in want if row not in got)
        wrong += sum(1 for row, d in got.items() if want.get(row) != d)
    notes = [f"load avg {result['load_before']:.2f} -> {result['load_after']:.2f}"]
    if "segments" in result:
        notes.append(f"segments {result['segments']}")
    if "omp_threads" in result:
        notes.append(f"faiss omp threads {result['omp_threads']}")
    index_bytes = result.get("index_bytes")
    return Score(
        name=name,
        build_s=result["build_s"],
        queries=len(latencies),
        qps=len(latencies) / (latencies.sum() / 1e3),
        p50_ms=float(np.percentile(latencies, 50)),
        p99_ms=float(np.percentile(latencies, 99)),
        recall=1.0 if expected == 0 else (expected - missed) / expected,
        missed=missed,
        wrong=wrong,
        rss_per_hash=(result["rss1"] - result["rss0"]) * 1024 / n,
        hwm_per_hash=(result["hwm1"] - result["hwm0"]) * 1024 / n,
        index_per_hash=None if index_bytes is None else index_bytes / n,
        notes=notes,
    )


def print_scores(n: int, scores: list[Score], truth: list[dict[int, int]]) -> None:
    """One table per size, then the throughput ratios."""
    near = sum(len(t) for t in truth[0::2])
    print(
        f"\n== N = {n:,}: {len(truth)} queries (near/random interleaved), "
        f"{near} true hits for near queries, {sum(len(t) for t in truth[1::2])} for random"
    )
    head = (
        f"{'system':<15}{'build s':>9}{'queries':>8}{'q/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'recall':>10}{'missed':>7}{'wrong':>6}{'B/hash':>8}{'RSS B/h':>9}{'peak B/h':>9}"
    )
    print(head)
    for s in scores:
        own = "-" if s.index_per_hash is None else f"{s.index_per_hash:.1f}"
        print(
            f"{s.name:<15}{s.build_s:>9.2f}{s.queries:>8}{s.qps:>10.1f}{s.p50_ms:>9.3f}"
            f"{s.p99_ms:>9.3f}{s.recall:>10.3%}{s.missed:>7}{s.wrong:>6}{own:>8}"
            f"{s.rss_per_hash:>9.1f}{s.hwm_per_hash:>9.1f}"
        )
    for s in scores:
        print(f"  {s.name}: {'; '.join(s.notes)}")
    by_name = {s.name: s for s in scores}
    if "shieldwall" in by_name:
        for anchor in ("threatexchange", "faiss-flat"):
            if anchor in by_name:
                ratio = by_name["shieldwall"].qps / by_name[anchor].qps
                print(f"  throughput shieldwall/{anchor}: {ratio:.1f}x")


def check_targets(results: dict[int, dict[str, Score]]) -> bool:
    """Print PASS/FAIL for each target that the sizes run allow checking."""
    checks: list[tuple[str, bool]] = []
    for n, by_name in sorted(results.items()):
        mine = by_name.get("shieldwall")
        if mine is None:
            continue
        checks.append(
            (f"recall 100% at <= {THRESHOLD}, N={n:,}", mine.recall == 1.0 and mine.wrong == 0)
        )
        tx = by_name.get("threatexchange")
        if n in (1_000_000, 10_000_000) and tx is not None:
            ratio = mine.qps / tx.qps
            checks.append(
                (f"throughput >= 10x threatexchange, N={n:,} ({ratio:.1f}x)", ratio >= 10)
            )
        if n == 10_000_000:
            assert mine.index_per_hash is not None
            checks.append(
                (
                    f"<= 100 bytes per stored hash, N={n:,} "
                    f"({mine.index_per_hash:.1f} index, {mine.rss_per_hash:.1f} RSS)",
                    mine.index_per_hash <= 100,
                )
            )
            checks.append((f"build < 60 s, N={n:,} ({mine.build_s:.1f} s)", mine.build_s < 60))
    print("\n== targets")
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return all(ok for _, ok in checks)


def machine_info() -> None:
    """CPU, memory, versions, load and the exact command."""
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="ascii") as info:
        ram_gib = int(info.readline().split()[1]) / 2**20
    versions = []
    for package in ("numpy", "faiss-cpu", "threatexchange", "shieldwall"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    print(
        f"machine: {cpu}, {os.cpu_count()} cores, {ram_gib:.1f} GiB RAM, "
        f"{platform.system()} {platform.release()}"
    )
    print(f"python {platform.python_version()}; {', '.join(versions)}")
    print(f"load average at start: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")


def main() -> None:
    """Run every size and system, print the tables and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument(
        "--anchor-budget",
        type=float,
        default=120.0,
        help="seconds of queries after which an anchor stops (>= 300 queries)",
    )
    parser.add_argument(
        "--faiss-threads",
        type=int,
        default=1,
        help="OpenMP threads for faiss and threatexchange (1: one core each, like shieldwall)",
    )
    args = parser.parse_args()
    machine_info()
    results: dict[int, dict[str, Score]] = {}
    for n in args.sizes:
        started = time.perf_counter()
        stored = stored_hashes(n, args.seed)
        queries = query_hashes(stored, args.queries, args.seed)
        truth = exact_truth(stored, queries, os.cpu_count() or 1)
        del stored
        print(
            f"\n[N={n:,}] truth by numpy brute force in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        scores = []
        for name in args.systems:
            budget = float("inf") if name == "shieldwall" else args.anchor_budget
            result = run_isolated(name, n, args.seed, args.queries, budget, args.faiss_threads)
            scores.append(score(name, n, result, truth))
            print(f"[N={n:,}] {name} done", flush=True)
        results[n] = {s.name: s for s in scores}
        print_scores(n, scores, truth)
    print(f"\nload average at end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    sys.exit(0 if check_targets(results) else 1)


if __name__ == "__main__":
    main()
