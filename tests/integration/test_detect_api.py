"""The likeness cascade on the lookup API (`detect=true`): off unless the deployment turns
it on; the banks first; explicit content (an injected nudity score: no explicit imagery is
ever used) showing an enrolled face (the astronaut, enrolled from her own template) opens a
likeness review item and answers `review`; screeners see only `needs_review`; no key sees
which enrolment; a reviewer's confirm blocks the copies and tells the enrolled person."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skimage.data
from fastapi.testclient import TestClient
from PIL import Image

from shieldwall.access.models import Role
from shieldwall.app import Services
from shieldwall.detection.faces import FaceAnalyser
from shieldwall.likeness.models import Statement
from shieldwall.web.app import create_app
from tests.support.factories import jpeg
from tests.support.services import make_services, wait_until_ready

CONFIRM = {
    "kind": "confirm",
    "action": "remove",
    "ground": "dsa-illegal-ncii",
    "facts": "A generated explicit image of the enrolled person.",
}


class InjectedScore:
    """The nudity step with a chosen score (the real model is tested on benign photos)."""

    def __init__(self, score: float) -> None:
        self.value = score

    def score(self, pixels: np.ndarray) -> float:
        return self.value


@dataclass
class World:
    client: TestClient
    services: Services
    keys: dict[str, dict[str, str]]
    nudity: InjectedScore

    def lookup(self, content: bytes, who: str = "platform", **params: str) -> dict[str, object]:
        response = self.client.post(
            "/api/v1/lookup",
            content=content,
            params=params,
            headers={**self.keys[who], "content-type": "image/png"},
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


def _png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


ASTRONAUT = _png(skimage.data.astronaut())


def _world(home: Path, **settings: Any) -> Iterator[World]:
    services = make_services(home, "d.db", **settings)
    nudity = InjectedScore(0.97)
    services.nudity = nudity  # type: ignore[assignment]
    keys = {
        name: {"X-API-Key": services.access.issue_key(name, role).token}
        for name, role in {
            "platform": Role.SCREENER,
            "admin": Role.ADMIN,
            "alice": Role.REVIEWER,
        }.items()
    }
    with TestClient(create_app(services)) as client:
        wait_until_ready(client)
        yield World(client, services, keys, nudity)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from _world(tmp_path, likeness_detection=True)


def _enrol_the_astronaut(world: World, email: str = "") -> tuple[str, str]:
    [face] = FaceAnalyser().faces(skimage.data.astronaut())
    body = {
        "enrollee": "self",
        "statements": [s.value for s in Statement],
        "email": email,
        "templates": [[float(v) for v in face.template]],
    }
    made = world.client.post("/protect/api/enrolments", json=body)
    assert made.status_code == 201, made.text
    return made.json()["enrolment_number"], made.json()["secret"]


def test_detect_is_refused_where_the_deployment_has_not_turned_it_on(tmp_path: Path) -> None:
    for world in _world(tmp_path):
        response = world.client.post(
            "/api/v1/lookup",
            content=ASTRONAUT,
            params={"detect": "true"},
            headers={**world.keys["platform"], "content-type": "image/png"},
        )
        assert response.status_code == 422
        assert "likeness_detection" in response.json()["detail"]


def test_an_explicit_image_of_an_enrolled_person_is_held_for_review_then_blocked(
    world: World,
) -> None:
    number, secret = _enrol_the_astronaut(world, email="ana@example.org")
    screener = world.lookup(ASTRONAUT, detect="true", content_ref="chat/42")
    assert screener["verdict"] == "review"
    assert screener["matches"] == []
    assert screener["detection"] == {
        "needs_review": True,
        "complete": True,
        "stop": None,
        "nudity": None,
        "faces": None,
        "enrolled_face": None,
        "provenance": None,
        "unavailable": None,
        "ms": None,
    }
    item_ref = screener["review_item"]
    assert isinstance(item_ref, dict)
    detailed = world.lookup(ASTRONAUT, "admin", detect="true")
    detection = detailed["detection"]
    assert isinstance(detection, dict)
    assert (detection["stop"], detection["faces"], detection["enrolled_face"]) == (
        "likeness",
        1,
        True,
    )
    assert set(detection["ms"]) == {"banks", "decode", "nudity", "faces", "likeness", "provenance"}
    for answer in (screener, detailed):
        assert number not in str(answer)
        assert "similarity" not in str(answer)

    item_path = f"/api/v1/review/items/{item_ref['id']}"
    item = world.client.get(item_path, headers=world.keys["alice"]).json()
    assert (item["source"], item["has_content"], item["content_ref"]) == (
        "likeness",
        True,
        "chat/42",
    )
    assert item["findings"]["likeness"][0]["enrolment_number"] == number
    assert world.client.post(f"{item_path}/claim", headers=world.keys["alice"]).status_code == 200
    decided = world.client.post(f"{item_path}/decisions", headers=world.keys["alice"], json=CONFIRM)
    assert decided.status_code == 200, decided.text

    assert world.lookup(ASTRONAUT)["verdict"] == "block"  # its copies, from now on
    polled = world.client.get(item_ref["url"], headers=world.keys["platform"]).json()
    assert polled["outcome"] == "confirmed"
    status = world.client.post(
        "/protect/api/enrolments/status", json={"enrolment_number": number, "secret": secret}
    ).json()
    assert len(status["acted_on"]) == 1
    metrics = world.client.get("/metrics", headers=world.keys["admin"]).text
    assert 'shieldwall_detector_seconds_count{step="faces"}' in metrics
    assert 'shieldwall_detections_total{stop="likeness"}' in metrics


def test_content_under_the_nudity_threshold_or_without_an_enrolled_face_is_only_screened(
    world: World,
) -> None:
    _enrol_the_astronaut(world)
    world.nudity.value = 0.02
    calm = world.lookup(ASTRONAUT, "admin", detect="true")
    assert calm["verdict"] == "allow"
    assert calm["review_item"] is None
    assert calm["detection"]["stop"] == "not_explicit"  # type: ignore[index]
    world.nudity.value = 0.97
    nobody = world.lookup(jpeg(5), "admin", detect="true")  # a landscape: no face
    assert nobody["detection"]["stop"] == "no_face"  # type: ignore[index]
    assert nobody["verdict"] == "allow"
    assert nobody["review_item"] is None
    queue = world.client.get("/api/v1/review/queue", headers=world.keys["alice"]).json()
    assert [i for i in queue if i["source"] == "likeness"] == []
