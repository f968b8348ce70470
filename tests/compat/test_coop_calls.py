"""The HMA calls that ROOST Coop makes, replayed against Shieldwall.

Written from reading Coop's HMA client (roostorg/coop, server/services/hmaService/index.ts,
and its callers server/routes/items/submitItems.ts and routes/reporting/submitReport.ts;
Apache-2.0 licence). No code is copied. Coop builds every URL as
`${HMA_SERVICE_URL}/c/...` with a default base URL that ends in a slash, so its paths start
with `//`; it sends numbers as strings where it calls `toString()`, and it takes a 404 on
`GET /c/bank/<name>` to mean the bank was deleted (and then forgets the bank).

Coop has no setting for a key. It is replayed three times: with the key in a header (as a
proxy in front of Shieldwall would add it), with the key in the base URL's path
(`https://host/hma/<key>/`), which Coop can be configured with as it is, and with no key
at all from an internal network the operator trusts as a curator (`hma_trusted_networks`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shieldwall.app import Services
from tests.compat.conftest import TEST_HOST, HmaClient, ImageServer, services_for_hma_tests

EXCHANGES = "exchanges (/c/exchanges, /c/exchange/...) come with a later issue"

ORG = "E7C89CE7729"  # Coop's org ids are alphanumeric; it upper-cases them


def hma_name(org_id: str, name: str) -> str:
    """Coop's bank name rule: COOP_<ORG>_<NAME>, non-alphanumerics squeezed to one `_`."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in name.upper())
    while "__" in cleaned:
        cleaned = cleaned.replace("__", "_")
    return f"COOP_{org_id.upper()}_{cleaned.strip('_')}"


COOP_ADDRESS = "10.20.3.4"
"""Where Coop runs in the trusted-network replay: inside the trusted network below."""


@pytest.fixture
def services(tmp_path: Path) -> Services:
    """The HMA tests' services, with Coop's internal network trusted as a curator."""
    return services_for_hma_tests(tmp_path, hma_trusted_networks="10.20.0.0/16=curator")


@pytest.fixture(params=["key-header", "key-in-base-path", "trusted-network"])
def coop(
    request: pytest.FixtureRequest, app_client: TestClient, services: Services, admin_key: str
) -> HmaClient:
    """Coop's client: base URL with a trailing slash, every path appended with its `/`."""
    if request.param == "key-header":
        return HmaClient(app_client, f"{TEST_HOST}/", {"X-API-Key": admin_key}, services)
    if request.param == "key-in-base-path":
        return HmaClient(app_client, f"{TEST_HOST}/hma/{admin_key}/", {}, services)
    # Same app (its lifespan runs in app_client), requests from Coop's address, no key.
    inside = TestClient(app_client.app, client=(COOP_ADDRESS, 40000))
    return HmaClient(inside, f"{TEST_HOST}/", {}, services)


def create_bank(coop: HmaClient, name: str, enabled_ratio: float = 1.0) -> str:
    """HmaService.createBank without an exchange: the ratio is sent as a string."""
    bank = hma_name(ORG, name)
    request = {"name": bank, "enabled_ratio": str(enabled_ratio).removesuffix(".0")}
    response = coop.post("/c/banks", json=request)
    assert response.is_success, response.text  # Coop throws otherwise
    return bank


def bank_is_kept(coop: HmaClient, bank: str) -> bool:
    """HmaService.listBanks/getBank: a 404 makes Coop delete its own record of the bank."""
    response = coop.get(f"/c/bank/{bank}", headers={"Content-Type": "application/json"})
    return response.status_code != 404


def upload(coop: HmaClient, bank: str, photo: bytes, **fields: str) -> dict[str, object]:
    """HmaService.addContentToBank with a file: the form field is named after the type."""
    response = coop.post(
        f"/c/bank/{bank}/content",
        files={"photo": ("upload", photo, "image/jpeg")},
        data=fields,
    )
    assert response.is_success, response.text
    body: dict[str, object] = response.json()
    return body


def test_bank_names_follow_coops_rule() -> None:
    assert hma_name("org1", "Intimate images (2024)") == "COOP_ORG1_INTIMATE_IMAGES_2024"


def test_create_bank_with_ratio_as_a_string(coop: HmaClient) -> None:
    bank = create_bank(coop, "Intimate images")
    assert coop.get("/c/banks").json() == [{"name": bank, "matching_enabled_ratio": 1.0}]
    assert bank_is_kept(coop, bank)
    disabled = create_bank(coop, "Paused bank", enabled_ratio=0)
    assert coop.get(f"/c/bank/{disabled}").json()["matching_enabled_ratio"] == 0


def test_create_bank_with_a_fractional_ratio(coop: HmaClient) -> None:
    bank = create_bank(coop, "Sampled bank", enabled_ratio=0.5)
    assert coop.get(f"/c/bank/{bank}").json()["matching_enabled_ratio"] == 0.5


