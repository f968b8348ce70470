"""Shieldwall: open, self-hosted defence against non-consensual intimate imagery."""

__version__ = "0.1.0"
