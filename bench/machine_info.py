"""What a benchmark ran on, for bench/RESULTS.md: one place for the CPU and load lines."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or what platform knows elsewhere)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe_machine(versions: str) -> str:
    """`CPU; N logical CPUs; load average ...` then the platform, Python and `versions`."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{cpu_model()}; {os.cpu_count()} logical CPUs; load average {load}\n"
        f"{platform.platform()}; Python {platform.python_version()}; {versions}"
    )
