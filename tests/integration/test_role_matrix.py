"""Every operation in the OpenAPI document, walked against the one role matrix.

The walker reads `/openapi.json` at run time, so routes added later (the HMA-compatible
API included) are covered without touching this file. For each operation it sends:

- no key, and an unknown key: 401 problem+json with a `WWW-Authenticate` challenge;
- a key of every role lacking the operation's `x-capability`: 403 problem+json;
- a key of every role having it: neither 401 nor 403 (nor a server error), except the
  documented 403 of HMA's lookups for keys that may not see distances (no match oracle).

Each role is walked with a plain key and one created with `see_details`.

Refused callers send a malformed body, so the check must come before body parsing
(401/403 win over 422). A small table written out by hand cross-checks the matrix itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest
from fastapi.testclient import TestClient

from shieldwall.access.models import DETAIL_ROLES, ROLE_CAPABILITIES, Capability, Role
from shieldwall.app import Services
from shieldwall.web.app import create_app
from tests.support.services import make_services

HEALTH_OPERATIONS: Final = frozenset(
    {("get", "/status/live"), ("get", "/status/ready"), ("get", "/status")}
)
"""Health answers, HMA's `GET /status` among them (load balancers written for HMA call it)."""
VICTIM_OPERATIONS: Final = frozenset(
    {
        ("post", "/protect/api/cases"),
        ("post", "/protect/api/status"),
        ("post", "/protect/api/withdraw"),
        ("post", "/protect/api/complaint"),
        ("post", "/protect/api/enrolments"),
        ("post", "/protect/api/enrolments/status"),
        ("post", "/protect/api/enrolments/withdraw"),
    }
)
"""Victims and enrolled people have no key: a receipt's number and secret are their only
credentials."""
PUBLIC_OPERATIONS: Final = HEALTH_OPERATIONS | VICTIM_OPERATIONS
"""The only operations in the document without `x-capability`."""
PUBLIC_UNDOCUMENTED: Final = ("/docs", "/openapi.json", "/protect", "/protect/status")
"""Public pages that are not operations of the document themselves."""
HTTP_METHODS: Final = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})
PROBLEM_JSON: Final = "application/problem+json"
UNKNOWN_TOKEN: Final = "sw_000000000000_not-a-real-secret-but-right-size"
"""Well-formed, but no such key."""
BANK: Final = "known"

ALL_ROLES: Final = frozenset(Role)
EXPECTED_ROLES: Final[dict[tuple[str, str], frozenset[Role]]] = {
    ("post", "/api/v1/keys"): frozenset({Role.ADMIN}),
    ("get", "/api/v1/keys"): frozenset({Role.ADMIN}),
    ("delete", "/api/v1/keys/{key_id}"): frozenset({Role.ADMIN}),
    ("post", "/api/v1/lookup/signals"): frozenset({Role.ADMIN, Role.CURATOR, Role.SCREENER}),
    ("post", "/api/v1/lookup"): frozenset({Role.ADMIN, Role.CURATOR, Role.SCREENER}),
    ("post", "/api/v1/banks"): frozenset({Role.ADMIN, Role.CURATOR}),
    ("delete", "/api/v1/banks/{name}"): frozenset({Role.ADMIN, Role.CURATOR}),
    ("post", "/api/v1/banks/{name}/import"): frozenset({Role.ADMIN, Role.CURATOR}),
    ("get", "/api/v1/banks"): frozenset({Role.ADMIN, Role.CURATOR, Role.REVIEWER}),
    ("get", "/api/v1/banks/{name}/export"): frozenset({Role.ADMIN, Role.CURATOR, Role.REVIEWER}),
    ("get", "/site-map"): ALL_ROLES,
    # Bank sizes (the reported bank's too): for a Prometheus scraper's key and admins only.
    ("get", "/metrics"): frozenset({Role.ADMIN, Role.MONITOR}),
}
"""Written out independently of ROLE_CAPABILITIES: who may call a few key operations."""


@dataclass(frozen=True)
class Operation:
    """One method + path of the OpenAPI document."""

    method: str
    path: str
    spec: dict[str, Any] = field(compare=False, hash=False)

    @property
    def capability(self) -> str | None:
        """The declared `x-capability`, if any."""
        value = self.spec.get("x-capability")
        return None if value is None else str(value)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


@dataclass(frozen=True)
class Answer:
    """What one request got."""

    status: int
    content_type: str
    challenge: str | None


