"""HMA's client calls with the key carried in the base URL's path (`/hma/<key>/...`).

Clients that can set only a base URL (ROOST Coop, the atproto-hma bridge) reach the HMA
routes this way. The calls are those of HMA's public-API tests (facebook/ThreatExchange,
hasher-matcher-actioner/src/OpenMediaMatch/tests/, BSD licence; written from reading them,
no code copied), made without any header.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.compat.conftest import TEST_HOST, HmaClient, ImageServer, create_bank

SIGNAL = "3e2bf2a5f781f425f0b5a3b02e7a0adf8f87b78bc8d77fee94dfccf3243591c6"


def test_a_curation_and_matching_session_without_headers(
    path_key_client: HmaClient, image_server: ImageServer
) -> None:
    client = path_key_client
    assert client.get("/status").text == "I-AM-ALIVE"
    assert client.get("/c/banks").json() == []
    create_bank(client, "TEST_BANK")
    added = client.post("/c/bank/TEST_BANK/signal", json={"pdq": SIGNAL})
    assert added.status_code == 200, added.text
    content_id = added.json()["id"]
    found = client.get(f"/m/lookup?signal_type=pdq&signal={SIGNAL}")
    assert found.json() == {"TEST_BANK": [{"bank_content_id": content_id, "distance": "0"}]}
    raw = client.get(f"/m/raw_lookup?signal_type=pdq&signal={SIGNAL}")
    assert raw.json() == {"matches": [content_id]}
    photo = image_server.files["image1.jpg"]
    hashed = client.post("/h/hash", files={"photo": ("image1.jpg", photo, "image/jpeg")})
    assert hashed.json()["pdq"] == client.pdq_of(photo)
    assert client.get("/m/index/status").status_code == 200
    got = client.get(f"/c/bank/TEST_BANK/content/{content_id}")
    assert got.json()["id"] == content_id
    assert client.delete(f"/c/bank/TEST_BANK/content/{content_id}").json() == {"deleted": 1}
    assert client.delete("/c/bank/TEST_BANK").status_code == 200


def test_a_wrong_key_in_the_path_is_refused(app_client: TestClient) -> None:
    response = app_client.get(f"{TEST_HOST}/hma/sw_not_a_key/c/banks")
    assert response.status_code == 401, response.text
    assert app_client.get(f"{TEST_HOST}/c/banks").status_code == 401
