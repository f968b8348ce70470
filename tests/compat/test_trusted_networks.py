"""Keyless HMA clients on a trusted network (`hma_trusted_networks`), as Coop runs inside
a platform's network: the HMA routes answer them as the network's role, nothing else does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shieldwall.access.models import Role
from shieldwall.access.networks import FIRST_NETWORK_KEY_ID
from shieldwall.app import Services
from shieldwall.web.app import create_app
from tests.support.services import make_services, wait_until_ready

NETWORKS = "10.0.0.0/8=screener,10.7.0.0/16=curator,192.168.9.9=screener+details"
PDQ = "3e2bf2a5f781f425f0b5a3b02e7a0adf8f87b78bc8d77fee94dfccf3243591c6"


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make_services(tmp_path, hma_trusted_networks=NETWORKS)


@pytest.fixture
def app(services: Services) -> Iterator[FastAPI]:
    application = create_app(services)
    with TestClient(application) as client:  # runs the lifespan once for every client below
        wait_until_ready(client)
        yield application


def client_at(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


def test_a_listed_network_acts_as_its_role_on_hma_routes(app: FastAPI, services: Services) -> None:
    curator = client_at(app, "10.7.1.2")  # the narrower network's role wins
    created = curator.post("/c/banks", json={"name": "COOP_BANK", "enabled_ratio": "1"})
    assert created.status_code == 201, created.text
    added = curator.post("/c/bank/COOP_BANK/signal", json={"pdq": PDQ})
    assert added.status_code == 200, added.text
    found = curator.get(f"/m/lookup?signal_type=pdq&signal={PDQ}")
    assert found.json() == {"COOP_BANK": [{"bank_content_id": added.json()["id"], "distance": "0"}]}
    # Audited as the network's own key (the second entry of the setting).
    [event] = services.access.recent_lookups(key_id=FIRST_NETWORK_KEY_ID - 1)
    assert (event.kind, event.matches) == ("hma", 1)
    screener = client_at(app, "10.200.0.1")
    compared = screener.post("/m/compare", json={"pdq": [PDQ, PDQ]})
    assert compared.json() == {"pdq": [True, {"distance": 0}]}  # a screener may compare...
    assert screener.post("/c/banks", json={"name": "NOT_MINE"}).status_code == 403  # not write
    # HMA lookups answer with ids and distances: a screener network needs +details.
    assert screener.get(f"/m/lookup?signal_type=pdq&signal={PDQ}").status_code == 403
    detailed = client_at(app, "192.168.9.9")
    assert list(detailed.get(f"/m/lookup?signal_type=pdq&signal={PDQ}").json()) == ["COOP_BANK"]


def test_other_addresses_routes_and_loopback_still_need_a_key(app: FastAPI) -> None:
    assert client_at(app, "192.168.9.10").get("/c/banks").status_code == 401
    assert client_at(app, "11.0.0.1").get("/c/banks").status_code == 401
    # Loopback is trusted only where it is named (a proxy on the host looks like loopback).
    assert client_at(app, "127.0.0.1").get("/c/banks").status_code == 401
    assert client_at(app, "::1").get("/c/banks").status_code == 401
    # Native routes never trust an address.
    inside = client_at(app, "10.7.1.2")
    assert inside.get("/api/v1/banks").status_code == 401
    assert inside.get("/c/banks").status_code == 200
    # IPv4 clients seen through an IPv6 socket are the same clients.
    assert client_at(app, "::ffff:10.7.1.2").get("/c/banks").status_code == 200


def test_a_key_sent_from_a_trusted_network_is_the_one_checked(
    app: FastAPI, services: Services
) -> None:
    inside = client_at(app, "10.7.1.2")
    assert inside.get("/c/banks", headers={"X-API-Key": "sw_wrong"}).status_code == 401
    screener = services.access.issue_key("platform", Role.SCREENER).token
    refused = inside.post("/c/banks", json={"name": "X"}, headers={"X-API-Key": screener})
    assert refused.status_code == 403  # the key's role, not the network's


def test_without_the_setting_no_address_is_trusted(tmp_path: Path) -> None:
    with TestClient(create_app(make_services(tmp_path))) as client:
        wait_until_ready(client)
        assert client_at(client.app, "10.7.1.2").get("/c/banks").status_code == 401  # type: ignore[arg-type]