@dataclass
class Walk:
    """The document and every answer the walker collected."""

    doc: dict[str, Any]
    operations: list[Operation]
    no_key: dict[Operation, Answer]
    bad_key: dict[Operation, Answer]
    by_role: dict[tuple[Operation, Role, bool], Answer]
    """Answers by operation, role and whether the key was created with see_details."""


class Caller:
    """Builds and sends one plausible request per operation."""

    def __init__(self, client: TestClient, doc: dict[str, Any], ids: dict[str, int]) -> None:
        self.client = client
        self.doc = doc
        self.ids = ids

    def send(self, op: Operation, token: str | None, malformed_body: bool) -> Answer:
        """Send `op` with the key `token` (None: no key)."""
        path, query = self._parameters(op)
        headers = {} if token is None else {"X-API-Key": token}
        content = b""
        body = op.spec.get("requestBody")
        if body is not None:
            media_type = next(iter(body.get("content", {"application/json": {}})))
            if media_type.endswith("*"):
                media_type = "application/octet-stream"
            headers["content-type"] = media_type
            content = b'{"not json' if malformed_body else self._minimal_body(media_type)
        response = self.client.request(
            op.method.upper(), path, params=query, headers=headers, content=content
        )
        return Answer(
            response.status_code,
            response.headers.get("content-type", ""),
            response.headers.get("www-authenticate"),
        )

    def _parameters(self, op: Operation) -> tuple[str, dict[str, str]]:
        path = op.path
        query: dict[str, str] = {}
        for param in op.spec.get("parameters", []):
            where, name = param.get("in"), param["name"]
            value = self._sample(name, self._resolve(param.get("schema", {})))
            if where == "path":
                path = path.replace("{" + name + "}", value)
            elif where == "query" and param.get("required"):
                query[name] = value
        return path, query

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            resolved: dict[str, Any] = self.doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
            return resolved
        for option in schema.get("anyOf", []):
            if option.get("type") != "null":
                return self._resolve(option)
        return schema

    def _sample(self, name: str, schema: dict[str, Any]) -> str:
        if name in self.ids:
            return str(self.ids[name])
        if "enum" in schema:
            return str(schema["enum"][0])
        kind = schema.get("type")
        if kind == "integer":
            return str(max(1, int(schema.get("minimum", 1))))
        if kind == "boolean":
            return "false"
        if kind == "array":
            return self._sample(name, self._resolve(schema.get("items", {})))
        if name == "url" or schema.get("format") == "uri":
            return "https://example.invalid/photo.jpg"
        return BANK

    @staticmethod
    def _minimal_body(media_type: str) -> bytes:
        if media_type == "application/json":
            return b"{}"
        if media_type.startswith("multipart/"):
            return b""
        return b"pdq " + b"0" * 64 + b"\n" if media_type.startswith("text/") else b"\x00"


def _operations(doc: dict[str, Any]) -> list[Operation]:
    return [
        Operation(method, path, spec)
        for path, item in sorted(doc["paths"].items())
        for method, spec in sorted(item.items())
        if method in HTTP_METHODS
    ]


def _seed(services: Services) -> dict[str, int]:
    """A bank and a spare key, so path parameters name real things (the entry comes later)."""
    client_ids: dict[str, int] = {}
    services.banks.create_bank(BANK, 31, "block", [])
    client_ids["key_id"] = services.access.issue_key("spare", Role.SCREENER).key.id
    return client_ids


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    """Walk every operation once with no key, a bad key and a key of each role."""
    home: Path = tmp_path_factory.mktemp("role-matrix")
    unlimited: dict[str, Any] = {f"rate_{role.value}": "1000000/1000000" for role in Role}
    services = make_services(home, "m.db", **unlimited)
    tokens = {
        (role, details): services.access.issue_key(f"walker {role} {details}", role, details).token
        for role in Role
        for details in (False, True)
    }
    ids = _seed(services)
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        admin = {"X-API-Key": tokens[(Role.ADMIN, False)]}
        added = client.post(
            f"/api/v1/banks/{BANK}/entries",
            json={"entries": [{"signals": [{"type": "md5", "value": "0" * 32}]}]},
            headers=admin,
        )
        assert added.status_code == 201, added.text
        ids["entry_id"] = added.json()["results"][0]["entry_id"]
        doc = client.get("/openapi.json").json()
        caller = Caller(client, doc, ids)
        operations = _operations(doc)
        result = Walk(doc, operations, {}, {}, {})
        guarded = [op for op in operations if op.capability is not None]
        for op in guarded:
            result.no_key[op] = caller.send(op, None, malformed_body=True)
            result.bad_key[op] = caller.send(op, UNKNOWN_TOKEN, malformed_body=False)
            allowed = [r for r in Role if Capability(str(op.capability)) in ROLE_CAPABILITIES[r]]
            refused = [r for r in Role if r not in allowed]
            # Refused roles first: an allowed one may delete what the path names.
            for role, details in itertools.product([*refused, *allowed], (False, True)):
                answer = caller.send(op, tokens[(role, details)], role in refused)
                result.by_role[(op, role, details)] = answer
        yield result


