"""The per-bank second-stage switch: a real bool, on by default, kept by every policy change
that does not name it."""

from __future__ import annotations

import pytest

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import BankPolicy, MatchAction
from shieldwall.banks.service import BankService
from shieldwall.errors import InvalidInputError


def test_the_second_stage_is_on_by_default() -> None:
    assert BankPolicy().second_stage is True
    assert BankPolicy(second_stage=False).second_stage is False


@pytest.mark.parametrize("value", [0, 1, "false", "true", None, 1.0])
def test_only_a_real_bool_switches_the_second_stage(value: object) -> None:
    with pytest.raises(InvalidInputError, match="second stage"):
        BankPolicy(second_stage=value)  # type: ignore[arg-type]


def test_create_sets_the_switch_and_leaves_it_on_when_not_given() -> None:
    banks = BankService(InMemoryBankRepository())
    assert banks.create_bank("default").policy.second_stage is True
    off = banks.create_bank("off", 20, MatchAction.REVIEW, ["default"], second_stage=False)
    assert off.policy == BankPolicy(20, MatchAction.REVIEW, ("default",), second_stage=False)
    assert banks.get_bank("off").policy.second_stage is False


def test_update_changes_the_switch_only_when_named() -> None:
    banks = BankService(InMemoryBankRepository())
    banks.create_bank("known", second_stage=False)
    changed: list[str] = []
    banks.on_bank_change(lambda: changed.append("bank"))
    # Other policy changes, HMA's ratio among them, keep the stored switch.
    assert banks.update_policy("known", pdq_threshold=10).policy.second_stage is False
    assert banks.update_policy("known", matching_ratio=0.5).policy.second_stage is False
    on = banks.update_policy("known", second_stage=True)
    assert on.policy == BankPolicy(10, MatchAction.BLOCK, (), 0.5, second_stage=True)
    assert banks.update_policy("known", action="review").policy.second_stage is True
    assert banks.update_policy("known", second_stage=False).policy.second_stage is False
    assert changed == ["bank"] * 5
