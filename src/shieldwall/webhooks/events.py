"""What the webhooks say: the events Shieldwall publishes and their data. A platform's key
hears about the items its lookups opened and the copies its lookups screened, by its own
`content_ref`; the deployment's endpoints (no key) hear everything, and about cases only
their number and what happened (never contact details, hashes or pictures)."""

from __future__ import annotations

from typing import Any

from shieldwall.cases.models import Case
from shieldwall.review.models import CONTENT_SOURCES, DecisionKind, ReviewItem
from shieldwall.review.sweeps import Sweep
from shieldwall.webhooks.service import WebhookService


class WebhookEvents:
    """Turns the service's events into webhook deliveries."""

    def __init__(self, webhooks: WebhookService) -> None:
        self._webhooks = webhooks

    def decided(self, item: ReviewItem) -> None:
        """A review item's final decision: `review.decided`, and for an upload a platform
        queued, `lookup.verdict` to that platform."""
        decision = item.decision
        if decision is None:
            return
        data: dict[str, Any] = {
            "item": item.id,
            "source": item.source.value,
            "decision": decision.kind.value,
            "action": decision.action.value if decision.kind is DecisionKind.CONFIRM else None,
            "ground": decision.ground or None,
            "decided_at": decision.at.isoformat(),
        }
        if item.source in CONTENT_SOURCES:
            data["content_ref"] = item.content_ref
        self._webhooks.publish("review.decided", data, item.opened_by_key)
        if item.opened_by_key is not None:
            self._webhooks.publish("lookup.verdict", data, item.opened_by_key)

    def swept(self, sweep: Sweep) -> None:
        """Copies a sweep found: `sweep.copies` to each platform, with its own copies."""
        by_key: dict[int, list[dict[str, Any]]] = {}
        for hit in sweep.hits:
            by_key.setdefault(hit.hit.key_id, []).append(
                {
                    "id": hit.id,
                    "content_ref": hit.hit.content_ref,
                    "screened_at": hit.hit.screened_at.isoformat(),
                    "matched_by": hit.hit.matched_by,
                    "distance": hit.hit.distance,
                }
            )
        for key_id, copies in by_key.items():
            data = {"sweep": sweep.id, "item": sweep.sweep.item_id, "copies": copies}
            self._webhooks.publish("sweep.copies", data, key_id)

    def case(self, case: Case, what: str) -> None:
        """A case event, for the deployment's endpoints: its number and what happened."""
        data = {"case": case.number, "event": what, "state": case.state.value}
        self._webhooks.publish("case.event", data, None)
