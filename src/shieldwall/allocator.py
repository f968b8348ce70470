"""glibc's allocator, tuned for long-running servers: fewer arenas, free memory given back.

glibc gives each thread that allocates its own arena (up to 8 per core), and freed memory
stays in them: a server decoding images in a 40-thread pool grew by hundreds of MiB that
it never used again (bench/RESULTS.md section 5). Two arenas cost no throughput there.
Elsewhere (musl, macOS) these calls do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from typing import Final

ARENAS: Final = 2
"""MALLOC_ARENA_MAX for serving processes, unless the environment already sets it."""
_M_ARENA_MAX: Final = -8  # mallopt parameter number, from glibc's malloc.h


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_arenas() -> bool:
    """Cap this process's malloc arenas and pass the cap on to worker processes.

    The environment variable only takes effect in processes started after it is set, so
    this process is capped with mallopt as well. True if glibc took the setting.
    """
    arenas = int(os.environ.setdefault("MALLOC_ARENA_MAX", str(ARENAS)))
    libc = _libc()
    return libc is not None and libc.mallopt(_M_ARENA_MAX, arenas) == 1


def give_back_free_memory() -> bool:
    """Return freed heap memory to the system (after a large load); True if any was."""
    libc = _libc()
    return libc is not None and libc.malloc_trim(0) == 1
