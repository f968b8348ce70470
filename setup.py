"""Builds the C kernel of the PDQ multi-index search; everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "shieldwall.matching._mihscan",
            sources=["src/shieldwall/matching/_mihscan.c"],
            extra_compile_args=["-O3", "-std=c11"],
        )
    ]
)
