"""Walking the paths given on the command line and hashing their files in parallel."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from shieldwall.config import MediaLimits
from shieldwall.errors import ShieldwallError
from shieldwall.hashing.service import ContentSignals, Purpose, hash_content
from shieldwall.media.decode import read_content

PROGRESS_MIN_FILES = 5


@dataclass(frozen=True)
class HashedFile:
    """A file's signals, or why it has none."""

    path: str
    signals: ContentSignals | None
    error: str | None = None


def walk_paths(paths: Sequence[str]) -> Iterator[str]:
    """Files named, and files under directories named (recursively, sorted, hidden skipped).

    A path that does not exist is yielded as it is, so hashing reports it as an error line.
    """
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            yield given
            continue
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if not name.startswith("."):
                    yield os.path.join(root, name)


def hash_file(
    path: str, limits: MediaLimits, dihedral: bool, purpose: Purpose, pair_windows: bool = True
) -> HashedFile:
    """Hash one file; every expected failure becomes an error message, never an exception.
    `pair_windows`: as hash_content's (a lookup's, made ahead)."""
    try:
        data = read_content(Path(path), limits)
        hashed = hash_content(
            data, limits, dihedral=dihedral, purpose=purpose, pair_windows=pair_windows
        )
        return HashedFile(path, hashed)
    except ShieldwallError as exc:
        return HashedFile(path, None, str(exc))
    except OSError as exc:
        return HashedFile(path, None, f"cannot read: {exc.strerror or exc}")


def _hash_job(job: tuple[str, MediaLimits, bool, Purpose, bool]) -> HashedFile:
    return hash_file(*job)


def hash_files(
    paths: Sequence[str],
    limits: MediaLimits,
    jobs: int,
    dihedral: bool = False,
    purpose: Purpose = Purpose.PLAIN,
    pair_windows: bool = True,
) -> Iterator[HashedFile]:
    """Hash files in input order, with `jobs` processes and a progress bar on stderr.
    `pair_windows`: as hash_content's (a lookup's, made ahead)."""
    progress = Progress(
        TextColumn("hashing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=len(paths) < PROGRESS_MIN_FILES or not sys.stderr.isatty(),
    )
    with progress:
        task = progress.add_task("hashing", total=len(paths))
        if jobs <= 1 or len(paths) < 2:
            for path in paths:
                yield hash_file(path, limits, dihedral, purpose, pair_windows)
                progress.advance(task)
            return
        work = [(path, limits, dihedral, purpose, pair_windows) for path in paths]
        with ProcessPoolExecutor(max_workers=min(jobs, len(paths))) as pool:
            for hashed in pool.map(_hash_job, work, chunksize=8):
                yield hashed
                progress.advance(task)


def default_jobs() -> int:
    """Hashing processes when --jobs is not given: one per core."""
    return max(1, os.cpu_count() or 1)
