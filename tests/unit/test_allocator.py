"""Serving processes cap glibc's malloc arenas and can give freed memory back."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from shieldwall.allocator import ARENAS

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="glibc's allocator")


def test_the_arena_cap_is_set_here_and_passed_on_to_workers() -> None:
    code = (
        "import os, subprocess, sys\n"
        "from shieldwall.allocator import limit_arenas\n"
        "assert limit_arenas()\n"
        "child = 'import os; print(os.environ[\"MALLOC_ARENA_MAX\"])'\n"
        "print(subprocess.run([sys.executable, '-c', child], capture_output=True, text=True,"
        " check=True).stdout.strip())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == str(ARENAS)


def test_an_operators_own_setting_is_kept() -> None:
    code = "from shieldwall.allocator import limit_arenas; import os; limit_arenas(); " + (
        "print(os.environ['MALLOC_ARENA_MAX'])"
    )
    env = {**os.environ, "MALLOC_ARENA_MAX": "4"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "4"


def test_freed_memory_is_given_back_to_the_system() -> None:
    # Blocks freed below a live one stay in the heap until malloc_trim returns their pages.
    code = (
        "from pathlib import Path\n"
        "from shieldwall.allocator import give_back_free_memory\n"
        "def rss():\n"
        "    return int(Path('/proc/self/statm').read_text().split()[1]) * 4096\n"
        "blocks = [bytearray(64 * 1024) for _ in range(3000)]\n"
        "keep = blocks[-1]\n"
        "del blocks\n"
        "before = rss()\n"
        "assert give_back_free_memory()\n"
        "print(before - rss())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(done.stdout) > 100 * 1024 * 1024  # most of the ~190 MiB freed came back
