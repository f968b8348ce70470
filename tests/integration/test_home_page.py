"""`GET /`: a small page saying what the service is, in the pages' languages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shieldwall.web.app import create_app
from tests.support.services import make_services


def _client(home: Path, **overrides: Any) -> Iterator[TestClient]:
    with TestClient(create_app(make_services(home, "h.db", **overrides))) as client:
        yield client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(tmp_path)


def test_the_home_page_says_what_this_is_and_links_onwards(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "set-cookie" not in page.headers
    for link in ('href="/protect?lang=en"', 'href="/protect/status?lang=en"', 'href="/docs"'):
        assert link in page.text
    assert "fingerprints" in page.text


@pytest.mark.parametrize(("lang", "text"), [("es", "Si te ha pasado a ti"), ("ko", "이런 일을")])
def test_the_home_page_speaks_the_visitors_language(
    client: TestClient, lang: str, text: str
) -> None:
    assert text in client.get("/", params={"lang": lang}).text
    assert text in client.get("/", headers={"accept-language": lang}).text


def test_no_docs_link_when_the_docs_are_off(tmp_path: Path) -> None:
    for client in _client(tmp_path, api_docs="false"):
        assert 'href="/docs"' not in client.get("/").text


def test_every_answer_under_review_is_never_cached(client: TestClient) -> None:
    for path in ("/review/no-such-page", "/review/static/no-such.css"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert answer.headers["cache-control"] == "no-store"
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["referrer-policy"] == "no-referrer"
