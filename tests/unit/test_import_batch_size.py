"""Import batches shrink while transactions run long and grow back when they are quick."""

from __future__ import annotations

from shieldwall.banks.service import (
    IMPORT_BATCH,
    IMPORT_BATCH_SECONDS,
    MIN_IMPORT_BATCH,
    next_batch_size,
)


def test_a_slow_transaction_shrinks_the_next_batch_to_fit_the_target() -> None:
    assert next_batch_size(IMPORT_BATCH, 4 * IMPORT_BATCH_SECONDS, IMPORT_BATCH) == (
        IMPORT_BATCH // 4
    )
    assert next_batch_size(200, 100.0, IMPORT_BATCH) == MIN_IMPORT_BATCH  # never below
    assert next_batch_size(5, 100.0, 5) == 5  # nor above what the caller asked for


def test_quick_transactions_grow_batches_back_up_to_the_size_asked_for() -> None:
    assert next_batch_size(1000, IMPORT_BATCH_SECONDS / 4, IMPORT_BATCH) == 2000
    assert next_batch_size(4000, IMPORT_BATCH_SECONDS / 4, IMPORT_BATCH) == IMPORT_BATCH
    assert next_batch_size(1000, IMPORT_BATCH_SECONDS * 0.75, IMPORT_BATCH) == 1000
