"""In-memory record of Transparency Database submissions, for tests and the contract suite."""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import replace

from shieldwall.errors import NotFoundError
from shieldwall.review.tdb_submissions import Attempt, Submission, SubmissionState


class InMemorySubmissionRepository:
    """Submissions in a dict by puid, behind a lock."""

    def __init__(self) -> None:
        self._submissions: dict[str, Submission] = {}
        self._lock = threading.Lock()

    def stored_among(self, puids: Collection[str]) -> set[str]:
        """The puids among `puids` recorded stored."""
        with self._lock:
            return {
                puid
                for puid in puids
                if (known := self._submissions.get(puid)) is not None
                and known.state is SubmissionState.STORED
            }

    def record(self, attempts: Sequence[Attempt]) -> None:
        """Record tries; a stored puid stays as it is."""
        with self._lock:
            for attempt in attempts:
                known = self._submissions.get(attempt.puid)
                if known is None:
                    self._submissions[attempt.puid] = Submission(
                        attempt.puid,
                        attempt.item_id,
                        attempt.state,
                        1,
                        attempt.error,
                        attempt.at,
                        attempt.at,
                    )
                elif known.state is not SubmissionState.STORED:
                    self._submissions[attempt.puid] = replace(
                        known,
                        item_id=attempt.item_id,
                        state=attempt.state,
                        attempts=known.attempts + 1,
                        last_error=attempt.error,
                        last_attempt_at=attempt.at,
                    )

    def get(self, puid: str) -> Submission:
        """The record of a puid; NotFoundError if it was never sent."""
        with self._lock:
            known = self._submissions.get(puid)
        if known is None:
            raise NotFoundError(f"statement {puid!r} was never sent")
        return known

    def listed(self, state: SubmissionState | None = None) -> list[Submission]:
        """Every record (or those in `state`), by first attempt then puid."""
        with self._lock:
            chosen = [s for s in self._submissions.values() if state in (None, s.state)]
        return sorted(chosen, key=lambda s: (s.first_attempt_at, s.puid))