def test_create_bank_with_a_long_name(coop: HmaClient) -> None:
    bank = create_bank(coop, "Reported by the trust and safety team " * 4)
    assert len(bank) > 64
    assert bank_is_kept(coop, bank)


def test_update_bank_ratio_and_rename(coop: HmaClient) -> None:
    bank = create_bank(coop, "Old name")
    # updateBank, ratio only: a PUT with the number as a number.
    for ratio in (0, 1):
        response = coop.put(f"/c/bank/{bank}", json={"enabled_ratio": ratio})
        assert response.is_success, response.text
        assert response.json()["matching_enabled_ratio"] == ratio
    # updateBank with a new name: create the new bank, then delete the old one.
    renamed = create_bank(coop, "New name")
    assert coop.delete(f"/c/bank/{bank}").is_success
    assert not bank_is_kept(coop, bank)
    assert bank_is_kept(coop, renamed)


def test_delete_bank(coop: HmaClient) -> None:
    bank = create_bank(coop, "Short lived")
    assert coop.delete(f"/c/bank/{bank}").is_success
    assert not bank_is_kept(coop, bank)


def test_add_content_by_upload_with_coops_metadata_fields(
    coop: HmaClient, image_server: ImageServer
) -> None:
    bank = create_bank(coop, "Intimate images")
    photo = image_server.files["image1.jpg"]
    added = upload(
        coop,
        bank,
        photo,
        content_id="item-123",
        content_uri="https://coop.example.org/items/123",
        metadata=json.dumps({"content_id": "item-123"}),
    )
    assert isinstance(added["id"], int)
    signals = added["signals"]
    assert isinstance(signals, dict)
    assert signals["pdq"] == coop.pdq_of(photo)
    # The metadata form field is kept and shown (the other form fields are Coop's own).
    shown = coop.get(f"/c/bank/{bank}/content/{added['id']}").json()
    assert shown["metadata"]["content_id"] == "item-123"


def test_add_content_by_url_with_coops_query(coop: HmaClient, image_server: ImageServer) -> None:
    bank = create_bank(coop, "Intimate images")
    params = {
        "url": image_server.image("image1.jpg"),
        "content_id": "item-123",
        "content_uri": "https://coop.example.org/items/123",
        "metadata": json.dumps({"content_id": "item-123"}),
    }
    response = coop.post(f"/c/bank/{bank}/content", params=params)
    assert response.is_success, response.text
    assert response.json()["signals"]["pdq"] == coop.pdq_of(image_server.files["image1.jpg"])


def match_banks(coop: HmaClient, banks: list[str], hashes: dict[str, str]) -> set[str]:
    """checkImageMatchWithDetails for every hash type: a bank matches if its list is non-empty.

    Coop looks up every type that /h/hash returned, together; one failed lookup fails the
    image, so every type Shieldwall hashes must also be accepted by /m/lookup.
    """
    matched: set[str] = set()
    for signal_type, signal in hashes.items():
        response = coop.get("/m/lookup", params={"signal": signal, "signal_type": signal_type})
        assert response.is_success, (signal_type, response.text)
        matched |= {bank for bank in banks if response.json().get(bank)}
    return matched


def test_submitted_item_is_matched_against_the_orgs_banks(
    coop: HmaClient, image_server: ImageServer
) -> None:
    banked = create_bank(coop, "Intimate images")
    empty = create_bank(coop, "Other")
    upload(coop, banked, image_server.files["image1.jpg"])
    for name, expected in (("image1.jpg", {banked}), ("image2.jpg", set())):
        # The hashes Coop gets from GET /h/hash?url= (here from the same photo uploaded).
        hashed = coop.post(
            "/h/hash", files={"photo": ("upload", image_server.files[name], "image/jpeg")}
        )
        assert hashed.is_success, hashed.text
        assert match_banks(coop, [banked, empty], hashed.json()) == expected, name


def test_submitted_item_is_hashed_by_url(coop: HmaClient, image_server: ImageServer) -> None:
    banked = create_bank(coop, "Intimate images")
    upload(coop, banked, image_server.files["image1.jpg"])
    response = coop.get("/h/hash", params={"url": image_server.image("image1.jpg")})
    assert response.is_success, response.text  # Coop retries, then gives up on the image
    hashes = response.json()
    assert all(isinstance(value, str) for value in hashes.values())
    assert match_banks(coop, [banked], hashes) == {banked}


def test_bank_without_an_exchange_reads_as_404(coop: HmaClient) -> None:
    # getExchangeForBank: 404 means "this bank has no exchange" (not an error).
    bank = create_bank(coop, "Intimate images")
    assert coop.get(f"/c/exchange/{bank}").status_code == 404


@pytest.mark.xfail(strict=True, reason=EXCHANGES)
def test_exchange_apis_are_listed(coop: HmaClient) -> None:
    # getExchangeApis throws unless this answers a list of names.
    response = coop.get("/c/exchanges/apis")
    assert response.is_success, response.text
    assert isinstance(response.json(), list)
