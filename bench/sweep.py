"""Sweeps of the screened record: how long a confirm decision's sweep takes over a record
of N platform lookups on SQLite, and what the record costs on disk.

The record is filled with N random lookups, each with its PDQ hash and 14 edit-undoing
views (as a content lookup stores them) and its digests, written through the repository
in batches as the service's buffer writes them. A sweep then searches it with 100 PDQ
queries (8 rotations/mirrors, 14 views, 76 region variants: what a confirmed upload brings)
and 2 digests, through `SweepService` exactly as a decision runs it. Among the rows are
`--planted` near copies (12 bits from a query) that must all be found.

The anchor is a plain NumPy scan of the same hashes (XOR and popcount over every row) for
the same queries, measured in the same run; it finds the same copies.

    .venv/bin/python bench/sweep.py [--lookups 100000 300000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shieldwall.review.sweep_memory import InMemorySweepRepository
from shieldwall.review.sweeps import SweepService
from shieldwall.screening.record import ScreenedLookup
from shieldwall.signals.models import Signal
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.screened_repositories import SqlScreenedRepository

NOW = datetime(2026, 12, 4, tzinfo=UTC)
VIEWS = 14
QUERIES = 100
BATCH = 5_000
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def flipped(value: bytes, bits: int, rng: random.Random) -> bytes:
    """`value` with `bits` distinct bits flipped."""
    out = bytearray(value)
    for bit in rng.sample(range(256), bits):
        out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def fill(record: SqlScreenedRepository, lookups: int, queries: list[bytes], planted: int) -> None:
    """N random lookups (with views); the first `planted` carry a near copy of a query."""
    rng = np.random.default_rng(7)
    chooser = random.Random(7)
    for start in range(0, lookups, BATCH):
        count = min(BATCH, lookups - start)
        hashes = rng.integers(0, 256, size=(count, 1 + VIEWS, 32), dtype=np.uint8)
        rows = []
        for i in range(count):
            number = start + i
            pdq = hashes[i, 0].tobytes()
            if number < planted:
                pdq = flipped(queries[number % len(queries)], 12, chooser)
            rows.append(
                ScreenedLookup(
                    1 + number % 5,
                    f"https://platform.example/u/{number}",
                    NOW - timedelta(seconds=number),
                    pdq.hex(),
                    f"{number:032x}",
                    f"{number:064x}",
                    "allow",
                    tuple(hashes[i, j].tobytes().hex() for j in range(1, 1 + VIEWS)),
                )
            )
        record.record_many(rows)


def numpy_scan(record: SqlScreenedRepository, queries: list[bytes], threshold: int) -> set[int]:
    """The anchor: load the same hashes, XOR-popcount every row against every query."""
    ids: list[int] = []
    blobs: list[bytes] = []
    for chunk_ids, chunk in record.pdq_rows(NOW - timedelta(days=180)):
        ids.extend(chunk_ids)
        blobs.extend(chunk)
    matrix = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(-1, 32)
    keys = np.asarray(ids)
    found: set[int] = set()
    for query in queries:
        distances = _POPCOUNT[np.bitwise_xor(matrix, np.frombuffer(query, np.uint8))].sum(1)
        found.update(int(k) for k in keys[distances <= threshold])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lookups", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--planted", type=int, default=50)
    args = parser.parse_args()
    chooser = random.Random(11)
    queries = [bytes(chooser.getrandbits(8) for _ in range(32)) for _ in range(QUERIES)]
    signals = [Signal.of("pdq", q.hex(), quality=100) for q in queries]
    signals += [Signal.of("md5", "f" * 32), Signal.of("sha256", "e" * 64)]
    print(
        f"{'lookups':>9} {'hashes':>10} {'db MB':>7} {'sweep s':>8} {'numpy s':>8} "
        f"{'ratio':>6} {'found':>6}"
    )
    for lookups in args.lookups:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/record.db"
            upgrade_database(url)
            engine = create_database_engine(url)
            record = SqlScreenedRepository(engine)
            fill(record, lookups, queries, args.planted)
            size = Path(folder, "record.db").stat().st_size / 1e6
            service = SweepService(record, InMemorySweepRepository(), clock=lambda: NOW)
            started = time.perf_counter()
            sweep = service.sweep(1, "", signals)
            swept = time.perf_counter() - started
            started = time.perf_counter()
            anchor = numpy_scan(record, queries, service.threshold)
            scanned = time.perf_counter() - started
            found = {h.hit.screened_id for h in sweep.hits}
            assert found == anchor, (len(found), len(anchor))
            assert len(found) >= args.planted
            print(
                f"{lookups:>9} {lookups * (1 + VIEWS):>10} {size:>7.0f} {swept:>8.2f} "
                f"{scanned:>8.2f} {scanned / swept:>6.2f} {len(found):>6}"
            )
            engine.dispose()


if __name__ == "__main__":
    main()
