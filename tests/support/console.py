"""A console over the whole app for tests: people signed in as console accounts (each its
own cookies and CSRF token), platforms uploading through the lookup API, victims filing
cases. The `console` fixture (tests/integration/conftest.py) builds one on SQLite."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from shieldwall.access.models import Role
from shieldwall.app import Services
from shieldwall.web.app import create_app
from tests.support.factories import report_fields, report_item
from tests.support.services import make_services, wait_until_ready

PASSWORD = "correct horse battery"


def csrf_of(html: str) -> str:
    """The session's CSRF token, from any signed-in page."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None, html[:500]
    return match.group(1)


@dataclass
class Person:
    """One browser: its own cookies, signed in as one account."""

    client: TestClient
    csrf: str = ""
    answers: list[httpx.Response] = field(default_factory=list)

    def get(self, path: str) -> httpx.Response:
        answer: httpx.Response = self.client.get(path)
        self.answers.append(answer)
        return answer

    def post(self, path: str, data: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        form = {"csrf": self.csrf, **(data or {})}
        answer: httpx.Response = self.client.post(path, data=form, **kwargs)
        self.answers.append(answer)
        return answer


@dataclass
class Console:
    services: Services
    client: TestClient
    platform: dict[str, str]
    people: dict[str, Person] = field(default_factory=dict)

    def sign_in(self, username: str) -> Person:
        person = Person(TestClient(self.client.app, follow_redirects=False))
        page = person.client.get("/review/login")
        token = csrf_of(page.text)
        answer = person.client.post(
            "/review/login",
            data={"csrf": token, "username": username, "password": PASSWORD, "code": ""},
        )
        assert answer.status_code == 303, answer.text
        person.csrf = csrf_of(person.get("/review").text)
        self.people[username] = person
        return person

    def file_case(self, content: bytes, **changes: Any) -> dict[str, Any]:
        item = report_item(content)
        answer = self.client.post(
            "/protect/api/cases", json=report_fields(hashes=[item], **changes)
        )
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def upload(self, content: bytes, **params: str) -> dict[str, Any]:
        answer = self.client.post(
            "/api/v1/lookup",
            content=content,
            params=params,
            headers={**self.platform, "content-type": "image/jpeg"},
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def queued(self, content: bytes, ref: str) -> int:
        """File a case for the content and queue an upload of it; the item's id."""
        self.file_case(content)
        answer = self.upload(content, queue="true", content_ref=ref)
        assert answer["verdict"] == "review"
        item_id: int = answer["review_item"]["id"]
        return item_id


def running_console(tmp_path: Path, **settings: Any) -> Iterator[Console]:
    """A console on a fresh SQLite database with alice and bob (reviewers), lena (lead) and
    ada (admin), and a platform's screener key; `settings` override the defaults."""
    services = make_services(tmp_path, "console.db", protect_file_limit="100/100", **settings)
    for name, role in (("alice", "reviewer"), ("bob", "reviewer"), ("lena", "lead")):
        services.accounts.create(name, role, PASSWORD)
    services.accounts.create("ada", "admin", PASSWORD)
    platform = {"X-API-Key": services.access.issue_key("platform", Role.SCREENER).token}
    with TestClient(create_app(services), follow_redirects=False) as client:
        wait_until_ready(client)
        yield Console(services, client, platform)
    services.close()


def every_answer_is_no_store(console: Console) -> None:
    answers = [a for person in console.people.values() for a in person.answers]
    assert answers
    for answer in answers:
        assert answer.headers.get("cache-control") == "no-store", answer.request.url
