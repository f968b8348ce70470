"""Claims raced across SQL connections: two engines (SQLite files, PostgreSQL connections)
never both win an item, and on PostgreSQL a claim that waits on another transaction's row
lock re-checks the row that transaction committed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from sqlalchemy import text

from shieldwall.errors import ConflictError
from shieldwall.review.models import Claim, ReviewItem
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.review_repositories import SqlReviewRepository
from tests.integration.conftest import SQL_BACKENDS
from tests.integration.test_review_repository_contract import NOW, UNTIL, new_item, race
from tests.support.polling import eventually

BLOCKED_BY = text(
    "SELECT count(*) FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))"
)


@pytest.mark.parametrize("backend", SQL_BACKENDS)
def test_claims_racing_on_two_engines_have_one_winner(
    backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    upgrade_database(url)
    engines = [create_database_engine(url) for _ in range(2)]
    try:
        first, second = (SqlReviewRepository(engine) for engine in engines)
        for _ in range(10):
            item, _ = first.open(new_item())
            results = race(
                [
                    partial(first.claim, item.id, "ana", NOW, UNTIL),
                    partial(second.claim, item.id, "bob", NOW, UNTIL),
                ]
            )
            assert sum(isinstance(r, ReviewItem) for r in results) == 1
    finally:
        for engine in engines:
            engine.dispose()


@pytest.mark.postgres
def test_postgres_a_claim_waiting_on_a_row_lock_loses_to_its_commit(postgres_url: str) -> None:
    upgrade_database(postgres_url)
    engine, holder_engine = (
        create_database_engine(postgres_url),
        create_database_engine(postgres_url),
    )
    try:
        reviews = SqlReviewRepository(engine)
        item, _ = reviews.open(new_item())
        with holder_engine.connect() as holder, ThreadPoolExecutor(max_workers=1) as pool:
            holder_pid = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
            holder.execute(
                text(
                    "UPDATE review_items SET claimed_by = 'bob', claimed_until = :u WHERE id = :i"
                ),
                {"u": UNTIL, "i": item.id},
            )
            attempt = pool.submit(reviews.claim, item.id, "ana", NOW, UNTIL)

            def ana_waits() -> bool:
                with engine.connect() as watcher:
                    return bool(watcher.execute(BLOCKED_BY, {"holder": holder_pid}).scalar_one())

            eventually(ana_waits, message="ana's claim waits for bob's uncommitted one")
            holder.commit()
            with pytest.raises(ConflictError):
                attempt.result(timeout=30)
        assert reviews.get(item.id).claim == Claim("bob", UNTIL)
    finally:
        engine.dispose()
        holder_engine.dispose()
