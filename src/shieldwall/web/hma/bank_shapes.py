"""HMA's bank bodies (`BankConfig`) from Shieldwall banks."""

from __future__ import annotations

from typing import Any

from shieldwall.banks.models import Bank
from shieldwall.web.hma.names import hma_bank_name


def matching_enabled_ratio(bank: Bank) -> float:
    """HMA's `matching_enabled_ratio`: the bank's sampled share of lookups, 0.0 if disabled."""
    return bank.policy.matching_ratio if bank.enabled else 0.0


def bank_json(bank: Bank) -> dict[str, Any]:
    """HMA's BankConfig."""
    return {
        "name": hma_bank_name(bank.name),
        "matching_enabled_ratio": matching_enabled_ratio(bank),
    }
