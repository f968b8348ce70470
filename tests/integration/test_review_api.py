"""The review loop over HTTP on a real SQLite database: a platform queues an upload that
answered `review`, reviewers (API keys with the reviewer role) claim and decide it, the
platform polls the outcome, and later lookups answer by the decision. Each step is tried
by the roles that may and may not take it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shieldwall.access.models import Role
from shieldwall.app import Services
from shieldwall.hashing.service import hash_content
from shieldwall.web.app import create_app
from tests.support.factories import jpeg, report_fields, report_item
from tests.support.services import make_services, wait_until_ready

CONFIRM = {
    "kind": "confirm",
    "action": "remove",
    "ground": "take-it-down-act",
    "facts": "The upload is the reported image.",
}


@dataclass
class Loop:
    client: TestClient
    services: Services
    keys: dict[str, dict[str, str]]

    def file_case(self, content: bytes, **changes: Any) -> dict[str, Any]:
        item = report_item(content)
        response = self.client.post(
            "/protect/api/cases", json=report_fields(hashes=[item], **changes)
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def upload(self, content: bytes, who: str = "platform", **params: str) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/lookup",
            content=content,
            params=params,
            headers={**self.keys[who], "content-type": "image/jpeg"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def call(self, method: str, path: str, who: str, **kwargs: Any) -> Any:
        return self.client.request(method, path, headers=self.keys[who], **kwargs)


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[Loop]:
    services = make_services(tmp_path, "r.db")
    roles = {
        "platform": Role.SCREENER,
        "other_platform": Role.SCREENER,
        "alice": Role.REVIEWER,
        "bob": Role.REVIEWER,
        "lead": Role.ADMIN,
        "curator": Role.CURATOR,
    }
    keys = {
        name: {"X-API-Key": services.access.issue_key(name, role).token}
        for name, role in roles.items()
    }
    with TestClient(create_app(services)) as client:
        wait_until_ready(client)
        yield Loop(client, services, keys)


def test_a_queued_upload_is_confirmed_and_then_blocked(loop: Loop) -> None:
    photo = jpeg(31)
    case = loop.file_case(photo, depicted_minor=True, name="")
    first = loop.upload(photo, queue="true", content_ref="upload/1")
    assert first["verdict"] == "review"
    ref = first["review_item"]
    assert ref["state"] == "open"
    assert (
        loop.upload(photo, queue="true", content_ref="upload/1")["review_item"]["id"] == ref["id"]
    )
    assert loop.upload(photo)["review_item"] is None  # not asked: nothing queued
    polled = loop.call("GET", ref["url"], "platform").json()
    assert (polled["state"], polled["outcome"], polled["content_ref"]) == ("open", None, "upload/1")
    assert loop.call("GET", ref["url"], "other_platform").status_code == 404
    assert loop.call("GET", "/api/v1/review/queue", "platform").status_code == 403
    assert loop.call("GET", "/api/v1/review/queue", "curator").status_code == 403

    queue = loop.call("GET", "/api/v1/review/queue", "alice").json()
    platform_item = next(i for i in queue if i["source"] == "platform")
    assert platform_item["case_number"] == case["case_number"]
    assert platform_item["minor"] is True
    assert platform_item["has_content"] is True
    assert {m["bank"] for m in platform_item["matches"]} == {"reported"}
    item_path = f"/api/v1/review/items/{ref['id']}"
    assert loop.call("POST", f"{item_path}/decisions", "alice", json=CONFIRM).status_code == 403
    assert loop.call("POST", f"{item_path}/claim", "alice").status_code == 200
    assert loop.call("POST", f"{item_path}/claim", "bob").status_code == 409
    assert loop.call("POST", f"{item_path}/decisions", "bob", json=CONFIRM).status_code == 403
    wrong = {"kind": "accept", "ground": "take-it-down-act"}
    assert loop.call("POST", f"{item_path}/decisions", "alice", json=wrong).status_code == 422
    decided = loop.call("POST", f"{item_path}/decisions", "alice", json=CONFIRM)
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["state"] == "decided"
    assert body["decisions"][0]["reviewer"].startswith("key:")
    assert body["decisions"][0]["statement_id"].startswith("sw-")

    assert loop.upload(photo)["verdict"] == "block"
    polled = loop.call("GET", ref["url"], "platform").json()
    assert (polled["outcome"], polled["action"]) == ("confirmed", "remove")
    assert loop.call("POST", f"{item_path}/decisions", "alice", json=CONFIRM).status_code == 422
    assert loop.services.audit.verify().problem is None


def test_a_rejected_upload_is_not_queued_again(loop: Loop) -> None:
    photo = jpeg(32)
    loop.file_case(photo)
    ref = loop.upload(photo, queue="true", content_ref="u2")["review_item"]
    path = f"/api/v1/review/items/{ref['id']}"
    loop.call("POST", f"{path}/claim", "bob")
    reject = {"kind": "reject", "reason": "a different picture of a beach"}
    assert loop.call("POST", f"{path}/decisions", "bob", json=reject).status_code == 200
    again = loop.upload(photo, queue="true", content_ref="u3")
    assert (again["verdict"], again["review_item"]) == ("allow", None)
    assert loop.call("GET", ref["url"], "platform").json()["outcome"] == "rejected"


def test_signal_lookups_queue_too_and_escalations_go_to_leads(loop: Loop) -> None:
    photo = jpeg(33)
    loop.file_case(photo)
    signals = hash_content(photo, loop.services.settings.media)
    answer = loop.call(
        "POST",
        "/api/v1/lookup/signals",
        "platform",
        json={"pdq": signals.pdq.value, "queue": True, "content_ref": "msg-9"},
    ).json()
    ref = answer["review_item"]
    path = f"/api/v1/review/items/{ref['id']}"
    loop.call("POST", f"{path}/claim", "alice")
    escalate = {"kind": "escalate", "reason": "looks like a minor"}
    assert loop.call("POST", f"{path}/decisions", "alice", json=escalate).status_code == 200
    assert loop.call("GET", "/api/v1/review/queue?state=escalated", "alice").status_code == 403
    assert loop.call("POST", f"{path}/claim", "bob").status_code == 403
    escalated = loop.call("GET", "/api/v1/review/queue?state=escalated", "lead").json()
    assert [i["id"] for i in escalated] == [ref["id"]]
    assert loop.call("POST", f"{path}/claim", "lead").status_code == 200
    decided = loop.call("POST", f"{path}/decisions", "lead", json=CONFIRM).json()
    assert [d["kind"] for d in decided["decisions"]] == ["escalate", "confirm"]
    blocked = loop.call(
        "POST", "/api/v1/lookup/signals", "platform", json={"pdq": signals.pdq.value}
    )
    assert blocked.json()["verdict"] == "block"


def test_the_person_sees_the_decision_on_their_case(loop: Loop) -> None:
    filed = loop.file_case(jpeg(35))
    key = {"case_number": filed["case_number"], "secret": filed["secret"]}
    assert loop.client.post("/protect/api/status", json=key).json()["decision"] is None
    queue = loop.call("GET", "/api/v1/review/queue?source=case", "alice").json()
    [item] = [i for i in queue if i["case_number"] == filed["case_number"]]
    assert item["case"] is None  # the queue is a list; the item shows its case
    path = f"/api/v1/review/items/{item['id']}"
    shown = loop.call("GET", path, "alice").json()["case"]
    assert shown["locators"][0]["value"] == "https://forum.example/t/123"
    assert "email" not in shown
    assert "ana@example.org" not in str(shown)
    loop.call("POST", f"{path}/claim", "alice")
    status = loop.client.post("/protect/api/status", json=key).json()
    assert status["state"] == "under_review"
    accept = {"kind": "accept", "ground": "dsa-illegal-ncii", "facts": "Valid notice."}
    assert loop.call("POST", f"{path}/decisions", "alice", json=accept).status_code == 200
    status = loop.client.post("/protect/api/status", json=key).json()
    assert status["state"] == "decided"
    assert status["decision"]["outcome"] == "accepted"
    assert "Illegal under national law" in status["decision"]["ground"]
    assert status["decision"]["reasons"] == "Valid notice."
    grounds = loop.call("GET", "/api/v1/review/grounds", "alice").json()
    assert "take-it-down-act" in [g["code"] for g in grounds]


def test_a_trusted_flaggers_report_blocks_once_accepted(loop: Loop) -> None:
    photo = jpeg(36)
    item = report_item(photo)
    token = loop.services.access.issue_key("Hotline ES", Role.REPORTER).token
    loop.keys["hotline"] = {"X-API-Key": token}
    body = report_fields(hashes=[item], reporter="representative", authority="Hotline ES")
    assert loop.call("POST", "/api/v1/cases", "platform", json=body).status_code == 403
    filed = loop.call("POST", "/api/v1/cases", "hotline", json=body)
    assert filed.status_code == 201, filed.text
    assert loop.upload(photo)["verdict"] == "review"
    queue = loop.call("GET", "/api/v1/review/queue?source=case", "alice").json()
    [case_item] = [i for i in queue if i["case_number"] == filed.json()["case_number"]]
    assert case_item["trusted_flagger"] is True
    path = f"/api/v1/review/items/{case_item['id']}"
    assert loop.call("GET", path, "alice").json()["case"]["trusted_flagger"] == "Hotline ES"
    loop.call("POST", f"{path}/claim", "alice")
    accept = {"kind": "accept", "ground": "take-it-down-act", "facts": "Seen by the hotline."}
    assert loop.call("POST", f"{path}/decisions", "alice", json=accept).status_code == 200
    assert loop.upload(photo)["verdict"] == "block"
    bad = loop.call("POST", "/api/v1/cases", "hotline", json={"hashes": []})
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["problems"]} >= {"hashes", "email"}
