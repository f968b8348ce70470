"""Builds the C kernels (the PDQ multi-index search, the pair windows' scale-space extrema);
everything else is in pyproject.toml."""

import platform

from setuptools import Extension, setup

# Every x86-64 CPU since 2008 has POPCNT; without the flag GCC falls back to a slow loop.
_POPCNT = ["-mpopcnt"] if platform.machine().lower() in {"x86_64", "amd64"} else []

setup(
    ext_modules=[
        Extension(
            "shieldwall.matching._mihscan",
            sources=["src/shieldwall/matching/_mihscan.c"],
            extra_compile_args=["-O3", "-std=c11", *_POPCNT],
        ),
        Extension(
            "shieldwall.signals._dogscan",
            sources=["src/shieldwall/signals/_dogscan.c"],
            extra_compile_args=["-O3", "-std=c11"],
        ),
    ]
)
