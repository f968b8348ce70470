"""Outgoing webhooks in memory: signatures a receiver can verify (and replays it refuses),
events reaching the endpoints that hear them, retries with backoff and jitter for a day,
then the dead-letter list and its replay; claims keep two workers from sending one
delivery twice. The HTTP sender and the database are tested in tests/integration."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from datetime import timedelta

import pytest

from shieldwall.errors import ConflictError, InvalidInputError
from shieldwall.webhooks.memory import InMemoryDeliveryRepository, InMemoryEndpointRepository
from shieldwall.webhooks.models import Delivery, DeliveryState, RetryPolicy
from shieldwall.webhooks.ports import SendResult
from shieldwall.webhooks.service import CLAIM, WebhookService
from shieldwall.webhooks.signing import HEADER, signature_header, verify
from tests.support.clock import FakeClock
from tests.support.review_world import NOW


class Receiver:
    """Answers each POST with the next status (200 once they run out), keeping what came."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[str, bytes, dict[str, str]]] = []

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        self.received.append((url, body, dict(headers)))
        status = self.statuses.pop(0) if self.statuses else 200
        return SendResult(status, "" if status else "timed out")


def no_check(url: str) -> None:
    if "10.0.0.1" in url:
        raise InvalidInputError("a private address")


def service(receiver: Receiver, clock: FakeClock) -> WebhookService:
    return WebhookService(
        InMemoryEndpointRepository(),
        InMemoryDeliveryRepository(),
        receiver,
        no_check,
        clock,
        rng=random.Random(1),
    )


def test_a_receiver_verifies_the_signature_and_refuses_replays_and_tampering() -> None:
    body = b'{"event":"review.decided"}'
    header = signature_header(["whsec_a", "whsec_b"], 1_733_312_400, body)
    assert verify(header, "whsec_a", body, now=1_733_312_400 + 299)
    assert verify(header, "whsec_b", body, now=1_733_312_400)  # during a rotation
    assert not verify(header, "whsec_a", body, now=1_733_312_400 + 301)  # a late replay
    assert not verify(header, "whsec_a", body + b" ", now=1_733_312_400)
    assert not verify(header, "whsec_c", body, now=1_733_312_400)
    assert not verify("v1=abc", "whsec_a", body, now=1_733_312_400)


def test_events_reach_the_endpoints_that_hear_them_signed() -> None:
    clock, receiver = FakeClock(NOW), Receiver()
    hooks = service(receiver, clock)
    everything, secret = hooks.add_endpoint("https://chat.example/hook", ["review.decided"])
    platform, _ = hooks.add_endpoint(
        "https://gram.example/hook", "review.decided,sweep.copies", key_id=7
    )
    assert everything.key_id is None
    assert secret.startswith("whsec_")
    assert hooks.publish("review.decided", {"item": 1}, audience=7) == 2
    assert hooks.publish("review.decided", {"item": 2}, audience=8) == 1  # not key 7's
    assert hooks.publish("sweep.copies", {"copies": 3}, audience=7) == 1
    assert hooks.publish("case.event", {"case": "x"}) == 0
    done = hooks.deliver_due()
    assert (done.delivered, done.retrying, done.dead) == (4, 0, 0)
    url, body, headers = receiver.received[0]
    assert url == "https://chat.example/hook"
    assert json.loads(body) == {
        "event": "review.decided",
        "created_at": NOW.isoformat(),
        "data": {"item": 1},
    }
    assert headers["Shieldwall-Event"] == "review.decided"
    assert verify(headers[HEADER], secret, body, now=int(NOW.timestamp()))
    assert hooks.deliver_due().delivered == 0  # each goes once
    assert hooks.counts() == {"delivered": 4}
    hooks.remove_endpoint(platform.id)
    assert hooks.publish("sweep.copies", {"copies": 1}, audience=7) == 0


def test_bad_endpoints_are_refused() -> None:
    hooks = service(Receiver(), FakeClock(NOW))
    for url, events in (
        ("ftp://x.example/h", ["review.decided"]),
        ("https://10.0.0.1/h", ["review.decided"]),
        ("https://x.example/h", ["nothing.here"]),
        ("https://x.example/h", []),
        ("https://x.example/" + "a" * 2000, ["review.decided"]),
    ):
        with pytest.raises(InvalidInputError):
            hooks.add_endpoint(url, events)
    assert hooks.endpoints() == []


def test_failures_back_off_with_jitter_then_go_dead_after_a_day_and_replay() -> None:
    clock = FakeClock(NOW)
    receiver = Receiver(*([500] * 40))
    hooks = service(receiver, clock)
    hooks.add_endpoint("https://gram.example/hook", ["review.decided"])
    hooks.publish("review.decided", {"item": 1})
    waits = []
    while True:
        done = hooks.deliver_due()
        if done.dead:
            break
        assert done.retrying == 1
        [pending] = hooks.deliveries(DeliveryState.PENDING)
        assert pending.next_attempt_at is not None
        waits.append(pending.next_attempt_at - clock())
        assert hooks.deliver_due().retrying == 0  # not due yet
        clock.advance(pending.next_attempt_at - clock())
    assert timedelta(seconds=8) <= waits[0] <= timedelta(seconds=12)
    assert timedelta(seconds=16) <= waits[1] <= timedelta(seconds=24)
    assert max(waits) <= timedelta(hours=2, minutes=24)
    assert clock() - NOW <= timedelta(days=1)
    [dead] = hooks.deliveries(DeliveryState.DEAD)
    assert dead.attempts == len(waits) + 1
    assert dead.last_error == "HTTP 500"
    replayed = hooks.replay(dead.id)
    assert replayed.state is DeliveryState.PENDING
    with pytest.raises(ConflictError):
        hooks.replay(dead.id)
    receiver.statuses = []  # the endpoint is back
    assert hooks.deliver_due().delivered == 1


def test_the_retry_schedule_is_exponential_capped_and_ends_a_day_after_the_event() -> None:
    policy = RetryPolicy(jitter=0.0)
    rng = random.Random(0)
    made = Delivery(1, "review.decided", b"{}", NOW, id=1)
    delays = []
    for attempts in range(1, 12):
        at = NOW + timedelta(hours=attempts)
        when = policy.next_attempt(Delivery(**{**vars(made), "attempts": attempts}), at, rng)
        assert when is not None
        delays.append(when - at)
    assert delays[:4] == [timedelta(seconds=s) for s in (10, 20, 40, 80)]
    assert delays[-1] == timedelta(hours=2)
    late = Delivery(**{**vars(made), "attempts": 3})
    assert policy.next_attempt(late, NOW + timedelta(hours=23, minutes=59, seconds=50), rng) is None


def test_a_claimed_delivery_is_not_sent_twice_until_its_claim_runs_out() -> None:
    clock = FakeClock(NOW)
    deliveries = InMemoryDeliveryRepository()
    hooks = WebhookService(InMemoryEndpointRepository(), deliveries, Receiver(), no_check, clock)
    hooks.add_endpoint("https://gram.example/hook", ["review.decided"])
    hooks.publish("review.decided", {"item": 1})
    [claimed] = deliveries.claim_due(clock(), clock() + CLAIM, 10)
    assert deliveries.claim_due(clock(), clock() + CLAIM, 10) == []  # another worker
    clock.advance(CLAIM + timedelta(seconds=1))  # the first worker died mid-send
    assert [d.id for d in deliveries.claim_due(clock(), clock() + CLAIM, 10)] == [claimed.id]
