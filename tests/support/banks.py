"""Sample bank entries and SQL fault injection for the storage tests."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import Engine, text

from shieldwall.banks.models import Bank, BankPolicy, EntrySource, NewEntry, Provenance
from shieldwall.banks.ports import BankRepository
from shieldwall.signals.models import Signal

_rng = random.Random(20240611)


def pdq_entry(quality: int = 90, **provenance: Any) -> NewEntry:
    """A hash-only entry with a fresh random PDQ hash."""
    value = f"{_rng.getrandbits(256):064x}"
    return NewEntry((Signal.of("pdq", value, quality=quality),), Provenance(**provenance))


def content_entry() -> NewEntry:
    """An entry as hashing a photo gives it: digests, PDQ and a mirrored PDQ variant."""
    return NewEntry(
        (
            Signal.of("sha256", f"{_rng.getrandbits(256):064X}"),
            Signal.of("md5", f"{_rng.getrandbits(128):032x}"),
            Signal.of("pdq", f"{_rng.getrandbits(256):064x}", quality=100),
            Signal.of("pdq", f"{_rng.getrandbits(256):064x}", variant="mirror", quality=42),
        ),
        Provenance(EntrySource.CASE, submitted_by="helpline-7", case_id="C-2024-0042", note="n"),
    )


def make_bank(repository: BankRepository, name: str = "school-reports", **policy: Any) -> Bank:
    """Create a bank with a policy built from keyword arguments."""
    return repository.create_bank(name, BankPolicy(**policy))


class OnStatement:
    """Engine listener: at the first statement starting with `prefix`, run `action` or fail."""

    def __init__(self, engine: Engine, prefix: str, action: Any = None) -> None:
        self.prefix, self.action, self.fired = prefix, action, False
        self.error = engine.dialect.loaded_dbapi.OperationalError

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if self.fired or not statement.lstrip().startswith(self.prefix):
            return
        self.fired = True
        if self.action is not None:
            self.action()
            return
        raise self.error("disk I/O error (injected by the test)")


def stored_rows(engine: Engine) -> tuple[int, int]:
    """How many entries and entry signals the database holds."""
    with engine.connect() as connection:
        entries = connection.execute(text("SELECT COUNT(*) FROM entries")).scalar_one()
        signals = connection.execute(text("SELECT COUNT(*) FROM entry_signals")).scalar_one()
    return entries, signals
