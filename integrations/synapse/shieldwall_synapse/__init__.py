"""Shieldwall for Synapse: media screened at upload, confirmed images taken down.

Synapse loads `shieldwall_synapse.ShieldwallModule`; the module's parts that do not need
Synapse (configuration, signatures, references) import without it."""

from __future__ import annotations

from typing import Any

__all__ = ["ShieldwallModule"]


def __getattr__(name: str) -> Any:
    if name == "ShieldwallModule":
        from shieldwall_synapse.module import ShieldwallModule

        return ShieldwallModule
    raise AttributeError(name)
