"""Type stub for the C search kernels (see _mihscan.c)."""

from typing import Any, TypeAlias

import numpy.typing as npt

Buffer: TypeAlias = bytes | bytearray | memoryview | npt.NDArray[Any]

def mih_search(
    query: Buffer,
    hashes: Buffer,
    alive: Buffer,
    rows: Buffer,
    dirs: Buffer,
    parts: Buffer,
    threshold: int,
    /,
) -> list[tuple[int, int]]:
    """Exact multi-index search: (row, distance) of live rows within the threshold."""

def brute_search(
    query: Buffer, hashes: Buffer, alive: Buffer, count: int, threshold: int, /
) -> list[tuple[int, int]]:
    """Linear scan of the first `count` rows: (row, distance) within the threshold."""
