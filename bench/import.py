"""Bulk import of hash-only PDQ entries: the product path against a plain-driver anchor.

Product: `SqlBankRepository.add_entries` in batches of 5,000 (one transaction each: dedupe
lookup, then entries and signals with all their indexes), the path bank imports take.
Anchor, in the same run: the simplest raw bulk insert of the same rows into a bare table
by the plain driver: sqlite3 `executemany` (same WAL and synchronous=NORMAL settings) and
psycopg `COPY`, each committing once per batch. Building the rows is never timed.

    PYTHONPATH=src .venv/bin/python bench/import.py [--count 1000000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shlex
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import psycopg
import sqlalchemy

from shieldwall.banks.models import BankPolicy, NewEntry
from shieldwall.signals.models import Signal
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.repositories import SqlBankRepository

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
Row = tuple[str, str, int]  # dedupe key, PDQ hex, PDQ quality
T = TypeVar("T")


def batches(count: int, size: int, seed: int = 1) -> Iterator[list[Row]]:
    """The same pseudo-random rows for every contender, batch by batch."""
    rng = random.Random(seed)
    for start in range(0, count, size):
        rows = []
        for _ in range(min(size, count - start)):
            value = f"{rng.getrandbits(256):064x}"
            rows.append((f"pdq:{value}", value, rng.randrange(101)))
        yield rows


def timed(
    count: int, size: int, prepare: Callable[[list[Row]], T], write: Callable[[T], object]
) -> tuple[float, float]:
    """Entries/s of `write` over all batches, and over the last tenth (untimed `prepare`)."""
    elapsed = tail = 0.0
    tail_from = count - max(count // 10, size)
    for index, rows in enumerate(batches(count, size)):
        payload = prepare(rows)
        started = time.perf_counter()
        write(payload)
        spent = time.perf_counter() - started
        elapsed += spent
        tail += spent if index * size >= tail_from else 0.0
    return count / elapsed, (count - tail_from) / tail if tail else 0.0


def new_entries(rows: list[Row]) -> list[NewEntry]:
    """Rows as the product receives them: validated signals in entries."""
    return [NewEntry((Signal.of("pdq", value, quality=q),)) for _, value, q in rows]


def product(url: str, count: int, size: int) -> tuple[float, float]:
    """Entries/s through SqlBankRepository.add_entries."""
    upgrade_database(url)
    engine = create_database_engine(url)
    try:
        repository = SqlBankRepository(engine)
        repository.create_bank("bench", BankPolicy())
        return timed(count, size, new_entries, lambda e: repository.add_entries("bench", e))
    finally:
        engine.dispose()


def sqlite_anchor(path: Path, count: int, size: int) -> tuple[float, float]:
    """Entries/s of sqlite3 executemany into a bare table."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE anchor (dedupe_key TEXT, pdq TEXT, quality INTEGER)")

    def write(rows: list[Row]) -> None:
        """One batch, one transaction."""
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO anchor VALUES (?, ?, ?)", rows)
        connection.execute("COMMIT")

    try:
        return timed(count, size, lambda rows: rows, write)
    finally:
        connection.close()


def postgres_anchor(conninfo: str, schema: str, count: int, size: int) -> tuple[float, float]:
    """Entries/s of psycopg COPY into a bare table."""
    with psycopg.connect(conninfo, options=f"-csearch_path={schema}") as connection:
        connection.execute("CREATE TABLE anchor (dedupe_key text, pdq text, quality smallint)")
        connection.commit()

        def write(rows: list[Row]) -> None:
            """One batch, one COPY, one commit."""
            statement = "COPY anchor (dedupe_key, pdq, quality) FROM STDIN"
            with connection.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
            connection.commit()

        return timed(count, size, lambda rows: rows, write)


def postgres_run(url: str, count: int, size: int) -> tuple[tuple[float, float], ...]:
    """Product and anchor in a fresh schema of the test database, dropped afterwards."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        version = admin.execute("SHOW server_version").fetchone()
        print(f"postgres: {version[0] if version else '?'}")
        try:
            scoped = f"{url}?options={quote(f'-csearch_path={schema}')}"
            results = product(scoped, count, size), postgres_anchor(conninfo, schema, count, size)
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return results


def machine() -> None:
    """Print what the figures were measured on, and how."""
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(f"cpu: {model}, {os.cpu_count()} cores; {platform.platform()}")
    print(f"python: {platform.python_version()}, sqlalchemy {sqlalchemy.__version__}, ", end="")
    print(f"psycopg {psycopg.__version__}, sqlite {sqlite3.sqlite_version}")


def report(name: str, product_rate: tuple[float, float], anchor_rate: tuple[float, float]) -> None:
    """One line per backend: both rates and their ratio."""
    print(
        f"{name}: product {product_rate[0]:,.0f} entries/s (last 10%: {product_rate[1]:,.0f}); "
        f"anchor {anchor_rate[0]:,.0f} entries/s (last 10%: {anchor_rate[1]:,.0f}); "
        f"ratio product/anchor {product_rate[0] / anchor_rate[0]:.3f}"
    )


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    machine()
    print(f"entries: {args.count:,} hash-only PDQ, batches of {args.batch:,}")
    with tempfile.TemporaryDirectory(prefix="shieldwall-bench-") as folder:
        sqlite_product = product(f"sqlite:///{folder}/product.db", args.count, args.batch)
        anchor = sqlite_anchor(Path(folder) / "anchor.db", args.count, args.batch)
        report("sqlite", sqlite_product, anchor)
    if not args.no_postgres:
        postgres_product, postgres_copy = postgres_run(args.postgres_url, args.count, args.batch)
        report("postgres", postgres_product, postgres_copy)


if __name__ == "__main__":
    main()
