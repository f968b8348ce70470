"""Decided review items of every kind the statements of reasons distinguish, stored through
the real SQL repository: every default ground, minors, trusted flaggers, linked cases,
removal and restriction, each automation level, and facts that are empty, synthetic, negated,
full of personal data, in Greek, or as long as a reviewer may write."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from shieldwall.review.models import (
    DEFAULT_GROUNDS,
    MAX_FACTS,
    AutomatedDecision,
    Decision,
    DecisionKind,
    ItemSource,
    ItemState,
    NewItem,
    RemovalAction,
)
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.review_repositories import SqlReviewRepository
from tests.integration.test_cli_decisions import CASE_NUMBER, CONTENT_REF, REVIEWER, at

_LONG: Final = ("The reviewer compared the upload with the reported image at length. " * 80)[
    :MAX_FACTS
]
FACTS: Final = (
    "",
    f"A deepfake made with a nudify app; confirmed by {REVIEWER}, see https://x.example/p/1",
    f"Not a deepfake: a real photo. The person wrote from jane@example.com about {CASE_NUMBER}.",
    f"Found at {CONTENT_REF}; AI-generated, matches entry 12.",
    "Ελληνικά: η εικόνα κοινοποιήθηκε χωρίς συναίνεση.",
    _LONG,
)


def statement_id(index: int) -> str:
    """The statement id (puid) of the `index`th seeded item."""
    return f"sw-var-{index:04d}"


def seed_varied(url: str, count: int, first_decided: datetime | None = None) -> list[int]:
    """Store `count` platform items with confirm decisions, one minute apart from
    `first_decided` (2026-12-01 01:00 UTC by default); their ids."""
    upgrade_database(url)
    engine = create_database_engine(url)
    start = first_decided or at(1, 1)
    automation = list(AutomatedDecision)
    ids = []
    try:
        repository = SqlReviewRepository(engine)
        for index in range(count):
            when = start + timedelta(minutes=index)
            item, _ = repository.open(
                NewItem(
                    source=ItemSource.PLATFORM,
                    opened_at=when - timedelta(hours=30),
                    deadline=when + timedelta(hours=18),
                    minor=index % 5 == 0,
                    trusted_flagger=index % 7 == 0,
                    case_number=CASE_NUMBER if index % 3 == 0 else "",
                    content_ref=CONTENT_REF,
                )
            )
            repository.claim(item.id, REVIEWER, when, when + timedelta(minutes=10))
            decision = Decision(
                kind=DecisionKind.CONFIRM,
                action=RemovalAction.RESTRICT if index % 2 else RemovalAction.REMOVE,
                ground=DEFAULT_GROUNDS[index % len(DEFAULT_GROUNDS)].code,
                facts=FACTS[index % len(FACTS)],
                reason="",
                reviewer=REVIEWER,
                at=when,
                automated_detection=index % 2 == 0,
                automated_decision=automation[index % len(automation)],
                statement_id=statement_id(index),
            )
            repository.record_decision(item.id, decision, ItemState.DECIDED, when)
            ids.append(item.id)
    finally:
        engine.dispose()
    return ids
