"""Pictures banked twice, in a bank with the second stage on and one with it off."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PIL import Image

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import NewEntry
from shieldwall.banks.service import BankService
from shieldwall.config import MediaLimits
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.matching.service import BankMatcher
from shieldwall.signals.models import Signal
from shieldwall.signals.pdq_quality import without_refused
from tests.support.edits import jpeg_bytes


def banked_on_and_off(
    pictures: Mapping[str, Image.Image], keep: Callable[[Signal], bool] = lambda _: True
) -> tuple[BankMatcher, dict[str, dict[str, int]], BankService]:
    """A matcher over banks `on` (default policy) and `off` (second stage off) holding each
    picture as `bank add` stores it (the signals `keep` keeps); entry ids by name and bank,
    and the service that wrote them."""
    banks = BankService(repository := InMemoryBankRepository())
    banks.create_bank("on")
    banks.create_bank("off", second_stage=False)
    ids: dict[str, dict[str, int]] = {}
    for name, picture in pictures.items():
        banked = hash_content(jpeg_bytes(picture), MediaLimits(), purpose=Purpose.BANK)
        signals, _ = without_refused(banked.entry_signals())
        entry = NewEntry(tuple(s for s in signals if keep(s)))
        ids[name] = {bank: banks.add_entries(bank, [entry])[0].entry_id for bank in ("on", "off")}
    return BankMatcher.load(repository), ids, banks
