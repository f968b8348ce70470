"""Property-based API test: Schemathesis generates requests from `/openapi.json`.

Every operation gets a bounded, reproducible run (derandomized, a fixed number of examples:
`SHIELDWALL_FUZZ_EXAMPLES`) with an admin key, and every answer must be no server error,
carry a status the document declares, and match the declared response schema. The app is
built by a module fixture (nothing runs at import or collection) and closed after the
module; every operation is fuzzed even when one fails, and all failures are reported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from shieldwall.access.models import Role
from shieldwall.web.app import create_app
from tests.support.services import make_services, wait_until_ready

EXAMPLES_PER_OPERATION: Final = int(os.environ.get("SHIELDWALL_FUZZ_EXAMPLES", "25"))
"""Bounded for CI; raise it (e.g. SHIELDWALL_FUZZ_EXAMPLES=500) for a deeper local run."""
CHECKS: Final = [not_a_server_error, status_code_conformance, response_schema_conformance]

# Bank imports take JSON lines as text; send generated strings as they are.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")


@dataclass(frozen=True)
class Fuzzed:
    """The app under test as the fuzzer sees it, and the fuzzer's own admin key."""

    schema: schemathesis.BaseSchema
    token: str
    key_id: int


def _without_lifespan(app: FastAPI) -> ASGIApp:
    """The app, its lifespan left to the fixture's client.

    Schemathesis calls an ASGI app through a test client per request, which would run the
    lifespan (load the index, then close everything) around every call.
    """

    async def started(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:  # already started: acknowledge start-up and shutdown, do nothing
            message = await receive()
            await send({"type": f"{message['type']}.complete"})
            if message["type"] == "lifespan.shutdown":
                return

    return started


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    """An app over a fresh SQLite file with one bank, started once for the module."""
    unlimited: dict[str, Any] = {f"rate_{role.value}": "1000000/1000000" for role in Role}
    services = make_services(tmp_path_factory.mktemp("fuzz"), "f.db", **unlimited)
    services.banks.create_bank("known", 31, "block", [])
    issued = services.access.issue_key("fuzzer", Role.ADMIN)
    app = create_app(services)
    with TestClient(app) as client:  # runs the lifespan: loads the index, closes at the end
        wait_until_ready(client, timeout=60)
        schema = schemathesis.openapi.from_asgi("/openapi.json", _without_lifespan(app))
        yield Fuzzed(schema, issued.token, issued.key.id)


PROPERTY = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)


def _fuzz(operation: APIOperation[Any, Any, Any, Any], fuzzed: Fuzzed) -> None:
    """Generated requests (and the document's own examples) for one operation."""
    cases = st.one_of(operation.as_strategy(), *operation.get_strategies_from_examples())

    @PROPERTY
    @given(case=cases)
    def answers_within_its_contract(case: schemathesis.Case[Any]) -> None:
        # The fuzzer's own key must survive DELETE /api/v1/keys/{key_id}.
        if case.path_parameters and str(case.path_parameters.get("key_id")) == str(fuzzed.key_id):
            case.path_parameters["key_id"] = fuzzed.key_id + 1_000_000
        case.call_and_validate(headers={"X-API-Key": fuzzed.token}, checks=CHECKS)

    answers_within_its_contract()


def test_api_answers_within_its_contract(fuzzed: Fuzzed) -> None:
    failures: dict[str, str] = {}
    operations = []
    for result in fuzzed.schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # the document itself is invalid
        operations.append(result.ok())
    assert len(operations) > 20, "the OpenAPI document lost its operations"
    for operation in operations:
        try:
            _fuzz(operation, fuzzed)
        except Exception as failed:  # every operation runs; all failures are reported
            failures[operation.label] = f"{type(failed).__name__}: {failed}"
    assert not failures, "\n\n".join(f"{label}:\n{why}" for label, why in failures.items())
