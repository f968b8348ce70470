"""The enrolment JSON API over a real SQLite database: enrol with consent and templates,
read and withdraw with number and secret; guards as for cases; templates never returned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from shieldwall.likeness.models import Statement
from shieldwall.web.app import create_app
from tests.support.services import make_services

EVERY_STATEMENT = [s.value for s in Statement]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    services = make_services(tmp_path, "e.db")
    with TestClient(create_app(services)) as test_client:
        yield test_client


def template(seed: int) -> list[float]:
    vector = np.random.default_rng(seed).normal(size=128)
    return [float(v) for v in vector / np.linalg.norm(vector)]


def body(**changes: Any) -> dict[str, Any]:
    return {
        "enrollee": "self",
        "statements": EVERY_STATEMENT,
        "templates": [template(1)],
        **changes,
    }


def test_enrol_read_and_withdraw_with_the_receipt(client: TestClient) -> None:
    made = client.post("/protect/api/enrolments", json=body(term_days=60))
    assert made.status_code == 201, made.text
    receipt = made.json()
    assert receipt["enrolment_number"].startswith("EN-")
    assert len(receipt["secret"]) >= 24
    assert (receipt["state"], receipt["templates"]) == ("active", 1)
    assert "template" not in made.text.replace('"templates"', "")
    key = {"enrolment_number": receipt["enrolment_number"].lower(), "secret": receipt["secret"]}
    status = client.post("/protect/api/enrolments/status", json=key)
    assert status.status_code == 200, status.text
    assert status.json()["state"] == "active"
    assert "secret" not in status.json()
    enrolments = client.app.state.runtime.services.enrolments  # type: ignore[attr-defined]
    probe = np.array(template(1), np.float32)
    assert [m.number for m in enrolments.likeness(probe)] == [receipt["enrolment_number"]]
    withdrawn = client.post("/protect/api/enrolments/withdraw", json=key)
    assert withdrawn.status_code == 200
    assert (withdrawn.json()["state"], withdrawn.json()["templates"]) == ("withdrawn", 0)
    assert enrolments.likeness(probe) == []


def test_a_wrong_secret_looks_like_no_enrolment(client: TestClient) -> None:
    receipt = client.post("/protect/api/enrolments", json=body()).json()
    wrong = client.post(
        "/protect/api/enrolments/status",
        json={"enrolment_number": receipt["enrolment_number"], "secret": "x" * 24},
    )
    unknown = client.post(
        "/protect/api/enrolments/status",
        json={"enrolment_number": "EN-0000-0000", "secret": "x" * 24},
    )
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json()["detail"] == unknown.json()["detail"]


@pytest.mark.parametrize(
    ("sent", "status", "says"),
    [
        (body(statements=EVERY_STATEMENT[:2]), 422, "every statement"),
        (body(templates=[]), 422, "1 to 5"),
        (body(templates=[[1.0] * 3]), 422, "128 finite numbers"),
        (body(enrollee="guardian"), 422, "guardian"),
        (body(photo="data:image/jpeg;base64,..."), 422, "unknown field 'photo'"),
        ([1, 2], 422, "JSON object"),
    ],
)
def test_invalid_enrolments_are_refused_with_the_reason(
    client: TestClient, sent: object, status: int, says: str
) -> None:
    answer = client.post("/protect/api/enrolments", json=sent)
    assert answer.status_code == status, answer.text
    assert says in answer.text


def test_the_guards_of_the_victims_api_hold(client: TestClient) -> None:
    cross = client.post(
        "/protect/api/enrolments", json=body(), headers={"sec-fetch-site": "cross-site"}
    )
    assert cross.status_code == 403
    form = client.post("/protect/api/enrolments", data={"enrollee": "self"})
    assert form.status_code in (400, 422)
    huge = client.post(
        "/protect/api/enrolments",
        content=b"{" + b" " * (70 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    extra = client.post(
        "/protect/api/enrolments/status",
        json={"enrolment_number": "EN-0000-0000", "secret": "x", "more": 1},
    )
    assert extra.status_code == 422
