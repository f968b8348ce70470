"""Complaints about decisions over HTTP on a real SQLite database: a platform complains
about a confirmed upload with the key that queued it, and the person complains about their
refused report from the status API; another reviewer decides, the platform and the person
see the outcome, the person gets an email through a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shieldwall.access.models import Role
from shieldwall.app import Services
from shieldwall.clock import utc_now
from shieldwall.review.models import (
    AutomatedDecision,
    Decision,
    DecisionKind,
    ItemSource,
    ItemState,
    NewItem,
    RemovalAction,
)
from shieldwall.web.app import create_app
from tests.support.factories import jpeg, report_fields, report_item
from tests.support.mail import Inbox, local_smtp
from tests.support.services import make_services, wait_until_ready

PROBLEM = "application/problem+json"
CONFIRM = {
    "kind": "confirm",
    "action": "remove",
    "ground": "take-it-down-act",
    "facts": "The upload is the reported image.",
}
REVERSE = {"kind": "reverse", "reason": "The upload is a different photo of a beach."}


@dataclass
class Api:
    client: TestClient
    services: Services
    keys: dict[str, dict[str, str]]
    ids: dict[str, int]

    def call(self, method: str, path: str, who: str, **kwargs: Any) -> Any:
        return self.client.request(method, path, headers=self.keys[who], **kwargs)

    def upload(self, content: bytes, **params: str) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/lookup",
            content=content,
            params=params,
            headers={**self.keys["platform"], "content-type": "image/jpeg"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def file_case(self, content: bytes) -> dict[str, Any]:
        report = report_fields(hashes=[report_item(content)])
        response = self.client.post("/protect/api/cases", json=report)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def decide(self, item_id: int, who: str, decision: dict[str, str]) -> Any:
        path = f"/api/v1/review/items/{item_id}"
        assert self.call("POST", f"{path}/claim", who).status_code == 200
        return self.call("POST", f"{path}/decisions", who, json=decision)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with local_smtp() as served:
        yield served


@pytest.fixture
def api(tmp_path: Path, smtp: tuple[Inbox, int]) -> Iterator[Api]:
    services = make_services(tmp_path, "c.db", smtp_url=f"smtp://127.0.0.1:{smtp[1]}")
    roles = {
        "platform": Role.SCREENER,
        "other_platform": Role.SCREENER,
        "alice": Role.REVIEWER,
        "bob": Role.REVIEWER,
    }
    issued = {name: services.access.issue_key(name, role) for name, role in roles.items()}
    keys = {name: {"X-API-Key": key.token} for name, key in issued.items()}
    ids = {name: key.key.id for name, key in issued.items()}
    with TestClient(create_app(services)) as client:
        wait_until_ready(client)
        yield Api(client, services, keys, ids)


def test_a_platform_complains_and_another_reviewer_reverses_the_block(api: Api) -> None:
    photo = jpeg(51)
    api.file_case(photo)
    upload = api.upload(photo, queue="true", content_ref="upload/9")
    ref = upload["review_item"]
    complaint_path = f"{ref['url']}/complaint"
    undecided = api.call("POST", complaint_path, "platform", json={"explanation": "too soon"})
    assert undecided.status_code == 409
    assert undecided.headers["content-type"].startswith(PROBLEM)
    assert api.decide(ref["id"], "alice", CONFIRM).status_code == 200
    assert api.call("GET", ref["url"], "platform").json()["complaint"] is None

    why = {"explanation": "The user took this photo of herself and consents."}
    assert api.call("POST", complaint_path, "other_platform", json=why).status_code == 404
    assert api.call("POST", complaint_path, "platform", json={"explanation": ""}).status_code == 422
    lodged = api.call("POST", complaint_path, "platform", json=why)
    assert lodged.status_code == 201, lodged.text
    assert lodged.json()["state"] == "open"
    assert lodged.json()["item_id"] == ref["id"]
    again = api.call("POST", complaint_path, "platform", json=why)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith(PROBLEM)
    polled = api.call("GET", ref["url"], "platform").json()
    assert polled["outcome"] == "confirmed"
    assert polled["complaint"]["state"] == "open"
    assert polled["complaint"]["outcome"] is None

    # The reviewer who confirmed it does not see the complaint and may not take it.
    complaints = {"source": "complaint"}
    assert api.call("GET", "/api/v1/review/queue", "alice", params=complaints).json() == []
    [waiting] = api.call("GET", "/api/v1/review/queue", "bob", params=complaints).json()
    item_path = f"/api/v1/review/items/{waiting['id']}"
    refused = api.call("POST", f"{item_path}/claim", "alice")
    assert refused.status_code == 403
    assert "another reviewer" in refused.json()["detail"]
    shown = api.call("GET", item_path, "bob").json()
    assert shown["complaint"]["item_id"] == ref["id"]
    assert shown["complaint"]["explanation"] == why["explanation"]
    assert shown["complaint"]["complainant"] == "platform"
    decided = api.decide(waiting["id"], "bob", REVERSE)
    assert decided.status_code == 200, decided.text
    assert decided.json()["decisions"][-1]["kind"] == "reverse"

    polled = api.call("GET", ref["url"], "platform").json()
    assert polled["complaint"]["state"] == "decided"
    assert polled["complaint"]["outcome"] == "reverse"
    assert polled["complaint"]["decided_at"] is not None
    # The block is gone: the same upload asks for a review again.
    assert api.upload(photo)["verdict"] == "review"


def test_a_complaint_after_six_months_is_refused(api: Api) -> None:
    long_ago = utc_now() - timedelta(days=200)
    items = api.services.review_items
    item, _ = items.open(
        NewItem(
            ItemSource.PLATFORM,
            opened_at=long_ago,
            deadline=long_ago + timedelta(hours=48),
            opened_by_key=api.ids["platform"],
        )
    )
    items.claim(item.id, "carol", long_ago, long_ago + timedelta(minutes=10))
    decision = Decision(
        DecisionKind.CONFIRM,
        RemovalAction.REMOVE,
        "take-it-down-act",
        "the reported image",
        "",
        "carol",
        long_ago,
        True,
        AutomatedDecision.PARTIALLY,
    )
    items.record_decision(item.id, decision, ItemState.DECIDED, long_ago)
    late = api.call(
        "POST",
        f"/api/v1/lookup/items/{item.id}/complaint",
        "platform",
        json={"explanation": "we only just heard from our user"},
    )
    assert late.status_code == 422
    assert late.headers["content-type"].startswith(PROBLEM)
    assert "ended on" in late.json()["detail"]


def test_the_person_complains_about_a_refusal_and_sees_it_reversed(
    api: Api, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    filed = api.file_case(jpeg(52))
    inbox.wait(1)  # the acknowledgement
    key = {"case_number": filed["case_number"], "secret": filed["secret"]}
    [own] = api.call("GET", "/api/v1/review/queue", "alice").json()
    refuse = {"kind": "refuse", "reason": "The signature does not match the name."}
    assert api.decide(own["id"], "alice", refuse).status_code == 200
    status = api.client.post("/protect/api/status", json=key).json()
    assert status["state"] == "decided"
    assert status["decision"]["outcome"] == "refused"
    assert status["decision"]["can_complain"] is True
    assert status["decision"]["item"] == own["id"]
    assert status["complaints"] == []

    why = "I signed with my legal name; the form shortened it."
    wrong = {**key, "secret": "x" * 24, "explanation": why}
    assert api.client.post("/protect/api/complaint", json=wrong).status_code == 404
    empty = api.client.post("/protect/api/complaint", json={**key, "explanation": " "})
    assert empty.status_code == 422
    lodged = api.client.post("/protect/api/complaint", json={**key, "explanation": why})
    assert lodged.status_code == 201, lodged.text
    body = lodged.json()
    assert body["state"] == "complaint"
    assert body["decision"]["can_complain"] is False
    [complaint] = body["complaints"]
    assert (complaint["about"], complaint["state"], complaint["outcome"]) == ("case", "open", None)
    again = api.client.post("/protect/api/complaint", json={**key, "explanation": why})
    assert again.status_code == 409

    [waiting] = api.call("GET", "/api/v1/review/queue", "bob").json()
    assert waiting["source"] == "complaint"
    assert api.call("GET", "/api/v1/review/queue", "alice").json() == []
    reasons = "The name and signature match the legal name on file."
    assert (
        api.decide(waiting["id"], "bob", {"kind": "reverse", "reason": reasons}).status_code == 200
    )

    status = api.client.post("/protect/api/status", json=key).json()
    assert status["state"] == "decided"
    [complaint] = status["complaints"]
    assert (complaint["state"], complaint["outcome"], complaint["reasons"]) == (
        "decided",
        "reverse",
        reasons,
    )
    assert [e["kind"] for e in status["timeline"]][-2:] == ["complaint", "decided"]
    mails = inbox.wait(2)
    outcome = mails[1]
    assert outcome["To"] == "ana@example.org"
    assert filed["case_number"] in outcome["Subject"]
    payload = outcome.get_payload(decode=True)
    assert isinstance(payload, bytes)
    text = payload.decode()
    assert "The decision was reversed" in text
    assert filed["secret"] not in text
    assert why not in text
    assert f"key:{api.ids['bob']}" not in text
    # The reported picture asks for a review again.
    assert api.upload(jpeg(52))["verdict"] == "review"


def test_the_openapi_document_describes_both_complaint_routes(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    platform = paths["/api/v1/lookup/items/{item_id}/complaint"]["post"]
    assert platform["x-capability"] == "lookup"
    assert {"201", "404", "409", "422"} <= set(platform["responses"])
    person = paths["/protect/api/complaint"]["post"]
    assert "x-capability" not in person
    assert {"201", "404", "409", "422", "429"} <= set(person["responses"])


def test_the_person_complains_about_a_rejected_upload_of_their_picture(api: Api) -> None:
    photo = jpeg(53)
    filed = api.file_case(photo)
    key = {"case_number": filed["case_number"], "secret": filed["secret"]}
    ref = api.upload(photo, queue="true", content_ref="upload/53")["review_item"]
    reject = {"kind": "reject", "reason": "A different photo of a similar scene."}
    assert api.decide(ref["id"], "alice", reject).status_code == 200
    assert api.upload(photo)["verdict"] == "allow"
    status = api.client.post("/protect/api/status", json=key).json()
    [upload] = status["uploads"]
    assert (upload["item"], upload["outcome"], upload["can_complain"]) == (
        ref["id"],
        "rejected",
        True,
    )
    assert "upload/53" not in str(status)  # the platform's own reference stays with it
    why = {**key, "explanation": "It is my picture, only cropped.", "item": ref["id"]}
    lodged = api.client.post("/protect/api/complaint", json=why)
    assert lodged.status_code == 201, lodged.text
    [complaint] = lodged.json()["complaints"]
    assert (complaint["about"], complaint["item"]) == ("upload", ref["id"])
    assert lodged.json()["uploads"][0]["can_complain"] is False
    # The platform sees that its upload's decision is being looked at again.
    assert api.call("GET", ref["url"], "platform").json()["complaint"]["state"] == "open"
    [waiting] = api.call(
        "GET", "/api/v1/review/queue", "bob", params={"source": "complaint"}
    ).json()
    assert api.decide(waiting["id"], "bob", REVERSE).status_code == 200
    assert api.upload(photo)["verdict"] == "review"  # the allow-list entry is gone
    other = {**why, "item": 10_000}
    assert api.client.post("/protect/api/complaint", json=other).status_code == 404