def _failures(lines: list[str]) -> str:
    return "\n".join(lines)


def test_every_operation_declares_a_known_capability(walk: Walk) -> None:
    known = {c.value for c in Capability}
    missing = [
        str(op)
        for op in walk.operations
        if op.capability is None and (op.method, op.path) not in PUBLIC_OPERATIONS
    ]
    unknown = [
        f"{op}: {op.capability}" for op in walk.operations if op.capability not in {*known, None}
    ]
    assert not missing, f"operations without x-capability:\n{_failures(missing)}"
    assert not unknown, f"operations with an unknown capability:\n{_failures(unknown)}"
    documented = {(op.method, op.path) for op in walk.operations}
    assert documented >= PUBLIC_OPERATIONS
    assert len(walk.no_key) >= 20, "the walker found suspiciously few guarded operations"


def test_no_key_or_a_bad_key_is_401_with_a_challenge(walk: Walk) -> None:
    wrong: list[str] = []
    for what, answers in (("no key", walk.no_key), ("unknown key", walk.bad_key)):
        for op, answer in answers.items():
            if (
                answer.status != 401
                or not answer.content_type.startswith(PROBLEM_JSON)
                or not answer.challenge
            ):
                wrong.append(f"{op} ({what}): {answer}")
    assert not wrong, f"expected 401 problem+json with WWW-Authenticate:\n{_failures(wrong)}"


def test_roles_without_the_capability_get_403(walk: Walk) -> None:
    # see_details widens what a lookup answer shows, never what a key may call.
    wrong = [
        f"{op} as {role.value} (see_details={details}): {answer}"
        for (op, role, details), answer in walk.by_role.items()
        if Capability(str(op.capability)) not in ROLE_CAPABILITIES[role]
        and (answer.status != 403 or not answer.content_type.startswith(PROBLEM_JSON))
    ]
    assert not wrong, f"expected 403 problem+json:\n{_failures(wrong)}"


def test_roles_with_the_capability_get_through(walk: Walk) -> None:
    wrong = [
        f"{op} as {role.value} (see_details={details}): {answer}"
        for (op, role, details), answer in walk.by_role.items()
        if Capability(str(op.capability)) in ROLE_CAPABILITIES[role]
        and (answer.status in (401, 403) or answer.status >= 500)
        and not _refused_details(walk, op, role, details, answer)
    ]
    assert not wrong, f"expected neither 401/403 nor a server error:\n{_failures(wrong)}"


def _refused_details(walk: Walk, op: Operation, role: Role, details: bool, answer: Answer) -> bool:
    """A documented 403 for a key that may not see details (HMA's lookups carry distances).

    Only keys of roles outside DETAIL_ROLES and created without see_details may get it,
    and the same role with see_details must get through.
    """
    return (
        answer.status == 403
        and not details
        and role not in DETAIL_ROLES
        and "403" in op.spec.get("responses", {})
        and walk.by_role[(op, role, True)].status not in (401, 403)
    )


def test_hand_written_table_agrees_with_the_matrix_and_the_server(walk: Walk) -> None:
    by_key = {(op.method, op.path): op for op in walk.operations}
    for key, expected in EXPECTED_ROLES.items():
        assert key in by_key, f"{key} is not in the OpenAPI document"
        op = by_key[key]
        from_matrix = {r for r in Role if Capability(str(op.capability)) in ROLE_CAPABILITIES[r]}
        assert from_matrix == expected, f"{op}: matrix allows {sorted(from_matrix)}"
        observed = {r for r in Role if walk.by_role[(op, r, True)].status not in (401, 403)}
        assert observed == expected, f"{op}: server let through {sorted(observed)}"


def test_public_routes_answer_without_a_key(tmp_path: Path) -> None:
    with TestClient(create_app(make_services(tmp_path, "p.db"))) as client:
        for method, path in sorted(HEALTH_OPERATIONS):
            assert client.request(method.upper(), path).status_code in (200, 503), path
        for method, path in sorted(VICTIM_OPERATIONS):
            assert client.request(method.upper(), path).status_code == 422, path
        for path in PUBLIC_UNDOCUMENTED:
            assert client.get(path).status_code == 200, path
