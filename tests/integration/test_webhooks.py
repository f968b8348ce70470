"""Outgoing webhooks against a real local HTTP receiver: signatures it verifies, retries
after 500s and timeouts, dead letters and their replay, deliveries that survive a restart
in the middle of a backoff, endpoint URLs under the SSRF rules; the outbox on SQLite and
PostgreSQL; events from decisions and sweeps; the command line."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from shieldwall.access.models import Role
from shieldwall.cli.main import cli
from shieldwall.config import load_settings
from shieldwall.errors import ConflictError, InvalidInputError, NotFoundError
from shieldwall.integrations.fetch import FetchTimeouts
from shieldwall.integrations.webhook_sender import HttpWebhookSender
from shieldwall.storage.sealing import Sealer
from shieldwall.storage.webhook_repositories import SqlDeliveryRepository, SqlEndpointRepository
from shieldwall.webhooks.memory import InMemoryDeliveryRepository
from shieldwall.webhooks.models import DeliveryState, NewDelivery
from shieldwall.webhooks.ports import DeliveryRepository
from shieldwall.webhooks.service import CLAIM, WebhookService
from shieldwall.webhooks.signing import HEADER, verify
from tests.integration.conftest import SQL_BACKENDS
from tests.support.backends import on_backend
from tests.support.clock import FakeClock
from tests.support.console import Console, running_console
from tests.support.factories import jpeg
from tests.support.review_world import NOW
from tests.support.services import make_services

SECRET_KEY = b"k" * 32


class LocalReceiver:
    """A real HTTP server on 127.0.0.1 answering each POST with the next planned status
    (or sleeping past the sender's timeout for `"slow"`), then 200."""

    def __init__(self) -> None:
        self.plan: list[int | str] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.received.append((dict(self.headers.items()), body))
                step = receiver.plan.pop(0) if receiver.plan else 200
                if step == "slow":
                    time.sleep(1.5)
                    step = 200
                self.send_response(int(step))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[LocalReceiver]:
    made = LocalReceiver()
    yield made
    made.close()


def sender(allow: tuple[str, ...] = ("127.0.0.1",), total: float = 5.0) -> HttpWebhookSender:
    settings = load_settings(overrides={"url_allow_private": list(allow)}, environ={})
    return HttpWebhookSender(settings, timeouts=FetchTimeouts(connect=1, read=1, total=total))


def hooks_over(
    deliveries: DeliveryRepository, clock: FakeClock, http: HttpWebhookSender
) -> WebhookService:
    from shieldwall.webhooks.memory import InMemoryEndpointRepository

    return WebhookService(InMemoryEndpointRepository(), deliveries, http, http, clock)


def test_the_receiver_verifies_each_delivery_and_retries_follow_500s_and_timeouts(
    receiver: LocalReceiver,
) -> None:
    clock = FakeClock(NOW)
    hooks = hooks_over(InMemoryDeliveryRepository(), clock, sender(total=1.0))
    _, secret = hooks.add_endpoint(receiver.url, ["review.decided"])
    receiver.plan = [500, "slow"]
    hooks.publish("review.decided", {"item": 3})
    assert hooks.deliver_due().retrying == 1  # 500
    [pending] = hooks.deliveries(DeliveryState.PENDING)
    assert pending.last_error == "HTTP 500"
    assert pending.next_attempt_at is not None
    clock.advance(pending.next_attempt_at - clock())
    assert hooks.deliver_due().retrying == 1  # the receiver took too long
    [pending] = hooks.deliveries(DeliveryState.PENDING)
    assert "did not answer in time" in pending.last_error
    assert pending.next_attempt_at is not None
    clock.advance(pending.next_attempt_at - clock())
    assert hooks.deliver_due().delivered == 1
    assert len(receiver.received) == 3
    headers, body = receiver.received[-1]
    assert headers["Shieldwall-Event"] == "review.decided"
    assert headers["Content-Type"] == "application/json"
    assert verify(headers[HEADER], secret, body, now=int(clock().timestamp()))
    assert json.loads(body)["data"] == {"item": 3}
    [done] = hooks.deliveries(DeliveryState.DELIVERED)
    assert done.attempts == 3


def test_endpoint_urls_follow_the_ssrf_rules(receiver: LocalReceiver) -> None:
    closed = hooks_over(InMemoryDeliveryRepository(), FakeClock(NOW), sender(allow=()))
    for url in (receiver.url, "http://169.254.169.254/latest", "http://[::1]/x"):
        with pytest.raises(InvalidInputError, match="refused"):
            closed.add_endpoint(url, ["review.decided"])
    opened = hooks_over(InMemoryDeliveryRepository(), FakeClock(NOW), sender())
    endpoint, _ = opened.add_endpoint(receiver.url, ["review.decided"])
    assert endpoint.url == receiver.url


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def outbox(request: pytest.FixtureRequest) -> Iterator[DeliveryRepository]:
    def sql(engine: Engine) -> DeliveryRepository:
        return SqlDeliveryRepository(engine)

    made: Iterator[DeliveryRepository] = on_backend(request, InMemoryDeliveryRepository, sql)
    yield from made


def test_the_outbox_claims_records_revives_and_counts(outbox: DeliveryRepository) -> None:
    [first, second] = outbox.add_many(
        [
            NewDelivery(1, "review.decided", b'{"a":1}', NOW),
            NewDelivery(2, "case.event", b"{}", NOW),
        ],
        NOW,
    )
    assert (first.state, first.attempts, first.next_attempt_at) == (DeliveryState.PENDING, 0, NOW)
    claimed = outbox.claim_due(NOW, NOW + CLAIM, 10)
    assert [d.id for d in claimed] == [first.id, second.id]
    assert outbox.claim_due(NOW, NOW + CLAIM, 10) == []  # held by the first claimer
    later = NOW + timedelta(seconds=30)
    outbox.record_attempt(first.id, DeliveryState.DELIVERED, NOW, None, "")
    dead = outbox.record_attempt(second.id, DeliveryState.DEAD, NOW, None, "HTTP 500")
    assert (dead.attempts, dead.last_error) == (1, "HTTP 500")
    assert outbox.get(first.id).body == b'{"a":1}'
    assert outbox.get(first.id).delivered_at == NOW
    assert [d.id for d in outbox.listed(DeliveryState.DEAD, 10)] == [second.id]
    with pytest.raises(ConflictError):
        outbox.revive(first.id, later)
    with pytest.raises(NotFoundError):
        outbox.get(999)
    revived = outbox.revive(second.id, later)
    assert (revived.state, revived.attempts) == (DeliveryState.PENDING, 1)
    assert outbox.claim_due(NOW, NOW + CLAIM, 10) == []  # due later
    assert [d.id for d in outbox.claim_due(later, later + CLAIM, 10)] == [second.id]
    assert outbox.counts() == {"delivered": 1, "pending": 1}


def test_deliveries_survive_a_restart_in_the_middle_of_a_backoff(
    receiver: LocalReceiver, sqlite_url: str
) -> None:
    from shieldwall.storage.engine import create_database_engine
    from shieldwall.storage.migrate import upgrade_database

    upgrade_database(sqlite_url)
    clock = FakeClock(NOW)

    def service() -> tuple[WebhookService, Engine]:
        engine = create_database_engine(sqlite_url)
        made = WebhookService(
            SqlEndpointRepository(engine, Sealer(SECRET_KEY)),
            SqlDeliveryRepository(engine),
            sender(),
            sender(),
            clock,
        )
        return made, engine

    first, engine = service()
    _, secret = first.add_endpoint(receiver.url, ["case.event"])
    receiver.plan = [503]
    first.publish("case.event", {"case": "SW-AAAA-0001", "event": "filed"})
    assert first.deliver_due().retrying == 1
    engine.dispose()  # the worker stops in the middle of the backoff
    second, engine = service()
    [pending] = second.deliveries(DeliveryState.PENDING)
    assert pending.next_attempt_at is not None
    assert second.deliver_due().delivered == 0  # still backing off
    clock.advance(pending.next_attempt_at - clock())
    assert second.deliver_due().delivered == 1
    headers, body = receiver.received[-1]
    assert verify(headers[HEADER], secret, body, now=int(clock().timestamp()))  # sealed, kept
    engine.dispose()


@pytest.fixture
def open_console(tmp_path: Path) -> Iterator[Console]:
    """The console's app with 127.0.0.1 allowed as a webhook receiver."""
    yield from running_console(tmp_path, url_allow_private=["127.0.0.1"])


def test_decisions_and_sweeps_reach_the_platforms_endpoint(
    open_console: Console, receiver: LocalReceiver
) -> None:
    console = open_console
    hooks = console.services.webhooks
    platform_key = console.services.access.list_keys()[-1].id
    _, secret = hooks.add_endpoint(
        receiver.url, ["lookup.verdict", "sweep.copies"], key_id=platform_key
    )
    item_id = console.queued(jpeg(48), "upload/48")
    alice = console.sign_in("alice")
    alice.post(f"/review/items/{item_id}/claim")
    decision = {
        "kind": "confirm",
        "action": "remove",
        "ground": "take-it-down-act",
        "facts": "The upload is the reported image.",
    }
    assert alice.post(f"/review/items/{item_id}/decide", decision).status_code == 303
    runner = console.services.background_sweeps
    assert runner is not None
    runner.drain()
    hooks.deliver_due()
    events = {h["Shieldwall-Event"]: json.loads(b) for h, b in receiver.received}
    assert events["lookup.verdict"]["data"]["content_ref"] == "upload/48"
    assert events["lookup.verdict"]["data"]["decision"] == "confirm"
    assert [c["content_ref"] for c in events["sweep.copies"]["data"]["copies"]] == ["upload/48"]
    for headers, body in receiver.received:
        assert verify(headers[HEADER], secret, body, now=int(time.time()))


def test_the_command_line_adds_lists_and_replays(receiver: LocalReceiver, tmp_path: Path) -> None:
    services = make_services(tmp_path, "w.db", url_allow_private=["127.0.0.1"])
    services.close()
    db = ["--db", f"sqlite:///{tmp_path / 'w.db'}"]
    env = {"SHIELDWALL_HOME": str(tmp_path), "SHIELDWALL_URL_ALLOW_PRIVATE": "127.0.0.1"}
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [*db, "webhooks", "add", receiver.url, "--event", "case.event", "--json"],
        env=env,
        catch_exceptions=False,
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["secret"].startswith("whsec_")
    listed = runner.invoke(cli, [*db, "webhooks", "list", "--json"], env=env)
    [row] = [json.loads(line) for line in listed.stdout.splitlines() if line.startswith("{")]
    assert row["events"] == ["case.event"]
    assert "secret" not in row
    refused = runner.invoke(cli, [*db, "webhooks", "replay", "1"], env=env)
    assert refused.exit_code != 0  # no such delivery


def test_admins_keep_endpoints_and_dead_letters_through_the_api(
    open_console: Console, receiver: LocalReceiver
) -> None:
    console = open_console
    admin = {"X-API-Key": console.services.access.issue_key("ops", Role.ADMIN).token}
    client = console.client
    body = {"url": receiver.url, "events": ["case.event"]}
    assert (
        client.post("/api/v1/webhooks/endpoints", json=body, headers=console.platform).status_code
        == 403
    )
    made = client.post("/api/v1/webhooks/endpoints", json=body, headers=admin)
    assert made.status_code == 201
    assert made.json()["secret"].startswith("whsec_")
    wrong = client.post(
        "/api/v1/webhooks/endpoints", json={**body, "events": ["no.such"]}, headers=admin
    )
    assert wrong.status_code == 422
    closed = client.post(
        "/api/v1/webhooks/endpoints",
        json={**body, "url": "http://10.1.2.3/hook"},
        headers=admin,
    )
    assert closed.status_code == 422
    assert "refused" in closed.json()["detail"]
    [listed] = client.get("/api/v1/webhooks/endpoints", headers=admin).json()
    assert "secret" not in listed
    receiver.plan = [500] * 100
    console.file_case(jpeg(49))
    hooks = console.services.webhooks
    hooks.deliver_due()
    [pending] = client.get("/api/v1/webhooks/deliveries?state=pending", headers=admin).json()
    assert pending["last_error"] == "HTTP 500"
    not_dead = client.post(f"/api/v1/webhooks/deliveries/{pending['id']}/replay", headers=admin)
    assert not_dead.status_code == 409
    assert client.post("/api/v1/webhooks/deliveries/999/replay", headers=admin).status_code == 404
    gone = client.delete(f"/api/v1/webhooks/endpoints/{listed['id']}", headers=admin)
    assert gone.json()["active"] is False
    console.file_case(jpeg(50))
    assert len(client.get("/api/v1/webhooks/deliveries", headers=admin).json()) == 1
